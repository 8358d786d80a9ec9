"""Measurement helpers shared by the claims: thin wrappers around :func:`spheretheory.simulate` and
:mod:`spheretheory.analysis` (no simulator of its own)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def reduced(
    optimizer: str,
    *,
    lr: float,
    weight_decay: float,
    momentum: float = 0.0,
    dim: int,
    steps: int,
    trajectories: int,
    seed: int,
    **kw: Any,
):
    """The exact reduced-state simulator (isotropic noise) — ``simulate(..., method="reduced")``."""
    from ..simulation import simulate

    return simulate(
        optimizer,
        lr=lr,
        weight_decay=weight_decay,
        momentum=momentum,
        dim=dim,
        steps=steps,
        trajectories=trajectories,
        seed=seed,
        method="reduced",
        progress=False,
        **kw,
    )


def reduced_at(optimizer: str, p: dict[str, Any], *, steps: int, seed: int, **kw: Any):
    """:func:`reduced` at a claim's parameter point ``p``: lr, weight_decay, dim and trajectories come from it."""
    return reduced(
        optimizer,
        lr=p["lr"],
        weight_decay=p["weight_decay"],
        dim=p["dim"],
        trajectories=p["trajectories"],
        steps=steps,
        seed=seed,
        **kw,
    )


def predict(optimizer: str, **kw: Any) -> dict[str, Any]:
    from ..prediction import predict as _predict

    return _predict(optimizer, **kw).to_dict()


def stay_time(gap: np.ndarray, level: float) -> int:
    """First index after which |gap| stays ≤ ``level`` to the end (len(gap) if the last value is above)."""
    above = np.abs(gap) > level
    if not above.any():
        return 0
    return int(np.nonzero(above)[0][-1] + 1)


def decay_rate(steps: np.ndarray, x: np.ndarray, target: float, *, hi: float = 0.5, lo: float = 0.05) -> float:
    """Per-step exponential rate of |x_t − target| from the times its envelope stays below ``hi``·gap₀ and
    ``lo``·gap₀: r = ln(hi/lo)/(t_lo − t_hi). Robust to the oscillation of a complex slow mode (SGDM)."""
    gap = np.asarray(x, float) - float(target)
    g0 = abs(gap[0])
    i_hi, i_lo = stay_time(gap, hi * g0), stay_time(gap, lo * g0)
    if i_lo >= len(gap) or i_lo <= i_hi:
        return float("nan")
    t_hi = steps[i_hi] if i_hi < len(steps) else steps[-1]
    return math.log(hi / lo) / max(float(steps[i_lo] - t_hi), 1.0)


def batched(fn, series: np.ndarray, batches: int = 8) -> tuple[float, float]:
    """``fn`` on the mean over all trajectories, and its standard error from ``batches`` disjoint batches of
    trajectories (batch-means SE: sd of the batch values / √batches; batches are independent)."""
    n = series.shape[-1]
    full = fn(series.mean(axis=-1))
    idx = np.array_split(np.arange(n), batches)
    vals = np.array([fn(series[..., i].mean(axis=-1)) for i in idx])
    vals = vals[np.isfinite(vals)]
    se = float(np.std(vals, ddof=1) / math.sqrt(len(vals))) if len(vals) > 1 else float("nan")
    return float(full), se


def pooled_variance(res: Any, q: str = "sq_norm") -> tuple[float, float]:
    """Stationary variance of a quantity (pooled over the window and the trajectories of grid point 0) and its
    SE across trajectories: per trajectory v_i = within-window variance + (mean_i − grand mean)²."""
    s = res.summary
    ok = ~res.diverged[0]
    m = s[f"{q}_mean"][0][ok]
    v = s[f"{q}_var"][0][ok] + (m - m.mean()) ** 2
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v)))


def rms_angular_update(res: Any, g: int = 0) -> tuple[float, float, np.ndarray]:
    """RMS angular update √E[Δ²] at grid point ``g`` (what the closed forms from E‖Δw‖² are for) from the
    streaming summaries: per trajectory E_i[Δ²] = within-window variance + mean², averaged over the independent
    trajectories; SE across trajectories carried to the square root (δ-method: se/(2·rms)). Also returns the
    per-trajectory E_i[Δ²] (for paired comparisons)."""
    s = res.summary
    ok = ~res.diverged[g]
    ms = s["angular_update_var"][g][ok] + s["angular_update_mean"][g][ok] ** 2
    rms = float(np.sqrt(ms.mean()))
    return rms, float(ms.std(ddof=1) / math.sqrt(ms.size) / (2 * rms)), ms


def window_mean(res: Any, q: str = "sq_norm", g: int = 0) -> tuple[float, float, np.ndarray]:
    """Mean of quantity ``q`` over the summary window and the trajectories of grid point ``g``, its SE across
    trajectories (sd of per-trajectory window means / √n), and the per-trajectory means."""
    x = res.summary[f"{q}_mean"][g][~res.diverged[g]]
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size)), x


def ratio_of_means(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """R = mean(x)/mean(y) for paired per-trajectory values (common random numbers) and its SE by the δ-method:
    sd of (x_i − R·y_i)/mean(y) over √n, which keeps the correlation of the pairs."""
    r = float(x.mean() / y.mean())
    z = (x - r * y) / y.mean()
    return r, float(z.std(ddof=1) / math.sqrt(z.size))


def equilibrium_run(optimizer: str, *, init_sq_norm: float, seed: int, **kw: Any):
    """``simulate`` started at a predicted equilibrium ‖w‖² (``init_sq_norm``), keeping the streaming summaries over
    the last half of the run (the window of the equilibrium claims); ``kw`` are simulate's other arguments."""
    from ..simulation import simulate

    return simulate(
        optimizer,
        init_norm=math.sqrt(init_sq_norm),
        seed=seed,
        record="summary",
        summary_fraction=0.5,
        progress=False,
        **kw,
    )
