"""The reduced chain's update in plain numpy: the readable reference of :mod:`._reduced_numba` (eqs. R1–R9 of
``docs/reduced_state.md``). Imports numpy only, so ``backend="numpy"`` never loads numba.

The step is written in the *noise frame*: the orthonormal frame (e₀ = w_t/‖w_t‖, e₁ ∥ p, f₂, f₃) in which the
part of the gradient outside span{e₀, e₁} points along f₂. In the frame (e₀, e₁, e₂, e₃) of eq. R3 that part is
s(z₂e₂ + √χ e₃); rotating (e₂, e₃) by the angle φ with cos φ = z₂/u, sin φ = √χ/u, u = √(z₂² + χ), makes it
s·u·f₂, so v_t and w_{t+1} have no f₃ component and w_0 = (m/‖w_t‖, β₁, β₂ cos φ, −β₂ sin φ). The Cauchy–Binet
sums of eq. R7'/R7'' then lose every term with f₃ except ζ₃² = β₂² sin²φ:

    Q' = Σ_{i<j≤2} (Z_iW_j − Z_jW_i)²/a' + ζ₃²,   D' = det(V, Z, W)²/a' + ζ₃²·P'   (coordinates 0, 1, 2),

which is the same state as the 4-coordinate sums (a few ulps apart) with half the products. The compiled kernel
evaluates the same formulas in the same order.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._common import NQ, Q_INDEX
from ._spec import OPT_CODE, Problem

SGD = OPT_CODE["sgd"]
SGDM = OPT_CODE["sgdm"]


class Coefficients(NamedTuple):
    """(α_v, σ_v, σ_g, κ, h₂) of eq. R1 per trajectory: v_t = α_v v_{t−1} + g_t + λ_c w_t,
    step_t = σ_v v_{t−1} + σ_g g_t + κλ_c w_t; h̃_t = ‖g̃_t‖² + h₂⟨g_t, v_{t−1}⟩‖w_t‖²."""

    av: np.ndarray
    sv: np.ndarray
    sg: np.ndarray
    kap: np.ndarray
    h2: np.ndarray


def coefficients(opt: int, alpha: np.ndarray) -> Coefficients:
    """The :class:`Coefficients` of optimizer code ``opt`` at momentum ``alpha`` (eq. R1)."""
    one, zero = np.ones_like(alpha), np.zeros_like(alpha)
    if opt == SGD:  # SGD: step = g + λ_c w; the buffer v is not used (α_v = 0)
        return Coefficients(zero, zero, one, one, zero)
    if opt == SGDM:  # heavy ball: step = v_t
        return Coefficients(alpha, alpha, one, one, 2.0 * alpha)
    # Nesterov (PyTorch): step = d_t + α v_t = (1+α)(g + λ_c w) + α² v_{t−1}
    return Coefficients(alpha, alpha * alpha, one + alpha, one + alpha, 2.0 * alpha)


class NoiseFrame(NamedTuple):
    """The draws (z₁, z₂, χ) in the noise frame: z₁, u = √(z₂² + χ), cos φ = z₂/u, sin²φ = χ/u² (1 and 0 where
    u = 0) and ‖ξ⊥‖² = z₁² + u² (so ‖g̃_t‖² = σ²‖ξ⊥‖²). Any common shape."""

    z1: np.ndarray
    u: np.ndarray
    cphi: np.ndarray
    s2phi: np.ndarray
    xsq: np.ndarray


def noise_frame(draws: np.ndarray, dim: int) -> NoiseFrame:
    """:class:`NoiseFrame` of draws ``(..., 3)`` = (z₁, z₂, χ) at width ``dim`` (z₂ = 0 for d = 2, χ = 0 for
    d ≤ 3)."""
    draws = np.asarray(draws, dtype=np.float64)
    z1 = np.ascontiguousarray(draws[..., 0])
    z2 = draws[..., 1] if dim > 2 else np.zeros_like(z1)
    chi = np.maximum(draws[..., 2], 0.0) if dim > 3 else np.zeros_like(z1)
    u2 = z2 * z2 + chi
    u = np.sqrt(u2)
    pos = u2 > 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        iu2 = np.where(pos, 1.0 / u2, 0.0)
        cphi = np.where(pos, z2 * u * iu2, 1.0)
        s2phi = chi * iu2
    return NoiseFrame(z1, u, cphi, s2phi, z1 * z1 + u2)


def _advance(S, nf, c, sig, eta, lam_c, lam_d, has_z2):
    """Eqs. R3–R7'' in the noise frame: the new state (7 arrays) and the inputs of the recorded quantities.

    ``S``: (a, b, P, m, R, Q, D); ``nf``: this iteration's :class:`NoiseFrame`; ``c``: :class:`Coefficients`;
    ``sig`` = √(L_t/(d−1)); ``eta``, ``lam_c``, ``lam_d``: η_t, λ_c, λ_d (arrays or scalars).
    """
    a, b, P, m, R, Q, D = S
    P = np.maximum(P, 0.0)
    Q = np.maximum(Q, 0.0)
    ia = 1.0 / a  # the kernel carries it from the previous step's 1/a' (the same number)
    ira = np.sqrt(ia)  # 1/‖w_t‖
    # (R3) e₁ ∥ p, e₂ ⟂ e₁ in span{p, q}: p = α₁e₁, q = β₁e₁ + β₂e₂ (β₂² = Q − β₁² = D/P, 0 where e₁ ∥ q)
    al1 = np.sqrt(P)
    has_p = P > 0.0
    sq = np.sqrt(Q)
    ip = np.where(has_p, 1.0 / P, 0.0)
    be1 = np.where(has_p, R * al1 * ip, sq)  # R/√P
    be1 = np.where(be1 * be1 > Q, np.copysign(sq, be1), be1)
    be2sq = np.maximum(D, 0.0) * ip if has_z2 else np.zeros_like(a)
    be2 = np.sqrt(be2sq)
    # (R4) g_t = s(z₁e₁ + u f₂), s = σ/‖w_t‖
    sz = sig * ira
    gz1 = sz * nf.z1
    # (R5) v_t and (R6) w_{t+1} in the noise frame; w_0 = (m/‖w_t‖, β₁, β₂ cos φ, ζ₃)
    svh = eta * c.sv
    gs = -eta * c.sg
    v0 = (c.av * b + lam_c * a) * ira
    v1 = c.av * al1 + gz1
    v2 = sz * nf.u
    w0 = ((1.0 - eta * lam_d - eta * c.kap * lam_c) * a - svh * b) * ira
    w1 = gs * gz1 - svh * al1
    w2 = gs * v2
    q0 = m * ira
    q2 = be2 * nf.cphi
    zeta2 = be2sq * nf.s2phi
    wt2 = w1 * w1 + w2 * w2
    # (R7) a' = ‖w_{t+1}‖²; (R7') the minors X_iW_j − X_jW_i of v_t and w_0 with w_{t+1}
    a_new = w0 * w0 + wt2
    inv = 1.0 / a_new
    mv01 = v0 * w1 - v1 * w0
    mv02 = v0 * w2 - v2 * w0
    mv12 = v1 * w2 - v2 * w1
    mz01 = q0 * w1 - be1 * w0
    mz02 = q0 * w2 - q2 * w0
    mz12 = be1 * w2 - q2 * w1
    P_new = (mv01 * mv01 + mv02 * mv02 + mv12 * mv12) * inv
    # (R7'') det(v_t, w_0, w_{t+1}) over the coordinates 0, 1, 2
    det = v0 * mz12 - v1 * mz02 + v2 * mz01
    new = (
        a_new,
        v0 * w0 + v1 * w1 + v2 * w2,
        P_new,
        q0 * w0 + be1 * w1 + q2 * w2,
        (mv01 * mz01 + mv02 * mz02 + mv12 * mz12) * inv,
        (mz01 * mz01 + mz02 * mz02 + mz12 * mz12) * inv + zeta2,
        det * det * inv + zeta2 * P_new,
    )
    return new, (wt2, w0, gz1 * al1, ira, ia)


def _values(a, ira0, m, wt2, w0, gp, ira, ia, ugs, h2, eta, out):
    """(R8, R9) the recorded quantities of iteration t into ``out`` (NQ, N), in the order of QUANTITIES;
    ``ira0`` = 1/‖w_0‖; ``ira`` = 1/‖w_t‖ and ``ia`` = 1/a as :func:`_advance` computes them."""
    out[Q_INDEX["sq_norm"]] = a
    out[Q_INDEX["angular_update"]] = np.arctan2(np.sqrt(wt2), w0)
    out[Q_INDEX["unit_grad_sq"]] = ugs
    out[Q_INDEX["h_tilde"]] = ugs + h2 * gp * a
    out[Q_INDEX["cos_to_start"]] = m * ira * ira0  # m/√(a₀a)
    out[Q_INDEX["effective_lr"]] = eta * ia  # η/a
    return out


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
    S = tuple(np.asarray(x, dtype=np.float64) for x in state)
    c = coefficients(OPT_CODE[optimizer], np.asarray(momentum, dtype=np.float64))
    nf = noise_frame(draws, dim)
    lr = np.asarray(lr, dtype=np.float64)
    sig = np.sqrt(np.asarray(unit_grad_sq, dtype=np.float64) / (dim - 1))
    lam_c = np.asarray(weight_decay_coupled, dtype=np.float64)
    lam_d = np.asarray(weight_decay_decoupled, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        new, (wt2, w0, gp, ira, ia) = _advance(S, nf, c, sig, lr, lam_c, lam_d, dim > 2)
        ira0 = np.sqrt(1.0 / np.asarray(a0, dtype=np.float64))
        vals = np.empty((NQ, S[0].shape[0]))
        values = _values(S[0], ira0, S[3], wt2, w0, gp, ira, ia, sig * sig * nf.xsq, c.h2, lr, vals)
    return np.stack(new), values


class StreamSet:
    """The two streams of every trajectory (``streams[0]``: z₁, z₂ of each iteration in turn; ``streams[1]``:
    χ ~ χ²_{d−3}) drawn with numpy's samplers: one Generator whose PCG64 state is swapped per trajectory (a
    Generator per trajectory costs a seed hash each). The compiled kernel draws the same numbers from the same
    states (:mod:`._rng_numba`)."""

    def __init__(self, streams: np.ndarray, dim: int) -> None:
        from ._rng import state_dict

        self._bg = np.random.PCG64(0)
        self._gen = np.random.Generator(self._bg)
        self._normal = [state_dict(row) for row in streams[0]]
        self._chi = [state_dict(row) for row in streams[1]] if dim > 3 else None
        self.dim = dim

    def draws(self, nsteps: int) -> np.ndarray:
        """The next ``nsteps`` iterations' draws (z₁, z₂, χ), ``(nsteps, N, 3)``."""
        bg, gen = self._bg, self._gen
        out = np.zeros((nsteps, len(self._normal), 3))
        for j, st in enumerate(self._normal):
            bg.state = st
            out[:, j, :2] = gen.standard_normal((nsteps, 2))
            self._normal[j] = bg.state
        if self._chi is not None:
            df = self.dim - 3.0
            for j, st in enumerate(self._chi):
                bg.state = st
                out[:, j, 2] = gen.chisquare(df, nsteps)
                self._chi[j] = bg.state
        return out


