"""The reduced chain's update in plain numpy: the readable reference of :mod:`._reduced_numba` (eqs. R1–R9 of
``docs/reduced_state.md``). Imports numpy only, so ``backend="numpy"`` never loads numba.
"""

from __future__ import annotations

import numpy as np

from ._common import NQ, Q_INDEX
from ._rng import StreamDrawer
from ._spec import OPT_CODE, Problem

SGD = OPT_CODE["sgd"]
SGDM = OPT_CODE["sgdm"]


def _coefficients(opt: int, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(α_v, σ_v, σ_g, κ) of eq. R1.

    v_t = α_v v_{t−1} + g_t + λ_c w_t and step_t = σ_v v_{t−1} + σ_g g_t + κλ_c w_t.
    """
    one, zero = np.ones_like(alpha), np.zeros_like(alpha)
    if opt == SGD:  # SGD: step = g + λ_c w; the buffer v is not used (α_v = 0)
        return zero, zero, one, one
    if opt == SGDM:  # heavy ball: step = v_t
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
    opt = OPT_CODE[optimizer]
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
        values[Q_INDEX["h_tilde"]] = ugs + 2.0 * alpha * gp * a if opt != SGD else ugs
        values[Q_INDEX["cos_to_start"]] = m / np.sqrt(a0 * a)
        values[Q_INDEX["effective_lr"]] = lr / a
    return new, values


def block_draws(streams: np.ndarray, t0: int, t1: int, dim: int) -> np.ndarray:
    """The draws (z₁, z₂, χ) of iterations t0 … t1 − 1, ``(t1 − t0, N, 3)``, from each trajectory's two streams
    (``streams[0]``: z₁, z₂ of each iteration in turn; ``streams[1]``: χ ~ χ²_{d−3}, only for d > 3), advancing
    them; the compiled kernel draws the same numbers (:mod:`._rng_numba`)."""
    nsteps, N = t1 - t0, streams.shape[1]
    out = np.zeros((nsteps, N, 3))
    drawer = StreamDrawer()
    for j in range(N):
        out[:, j, :2] = drawer.normal(streams[0], j, (nsteps, 2))
        if dim > 3:
            out[:, j, 2] = drawer.chisquare(streams[1], j, dim - 3.0, nsteps)
    return out


def run_block(
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
    draws: np.ndarray,
    buf: dict[str, np.ndarray],
) -> None:
    """One block of iterations of the numpy reference (updates ``state`` and ``buf`` in place)."""
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
            draws[s],
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
