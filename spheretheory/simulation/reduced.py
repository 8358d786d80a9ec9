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

* :func:`._reduced_numba.kernel` — numba, ``prange`` over chunks of trajectories advanced in lockstep;
* :func:`reduced_step` / :mod:`._reduced_numpy` (``backend="numpy"``) — a plain, vectorized numpy reference,
  which never imports numba.

Every trajectory has two random streams (:mod:`._rng`): its normals z₁, z₂ (iteration by iteration) and its
χ² variates. Both paths draw the same numbers from them, and both accept injected draws, so they agree to
round-off; ``backend="auto"`` takes the numpy path for small runs (no numba import, no kernel to load) and the
kernel otherwise. The states to and from full-d vectors are in :mod:`._reduced_state`.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .._validation import InputError, InputTypeError
from ._common import Q_INDEX, new_buffers, per_trajectory, rates, recorder, seed_sequences, steps_block, threads_for
from ._reduced_numpy import StreamSet, reduced_step, run_block, run_constants
from ._reduced_state import STATE_NAMES, draws_from_full, gram_from_state, state_from_vectors
from ._rng import stream_states
from ._spec import OPT_CODE, Problem
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
#: iterations per kernel call; the numbers do not depend on it (per-trajectory streams)
_BLOCK = 256
#: trajectory-iterations per kernel call at least (≈ 0.4 s on one core): every call is one parallel launch
#: and one barrier, where a thread delayed by other jobs holds up the others; the kernel's cache blocking is
#: inside a call (:data:`._reduced_numba.SUB`), so longer calls cost nothing but a coarser progress bar
_KERNEL_BLOCK_DRAWS = 1 << 24
#: trajectory-iterations per block of the numpy path (its draws: 3 × 8 bytes each)
_NUMPY_BLOCK_DRAWS = 1 << 18


#: Seconds a process pays before the first compiled call: importing numba (≈ 0.25 s) and loading the cached
#: kernel (≈ 0.3 s; numba's BLAS probe no longer imports scipy.linalg: :mod:`.._jit`); 2-core machine, measured
#: as a fresh process's first call minus its kernel time (0.53–0.65 s at 16–4096 trajectories).
NUMBA_FIXED_S = 0.55


def numba_pays(trajectories: int, steps: int) -> bool:
    """Whether ``backend="auto"`` takes the compiled kernel for ``trajectories`` × ``steps`` (a function of the
    sizes only, so a seeded call always takes the same path). Cost model measured (wall time of a fresh process's
    first call, 2-core machine): numpy ≈ 120 µs per iteration + 0.22 µs per trajectory-iteration; the kernel ≈
    :data:`NUMBA_FIXED_S` + 25 ns per trajectory-iteration."""
    work = float(trajectories) * steps
    return NUMBA_FIXED_S + 25e-9 * work < 120e-6 * steps + 0.22e-6 * work


def use_numba(problem: Problem) -> bool:
    """``backend="auto"``: the compiled kernel unless the numpy path is cheaper (:func:`numba_pays`)."""
    if problem.backend != "auto":
        return problem.backend == "numba"
    return numba_pays(problem.N, problem.steps)


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
    if problem.backend not in ("auto", "numba", "numpy"):
        raise InputError(f"backend must be one of auto, numba, numpy with method='reduced'; got {problem.backend!r}")
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
        from ._api import problem_from_call

        problem = problem_from_call(**{**kwargs, "method": "reduced"})
    elif kwargs:
        raise InputTypeError(
            f"simulate_reduced takes either a Problem or keyword arguments, not both; got {sorted(kwargs)}"
        )
    injected = _validate(problem, draws)
    N, d, T = problem.N, problem.dim, problem.steps
    state, a0 = _initial_state(problem)
    compiled = use_numba(problem)
    buf = new_buffers(problem, nan_records=not compiled)  # the kernel writes every record (NaN once diverged)
    _, noise_ss = seed_sequences(problem)
    streams = stream_states(noise_ss, N, streams=2)  # [0]: z₁, z₂; [1]: χ²_{d−3}
    bar = _progress_bar(problem)
    if compiled:
        import numba

        from ._reduced_numba import ReducedNoise, ReducedState, kernel

        rt, out, st = rates(problem), recorder(problem, buf), ReducedState(state, a0)
        empty = np.zeros((1, 1, 3))
        code = OPT_CODE[problem.optimizer]
        threads = threads_for(50.0 * N * T)  # one trajectory-iteration ≈ 50 coordinate-updates of the full kernel
        before = numba.get_num_threads()
        if threads is not None:
            numba.set_num_threads(min(threads, before))
        block = max(_BLOCK, _KERNEL_BLOCK_DRAWS // N)
    else:
        consts = run_constants(problem, per_trajectory(problem))
        gens = StreamSet(streams, d) if injected is None else None
        # longer blocks than the kernel's: fewer sampler calls per trajectory, the draws still ≤ 6 MB
        block = max(_BLOCK, _NUMPY_BLOCK_DRAWS // N)
    try:
        for t0 in range(0, T, block):
            t1 = min(T, t0 + block)
            blk = steps_block(problem, t0, t1)
            if compiled:
                z = injected[t0:t1] if injected is not None else empty
                kernel(code, d, st, ReducedNoise(streams, z, injected is not None), rt, blk, out)
            else:
                z = injected[t0:t1] if injected is not None else gens.draws(t1 - t0)
                args = (t0, blk.lr_mult, blk.wd_mult, blk.grad_mult, blk.rescale, z, buf)
                run_block(problem, state, a0, consts, *args)
            bar.update(t1 - t0)
    finally:
        if compiled:
            numba.set_num_threads(before)
        bar.close()
    return _assemble(problem, buf, state, "numba" if compiled else "numpy")


def _assemble(problem: Problem, buf: dict[str, np.ndarray], state: np.ndarray, backend: str) -> SimulationResult:
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
    config["backend"] = backend
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


def _show_progress(problem: Problem) -> bool:
    if problem.progress is not None:
        return problem.progress
    return bool(float(problem.steps) * problem.N > 5e8 and hasattr(sys.stderr, "isatty") and sys.stderr.isatty())


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
