"""Estimators shared by every layer: angles, equilibrium means with standard errors, Welford moments.

A leaf module (numpy only), so that the simulators, the training loops and the Adam-family references can
summarise what they produce without importing :mod:`spheretheory.analysis`, which sits above them. The public
names are re-exported there; documentation and users should use ``spheretheory.analysis``.

* :func:`angle_between` — the angle between two vectors, stable for tiny angles (Wan et al. Def. 3).
* :class:`EquilibriumStats`, :func:`equilibrium_stats`, :func:`stats_from_trajectory_means` — the mean over the
  last part of a run with a standard error across independent trajectories (or from the integrated
  autocorrelation time for a single trajectory).
* :func:`integrated_autocorrelation_time` — Sokal's windowed estimate τ_int.
* :class:`RunningMoments`, :func:`welford_update` — Welford's online mean and variance (memory independent of
  the number of updates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "EquilibriumStats",
    "RunningMoments",
    "angle_between",
    "equilibrium_stats",
    "integrated_autocorrelation_time",
    "stats_from_trajectory_means",
    "welford_update",
    "window_bounds",
]


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


def window_bounds(n: int, fraction: float) -> tuple[int, int]:
    if not (0.0 < float(fraction) <= 1.0):
        raise ValueError(f"fraction must be in (0, 1]; got {fraction!r}")
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
        raise ValueError("series must have at least one record")
    lo, hi = window_bounds(x.shape[0], fraction)
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


def welford_update(count: np.ndarray, mean: np.ndarray, m2: np.ndarray, x: np.ndarray, where: np.ndarray) -> None:
    """One step of Welford's online mean and variance, in place, for the columns selected by ``where``.

    ``where`` is a boolean mask over the last axes of ``x`` (the shape of ``count``): for each selected column
    j, count_j ← count_j + 1, mean_j ← mean_j + δ/count_j and m2_j ← m2_j + δ·(x_j − mean_j) with δ = x_j − mean_j
    (old mean); the population variance is m2/count. ``x``, ``mean`` and ``m2`` may carry leading axes (e.g.
    the simulators' quantities) that share one count. This is the numpy form of the update the numba and CUDA
    kernels inline.
    """
    count[where] += 1
    delta = x[..., where] - mean[..., where]
    mean[..., where] += delta / count[where]
    m2[..., where] += delta * (x[..., where] - mean[..., where])


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
        """Add one observation per element; non-finite values and elements where ``where`` is False are skipped."""
        x = np.broadcast_to(np.asarray(x, dtype=np.float64), self.mean.shape)
        ok = np.isfinite(x) if where is None else (np.asarray(where, bool) & np.isfinite(x))
        welford_update(self.count, self.mean, self._m2, x, ok)

    @property
    def var(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > 0, self._m2 / np.maximum(self.count, 1), np.nan)
