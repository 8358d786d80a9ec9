"""Exact reduced-state simulator for SGD / SGDM / Nesterov under isotropic Gaussian tangential noise.

For the synthetic isotropic noise of :func:`spheretheory.simulate` (g_t = g̃_t/‖w_t‖ with
g̃_t = √(L_t/(d−1))·P⊥ξ_t, ξ_t ~ N(0, I_d), P⊥ the projection orthogonal to w_t), the Gram matrix of the
three vectors (w_t, v_{t−1}, w_0) is a Markov chain: its law one step ahead depends on the past only through
the Gram matrix itself, because the noise is rotation invariant. The state

    a = ‖w_t‖²,  b = ⟨w_t, v_{t−1}⟩,  c = ‖v_{t−1}‖²,  m = ⟨w_t, w_0⟩,  n = ⟨v_{t−1}, w_0⟩   (+ a_0 = ‖w_0‖²)

is advanced by three scalar draws per step — z₁, z₂ ~ N(0, 1) and a χ²_{d−3} remainder — so the cost of a
step does not depend on d. The triple (a, b, c) is the chain of the issue; (m, n) extend it exactly to
cos(w_0, w_t). The derivation is in ``docs/reduced_state.md`` (equation numbers R1–R9 below refer to it).

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

from ._common import NQ, Q_INDEX, new_buffers, per_trajectory, seed_sequences
from ._spec import Problem
from .result import SimulationResult

__all__ = [
    "REDUCED_OPTIMIZERS",
    "STATE_NAMES",
    "draws_from_full",
    "reduced_step",
    "simulate_reduced",
]

#: optimizers with an exact reduced-state chain (their update is linear in w, v and g)
REDUCED_OPTIMIZERS: tuple[str, ...] = ("sgd", "sgdm", "nesterov")
_OPT = {"sgd": 0, "sgdm": 1, "nesterov": 2}
#: names of the state components, in the order of the ``(5, N)`` state array
STATE_NAMES: tuple[str, ...] = ("a", "b", "c", "m", "n")
#: iterations × trajectories per kernel call (the draws of one call are buffered, 24 bytes each)
_BLOCK_TARGET = 1 << 18
#: trajectories per chunk (one generator each; updated in lockstep by the kernel) and the most chunks
_CHUNK_TARGET = 16
_MAX_STREAMS = 1024


# ----------------------------------------------------------------------------------------------------------
# The update, numpy reference
# ----------------------------------------------------------------------------------------------------------
def _coefficients(opt: int, alpha: Any, lam_c: Any) -> tuple[Any, Any, Any, Any]:
    """(α_v, σ_v, σ_g, σ_w) of eq. R1.

    v_t = α_v v_{t−1} + g_t + λ_c w_t and step_t = σ_v v_{t−1} + σ_g g_t + σ_w w_t.
    """
    if opt == 0:  # SGD: step = g + λ_c w; the buffer v is not used (α_v = 0)
        return 0.0 * alpha, 0.0 * alpha, 1.0 + 0.0 * alpha, lam_c
    if opt == 1:  # heavy ball: step = v_t
        return alpha, alpha, 1.0 + 0.0 * alpha, lam_c
    # Nesterov (PyTorch): step = d_t + α v_t = (1+α)(g + λ_c w) + α² v_{t−1}
    return alpha, alpha * alpha, 1.0 + alpha, (1.0 + alpha) * lam_c


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
        ``(5, N)`` float64: (a, b, c, m, n) = (‖w_t‖², ⟨w_t, v_{t−1}⟩, ‖v_{t−1}‖², ⟨w_t, w_0⟩,
        ⟨v_{t−1}, w_0⟩).
    a0:
        ``(N,)`` ‖w_0‖².
    draws:
        ``(N, 3)``: z₁, z₂ ~ N(0, 1) and χ ~ χ²_{d−3} (χ is ignored for d ≤ 3, z₂ for d = 2). With the
        basis of eq. R3, z₁ = ⟨ξ, e₁⟩, z₂ = ⟨ξ, e₂⟩, χ = ‖P⊥ξ‖² − z₁² − z₂².
    dim:
        d ≥ 2.
    optimizer:
        ``"sgd"``, ``"sgdm"`` (heavy ball, Wan et al. eq. 10–11) or ``"nesterov"`` (PyTorch).
    lr, weight_decay_coupled, weight_decay_decoupled, momentum, unit_grad_sq:
        ``(N,)`` η_t, λ_c (added to the gradient), λ_d (w ← w − ηλ_d w), α and L_t of this iteration.

    Returns
    -------
    (new_state, values):
        the ``(5, N)`` state after the step and the ``(6, N)`` quantities of iteration t in the order of
        :data:`spheretheory.simulation.result.QUANTITIES`: ‖w_t‖², Δ_t, ‖g̃_t‖², h̃_t, cos(w_0, w_t) and
        η_t/‖w_t‖².
    """
    opt = _OPT[optimizer]
    a, b, c, m, n = (np.asarray(x, dtype=np.float64) for x in state)
    z1, z2, chi = (np.asarray(x, dtype=np.float64) for x in np.asarray(draws).T)
    lr = np.asarray(lr, dtype=np.float64)
    alpha = np.asarray(momentum, dtype=np.float64)
    av, sv, sg, sw = _coefficients(opt, alpha, np.asarray(weight_decay_coupled, dtype=np.float64))
    lam_c = np.asarray(weight_decay_coupled, dtype=np.float64)
    lam_d = np.asarray(weight_decay_decoupled, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        ra = np.sqrt(a)
        # (R2) tangential parts p (of v_{t−1}) and q (of w_0): ‖p‖², ⟨p, q⟩, ‖q‖²
        pp = np.maximum((c * a - b * b) / a, 0.0)
        pq = n - b * m / a
        qq = np.maximum((a0 * a - m * m) / a, 0.0)
        # (R3) orthonormal e₁ ∥ p, e₂ ⟂ e₁ in span{p, q}: p = α₁e₁, q = β₁e₁ + β₂e₂
        has_p = pp > 0.0
        al1 = np.sqrt(pp)
        be1 = np.where(has_p, pq / np.where(has_p, al1, 1.0), np.sqrt(qq))
        be1 = np.where(be1 * be1 > qq, np.copysign(np.sqrt(qq), be1), be1)
        be2 = np.sqrt(np.maximum(qq - be1 * be1, 0.0)) if dim > 2 else np.zeros_like(a)
        # (R4) the tangential noise P⊥ξ in that basis
        sig = np.sqrt(np.asarray(unit_grad_sq, dtype=np.float64) / (dim - 1))
        if dim == 2:
            xi_sq = z1 * z1
        elif dim == 3:
            xi_sq = z1 * z1 + z2 * z2
        else:
            xi_sq = z1 * z1 + z2 * z2 + chi
        ugs = sig * sig * xi_sq  # ‖g̃_t‖²
        gg = ugs / a  # ‖g_t‖²
        gp = sig * z1 * al1 / ra  # ⟨g_t, v_{t−1}⟩ = ⟨g_t, p⟩
        gq = sig * (z1 * be1 + z2 * be2) / ra  # ⟨g_t, w_0⟩ = ⟨g_t, q⟩
        # (R5) v_t = α_v v_{t−1} + g_t + λ_c w_t: radial coordinate and tangential part α_v p + g
        vr = (av * b + lam_c * a) / ra
        # (R6) w_{t+1} = (1 − ηλ_d − ησ_w) w_t − ησ_v v_{t−1} − ησ_g g_t
        wr = (1.0 - lr * lam_d - lr * sw) * ra - lr * sv * b / ra
        wt2 = lr * lr * (sv * sv * pp + 2.0 * sv * sg * gp + sg * sg * gg)
        wt2 = np.maximum(wt2, 0.0)
        # (R7) the new state
        a_new = wr * wr + wt2
        c_new = vr * vr + av * av * pp + 2.0 * av * gp + gg
        b_new = wr * vr - lr * (sv * av * pp + (sv + sg * av) * gp + sg * gg)
        m_new = wr * m / ra - lr * (sv * pq + sg * gq)
        n_new = vr * m / ra + av * pq + gq
        # (R8, R9) the recorded quantities of iteration t
        values = np.empty((NQ, a.shape[0]))
        values[Q_INDEX["sq_norm"]] = a
        values[Q_INDEX["angular_update"]] = np.arctan2(np.sqrt(wt2), wr)
        values[Q_INDEX["unit_grad_sq"]] = ugs
        values[Q_INDEX["h_tilde"]] = ugs + 2.0 * alpha * gp * a if opt else ugs
        values[Q_INDEX["cos_to_start"]] = m / np.sqrt(a0 * a)
        values[Q_INDEX["effective_lr"]] = lr / a
    return np.stack([a_new, b_new, c_new, m_new, n_new]), values


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
        # (R1) coefficients of v_t and of the step: v_t = α_v v + g + λ_c w, step = σ_v v + σ_g g + σ_w w
        av_ = np.empty(nj)
        sv_ = np.empty(nj)
        sg_ = np.empty(nj)
        swf_ = np.empty(nj)
        sql_ = np.empty(nj)
        for jj in range(nj):
            alpha = mom[j_lo + jj]
            sql_[jj] = math.sqrt(L[j_lo + jj])
            if opt == 0:
                av_[jj], sv_[jj], sg_[jj], swf_[jj] = 0.0, 0.0, 1.0, 1.0
            elif opt == 1:
                av_[jj], sv_[jj], sg_[jj], swf_[jj] = alpha, alpha, 1.0, 1.0
            else:
                av_[jj], sv_[jj], sg_[jj], swf_[jj] = alpha, alpha * alpha, 1.0 + alpha, 1.0 + alpha
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
                c = S[2, j]
                m = S[3, j]
                n = S[4, j]
                A0 = a0[j]
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
                # rescale on LR drop (Wan et al. Sec. 4.2): w ← f·w, the buffer v is left as it is
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
                ia = 1.0 / a
                ra = math.sqrt(a)
                ira = ra * ia
                # (R2) tangential parts p (of v_{t−1}) and q (of w_0)
                pp = (c * a - b * b) * ia
                if pp < 0.0:
                    pp = 0.0
                pq = n - b * m * ia
                qq = (A0 * a - m * m) * ia
                if qq < 0.0:
                    qq = 0.0
                # (R3) basis e₁ ∥ p, e₂ in span{p, q}
                al1 = math.sqrt(pp)
                if pp > 0.0:
                    be1 = pq / al1
                else:
                    be1 = math.sqrt(qq)
                if be1 * be1 > qq:
                    be1 = math.copysign(math.sqrt(qq), be1)
                be2 = 0.0
                if dim > 2:
                    r2 = qq - be1 * be1
                    if r2 > 0.0:
                        be2 = math.sqrt(r2)
                # (R4) noise
                sig = sql_[jj] * sig_mult[s]
                if dim == 2:
                    xi_sq = z1 * z1
                elif dim == 3:
                    xi_sq = z1 * z1 + z2 * z2
                else:
                    xi_sq = z1 * z1 + z2 * z2 + chi
                ugs = sig * sig * xi_sq
                gg = ugs * ia
                sz = sig * ira
                gp = sz * z1 * al1
                gq = sz * (z1 * be1 + z2 * be2)
                # (R5, R6)
                vr = (av * b + lam_c * a) * ira
                wr = (1.0 - eta * lam_d - eta * swf_[jj] * lam_c) * ra - eta * sv * b * ira
                wt2 = eta * eta * (sv * sv * pp + 2.0 * sv * sg * gp + sg * sg * gg)
                if wt2 < 0.0:
                    wt2 = 0.0
                # (R7)
                a_new = wr * wr + wt2
                if not (a_new <= max_sq and a_new >= min_sq):
                    diverged[j] = True
                    div_step[j] = t
                    continue
                S[0, j] = a_new
                S[1, j] = wr * vr - eta * (sv * av * pp + (sv + sg * av) * gp + sg * gg)
                S[2, j] = vr * vr + av * av * pp + 2.0 * av * gp + gg
                S[3, j] = wr * m * ira - eta * (sv * pq + sg * gq)
                S[4, j] = vr * m * ira + av * pq + gq
                # (R8, R9) recorded quantities of iteration t, only when they are used
                if rec_now or in_sum:
                    val[0] = a
                    val[1] = math.atan2(math.sqrt(wt2), wr)
                    val[2] = ugs
                    val[3] = ugs + 2.0 * mom[j] * gp * a if opt != 0 else ugs
                    val[4] = m / math.sqrt(A0 * a)
                    val[5] = eta * ia
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
        raise ValueError(
            f"optimizer must be one of {', '.join(REDUCED_OPTIMIZERS)} with method='reduced' (the exact "
            f"reduction needs an update linear in w, v and g); got {problem.optimizer!r}"
        )
    if problem.model is not None:
        raise ValueError("model= cannot be used with method='reduced' (the reduction needs isotropic noise)")
    if problem.noise != "isotropic":
        raise ValueError(f"noise must be 'isotropic' with method='reduced'; got {problem.noise!r}")
    if problem.backend not in ("numba", "numpy"):
        raise ValueError(
            f"backend must be one of numba, numpy with method='reduced'; got {problem.backend!r}"
        )
    if problem.noise_draws is not None:
        raise ValueError(
            "noise_draws (full-d draws ξ) cannot drive method='reduced'; inject the reduced draws "
            "(z₁, z₂, χ) with spheretheory.simulation.reduced.simulate_reduced(problem, draws=...)"
        )
    if np.dtype(problem.dtype) != np.dtype(np.float64):
        raise ValueError(
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
        raise ValueError(
            f"draws must have shape (steps, G, trajectories, 3) = {(T, G, n, 3)}; got {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("draws must be finite")
    if np.any(arr[..., 2] < 0):
        raise ValueError("draws[..., 2] (the χ² remainder) must be non-negative")
    return np.ascontiguousarray(arr.reshape(T, G * n, 3))


def _initial_state(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """(state (5, N), a0 (N,)) at t = 0: w_0 of norm ``init_norm`` (or ``‖w0‖``), v_{−1} = 0.

    Only ‖w_0‖ matters: by isotropy the law of the Gram process does not depend on the direction of w_0.
    """
    N = problem.N
    if problem.w0 is not None:
        w0 = problem.w0.reshape(N, problem.dim)
        a0 = np.einsum("nd,nd->n", w0, w0)
    else:
        a0 = np.full(N, problem.init_norm**2)
    state = np.zeros((5, N))
    state[0] = a0
    state[3] = a0
    return state, a0


def _show_progress(problem: Problem) -> bool:
    if problem.progress is not None:
        return problem.progress
    return bool(
        float(problem.steps) * problem.N > 5e8 and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    )


def simulate_reduced(
    problem: Problem | None = None, *, draws: np.ndarray | None = None, **kwargs: Any
) -> SimulationResult:
    """Simulate SGD/SGDM/Nesterov with isotropic noise exactly through the reduced Gram-matrix chain.

    Implements eqs. R1–R9 of ``docs/reduced_state.md``: the state (‖w_t‖², ⟨w_t, v_{t−1}⟩, ‖v_{t−1}‖²,
    ⟨w_t, w_0⟩, ⟨v_{t−1}, w_0⟩) is advanced with three scalar draws per step, so a step costs O(1) in d while
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
        ``extra["final_state"]`` holds the final reduced state as a dict of ``(G, n)`` arrays (a, b, c, m, n).

    Raises
    ------
    ValueError
        Optimizers other than sgd/sgdm/nesterov, non-isotropic noise, ``model=``, ``noise_draws=``, the cupy
        backend, float32, or malformed ``draws``.
    """
    if problem is None:
        problem = _problem_from_kwargs(kwargs)
    elif kwargs:
        raise TypeError(
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
            _numpy_block(
                problem, state, a0, p, wdc, wdd, t0, lr_mult, wd_mult, g_mult, resc, block_draws, buf
            )
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
        if f != 1.0:  # Wan et al. Sec. 4.2: w ← f·w (a ← f²a, b ← f b, m ← f m); v is left as it is
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
        raise TypeError(f"unexpected keyword arguments: {', '.join(sorted(unknown))}")
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

        def perp(x: np.ndarray, u: np.ndarray = u) -> np.ndarray:
            return x - np.dot(x, u) * u

        p = perp(v[i])
        q = perp(w0[i])
        xp = perp(xi[i])
        if np.dot(p, p) > 0:
            e1 = p / np.linalg.norm(p)
        elif np.dot(q, q) > 0:
            e1 = q / np.linalg.norm(q)
        else:  # any unit tangent vector
            e1 = perp(np.eye(d)[int(np.argmin(np.abs(u)))])
            e1 /= np.linalg.norm(e1)
        z1 = np.dot(xp, e1)
        z2 = 0.0
        if d > 2:
            r = q - np.dot(q, e1) * e1
            if np.dot(r, r) > 0:
                e2 = r / np.linalg.norm(r)
            else:
                e2 = perp(np.eye(d)[int(np.argsort(np.abs(u))[1])])
                e2 -= np.dot(e2, e1) * e1
                e2 /= np.linalg.norm(e2)
            z2 = np.dot(xp, e2)
        chi = max(np.dot(xp, xp) - z1 * z1 - z2 * z2, 0.0) if d > 3 else 0.0
        out[i] = (z1, z2, chi)
    return out
