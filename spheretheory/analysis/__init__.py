"""Statistics measured from trajectories of scale-invariant weights (simulated, or recorded from networks).

Everything here takes plain numpy arrays and returns arrays, dicts or small dataclasses, so the same functions
serve :func:`spheretheory.simulate` results and records taken from PyTorch training runs.

Conventions
-----------
A *series* is an array whose first axis (``axis=0`` unless told otherwise) is time (records) and whose last
axis
indexes independent trajectories; any axes in between (e.g. a hyperparameter grid G) are carried through.
The simulator's series have shape ``(n_records, G, n)``.

Functions
---------
* :func:`angle_between` — the angle between two vectors, stable for tiny angles (Wan et al. Def. 3).
* :func:`angular_updates` — Δ_t = ∠(w_t, w_{t+1}) from a series of weights.
* :func:`cosine_similarity` — cos(a, b).
* :func:`equilibrium_stats` — mean over the last ``fraction`` of a run with a standard error across
  independent trajectories (or from the integrated autocorrelation time for a single trajectory).
* :func:`stats_from_trajectory_means` — the same statistics from per-trajectory window means (e.g. streaming
  summaries).
* :func:`time_to_equilibrium` — the first time after which a series stays within a relative band of its
  target.
* :func:`integrated_autocorrelation_time` — Sokal's windowed estimate τ_int.
* :func:`relaxation_rate` — the exponential rate of approach to a target, fitted to log|x_t − x*|.
* :class:`RunningMoments` — Welford's online mean and variance (memory independent of the number of updates).

The estimators that layers below this one need (angles, equilibrium statistics, τ_int, Welford moments) are
defined in the leaf module :mod:`spheretheory._stats` and re-exported here.
"""

from __future__ import annotations

import numpy as np

from .._stats import (
    EquilibriumStats,
    RunningMoments,
    angle_between,
    equilibrium_stats,
    integrated_autocorrelation_time,
    stats_from_trajectory_means,
    window_bounds,
)

__all__ = [
    "EquilibriumStats",
    "RunningMoments",
    "angle_between",
    "angular_updates",
    "cosine_similarity",
    "equilibrium_stats",
    "integrated_autocorrelation_time",
    "relaxation_rate",
    "stats_from_trajectory_means",
    "time_to_equilibrium",
]


# ----------------------------------------------------------------------------------------------------------
# Geometry
# ----------------------------------------------------------------------------------------------------------
def angular_updates(weights: np.ndarray, axis: int = 0) -> np.ndarray:
    """Angular updates Δ_t = ∠(w_t, w_{t+1}) (Wan et al. Def. 3) from consecutive weights.

    Parameters
    ----------
    weights:
        Array of shape ``(T, ..., d)``: ``T`` consecutive weights along ``axis`` (default 0), the vector
        dimension last.

    Returns
    -------
    Array of shape ``(T − 1, ...)``.
    """
    w = np.moveaxis(np.asarray(weights), axis, 0)
    if w.ndim < 2 or w.shape[0] < 2:
        raise ValueError(f"weights must have shape (T, ..., d) with T >= 2; got shape {np.shape(weights)}")
    return angle_between(w[:-1], w[1:], axis=-1)


def cosine_similarity(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    """cos∠(a, b) = ⟨a, b⟩ / (‖a‖‖b‖) along ``axis``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(a * b, axis=axis) / (np.linalg.norm(a, axis=axis) * np.linalg.norm(b, axis=axis))


def time_to_equilibrium(
    series: np.ndarray,
    target: float | np.ndarray | None = None,
    *,
    rtol: float = 0.05,
    axis: int = 0,
    steps: np.ndarray | None = None,
    fraction: float = 0.25,
) -> np.ndarray:
    """First time after which ``series`` stays within ``rtol·|target|`` of ``target`` until the end.

    Parameters
    ----------
    series:
        ``(T, ...)``; typically a trajectory-averaged series (average first: a single noisy trajectory may
        never stay in a narrow band).
    target:
        The equilibrium value (scalar or broadcastable to ``series.shape[1:]``); ``None`` uses the mean over
        the
        last ``fraction`` of the series.
    steps:
        Optional ``(T,)`` step index of each record; the result is then in steps, else in record indices.

    Returns
    -------
    Array of shape ``series.shape[1:]`` (a float for 1-D input): the first record (or step) of the final run
    inside the band; −1 where the last record is outside the band.
    """
    x = np.moveaxis(np.asarray(series, dtype=np.float64), axis, 0)
    if not (float(rtol) > 0):
        raise ValueError(f"rtol must be in (0, inf); got {rtol!r}")
    if target is None:
        lo, hi = window_bounds(x.shape[0], fraction)
        target = x[lo:hi].mean(axis=0)
    target = np.broadcast_to(np.asarray(target, dtype=np.float64), x.shape[1:])
    inside = np.abs(x - target) <= rtol * np.abs(target)
    outside_rev = ~inside[::-1]
    # number of trailing records inside the band
    trailing = np.where(outside_rev.any(axis=0), outside_rev.argmax(axis=0), x.shape[0])
    idx = x.shape[0] - trailing
    result = np.where(trailing > 0, idx, -1)
    if steps is not None:
        st = np.asarray(steps)
        if st.shape != (x.shape[0],):
            raise ValueError(f"steps must have shape ({x.shape[0]},); got {st.shape}")
        result = np.where(result >= 0, st[np.clip(result, 0, x.shape[0] - 1)], -1)
    return result[()] if np.ndim(result) == 0 else result


def relaxation_rate(
    steps: np.ndarray,
    series: np.ndarray,
    target: float,
    *,
    start_fraction: float = 0.05,
    stop_fraction: float = 0.5,
) -> float:
    """Exponential rate r of approach x_t − x* ∝ e^{−r t}, from a least-squares fit of log|x_t − x*|.

    Fits the first contiguous stretch of records whose gap |x_t − x*| lies in
    ``[start_fraction·gap₀, stop_fraction·gap₀]`` (gap₀ the initial gap): after the first transient and before
    the noise floor. Returns NaN when fewer than 3 records qualify. ``1/r`` is the e-folding time in steps.
    """
    t = np.asarray(steps, dtype=np.float64)
    x = np.asarray(series, dtype=np.float64)
    if t.shape != x.shape or x.ndim != 1:
        raise ValueError(f"steps and series must be 1-D of equal length; got {t.shape} and {x.shape}")
    gap = np.abs(x - float(target))
    g0 = gap[0]
    sel = (gap <= stop_fraction * g0) & (gap >= start_fraction * g0) & np.isfinite(gap)
    if sel.sum() < 3:
        return float("nan")
    first = int(np.argmax(sel))
    end = first + int(np.argmin(sel[first:])) if not sel[first:].all() else len(sel)
    tt, gg = t[first:end], gap[first:end]
    if len(tt) < 3:
        return float("nan")
    slope = np.polyfit(tt, np.log(gg), 1)[0]
    return float(-slope)
