"""Shared by the backends: seeding, initial weights, per-trajectory parameters, the small argument structs of the
compiled kernels, result assembly. Imports numpy only.
"""

from __future__ import annotations

import sys
from typing import Any, NamedTuple

import numpy as np

from ._rng import StreamDrawer, stream_states
from ._spec import OPT_CODE, Problem
from .result import QUANTITIES, SimulationResult

#: index of each recorded quantity in the (Q, ...) arrays the kernels fill
Q_INDEX = {q: i for i, q in enumerate(QUANTITIES)}
NQ = len(QUANTITIES)


def seed_sequences(problem: Problem) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    """(initial-weight seed, noise seed): children of the user's seed, the same for every backend."""
    ss = problem.seed if isinstance(problem.seed, np.random.SeedSequence) else np.random.SeedSequence(problem.seed)
    init, noise = ss.spawn(2)
    return init, noise


def initial_weights(problem: Problem, fill_normal: Any = None) -> np.ndarray:
    """(N, d) float64 initial weights: ``w0`` if given, else random directions of norm ``init_norm``.

    Trajectory j draws its d normals from its own stream of the first child of the seed
    (:func:`._rng.stream_states`), so every backend starts from the same w_0. ``fill_normal(states, out)`` is a
    compiled, parallel sampler of the same streams (:func:`._rng_numba.fill_normal_parallel`); without it the
    streams are drawn with numpy's own sampler, one trajectory at a time (the same numbers).
    """
    if problem.w0 is not None:
        return problem.w0.reshape(problem.N, problem.dim).astype(np.float64)
    init_ss, _ = seed_sequences(problem)
    states = stream_states(init_ss, problem.N)[0]
    z = np.empty((problem.N, problem.dim))
    if fill_normal is not None:
        fill_normal(states, z)
    else:
        drawer = StreamDrawer()
        for j in range(problem.N):
            z[j] = drawer.normal(states, j, problem.dim)
    z *= problem.init_norm / np.linalg.norm(z, axis=1, keepdims=True)
    return z


def per_trajectory(problem: Problem) -> dict[str, np.ndarray]:
    """Hyperparameters repeated over trajectories: (N,) float64 arrays, grid-major (index = g·n + j)."""
    n = problem.trajectories
    return {k: np.repeat(v, n) for k, v in problem.params.items()}


def decay_split(problem: Problem, wd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(coupled λ, decoupled λ) per trajectory: one of them is zero."""
    zero = np.zeros_like(wd)
    return (zero, wd) if problem.decoupled else (wd, zero)


def optimizer_code(problem: Problem) -> int:
    return OPT_CODE[problem.optimizer]


def noise_scale_vectors(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """(√spectrum or empty, drift or empty) as float64 arrays (empty = not used)."""
    sc = np.sqrt(problem.spectrum) if problem.spectrum is not None else np.zeros(0)
    dr = problem.drift.astype(np.float64) if problem.drift is not None else np.zeros(0)
    return sc, dr


def block_length(problem: Problem, cap: int = 256) -> int:
    """Iterations per kernel call (at most ``cap``, whatever N·d): inside a call each trajectory runs all the
    block's iterations while its state is in cache; schedules and the progress bar are per block (memory
    independent of ``steps``). Every trajectory has its own random stream, so the numbers do not depend on it.
    """
    return int(max(1, min(problem.steps, cap)))


def threads_for(work: float, threshold: float = 2e6) -> int | None:
    """Threads for a compiled call of ``work`` element-updates: 1 below ``threshold`` (a parallel launch costs
    more than it saves, and under load two threads ran slower than one), else ``None`` (all of numba's)."""
    return 1 if work < threshold else None


def show_progress(problem: Problem) -> bool:
    if problem.progress is not None:
        return problem.progress
    work = float(problem.steps) * problem.N * problem.dim
    return bool(work > 2e9 and hasattr(sys.stderr, "isatty") and sys.stderr.isatty())


def make_progress(problem: Problem, desc: str) -> Any:
    """A tqdm bar over iterations (or a do-nothing stand-in)."""
    if not show_progress(problem):
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=problem.steps, desc=desc, unit="step", leave=False)


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def new_buffers(problem: Problem, nan_records: bool = True, trajectory_major: bool = False) -> dict[str, np.ndarray]:
    """Record and summary arrays (records NaN-filled, or left unset for a kernel that writes every record,
    NaN included; Welford accumulators).

    ``rec`` is always indexed ``[q, record, trajectory]``; ``trajectory_major`` lays it out in memory as
    ``(NQ, N, R)`` (a transposed view), so that a kernel writing one trajectory's records at a time writes
    contiguous memory instead of one cache line per record (the series then are strided views, no copy).
    """
    N = problem.N
    R = problem.n_records
    shape = (NQ, N, R) if trajectory_major else (NQ, R, N)
    rec = np.full(shape, np.nan) if nan_records else np.empty(shape)
    if trajectory_major:
        rec = rec.transpose(0, 2, 1)
    return {
        "rec": rec,
        "sum_count": np.zeros(N, dtype=np.int64),
        "sum_mean": np.zeros((NQ, N), dtype=np.float64),
        "sum_m2": np.zeros((NQ, N), dtype=np.float64),
        "diverged": np.zeros(N, dtype=np.bool_),
        "div_step": np.full(N, -1, dtype=np.int64),
    }


