"""Classify a training trajectory into the three regimes of Kodryan et al. (2022) from measured statistics.

The statistics (per run, over the second half of the record; W₃ and W₄ are its two quarters):

* ``loss_trend_t`` — (mean L over W₄ − mean L over W₃)/SE, the SE from 5 batch means per window (batch means
  absorb the autocorrelation of a stationary noisy loss); ``relative_drop`` — that decrease relative to the
  loss level above the model's minimum (or to |L| without one).
* ``angle_shrink`` — median Δ over W₄ / median Δ over W₃ (angular updates shrink geometrically while a run
  converges to a point where the gradient noise vanishes).
* ``angle_fraction`` — mean Δ over the second half divided by π/2, the mean angle between two independent
  uniform points on the sphere (every dimension): 1 for a random walk that forgets its position every step.
* ``loss_level`` — (mean L − min)/(random − min): 0 at the minimum, 1 at the expected loss of a uniformly
  random direction (needs the trajectory's ``min_loss`` and ``random_loss``).
* ``cos_to_start`` — cos∠(w_T, w_0), against the uniform scale 1/√d.

Rules (thresholds in :mod:`spheretheory.theory.toy` and below; documented in docs/regimes.md):

1. a non-finite value → ``divergence`` (confidence 1);
2. ``angle_fraction ≥ 0.8`` → ``divergence`` (random walk: steps nearly as long as between
   independent points);
3. loss still falling (``loss_trend_t < −3`` and ``relative_drop > 0.01``) or angular updates still shrinking
   (``angle_shrink < 0.5``, or median Δ below 1e-10) → ``convergence``;
4. ``loss_level ≥ 0.95`` (no better than a random direction, and not falling) → ``divergence``;
5. otherwise → ``chaotic_equilibrium``.

Each run is classified; the trajectory's regime is the majority, and the confidence is the mean over runs
of the per-run confidence (0 for runs that disagree). A per-run confidence is 0.5 + 0.5·tanh(margin), the
margin being the deciding statistic's distance from its threshold in the units given in
:data:`MARGIN_SCALES` — a heuristic, not a probability.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..theory.toy import DIVERGENCE_ANGLE

REGIMES = ("convergence", "chaotic_equilibrium", "divergence")

TREND_T = -3.0
RELATIVE_DROP = 0.01
ANGLE_SHRINK = 0.5
DIVERGENCE_FRACTION = DIVERGENCE_ANGLE / (np.pi / 2)
CHANCE_LEVEL = 0.95
#: Units in which the margins from the thresholds are measured for the confidence.
MARGIN_SCALES = {"angle_fraction": 0.1, "loss_level": 0.05, "trend_t": 3.0, "angle_shrink": 0.25}


@dataclass
class RegimeResult:
    """The regime of a trajectory, the confidence, and the statistics used.

    Attributes
    ----------
    regime:
        ``"convergence"``, ``"chaotic_equilibrium"`` or ``"divergence"``.
    confidence:
        In [0, 1]; see the module docstring.
    statistics:
        Run-averaged statistics (with their standard errors across runs where meaningful) and the votes.
    per_run:
        The regime and confidence of each run.
    """

    regime: str
    confidence: float
    statistics: dict[str, Any] = field(default_factory=dict)
    per_run: list[tuple[str, float]] = field(default_factory=list)


def _conf(margin: float) -> float:
    return float(0.5 + 0.5 * np.tanh(abs(margin)))


def _batch_se(x: np.ndarray, nb: int = 5) -> float:
    n = len(x) // nb
    if n < 1:
        return float("nan")
    means = x[: n * nb].reshape(nb, n).mean(axis=1)
    return float(means.std(ddof=1) / np.sqrt(nb))


def _run_stats(loss, angle, cos0, min_loss, random_loss) -> dict[str, float]:
    n = len(loss)
    h, q = n // 2, (3 * n) // 4
    w3, w4 = loss[h:q], loss[q:]
    se = np.hypot(_batch_se(w3), _batch_se(w4))
    diff = float(w4.mean() - w3.mean())
    if se > 0:
        trend_t = diff / se
    else:
        trend_t = 0.0 if diff == 0 else float(np.sign(diff) * np.inf)
    level_ref = (w3.mean() - min_loss) if min_loss is not None else abs(w3.mean())
    rel_drop = float(-diff / level_ref) if level_ref > 0 else 0.0
    a3, a4 = np.median(angle[h:q]), np.median(angle[q:])
    shrink = float(a4 / a3) if a3 > 0 else (0.0 if a4 == 0 else np.inf)
    stationary = float(loss[h:].mean())
    if min_loss is not None and random_loss is not None and random_loss > min_loss:
        level = (stationary - min_loss) / (random_loss - min_loss)
    else:
        level = float("nan")
    return {
        "loss": stationary,
        "loss_final": float(w4.mean()),
        "loss_trend_t": float(trend_t),
        "relative_drop": rel_drop,
        "angular_update": float(angle[h:].mean()),
        "angular_update_median_final": float(a4),
        "angle_fraction": float(angle[h:].mean() / (np.pi / 2)),
        "angle_shrink": shrink,
        "loss_level": float(level),
        "cos_to_start": float(cos0[-1]),
    }


def _decide(s: dict[str, float]) -> tuple[str, float]:
    if s["angle_fraction"] >= DIVERGENCE_FRACTION:
        return "divergence", _conf((s["angle_fraction"] - DIVERGENCE_FRACTION) / MARGIN_SCALES["angle_fraction"])
    falling = s["loss_trend_t"] < TREND_T and s["relative_drop"] > RELATIVE_DROP
    shrinking = s["angle_shrink"] < ANGLE_SHRINK or s["angular_update_median_final"] < 1e-10
    div_margin = (DIVERGENCE_FRACTION - s["angle_fraction"]) / MARGIN_SCALES["angle_fraction"]
    if falling or shrinking:
        m1 = (TREND_T - s["loss_trend_t"]) / MARGIN_SCALES["trend_t"] if falling else 0.0
        m2 = (ANGLE_SHRINK - s["angle_shrink"]) / MARGIN_SCALES["angle_shrink"] if shrinking else 0.0
        if s["angular_update_median_final"] < 1e-10:
            m2 = max(m2, 3.0)
        return "convergence", _conf(min(max(m1, m2), div_margin))
    if np.isfinite(s["loss_level"]) and s["loss_level"] >= CHANCE_LEVEL:
        return "divergence", _conf((s["loss_level"] - CHANCE_LEVEL) / MARGIN_SCALES["loss_level"])
    m_trend = (s["loss_trend_t"] - TREND_T) / MARGIN_SCALES["trend_t"]
    m_shrink = (s["angle_shrink"] - ANGLE_SHRINK) / MARGIN_SCALES["angle_shrink"]
    if s["relative_drop"] <= RELATIVE_DROP:
        m_trend = max(m_trend, (RELATIVE_DROP - s["relative_drop"]) / RELATIVE_DROP)
    return "chaotic_equilibrium", _conf(min(m_trend, m_shrink, div_margin))


def classify(trajectory: Any, *, min_loss: float | None = None, random_loss: float | None = None) -> RegimeResult:
    """Classify a trajectory as ``convergence``, ``chaotic_equilibrium`` or ``divergence``.

    Parameters
    ----------
    trajectory:
        A :class:`~spheretheory.training.Trajectory`, or a mapping with ``loss`` and ``angular_update`` (shape
        ``(runs, n)`` or ``(n,)``) and optionally ``cos_to_start``, ``min_loss``, ``random_loss``.
    min_loss, random_loss:
        Override the references of the loss level.

    Returns
    -------
    RegimeResult
    """
    get = (
        (lambda k, d=None: trajectory.get(k, d))
        if isinstance(trajectory, dict)
        else (lambda k, d=None: getattr(trajectory, k, d))
    )
    loss = np.atleast_2d(np.asarray(get("loss"), dtype=float))
    angle = np.atleast_2d(np.asarray(get("angular_update"), dtype=float))
    cos0 = get("cos_to_start")
    cos0 = np.atleast_2d(np.asarray(cos0, dtype=float)) if cos0 is not None else np.full_like(loss, np.nan)
    if loss.ndim != 2 or loss.shape != angle.shape or cos0.shape != loss.shape:
        raise ValueError(
            f"loss, angular_update and cos_to_start must have the same shape (runs, n); got {loss.shape}, "
            f"{angle.shape}, {cos0.shape}"
        )
    if loss.shape[1] < 20:
        raise ValueError(f"trajectory must have at least 20 records to classify; got {loss.shape[1]}")
    min_loss = get("min_loss") if min_loss is None else min_loss
    random_loss = get("random_loss") if random_loss is None else random_loss
    dim = get("dim")
    per_run: list[tuple[str, float]] = []
    stats: list[dict[str, float]] = []
    n_div = 0
    for r in range(loss.shape[0]):
        if not (np.all(np.isfinite(loss[r])) and np.all(np.isfinite(angle[r]))):
            per_run.append(("divergence", 1.0))
            n_div += 1
            continue
        s = _run_stats(loss[r], angle[r], cos0[r], min_loss, random_loss)
        stats.append(s)
        per_run.append(_decide(s))
    votes = Counter(reg for reg, _ in per_run)
    regime = max(REGIMES, key=lambda k: (votes.get(k, 0), -REGIMES.index(k) if k != "divergence" else 1))
    confidence = float(np.mean([c if reg == regime else 0.0 for reg, c in per_run]))
    agg: dict[str, Any] = {"runs": loss.shape[0], "diverged_runs": n_div, "votes": dict(votes)}
    if stats:
        for key in stats[0]:
            vals = np.array([s[key] for s in stats])
            agg[key] = float(np.mean(vals))
            if key in ("loss", "angular_update", "loss_level", "cos_to_start"):
                agg[f"{key}_se"] = float(vals.std(ddof=1) / np.sqrt(len(vals))) if len(vals) > 1 else float("nan")
    agg["uniform_angle"] = float(np.pi / 2)
    if dim:
        agg["uniform_cos_scale"] = float(1.0 / np.sqrt(dim))
    return RegimeResult(regime=regime, confidence=confidence, statistics=agg, per_run=per_run)