class RunConstants(NamedTuple):
    """What a run's iterations share: per-trajectory η, λ_c, λ_d, √(L/(d−1)) and the coefficients of eq. R1."""

    lr: np.ndarray
    wdc: np.ndarray
    wdd: np.ndarray
    sig: np.ndarray
    coef: Coefficients


def run_constants(problem: Problem, p: dict[str, np.ndarray]) -> RunConstants:
    lam = p["weight_decay"]
    wdc, wdd = (np.zeros_like(lam), lam) if problem.decoupled else (lam, np.zeros_like(lam))
    sig = np.sqrt(p["unit_grad_sq"] / (problem.dim - 1))
    return RunConstants(p["lr"], wdc, wdd, sig, coefficients(OPT_CODE[problem.optimizer], p["momentum"]))


def run_block(
    problem: Problem,
    state: np.ndarray,
    a0: np.ndarray,
    k: RunConstants,
    t0: int,
    lr_mult: np.ndarray,
    wd_mult: np.ndarray,
    g_mult: np.ndarray,
    resc: np.ndarray,
    draws: np.ndarray,
    buf: dict[str, np.ndarray],
) -> None:
    """One block of iterations of the numpy reference (updates ``state`` and ``buf`` in place).

    ``draws``: ``(nsteps, N, 3)``. A trajectory whose ‖w‖² leaves [min_sq_norm, max_sq_norm] before or after a
    step is flagged diverged at that step and frozen; its records stay NaN and its summaries stop.
    """
    rec, count, mean, m2 = buf["rec"], buf["sum_count"], buf["sum_mean"], buf["sum_m2"]
    diverged, div_step = buf["diverged"], buf["div_step"]
    nf_all = noise_frame(draws, problem.dim)
    has_z2 = problem.dim > 2
    hi, lo = problem.max_sq_norm, problem.min_sq_norm
    series, every, start = problem.record == "series", problem.record_every, problem.summary_start
    vals = np.empty((NQ, state.shape[1]))
    ira0 = np.sqrt(1.0 / a0)  # 1/‖w_0‖
    rows = tuple(state)  # views: written back in place
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for s in range(lr_mult.shape[0]):
            t = t0 + s
            f = resc[s]
            if f != 1.0:  # Wan et al. Sec. 4.2: w ← f·w (a ← f²a, b ← f b, m ← f m); v, p, q are unchanged
                state[0] *= f * f
                state[1] *= f
                state[3] *= f
            eta = k.lr * lr_mult[s]
            sig = k.sig * np.sqrt(g_mult[s])
            nf = NoiseFrame(*(x[s] for x in nf_all))
            lam = (k.wdc * wd_mult[s], k.wdd * wd_mult[s])
            new, (wt2, w0, gp, ira, ia) = _advance(rows, nf, k.coef, sig, eta, *lam, has_z2)
            a, a_new = state[0], new[0]
            live = ~diverged & (a <= hi) & (a >= lo) & (a_new <= hi) & (a_new >= lo)
            everyone = bool(live.all())
            if not everyone:
                bad = ~diverged & ~live
                diverged[bad] = True
                div_step[bad] = t
            rec_now = series and t % every == 0
            if rec_now or t >= start:
                _values(a, ira0, state[3], wt2, w0, gp, ira, ia, sig * sig * nf.xsq, k.coef.h2, eta, vals)
                if rec_now:
                    if everyone:
                        rec[:, t // every] = vals
                    else:
                        rec[:, t // every, live] = vals[:, live]
                if t >= start:  # Welford's online mean and variance
                    if everyone:
                        count += 1
                        delta = vals - mean
                        mean += delta / count
                        m2 += delta * (vals - mean)
                    else:
                        count[live] += 1
                        delta = vals[:, live] - mean[:, live]
                        mean[:, live] += delta / count[live]
                        m2[:, live] += delta * (vals[:, live] - mean[:, live])
            for i in range(7):
                if everyone:
                    state[i] = new[i]
                else:
                    state[i, live] = new[i][live]
