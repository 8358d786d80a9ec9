"""Exact reduced-state simulator for SGD / SGDM / Nesterov under isotropic Gaussian tangential noise.

For the synthetic isotropic noise of :func:`spheretheory.simulate` (g_t = g̃_t/‖w_t‖ with
g̃_t = √(L_t/(d−1))·P⊥ξ_t, ξ_t ~ N(0, I_d), P⊥ the projection orthogonal to w_t), the Gram matrix of the
three vectors (w_t, v_{t−1}, w_0) is a Markov chain: its law one step ahead depends on the past only through
the Gram matrix itself, because the noise is rotation invariant. It is advanced by three scalar draws per
step — z₁, z₂ ~ N(0, 1) and a χ²_{d−3} remainder — so the cost of a step does not depend on d. The triple
(‖w_t‖², ⟨w_t, v_{t−1}⟩, ‖v_{t−1}‖²) is the chain of the issue; ⟨w_t, w_0⟩ and ⟨v_{t−1}, w_0⟩ extend it
exactly to cos(w_0, w_t). The derivation is in ``docs/reduced_state.md`` (equations R1–R9 below refer to it).

Numerically the Gram matrix is stored through the parts orthogonal to w_t (p = v_{t−1}⊥, q = w_0⊥):

    a = ‖w_t‖²,  b = ⟨w_t, v_{t−1}⟩,  P = ‖p‖²,  m = ⟨w_t, w_0⟩,  R = ⟨p, q⟩,  Q = ‖q‖²,  D = PQ − R²

(+ a_0 = ‖w_0‖²; so ‖v_{t−1}‖² = b²/a + P and ⟨v_{t−1}, w_0⟩ = bm/a + R). P, R, Q are updated through 2×2
minors and D through 3×3 minors (Cauchy–Binet) rather than as differences like ‖v‖² − ⟨v, w⟩²/‖w‖² or
PQ − R²: a difference loses half the digits when the vectors are nearly parallel (at t = 0, w_t = w_0; at
t = 1, p ∥ q in every dimension), the minors keep full precision.

Two implementations of the same update:

* :func:`_kernel` — numba, ``prange`` over fixed chunks of trajectories, each chunk with its own generator;
* :func:`reduced_step` / the ``backend="numpy"`` path — a plain, vectorized numpy reference.

Both draw the same numbers from the same per-chunk generators (per block of iterations and chunk: first all
normals, then all χ² variates, in the same order), and both accept injected draws, so they agree to round-off.
"""

from __future__ import annotations

import inspect
import math
import sys
from typing import Any

import numpy as np
from numba import njit, prange

from .._validation import InputError, InputTypeError
from ._common import NQ, Q_INDEX, new_buffers, per_trajectory, seed_sequences
from ._spec import Problem
from .result import SimulationResult

__all__ = [
    "REDUCED_OPTIMIZERS",
    "STATE_NAMES",
    "draws_from_full",
    "gram_from_state",
    "reduced_step",
    "simulate_reduced",
    "state_from_vectors",
]

#: optimizers with an exact reduced-state chain (their update is linear in w, v and g)
REDUCED_OPTIMIZERS: tuple[str, ...] = ("sgd", "sgdm", "nesterov")
_OPT = {"sgd": 0, "sgdm": 1, "nesterov": 2}
#: names of the state components, in the order of the ``(7, N)`` state array
STATE_NAMES: tuple[str, ...] = ("a", "b", "P", "m", "R", "Q", "D")
#: iterations × trajectories per kernel call (the draws of one call are buffered, 24 bytes each)
_BLOCK_TARGET = 1 << 18
#: trajectories per chunk (one generator each; updated in lockstep by the kernel) and the most chunks
_CHUNK_TARGET = 16
_MAX_STREAMS = 1024


# ----------------------------------------------------------------------------------------------------------
# State conversions
# ----------------------------------------------------------------------------------------------------------
def state_from_vectors(w: np.ndarray, v: np.ndarray, w0: np.ndarray) -> np.ndarray:
    """The reduced state ``(7, N)`` of full-d vectors (rows of ``(N, d)`` arrays): (a, b, P, m, R, Q, D).

    P, R, Q are computed from the explicit projections p = v − ⟨v, u⟩u, q = w_0 − ⟨w_0, u⟩u (u = w/‖w‖),
    D = PQ − R² = P·‖q − (R/P)p‖² by Gram–Schmidt (0 where p = 0).
    """
    w, v, w0 = (np.atleast_2d(np.asarray(x, dtype=np.float64)) for x in (w, v, w0))
    a = np.einsum("nd,nd->n", w, w)
    u = w / np.sqrt(a)[:, None]
    p = v - np.einsum("nd,nd->n", v, u)[:, None] * u
    q = w0 - np.einsum("nd,nd->n", w0, u)[:, None] * u
    dot = lambda x, y: np.einsum("nd,nd->n", x, y)  # noqa: E731
    P, R = dot(p, p), dot(p, q)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = q - np.where(P > 0, R / np.where(P > 0, P, 1.0), 0.0)[:, None] * p
    D = np.where(P > 0, P * dot(r, r), 0.0)
    return np.stack([a, dot(w, v), P, dot(w, w0), R, dot(q, q), D])