def assemble(problem: Problem, buffers: dict[str, np.ndarray], w_final: np.ndarray, backend: str) -> SimulationResult:
    """Build the :class:`SimulationResult` from the filled buffers (all host numpy arrays)."""
    G, n, R = problem.G, problem.trajectories, problem.n_records
    rec = buffers["rec"]
    defined = {q: True for q in QUANTITIES}
    defined["h_tilde"] = problem.has_h
    series: dict[str, np.ndarray | None] = {}
    for q, i in Q_INDEX.items():
        series[q] = rec[i].reshape(R, G, n) if (problem.record == "series" and defined[q]) else None
    count = buffers["sum_count"]
    summary: dict[str, np.ndarray] = {"count": count.reshape(G, n)}
    with np.errstate(invalid="ignore", divide="ignore"):
        for q, i in Q_INDEX.items():
            if not defined[q]:
                continue
            mean = np.where(count > 0, buffers["sum_mean"][i], np.nan)
            var = np.where(count > 0, buffers["sum_m2"][i] / np.maximum(count, 1), np.nan)
            summary[f"{q}_mean"] = mean.reshape(G, n)
            summary[f"{q}_var"] = var.reshape(G, n)
    diverged = buffers["diverged"].reshape(G, n)
    wf = np.array(w_final, dtype=problem.dtype).reshape(G, n, problem.dim)
    wf[diverged] = np.nan  # the weights of a diverged trajectory are not meaningful
    fsq = np.einsum("gnd,gnd->gn", wf.astype(np.float64), wf.astype(np.float64))
    summary["final_sq_norm"] = np.where(diverged, np.nan, fsq)
    # the summary of a diverged trajectory covers only its finite part: mark it invalid
    for key in list(summary):
        if key.endswith(("_mean", "_var")):
            summary[key] = np.where(diverged, np.nan, summary[key])
    config = problem.config()
    config["backend"] = backend
    return SimulationResult(
        steps=problem.record_steps,
        summary=summary,
        diverged=diverged,
        diverged_step=buffers["div_step"].reshape(G, n),
        params={k: v.copy() for k, v in problem.params.items()},
        config=config,
        w_final=wf,
        **series,
    )


# ----------------------------------------------------------------------------------------------------------
# Arguments of the compiled kernels, grouped (numba passes NamedTuples of arrays and scalars by value)
# ----------------------------------------------------------------------------------------------------------
class Rates(NamedTuple):
    """Per-trajectory hyperparameters, ``(N,)`` float64, grid-major (index g·n + j)."""

    lr: np.ndarray
    wd_coupled: np.ndarray  # λ added to the gradient
    wd_decoupled: np.ndarray  # λ of w ← w − ηλw
    momentum: np.ndarray
    unit_grad_sq: np.ndarray
    beta1: np.ndarray
    beta2: np.ndarray
    eps: np.ndarray


class Steps(NamedTuple):
    """One kernel call: iterations t0 … t0 + len(lr_mult) − 1 and their schedule multipliers."""

    t0: int
    lr_mult: np.ndarray
    wd_mult: np.ndarray
    grad_mult: np.ndarray
    rescale: np.ndarray  # w ← f·w before iteration t's update (Wan et al. Sec. 4.2)


class Recorder(NamedTuple):
    """Where a kernel writes: the series, the Welford summaries and the divergence flags (:func:`new_buffers`)."""

    series: bool
    every: int
    rec: np.ndarray  # (NQ, R, N)
    summary_start: int
    count: np.ndarray  # (N,) int64
    mean: np.ndarray  # (NQ, N)
    m2: np.ndarray  # (NQ, N)
    diverged: np.ndarray  # (N,) bool
    div_step: np.ndarray  # (N,) int64
    max_sq: float
    min_sq: float


def rates(problem: Problem) -> Rates:
    p = per_trajectory(problem)
    wdc, wdd = decay_split(problem, p["weight_decay"])
    return Rates(p["lr"], wdc, wdd, p["momentum"], p["unit_grad_sq"], p["beta1"], p["beta2"], p["eps"])


def steps_block(problem: Problem, t0: int, t1: int) -> Steps:
    return Steps(
        int(t0),
        problem.lr_schedule.block(t0, t1),
        problem.wd_schedule.block(t0, t1),
        problem.grad_schedule.block(t0, t1),
        problem.rescale_factors(t0, t1),
    )


def recorder(problem: Problem, buf: dict[str, np.ndarray]) -> Recorder:
    return Recorder(
        problem.record == "series",
        int(problem.record_every),
        buf["rec"],
        int(problem.summary_start),
        buf["sum_count"],
        buf["sum_mean"],
        buf["sum_m2"],
        buf["diverged"],
        buf["div_step"],
        float(problem.max_sq_norm),
        float(problem.min_sq_norm),
    )
