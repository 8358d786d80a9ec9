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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import InputError

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
def angle_between(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    """Angle between vectors ``a`` and ``b`` along ``axis`` (Wan et al. 2021, Def. 3).

    Computed as ``2·atan2(‖â − b̂‖, ‖â + b̂‖)`` with â = a/‖a‖, which keeps full relative precision for tiny
    angles (``arccos`` of the cosine loses it: cos Δ = 1 − Δ²/2 leaves only ε/Δ² relative accuracy, which is
    ~10% for Δ = 1e-3 in float32). Zero vectors give NaN.

    Returns an array with ``axis`` removed, in radians in [0, π].
    """
    a = np.asarray(a)
    b = np.asarray(b)
    work = np.result_type(a.dtype, b.dtype, np.float64)
    a = a.astype(work, copy=False)
    b = b.astype(work, copy=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        na = np.linalg.norm(a, axis=axis, keepdims=True)
        nb = np.linalg.norm(b, axis=axis, keepdims=True)
        ua = a / na
        ub = b / nb
        return 2.0 * np.arctan2(np.linalg.norm(ua - ub, axis=axis), np.linalg.norm(ua + ub, axis=axis))


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
        raise InputError(f"weights must have shape (T, ..., d) with T >= 2; got shape {np.shape(weights)}")
    return angle_between(w[:-1], w[1:], axis=-1)


def cosine_similarity(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    """cos∠(a, b) = ⟨a, b⟩ / (‖a‖‖b‖) along ``axis``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(a * b, axis=axis) / (np.linalg.norm(a, axis=axis) * np.linalg.norm(b, axis=axis))


# ----------------------------------------------------------------------------------------------------------
# Equilibrium statistics
# ----------------------------------------------------------------------------------------------------------
@dataclass
class EquilibriumStats:
    """Mean of a quantity over an equilibrium window, with its standard error.

    Attributes
    ----------
    mean:
        Grand mean over the window and over the valid trajectories (shape: the series' middle axes, e.g.
        (G,)).
    se:
        Standard error of ``mean`` (see ``method``).
    std:
        Standard deviation of the individual values in the window (the size of the fluctuations, pooled over
        trajectories); NaN when unknown (e.g. no within-trajectory variance was supplied).
    n_trajectories:
        Number of valid (finite, not masked) trajectories used.
    n_records:
        Number of time points in the window.
    method:
        How the SE was computed: ``"across-trajectories"`` — sample standard deviation (ddof=1) of the
        per-trajectory window means divided by √n_trajectories, valid whatever the time correlation because
        trajectories are independent; ``"autocorrelation"`` — for a single trajectory, σ·√(τ_int/N) with τ_int
        the integrated autocorrelation time.
    """

    mean: np.ndarray
    se: np.ndarray
    std: np.ndarray
    n_trajectories: np.ndarray
    n_records: int
    method: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (arrays kept as arrays)."""
        return {
            "mean": self.mean,
            "se": self.se,
            "std": self.std,
            "n_trajectories": self.n_trajectories,
            "n_records": self.n_records,
            "method": self.method,
            **self.extra,
        }


def _window(n: int, fraction: float) -> tuple[int, int]:
    if not (0.0 < float(fraction) <= 1.0):
        raise InputError(f"fraction must be in (0, 1]; got {fraction!r}")
    length = max(1, int(math.ceil(n * float(fraction))))
    return n - length, n


def stats_from_trajectory_means(
    trajectory_means: np.ndarray,
    trajectory_vars: np.ndarray | None = None,
    *,
    n_records: int = 0,
    mask: np.ndarray | None = None,
) -> EquilibriumStats:
    """Equilibrium statistics from per-trajectory window means (last axis = trajectories).

    mean = average of the valid per-trajectory means; se = std(ddof=1) of those means / √n_valid (independent
    trajectories, so no assumption on time correlation is needed); std = √(mean within-trajectory variance +
    variance of the trajectory means), the pooled spread of single values, when ``trajectory_vars`` is given.
    Trajectories whose mean is non-finite, or where ``mask`` is False, are left out.
    """
    m = np.asarray(trajectory_means, dtype=np.float64)
    valid = np.isfinite(m)
    if mask is not None:
        valid &= np.broadcast_to(np.asarray(mask, dtype=bool), m.shape)
    k = valid.sum(axis=-1)
    mz = np.where(valid, m, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = mz.sum(axis=-1) / k
        dev2 = np.where(valid, (m - mean[..., None]) ** 2, 0.0).sum(axis=-1)
        between = dev2 / (k - 1)
        se = np.sqrt(between / k)
        if trajectory_vars is not None:
            v = np.asarray(trajectory_vars, dtype=np.float64)
            valid_v = valid & np.isfinite(v)
            within = np.where(valid_v, v, 0.0).sum(axis=-1) / valid_v.sum(axis=-1)
            std = np.sqrt(within + np.where(k > 1, dev2 / k, 0.0))
        else:
            std = np.full(mean.shape, np.nan)
    se = np.where(k > 1, se, np.nan)
    mean = np.where(k > 0, mean, np.nan)
    return EquilibriumStats(
        mean=mean, se=se, std=std, n_trajectories=k, n_records=int(n_records), method="across-trajectories"
    )


def equilibrium_stats(
    series: np.ndarray,
    fraction: float = 0.25,
    *,
    axis: int = 0,
    mask: np.ndarray | None = None,
) -> EquilibriumStats:
    """Mean of a series over the last ``fraction`` of its records, with a standard error.

    Parameters
    ----------
    series:
        Array ``(T, ..., n)``: time along ``axis`` (default 0), independent trajectories on the last axis.
        A 1-D array is one trajectory.
    fraction:
        Fraction of the records (the last ``ceil(fraction·T)``) taken as the equilibrium window.
    mask:
        Optional boolean array of shape ``(..., n)``: trajectories to use (e.g. ``~result.diverged``).
        Trajectories with any non-finite value in the window are always left out.

    Returns
    -------
    EquilibriumStats
        With n ≥ 2 trajectories the SE is the sample standard deviation (ddof=1) of the per-trajectory
        window means over √n (method ``"across-trajectories"``). With a single trajectory it is
        σ·√(τ_int/N), τ_int from :func:`integrated_autocorrelation_time` (method ``"autocorrelation"``).
    """
    x = np.moveaxis(np.asarray(series, dtype=np.float64), axis, 0)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[0] < 1:
        raise InputError("series must have at least one record")
    lo, hi = _window(x.shape[0], fraction)
    win = x[lo:hi]
    finite = np.all(np.isfinite(win), axis=0)
    valid = finite if mask is None else finite & np.broadcast_to(np.asarray(mask, bool), finite.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = win.shape[0]
        wz = np.where(valid, win, 0.0)
        means = np.where(valid, wz.sum(axis=0) / k, np.nan)
        variances = np.where(valid, ((wz - np.where(valid, means, 0.0)) ** 2).sum(axis=0) / k, np.nan)
    if x.shape[-1] == 1:
        tau = integrated_autocorrelation_time(np.where(valid, win, 0.0), axis=0)[..., 0]
        mean = means[..., 0]
        sd = np.sqrt(variances[..., 0])
        se = sd * np.sqrt(tau / win.shape[0])
        return EquilibriumStats(
            mean=mean,
            se=se,
            std=sd,
            n_trajectories=valid[..., 0].astype(int),
            n_records=win.shape[0],
            method="autocorrelation",
            extra={"tau_int": tau},
        )
    return stats_from_trajectory_means(means, variances, n_records=win.shape[0], mask=valid)


def integrated_autocorrelation_time(x: np.ndarray, axis: int = 0, c: float = 5.0) -> np.ndarray:
    """Integrated autocorrelation time τ_int = 1 + 2Σ_k ρ_k with Sokal's automatic window (M ≥ c·τ_int).

    Computed by FFT along ``axis``; a constant series gives τ_int = 1. The effective number of independent
    samples in N records is N/τ_int.
    """
    y = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    n = y.shape[-1]
    y = y - y.mean(axis=-1, keepdims=True)
    nfft = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(y, n=nfft, axis=-1)
    acf = np.fft.irfft(f * np.conj(f), n=nfft, axis=-1)[..., :n]
    var = acf[..., :1]
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(var > 0, acf / np.where(var > 0, var, 1.0), 0.0)
    taus = 2.0 * np.cumsum(rho, axis=-1) - 1.0
    m = np.arange(n)
    ok = m >= c * taus
    first = np.where(ok.any(axis=-1), ok.argmax(axis=-1), n - 1)
    tau = np.take_along_axis(taus, first[..., None], axis=-1)[..., 0]
    return np.maximum(tau, 1.0)


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
        raise InputError(f"rtol must be in (0, inf); got {rtol!r}")
    if target is None:
        lo, hi = _window(x.shape[0], fraction)
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
            raise InputError(f"steps must have shape ({x.shape[0]},); got {st.shape}")
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
        raise InputError(f"steps and series must be 1-D of equal length; got {t.shape} and {x.shape}")
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


# ----------------------------------------------------------------------------------------------------------
# Streaming moments
# ----------------------------------------------------------------------------------------------------------
class RunningMoments:
    """Welford's online mean and variance of arrays of a fixed shape (memory independent of updates).

    ``update(x, where=mask)`` adds one observation per element (elements where ``mask`` is False are skipped);
    ``mean``, ``var`` (population variance, ddof=0) and ``count`` have the shape given at construction.
    """

    def __init__(self, shape: tuple[int, ...]):
        self.count = np.zeros(shape, dtype=np.int64)
        self.mean = np.zeros(shape, dtype=np.float64)
        self._m2 = np.zeros(shape, dtype=np.float64)

    def update(self, x: np.ndarray, where: np.ndarray | None = None) -> None:
        x = np.asarray(x, dtype=np.float64)
        ok = np.isfinite(x) if where is None else (np.asarray(where, bool) & np.isfinite(x))
        self.count += ok
        delta = np.where(ok, x - self.mean, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.mean += np.where(ok, delta / np.maximum(self.count, 1), 0.0)
        self._m2 += np.where(ok, delta * (x - self.mean), 0.0)

    @property
    def var(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > 0, self._m2 / np.maximum(self.count, 1), np.nan)