def gram_from_state(state: np.ndarray) -> dict[str, np.ndarray]:
    """The Gram entries of (w_t, v_{t−1}, w_0) from a reduced state: ‖w‖², ⟨w,v⟩, ‖v‖², ⟨w,w_0⟩, ⟨v,w_0⟩."""
    a, b, P, m, R = np.asarray(state, dtype=np.float64)[:5]
    return {"sq_norm": a, "w_dot_v": b, "v_sq_norm": b * b / a + P, "w_dot_w0": m, "v_dot_w0": b * m / a + R}


# ----------------------------------------------------------------------------------------------------------
# The update, numpy reference
# ----------------------------------------------------------------------------------------------------------
def _coefficients(opt: int, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(α_v, σ_v, σ_g, κ) of eq. R1.

    v_t = α_v v_{t−1} + g_t + λ_c w_t and step_t = σ_v v_{t−1} + σ_g g_t + κλ_c w_t.
    """
    one, zero = np.ones_like(alpha), np.zeros_like(alpha)
    if opt == 0:  # SGD: step = g + λ_c w; the buffer v is not used (α_v = 0)
        return zero, zero, one, one
    if opt == 1:  # heavy ball: step = v_t
        return alpha, alpha, one, one
    # Nesterov (PyTorch): step = d_t + α v_t = (1+α)(g + λ_c w) + α² v_{t−1}
    return alpha, alpha * alpha, one + alpha, one + alpha


def reduced_step(
    state: np.ndarray,
    a0: np.ndarray,
    draws: np.ndarray,
    *,
    dim: int,
    optimizer: str,
    lr: np.ndarray,
    weight_decay_coupled: np.ndarray,
    weight_decay_decoupled: np.ndarray,
    momentum: np.ndarray,
    unit_grad_sq: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One step of the reduced chain (docs/reduced_state.md, eqs. R1–R9), vectorized over trajectories.

    Parameters
    ----------
    state:
        ``(7, N)`` float64 (a, b, P, m, R, Q, D) = (‖w_t‖², ⟨w_t, v_{t−1}⟩, ‖p‖², ⟨w_t, w_0⟩, ⟨p, q⟩, ‖q‖²,
        ‖p‖²‖q‖² − ⟨p, q⟩²), with p and q the parts of v_{t−1} and w_0 orthogonal to w_t
        (:func:`state_from_vectors`).
    a0:
        ``(N,)`` ‖w_0‖².
    draws:
        ``(N, 3)``: z₁, z₂ ~ N(0, 1) and χ ~ χ²_{d−3} (χ is ignored for d ≤ 3, z₂ for d = 2). With the
        basis of eq. R3, z₁ = ⟨ξ, e₁⟩, z₂ = ⟨ξ, e₂⟩, χ = ‖P⊥ξ‖² − z₁² − z₂² (:func:`draws_from_full`).
    dim:
        d ≥ 2.
    optimizer:
        ``"sgd"``, ``"sgdm"`` (heavy ball, Wan et al. eq. 10–11) or ``"nesterov"`` (PyTorch).
    lr, weight_decay_coupled, weight_decay_decoupled, momentum, unit_grad_sq:
        ``(N,)`` η_t, λ_c (added to the gradient), λ_d (w ← w − ηλ_d w), α and L_t of this iteration.

    Returns
    -------
    (new_state, values):
        the ``(7, N)`` state after the step and the ``(6, N)`` quantities of iteration t in the order of
        :data:`spheretheory.simulation.result.QUANTITIES`: ‖w_t‖², Δ_t, ‖g̃_t‖², h̃_t, cos(w_0, w_t) and
        η_t/‖w_t‖².
    """
    opt = _OPT[optimizer]
    a, b, P, m, R, Q, D = (np.asarray(x, dtype=np.float64) for x in state)
    z1, z2, chi = (np.asarray(x, dtype=np.float64) for x in np.asarray(draws).T)
    lr = np.asarray(lr, dtype=np.float64)
    alpha = np.asarray(momentum, dtype=np.float64)
    lam_c = np.asarray(weight_decay_coupled, dtype=np.float64)
    lam_d = np.asarray(weight_decay_decoupled, dtype=np.float64)
    av, sv, sg, kap = _coefficients(opt, alpha)
    if dim == 2:
        z2 = np.zeros_like(z1)
    rchi = np.sqrt(np.maximum(chi, 0.0)) if dim > 3 else np.zeros_like(z1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ra = np.sqrt(a)
        # (R3) orthonormal e₁ ∥ p, e₂ ⟂ e₁ in span{p, q}: p = α₁e₁, q = β₁e₁ + β₂e₂
        P = np.maximum(P, 0.0)
        Q = np.maximum(Q, 0.0)
        al1 = np.sqrt(P)
        has_p = P > 0.0
        be1 = np.where(has_p, R / np.where(has_p, al1, 1.0), np.sqrt(Q))
        be1 = np.where(be1 * be1 > Q, np.copysign(np.sqrt(Q), be1), be1)
        # β₂² = Q − β₁² = D/P, from the stably updated D (or 0 where e₁ ∥ q)
        be2 = np.where(has_p, np.sqrt(np.maximum(D, 0.0) / np.where(has_p, P, 1.0)), 0.0)
        if dim == 2:
            be2 = np.zeros_like(a)
        # (R4) the noise: g_t = s (z₁e₁ + z₂e₂ + √χ e₃), s = √(L_t/(d−1))/‖w_t‖
        sig = np.sqrt(np.asarray(unit_grad_sq, dtype=np.float64) / (dim - 1))
        s = sig / ra
        ugs = sig * sig * (z1 * z1 + z2 * z2 + rchi * rchi)  # ‖g̃_t‖²
        gp = s * z1 * al1  # ⟨g_t, v_{t−1}⟩ = ⟨g_t, p⟩
        # (R5) v_t and (R6) w_{t+1} in the frame (w_t/‖w_t‖, e₁, e₂, e₃)
        V = np.stack([(av * b + lam_c * a) / ra, av * al1 + s * z1, s * z2, s * rchi])
        W = np.stack(
            [
                (1.0 - lr * lam_d - lr * kap * lam_c) * ra - lr * sv * b / ra,
                -lr * (sv * al1 + sg * s * z1),
                -lr * sg * s * z2,
                -lr * sg * s * rchi,
            ]
        )
        Z = np.stack([m / ra, be1, be2, np.zeros_like(a)])  # w_0
        wt2 = W[1] ** 2 + W[2] ** 2 + W[3] ** 2
        # (R7) the new state; (R7') the parts orthogonal to w_{t+1} through the minors X_i W_j − X_j W_i
        a_new = W[0] ** 2 + wt2
        pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
        MV = np.stack([V[i] * W[j] - V[j] * W[i] for i, j in pairs])
        MZ = np.stack([Z[i] * W[j] - Z[j] * W[i] for i, j in pairs])
        # (R7'') 3×3 minors of (v_t, w_0, w_{t+1}): Σ det² = ‖w_{t+1}‖²·D' (Cauchy–Binet)
        mz = dict(zip(pairs, MZ, strict=True))
        dets = [
            V[i] * mz[(j, k)] - V[j] * mz[(i, k)] + V[k] * mz[(i, j)]
            for i, j, k in [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)]
        ]
        new = np.stack(
            [
                a_new,
                np.sum(V * W, axis=0),
                np.sum(MV * MV, axis=0) / a_new,
                np.sum(Z * W, axis=0),
                np.sum(MV * MZ, axis=0) / a_new,
                np.sum(MZ * MZ, axis=0) / a_new,
                sum(x * x for x in dets) / a_new,
            ]
        )
        # (R8, R9) the recorded quantities of iteration t
        values = np.empty((NQ, a.shape[0]))
        values[Q_INDEX["sq_norm"]] = a
        values[Q_INDEX["angular_update"]] = np.arctan2(np.sqrt(wt2), W[0])
        values[Q_INDEX["unit_grad_sq"]] = ugs
        values[Q_INDEX["h_tilde"]] = ugs + 2.0 * alpha * gp * a if opt else ugs
        values[Q_INDEX["cos_to_start"]] = m / np.sqrt(a0 * a)
        values[Q_INDEX["effective_lr"]] = lr / a
    return new, values


# ----------------------------------------------------------------------------------------------------------
# The update, numba kernel
# ----------------------------------------------------------------------------------------------------------
@njit(cache=True, parallel=True)
def _kernel(
    t0,
    opt,
    dim,
    S,
    a0,
    lr,
    wdc,
    wdd,
    mom,
    L,
    lr_mult,
    wd_mult,
    sig_mult,
    resc,
    gens,
    chunk,
    draws,
    use_draws,
    record,
    rec_every,
    rec,
    sum_start,
    sum_count,
    sum_mean,
    sum_m2,
    diverged,
    div_step,
    max_sq,
    min_sq,
):  # pragma: no cover - compiled
    N = S.shape[1]
    nsteps = lr_mult.shape[0]
    K = len(gens)
    df = dim - 3.0
    for k in prange(K):
        j_lo = k * chunk
        j_hi = min(N, j_lo + chunk)
        nj = j_hi - j_lo
        if nj <= 0:
            continue
        val = np.empty(6)
        if use_draws:
            buf = np.empty((1, 1, 3))
        else:
            # the same order as the numpy path: all normals of the chunk's block, then all χ² variates
            gen = gens[np.int64(k)]
            buf = np.empty((nsteps, nj, 3))
            for jj in range(nj):
                for s in range(nsteps):
                    buf[s, jj, 0] = gen.standard_normal()
                    buf[s, jj, 1] = gen.standard_normal()
            for jj in range(nj):
                for s in range(nsteps):
                    buf[s, jj, 2] = gen.chisquare(df) if dim > 3 else 0.0
        # (R1) v_t = α_v v_{t−1} + g + λ_c w, step = σ_v v_{t−1} + σ_g g + κλ_c w
        av_ = np.empty(nj)
        sv_ = np.empty(nj)
        sg_ = np.empty(nj)
        kap_ = np.empty(nj)
        sql_ = np.empty(nj)
        for jj in range(nj):
            alpha = mom[j_lo + jj]
            sql_[jj] = math.sqrt(L[j_lo + jj])
            if opt == 0:
                av_[jj], sv_[jj], sg_[jj], kap_[jj] = 0.0, 0.0, 1.0, 1.0
            elif opt == 1:
                av_[jj], sv_[jj], sg_[jj], kap_[jj] = alpha, alpha, 1.0, 1.0
            else:
                av_[jj], sv_[jj], sg_[jj], kap_[jj] = alpha, alpha * alpha, 1.0 + alpha, 1.0 + alpha
        # iterations outside, the chunk's trajectories inside: independent updates overlap in the pipeline
        for s in range(nsteps):
            t = t0 + s
            f = resc[s]
            rec_now = record and t % rec_every == 0
            in_sum = t >= sum_start
            for jj in range(nj):
                j = j_lo + jj
                if diverged[j]:
                    continue
                a = S[0, j]
                b = S[1, j]
                P = S[2, j]
                m = S[3, j]
                R = S[4, j]
                Q = S[5, j]
                D = S[6, j]
                av = av_[jj]
                sv = sv_[jj]
                sg = sg_[jj]
                eta = lr[j] * lr_mult[s]
                lam_c = wdc[j] * wd_mult[s]
                lam_d = wdd[j] * wd_mult[s]
                if use_draws:
                    z1 = draws[s, j, 0]
                    z2 = draws[s, j, 1]
                    chi = draws[s, j, 2]
                else:
                    z1 = buf[s, jj, 0]
                    z2 = buf[s, jj, 1]
                    chi = buf[s, jj, 2]
                if dim == 2:
                    z2 = 0.0
                rchi = math.sqrt(chi) if (dim > 3 and chi > 0.0) else 0.0
                # rescale on LR drop (Wan et al. Sec. 4.2): w ← f·w (v and the directions are unchanged)
                if f != 1.0:
                    a = a * f * f
                    b = b * f
                    m = m * f
                    S[0, j] = a
                    S[1, j] = b
                    S[3, j] = m
                if not (a <= max_sq and a >= min_sq):
                    diverged[j] = True
                    div_step[j] = t
                    continue
                ra = math.sqrt(a)
                ira = 1.0 / ra
                # (R3) basis e₁ ∥ p, e₂ in span{p, q}
                if P < 0.0:
                    P = 0.0
                if Q < 0.0:
                    Q = 0.0
                al1 = math.sqrt(P)
                if P > 0.0:
                    be1 = R / al1
                else:
                    be1 = math.sqrt(Q)
                if be1 * be1 > Q:
                    be1 = math.copysign(math.sqrt(Q), be1)
                be2 = 0.0
                if dim > 2 and P > 0.0 and D > 0.0:
                    be2 = math.sqrt(D / P)  # β₂² = Q − β₁² = D/P
                # (R4) noise
                sig = sql_[jj] * sig_mult[s]
                sz = sig * ira
                ugs = sig * sig * (z1 * z1 + z2 * z2 + rchi * rchi)
                gp = sz * z1 * al1
                # (R5, R6) v_t and w_{t+1} in the frame (w_t/‖w_t‖, e₁, e₂, e₃); w_0 = (m/‖w‖, β₁, β₂, 0)
                v0 = (av * b + lam_c * a) * ira
                v1 = av * al1 + sz * z1
                v2 = sz * z2
                v3 = sz * rchi
                w0_ = (1.0 - eta * lam_d - eta * kap_[jj] * lam_c) * ra - eta * sv * b * ira
                w1 = -eta * (sv * al1 + sg * sz * z1)
                w2 = -eta * sg * sz * z2
                w3 = -eta * sg * sz * rchi
                q0 = m * ira
                wt2 = w1 * w1 + w2 * w2 + w3 * w3
                # (R7)
                a_new = w0_ * w0_ + wt2
                if not (a_new <= max_sq and a_new >= min_sq):
                    diverged[j] = True
                    div_step[j] = t
                    continue
                # (R7') minors X_i W_j − X_j W_i of v_t and w_0 with w_{t+1}
                mv01 = v0 * w1 - v1 * w0_
                mv02 = v0 * w2 - v2 * w0_
                mv03 = v0 * w3 - v3 * w0_
                mv12 = v1 * w2 - v2 * w1
                mv13 = v1 * w3 - v3 * w1
                mv23 = v2 * w3 - v3 * w2
                mz01 = q0 * w1 - be1 * w0_
                mz02 = q0 * w2 - be2 * w0_
                mz03 = q0 * w3
                mz12 = be1 * w2 - be2 * w1
                mz13 = be1 * w3
                mz23 = be2 * w3
                inv_an = 1.0 / a_new
                S[0, j] = a_new
                S[1, j] = v0 * w0_ + v1 * w1 + v2 * w2 + v3 * w3
                S[2, j] = (mv01 * mv01 + mv02 * mv02 + mv03 * mv03 + mv12 * mv12 + mv13 * mv13 + mv23 * mv23) * inv_an
                S[3, j] = q0 * w0_ + be1 * w1 + be2 * w2
                S[4, j] = (mv01 * mz01 + mv02 * mz02 + mv03 * mz03 + mv12 * mz12 + mv13 * mz13 + mv23 * mz23) * inv_an
                S[5, j] = (mz01 * mz01 + mz02 * mz02 + mz03 * mz03 + mz12 * mz12 + mz13 * mz13 + mz23 * mz23) * inv_an
                # (R7'') 3×3 minors of (v_t, w_0, w_{t+1})
                d012 = v0 * mz12 - v1 * mz02 + v2 * mz01
                d013 = v0 * mz13 - v1 * mz03 + v3 * mz01
                d023 = v0 * mz23 - v2 * mz03 + v3 * mz02
                d123 = v1 * mz23 - v2 * mz13 + v3 * mz12
                S[6, j] = (d012 * d012 + d013 * d013 + d023 * d023 + d123 * d123) * inv_an
                # (R8, R9) recorded quantities of iteration t, only when they are used
                if rec_now or in_sum:
                    val[0] = a
                    val[1] = math.atan2(math.sqrt(wt2), w0_)
                    val[2] = ugs
                    val[3] = ugs + 2.0 * mom[j] * gp * a if opt != 0 else ugs
                    val[4] = m / math.sqrt(a0[j] * a)
                    val[5] = eta / a
                    if rec_now:
                        r = t // rec_every
                        for q in range(6):
                            rec[q, r, j] = val[q]
                    if in_sum:
                        sum_count[j] += 1
                        inv_cnt = 1.0 / sum_count[j]
                        for q in range(6):
                            delta = val[q] - sum_mean[q, j]
                            sum_mean[q, j] += delta * inv_cnt
                            sum_m2[q, j] += delta * (val[q] - sum_mean[q, j])


# ----------------------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------------------
def _streams(N: int) -> tuple[int, int]:
    """(number of chunks K, trajectories per chunk): about 16 trajectories per chunk (interleaved in the
    kernel), at most 1024 chunks, each with its own generator. A function of N only (reproducibility)."""
    K = int(min(max(1, math.ceil(N / _CHUNK_TARGET)), _MAX_STREAMS))
    return K, int(math.ceil(N / K))


def _block_length(problem: Problem) -> int:
    """Iterations per kernel call: about 2¹⁸ trajectory-steps; depends only on (N, steps), so seeded runs are
    reproducible on every machine and thread count."""
    return int(max(1, min(problem.steps, _BLOCK_TARGET // max(1, problem.N))))


def _chunk_draws(gen: np.random.Generator, nj: int, nsteps: int, dim: int) -> np.ndarray:
    """Draws of one chunk for one block, ``(nj, nsteps, 3)``, in the kernel's order (normals, then χ²)."""
    out = np.empty((nj, nsteps, 3))
    out[:, :, :2] = gen.standard_normal((nj, nsteps, 2))
    out[:, :, 2] = gen.chisquare(dim - 3.0, (nj, nsteps)) if dim > 3 else 0.0
    return out


def _validate(problem: Problem, draws: Any) -> np.ndarray | None:
    if problem.optimizer not in REDUCED_OPTIMIZERS:
        raise InputError(
            f"optimizer must be one of {', '.join(REDUCED_OPTIMIZERS)} with method='reduced' (the exact "
            f"reduction needs an update linear in w, v and g); got {problem.optimizer!r}"
        )
    if problem.model is not None:
        raise InputError("model= cannot be used with method='reduced' (the reduction needs isotropic noise)")
    if problem.noise != "isotropic":
        raise InputError(f"noise must be 'isotropic' with method='reduced'; got {problem.noise!r}")
    if problem.backend not in ("numba", "numpy"):
        raise InputError(f"backend must be one of numba, numpy with method='reduced'; got {problem.backend!r}")
    if problem.noise_draws is not None:
        raise InputError(
            "noise_draws (full-d draws ξ) cannot drive method='reduced'; inject the reduced draws "
            "(z₁, z₂, χ) with spheretheory.simulation.reduced.simulate_reduced(problem, draws=...)"
        )
    if np.dtype(problem.dtype) != np.dtype(np.float64):
        raise InputError(
            f"dtype must be float64 with method='reduced' (the reduced state is kept in float64); "
            f"got {np.dtype(problem.dtype).name}"
        )
    if draws is None:
        return None
    from .._validation import as_float_array

    arr = as_float_array("draws", draws)
    T, G, n = problem.steps, problem.G, problem.trajectories
    if arr.shape == (T, G * n, 3):
        arr = arr.reshape(T, G, n, 3)
    if arr.shape != (T, G, n, 3):
        raise InputError(f"draws must have shape (steps, G, trajectories, 3) = {(T, G, n, 3)}; got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError("draws must be finite")
    if np.any(arr[..., 2] < 0):
        raise InputError("draws[..., 2] (the χ² remainder) must be non-negative")
    return np.ascontiguousarray(arr.reshape(T, G * n, 3))


def _initial_state(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """(state (7, N), a0 (N,)) at t = 0: w_0 of norm ``init_norm`` (or ``‖w0‖``), v_{−1} = 0, so p = q = 0.

    Only ‖w_0‖ matters: by isotropy the law of the Gram process does not depend on the direction of w_0.
    """
    N = problem.N
    if problem.w0 is not None:
        w0 = problem.w0.reshape(N, problem.dim)
        a0 = np.einsum("nd,nd->n", w0, w0)
    else:
        a0 = np.full(N, problem.init_norm**2)
    state = np.zeros((7, N))
    state[0] = a0
    state[3] = a0
    return state, a0


def _show_progress(problem: Problem) -> bool:
    if problem.progress is not None:
        return problem.progress
    return bool(float(problem.steps) * problem.N > 5e8 and hasattr(sys.stderr, "isatty") and sys.stderr.isatty())


def simulate_reduced(
    problem: Problem | None = None, *, draws: np.ndarray | None = None, **kwargs: Any
) -> SimulationResult:
    """Simulate SGD/SGDM/Nesterov with isotropic noise exactly through the reduced Gram-matrix chain.

    Implements eqs. R1–R9 of ``docs/reduced_state.md``: the Gram matrix of (w_t, v_{t−1}, w_0) (stored as
    (a, b, P, m, R, Q, D), see the module docstring) is advanced with three scalar draws per step — z₁, z₂
    ~ N(0, 1) and χ ~ χ²_{d−3} — so a step costs O(1) in d while
    every recorded quantity (‖w_t‖², Δ_t, ‖g̃_t‖², h̃_t, cos(w_0, w_t), η_t/‖w_t‖²) has exactly the law it has
    under the full-d simulator with ``noise="isotropic"``.

    Parameters
    ----------
    problem:
        A validated :class:`spheretheory.simulation._spec.Problem` (what :func:`spheretheory.simulate` passes
        with ``method="reduced"``). When ``None``, ``kwargs`` are :func:`spheretheory.simulate`'s keyword
        arguments (with its defaults) and the problem is built from them.
    draws:
        Injected draws of shape ``(steps, G, trajectories, 3)`` (or ``(steps, G·trajectories, 3)``): z₁, z₂
        standard normal and χ ≥ 0 (a χ²_{d−3} variate) per iteration and trajectory, used instead of the
        generators so that the numpy and numba paths can be compared on identical draws.

    Returns
    -------
    SimulationResult
        Series of shape ``(n_records, G, n)`` at ``problem.record_steps`` (or streaming summaries only),
        ``config["method"] == "reduced"``, ``w_final=None`` and ``summary["final_sq_norm"]`` = ‖w_T‖².
        ``extra["final_state"]`` holds the final reduced state as a dict of ``(G, n)`` arrays (a, b, P, m,
        R, Q, D and the Gram entries of :func:`gram_from_state`).

    Raises
    ------
    ValueError
        Optimizers other than sgd/sgdm/nesterov, non-isotropic noise, ``model=``, ``noise_draws=``, the cupy
        backend, float32, or malformed ``draws``.
    """
    if problem is None:
        problem = _problem_from_kwargs(kwargs)
    elif kwargs:
        raise InputTypeError(
            f"simulate_reduced takes either a Problem or keyword arguments, not both; got {sorted(kwargs)}"
        )
    injected = _validate(problem, draws)
    p = per_trajectory(problem)
    N, d, T = problem.N, problem.dim, problem.steps
    lam = p["weight_decay"]
    wdc, wdd = (np.zeros_like(lam), lam) if problem.decoupled else (lam, np.zeros_like(lam))
    state, a0 = _initial_state(problem)
    buf = new_buffers(problem)
    _, noise_ss = seed_sequences(problem)
    K, chunk = _streams(N)
    children = noise_ss.spawn(K)
    block = _block_length(problem)
    use_numba = problem.backend == "numba"
    if use_numba:
        from numba.typed import List

        gens = List()
        for child in children:
            gens.append(np.random.Generator(np.random.PCG64(child)))
        empty = np.zeros((1, 1, 3))
    else:
        gens = [np.random.Generator(np.random.PCG64(child)) for child in children]
    bar = _progress_bar(problem)
    for t0 in range(0, T, block):
        t1 = min(T, t0 + block)
        lr_mult = problem.lr_schedule.block(t0, t1)
        wd_mult = problem.wd_schedule.block(t0, t1)
        g_mult = problem.grad_schedule.block(t0, t1)
        resc = problem.rescale_factors(t0, t1)
        if use_numba:
            _kernel(
                t0, _OPT[problem.optimizer], d, state, a0,
                p["lr"], wdc, wdd, p["momentum"], p["unit_grad_sq"],
                lr_mult, wd_mult, np.sqrt(g_mult / (d - 1)), resc, gens, chunk,
                injected[t0:t1] if injected is not None else empty, injected is not None,
                problem.record == "series", problem.record_every, buf["rec"], problem.summary_start,
                buf["sum_count"], buf["sum_mean"], buf["sum_m2"], buf["diverged"], buf["div_step"],
                problem.max_sq_norm, problem.min_sq_norm,
            )  # fmt: skip
        else:
            if injected is not None:
                block_draws = injected[t0:t1]
            else:
                block_draws = np.empty((t1 - t0, N, 3))
                for k, gen in enumerate(gens):
                    lo, hi = k * chunk, min(N, (k + 1) * chunk)
                    if hi > lo:
                        block_draws[:, lo:hi] = _chunk_draws(gen, hi - lo, t1 - t0, d).transpose(1, 0, 2)
            _numpy_block(problem, state, a0, p, wdc, wdd, t0, lr_mult, wd_mult, g_mult, resc, block_draws, buf)
        bar.update(t1 - t0)
    bar.close()
    return _assemble(problem, buf, state)


def _numpy_block(
    problem: Problem,
    state: np.ndarray,
    a0: np.ndarray,
    p: dict[str, np.ndarray],
    wdc: np.ndarray,
    wdd: np.ndarray,
    t0: int,
    lr_mult: np.ndarray,
    wd_mult: np.ndarray,
    g_mult: np.ndarray,
    resc: np.ndarray,
    block_draws: np.ndarray,
    buf: dict[str, np.ndarray],
) -> None:
    """The numpy reference for one block of iterations (updates ``state`` and ``buf`` in place)."""
    rec, count, mean, m2 = buf["rec"], buf["sum_count"], buf["sum_mean"], buf["sum_m2"]
    active = ~buf["diverged"]
    for s in range(lr_mult.shape[0]):
        t = t0 + s
        f = resc[s]
        if f != 1.0:  # Wan et al. Sec. 4.2: w ← f·w (a ← f²a, b ← f b, m ← f m); v, p, q are unchanged
            state[0] *= f * f
            state[1] *= f
            state[3] *= f
        sq = state[0]
        bad = active & ~((sq <= problem.max_sq_norm) & (sq >= problem.min_sq_norm))
        buf["diverged"][bad] = True
        buf["div_step"][bad] = t
        active &= ~bad
        new, values = reduced_step(
            state,
            a0,
            block_draws[s],
            dim=problem.dim,
            optimizer=problem.optimizer,
            lr=p["lr"] * lr_mult[s],
            weight_decay_coupled=wdc * wd_mult[s],
            weight_decay_decoupled=wdd * wd_mult[s],
            momentum=p["momentum"],
            unit_grad_sq=p["unit_grad_sq"] * g_mult[s],
        )
        nsq = new[0]
        bad = active & ~((nsq <= problem.max_sq_norm) & (nsq >= problem.min_sq_norm))
        buf["diverged"][bad] = True
        buf["div_step"][bad] = t
        active &= ~bad
        if problem.record == "series" and t % problem.record_every == 0:
            rec[:, t // problem.record_every, active] = values[:, active]
        if t >= problem.summary_start:  # Welford's online mean and variance
            count[active] += 1
            delta = values[:, active] - mean[:, active]
            mean[:, active] += delta / count[active]
            m2[:, active] += delta * (values[:, active] - mean[:, active])
        state[:, active] = new[:, active]


def _assemble(problem: Problem, buf: dict[str, np.ndarray], state: np.ndarray) -> SimulationResult:
    """The :class:`SimulationResult` (same layout as the full-d backends, without weights)."""
    G, n, R = problem.G, problem.trajectories, problem.n_records
    rec = buf["rec"]
    series: dict[str, np.ndarray | None] = {}
    for q, i in Q_INDEX.items():
        defined = q != "h_tilde" or problem.has_h
        series[q] = rec[i].reshape(R, G, n) if (problem.record == "series" and defined) else None
    count = buf["sum_count"]
    diverged = buf["diverged"].reshape(G, n)
    summary: dict[str, np.ndarray] = {"count": count.reshape(G, n)}
    with np.errstate(invalid="ignore", divide="ignore"):
        for q, i in Q_INDEX.items():
            mean = np.where(count > 0, buf["sum_mean"][i], np.nan).reshape(G, n)
            var = np.where(count > 0, buf["sum_m2"][i] / np.maximum(count, 1), np.nan).reshape(G, n)
            summary[f"{q}_mean"] = np.where(diverged, np.nan, mean)
            summary[f"{q}_var"] = np.where(diverged, np.nan, var)
    summary["final_sq_norm"] = np.where(diverged, np.nan, state[0].reshape(G, n))
    config = problem.config()
    config["method"] = "reduced"
    config["backend"] = problem.backend
    final = {name: np.where(diverged, np.nan, state[i].reshape(G, n)) for i, name in enumerate(STATE_NAMES)}
    final.update({k: np.where(diverged, np.nan, v.reshape(G, n)) for k, v in gram_from_state(state).items()})
    return SimulationResult(
        steps=problem.record_steps,
        summary=summary,
        diverged=diverged,
        diverged_step=buf["div_step"].reshape(G, n),
        params={k: v.copy() for k, v in problem.params.items()},
        config=config,
        w_final=None,
        extra={"final_state": final},
        **series,
    )


def _problem_from_kwargs(kwargs: dict[str, Any]) -> Problem:
    from . import simulate
    from ._spec import build_problem

    params = inspect.signature(simulate).parameters
    unknown = set(kwargs) - set(params)
    if unknown:
        raise InputTypeError(f"unexpected keyword arguments: {', '.join(sorted(unknown))}")
    args = {name: par.default for name, par in params.items()}
    args.update(kwargs)
    args["method"] = "reduced"
    return build_problem(**args)


def _progress_bar(problem: Problem) -> Any:
    if not _show_progress(problem):
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=problem.steps, desc=f"simulate {problem.optimizer} (reduced)", unit="step", leave=False)


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


# ----------------------------------------------------------------------------------------------------------
# Mapping full-d draws to reduced draws (used by the exactness tests)
# ----------------------------------------------------------------------------------------------------------
def draws_from_full(w: np.ndarray, v: np.ndarray, w0: np.ndarray, xi: np.ndarray) -> np.ndarray:
    """The reduced draws (z₁, z₂, χ) that a full-d draw ξ amounts to at the state (w_t, v_{t−1}, w_0).

    With the basis of eq. R3 (e₁ = p/‖p‖, e₂ ∝ q − ⟨q, e₁⟩e₁ where p, q are the parts of v_{t−1} and w_0
    orthogonal to w_t): z₁ = ⟨ξ, e₁⟩, z₂ = ⟨ξ, e₂⟩, χ = ‖P⊥ξ‖² − z₁² − z₂². Feeding these to
    :func:`reduced_step` reproduces the inner products of one full-d step to round-off (for d = 2, z₂ = χ = 0;
    for d = 3, χ = 0). Rows are trajectories: arrays of shape ``(N, d)``; returns ``(N, 3)``.
    """
    w, v, w0, xi = (np.atleast_2d(np.asarray(x, dtype=np.float64)) for x in (w, v, w0, xi))
    N, d = w.shape
    out = np.zeros((N, 3))
    for i in range(N):
        u = w[i] / np.linalg.norm(w[i])
        basis = [u]

        def add_direction(x: np.ndarray, basis: list[np.ndarray] = basis) -> bool:
            """Gram–Schmidt (twice, for round-off) against ``basis``; keep x if it is not in their span."""
            norm0 = np.linalg.norm(x)
            for _ in range(2):
                for e in basis:
                    x = x - np.dot(x, e) * e
            if norm0 == 0.0 or np.linalg.norm(x) <= 1e-10 * norm0:
                return False
            basis.append(x / np.linalg.norm(x))
            return True

        # e₁ ∥ p (the part of v_{t−1} orthogonal to w_t), then e₂ from q (the part of w_0), completed by
        # coordinate vectors where p or q vanish (their coefficients are then zero in eq. R3)
        candidates = [v[i], w0[i], *np.eye(d)]
        for x in candidates:
            if len(basis) == min(d, 3):
                break
            add_direction(x)
        xp = xi[i] - np.dot(xi[i], u) * u
        z1 = np.dot(xp, basis[1])
        z2 = np.dot(xp, basis[2]) if d > 2 else 0.0
        chi = max(np.dot(xp, xp) - z1 * z1 - z2 * z2, 0.0) if d > 3 else 0.0
        out[i] = (z1, z2, chi)
    return out
