"""Numba kernel behind ``simulate("muon", backend="numba")``: one block of Muon steps on batched m×n matrices.

The update is :func:`spheretheory.optimizers.muon.step` (torch.optim.Muon), written here per matrix:

    B ← B + (1−β)(G − B);  U = G + β(B − G) (Nesterov) or B;  O = NS(U) (or the polar factor UVᵀ, ns_steps = 0);
    W ← (1 − ηλ)W − η'O,

with G = g̃/‖W‖ the scale-invariant synthetic gradient of :mod:`.muon` (g̃ = P⊥(√(L/(d−1))ξ), Wan et al. Lemma 1)
from the injected standard normals ξ of the block, so that this kernel and the numpy path
(:func:`spheretheory.simulation.muon.numpy_block`) run on identical draws. Validation happens in Python
(:mod:`.muon`); the kernel only fills its ``out`` arrays and updates the state in place. No fastmath: the two
paths agree to round-off.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jit import njit


class MuonConfig(NamedTuple):
    """Per-run constants: β per trajectory, the update's options, torch's NS coefficients and the divergence box."""

    beta: np.ndarray  # (N,)
    nesterov: bool
    ns_steps: int
    a: float
    b: float
    c: float
    eps: float
    lr_scale: float  # η'/η
    max_sq: float
    min_sq: float


class MuonState(NamedTuple):
    """State carried across blocks (updated in place): weights, momentum, previous update, start, alive flags."""

    w: np.ndarray  # (N, m, n)
    buf: np.ndarray  # (N, m, n) momentum B
    prev_o: np.ndarray  # (N, m, n) the previous orthogonalised update O_{t−1}
    w_start: np.ndarray  # (N, m, n)
    active: np.ndarray  # (N,) bool


class MuonBlock(NamedTuple):
    """One block of nb steps: injected ξ (nb, N, m·n), η, λ, L per step and trajectory (nb, N), rescale (nb,)."""

    xi: np.ndarray
    lr: np.ndarray
    wd: np.ndarray
    unit_grad_sq: np.ndarray
    factor: np.ndarray


@njit(cache=True)
def _newton_schulz(u, cfg):  # pragma: no cover - compiled
    """torch.optim.Muon's quintic Newton–Schulz (as :func:`spheretheory.optimizers.muon.newton_schulz`)."""
    m, n = u.shape
    wide = m <= n
    x = u.copy() if wide else u.T.copy()
    nrm = np.sqrt(np.sum(x * x))
    x /= max(nrm, cfg.eps)
    r = x.shape[0]
    gram = np.empty((r, r))
    gg = np.empty((r, r))
    y = np.empty_like(x)
    for _ in range(cfg.ns_steps):
        np.dot(x, x.T.copy(), gram)
        np.dot(cfg.c * gram, gram, gg)
        np.dot(cfg.b * gram + gg, x, y)
        x = cfg.a * x + y
    return x.copy() if wide else x.T.copy()


@njit(cache=True)
def _polar(u):  # pragma: no cover - compiled
    left, _, right = np.linalg.svd(u, full_matrices=False)
    return np.dot(left, right)


@njit(cache=True)
def muon_block(cfg, st, blk, values, corr, alive):  # pragma: no cover - compiled
    """Run ``blk``'s steps for every trajectory; fill ``values`` (nb, 5, N): ‖W_t‖², Δ_t, ‖g̃_t‖², cos(W_0, W_t),
    η'‖O_t‖/‖W_t‖ (NaN once a trajectory left the box), ``corr`` (nb, N) ⟨O_{t−1}, O_t⟩/‖O_t‖² and ``alive``."""
    nb = blk.lr.shape[0]
    N, m, n = st.w.shape
    d = m * n
    for j in range(N):
        w = st.w[j]
        buf = st.buf[j]
        prev_o = st.prev_o[j]
        beta = cfg.beta[j]
        for s in range(nb):
            f = blk.factor[s]
            if f != 1.0:
                w *= f
            sq = np.sum(w * w)
            if st.active[j] and not (sq <= cfg.max_sq and sq >= cfg.min_sq):
                st.active[j] = False
            if not st.active[j]:
                values[s, :, j] = np.nan
                corr[s, j] = np.nan
                alive[s, j] = False
                continue
            lr, wd = blk.lr[s, j], blk.wd[s, j]
            y = np.sqrt(blk.unit_grad_sq[s, j] / (d - 1)) * blk.xi[s, j].reshape(m, n)
            g_unit = y - (np.sum(y * w) / np.sum(w * w)) * w
            g = g_unit / np.sqrt(sq)
            buf += (1 - beta) * (g - buf)
            u = g + beta * (buf - g) if cfg.nesterov else buf.copy()
            o = _polar(u) if cfg.ns_steps == 0 else _newton_schulz(u, cfg)
            w_new = w * (1 - lr * wd) - lr * cfg.lr_scale * o
            new_sq = np.sum(w_new * w_new)
            if not (new_sq <= cfg.max_sq and new_sq >= cfg.min_sq):
                st.active[j] = False
            o_sq = np.sum(o * o)
            ha = w / np.sqrt(sq)
            hb = w_new / np.sqrt(new_sq)
            values[s, 0, j] = sq
            values[s, 1, j] = 2 * np.arctan2(np.sqrt(np.sum((ha - hb) ** 2)), np.sqrt(np.sum((ha + hb) ** 2)))
            values[s, 2, j] = np.sum(g_unit * g_unit)
            w0 = st.w_start[j]
            values[s, 3, j] = np.sum(w0 * w) / np.sqrt(np.sum(w0 * w0) * sq)
            values[s, 4, j] = lr * cfg.lr_scale * np.sqrt(o_sq / sq)
            corr[s, j] = np.sum(prev_o * o) / o_sq
            prev_o[:] = o
            alive[s, j] = st.active[j]
            if st.active[j]:
                w[:] = w_new
