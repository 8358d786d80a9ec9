"""One sweep point: predict, simulate and compare (a plain function; the executor ships it to Dask workers).

Comparison (per point, for each available form f of the prediction — ``exact``, ``first_order`` and, when
:func:`spheretheory.predict` provides it, ``finite_d``):

* relative error r_f = (m − p_f)/|p_f| and z-score z_f = (m − p_f)/SE, with m the equilibrium mean of the
  quantity over the last half of the run and SE its standard error across independent trajectories;
* ``holds_f``: |z_f| ≤ z* (z* = :data:`Z_THRESHOLD`, agreement within sampling noise);
* ``fails``: |m − p_exact| > z*·SE + A with the first-order allowance A = |p_exact − p_first_order| (the size of
  the terms the first-order form neglects): the prediction misses by more than noise and truncation together.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

#: |z| at or below which a prediction agrees with the measurement (two-sided, P(|z| > 3) ≈ 0.27 % per point).
Z_THRESHOLD = 3.0

#: quantity -> the key of its exact prediction in :func:`spheretheory.predict` (forms append a suffix)
QUANTITIES: dict[str, str] = {
    "angular_update": "angular_update",
    "sq_norm": "equilibrium_sq_norm",
    "effective_lr": "effective_lr",
}
#: prediction forms and the suffix of their predict key (finite_d: predict's finite-width mean at dim, issue 12)
FORMS: dict[str, str] = {"exact": "", "first_order": "_first_order", "finite_d": "_mean"}

#: the run is this many relaxation times long with ``steps="auto"`` (the second half is the equilibrium window)
RELAXATIONS = 16
MIN_STEPS = 2_000
MAX_STEPS = 200_000
SUMMARY_FRACTION = 0.5
REDUCED_OPTIMIZERS = ("sgd", "sgdm", "nesterov")


@dataclass(frozen=True)
class Settings:
    """What every point of one sweep shares (stored with the results; a rerun must match it)."""

    quantity: str = "angular_update"
    method: str = "auto"
    backend: str = "numba"
    seed: int = 0
    steps: int | None = None  # None: RELAXATIONS relaxation times, clipped to [MIN_STEPS, MAX_STEPS]
    trajectories: int = 256
    dim: int = 256
    max_steps: int = MAX_STEPS
    numba_threads: int | None = None  # set in each task (1 on a default LocalCluster: one point per core)


def method_for(optimizer: str, method: str) -> str:
    """``auto``: the exact reduced-state chain where it exists (SGD family, isotropic noise), else full d."""
    if method != "auto":
        return method
    return "reduced" if optimizer in REDUCED_OPTIMIZERS else "full"


def predict_kwargs(point: dict[str, Any], settings: Settings, with_dim: bool = True) -> dict[str, Any]:
    from ._grid import PARAMETERS

    kw = {k: v for k, v in point.items() if PARAMETERS[k].target in ("predict", "optimizer")}
    kw.setdefault("dim", settings.dim)
    if not with_dim:
        kw.pop("dim")
    return kw


def prediction(point: dict[str, Any], settings: Settings, with_dim: bool = True) -> dict[str, Any]:
    """``predict`` at the point (raises ValueError outside the domain: used to validate grids up front).

    ``with_dim=False`` leaves out ``dim`` (for optimizers that do not need it): the domain is the same, and the
    finite-width keys, which cost a numerical solve per point, are not computed.
    """
    return dict(_predict(tuple(sorted(predict_kwargs(point, settings, with_dim).items()))))


@functools.lru_cache(maxsize=4096)
def _predict(items: tuple[tuple[str, Any], ...]) -> tuple[tuple[str, Any], ...]:
    """predict, memoized per process (a rerun or a resumed sweep asks again for the same points)."""
    from ..prediction import predict

    return tuple(predict(**dict(items)).values.items())


def forms_available(values: dict[str, Any], quantity: str) -> tuple[str, ...]:
    base = QUANTITIES[quantity]
    return tuple(f for f, suffix in FORMS.items() if base + suffix in values)


def run_point(point: dict[str, Any], settings: Settings, seed: int, forms: tuple[str, ...]) -> dict[str, float]:
    """Predict, simulate and compare at one canonical point; returns a flat dict of numbers.

    Keys: ``predicted_<form>``, ``measured``, ``se``, ``rel_error_<form>``, ``z_<form>``, ``allowance``,
    ``run_steps``, ``relaxations`` (steps per relaxation time), ``trajectories_used``, ``diverged``, ``wall_s``.
    """
    t0 = time.perf_counter()
    if settings.numba_threads is not None:
        import numba

        numba.set_num_threads(min(settings.numba_threads, numba.config.NUMBA_NUM_THREADS))
    from ..simulation import simulate

    pred = prediction(point, settings)
    base = QUANTITIES[settings.quantity]
    relax = float(pred.get("relaxation_steps", math.nan))
    steps = point.get("steps", settings.steps)
    if steps is None:
        steps = (
            int(min(max(RELAXATIONS * relax, MIN_STEPS), settings.max_steps))
            if math.isfinite(relax)
            else min(20_000, settings.max_steps)
        )
    x_star = float(pred.get("equilibrium_sq_norm", math.nan))
    opt = point.get("optimizer", "sgd")
    sim_kw = {k: v for k, v in point.items() if k not in ("steps", "optimizer")}
    sim_kw.setdefault("dim", settings.dim)
    sim_kw.setdefault("trajectories", settings.trajectories)
    if "init_norm" not in sim_kw and math.isfinite(x_star) and x_star > 0:
        sim_kw["init_norm"] = math.sqrt(x_star)  # start at the predicted norm: less burn-in
    res = simulate(
        opt,
        steps=int(steps),
        method=method_for(opt, settings.method),
        backend=settings.backend,
        seed=int(seed),
        record="summary",
        summary_fraction=SUMMARY_FRACTION,
        progress=False,
        **sim_kw,
    )
    st = res.equilibrium_stats(quantities=(settings.quantity,), source="summary")[settings.quantity]
    m, se = float(st.mean[0]), float(st.se[0])
    out: dict[str, float] = {"measured": m, "se": se}
    with np.errstate(divide="ignore", invalid="ignore"):
        for f in forms:
            p = float(pred.get(base + FORMS[f], math.nan))
            out[f"predicted_{f}"] = p
            out[f"rel_error_{f}"] = (m - p) / abs(p) if p != 0 else math.nan
            out[f"z_{f}"] = (m - p) / se if se > 0 else math.nan
    p_exact, p_first = out.get("predicted_exact", math.nan), out.get("predicted_first_order", math.nan)
    out["allowance"] = abs(p_exact - p_first)
    out["run_steps"] = float(steps)
    out["relaxations"] = steps / relax if math.isfinite(relax) and relax > 0 else math.nan
    out["trajectories_used"] = float(st.n_trajectories[0])
    out["diverged"] = float(res.diverged.sum())
    out["wall_s"] = time.perf_counter() - t0
    return out


def verdicts(values: dict[str, np.ndarray], forms: tuple[str, ...]) -> dict[str, np.ndarray]:
    """``holds_<form>`` and ``fails`` from the stored numbers (vectorized; NaN compares False: not checkable)."""
    out = {}
    se = values["se"]
    with np.errstate(invalid="ignore"):
        for f in forms:
            out[f"holds_{f}"] = np.abs(values[f"z_{f}"]) <= Z_THRESHOLD
        if "exact" in forms:
            miss = np.abs(values["measured"] - values["predicted_exact"])
            out["fails"] = miss > Z_THRESHOLD * se + np.nan_to_num(values["allowance"], nan=0.0)
    return out
