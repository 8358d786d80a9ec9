"""Measured spherical motion dynamics of a network against the predictions of :func:`spheretheory.predict`.

For every monitored group and every *phase* (a maximal run of records with constant learning rate, weight
decay and momentum, so a step LR schedule gives one phase per stage):

* the predicted equilibrium angular update Δ* (``predict(...).angular_update``; Wan et al. 2021 Thm 3 gives
  the first-order form √(2λη/(1+α)), reported as ``predicted_angular_update_first_order``) from the
  optimizer's own hyperparameters;
* the measured angular update over the last ``fraction`` of the phase (mean and standard error from
  :func:`spheretheory.analysis.equilibrium_stats`, which uses the integrated autocorrelation time for one
  run);
* the measured unit-gradient power L = E[h̃_t] (SGDM, Thm 2) or E[‖g̃_t‖²] (SGD, Thm 1) over the same window,
  the norm predicted from it (``predict(..., unit_grad_sq=L).equilibrium_norm``) and the measured mean ‖w_t‖;
* the time to equilibrium: the first step, counted from the start of the phase, after which the moving
  average of Δ_t (over ``smooth_steps`` steps) stays within ``rtol`` of Δ*
  (:func:`spheretheory.analysis.time_to_equilibrium`);
  (``predicted_relaxation_steps``, ``predict(...).relaxation_steps``, is the e-folding time it compares to);
* ``at_equilibrium``: that moving average is inside the band at the end of the phase;
* ``predicted_angular_update_given_norm`` = Δ*·w*²·mean(1/‖w_t‖²) over the window, with w* the equilibrium
  norm for the measured L: the angular update the theory gives for the norm the weights actually have. To first
  order Δ*²·w*⁴ = η²L/(1−α²) does not depend on λ (Thms 2–3: w*⁴ ≈ ηL/(2λ(1−α)), Δ*² ≈ 2λη/(1+α)). It is
  the tangential step of the heavy ball: Δ_t² ≈ η²E‖v_t‖²/‖w_t‖² with E‖v_t‖² ≈ L/((1−α²)‖w_t‖²) for nearly
  uncorrelated gradients (⟨v_{t−1}, g_t⟩ ≈ 0, as Wan et al. observe), so Δ_t ≈ η√(L/(1−α²))/‖w_t‖² holds on
  or off equilibrium. A phase whose Δ misses Δ* but matches this value is off equilibrium because its norm has
  not caught up (after an LR drop, or when L drifts), not because the prediction is wrong.

When the optimizer is not covered (``predict`` raises, e.g. Adam with coupled L2, Nesterov, no weight decay)
the measurements are still reported and the prediction is marked unavailable with the reason; time to
equilibrium and the flag then refer to the phase's own final mean (the series has settled), and ``reference``
says so.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..._validation import check_int, check_real
from .records import HYPER, MonitoredRun

__all__ = ["Comparison", "PhaseComparison", "compare", "phases", "predict_for"]


@dataclass
class PhaseComparison:
    """Measured vs predicted equilibrium of one group during one constant-hyperparameter phase."""

    group: str
    phase: int
    start_step: int
    end_step: int
    n_records: int
    optimizer: str | None
    lr: float
    weight_decay: float
    momentum: float
    measured_angular_update: float
    measured_angular_update_se: float
    measured_angular_update_rms: float
    predicted_angular_update: float
    predicted_angular_update_first_order: float
    relative_error: float
    measured_unit_grad_power: float
    measured_unit_grad_power_se: float
    measured_norm: float
    predicted_norm: float
    predicted_angular_update_given_norm: float
    time_to_equilibrium: int
    predicted_relaxation_steps: float
    at_equilibrium: bool
    reference: str
    prediction_note: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Comparison:
    """All :class:`PhaseComparison` rows of a monitor, plus the settings used."""

    rows: list[PhaseComparison]
    fraction: float
    rtol: float
    smooth_steps: int
    diverged_step: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": [r.to_dict() for r in self.rows],
            "fraction": self.fraction,
            "rtol": self.rtol,
            "smooth_steps": self.smooth_steps,
            "diverged_step": self.diverged_step,
            "message": self.message,
        }

    def table(self) -> str:
        """A plain-text table: one line per group and phase."""
        head = (
            f"{'group':<22} {'ph':>2} {'steps':>13} {'lr':>8} {'Δ meas':>9} {'± se':>8} {'Δ pred':>9} "
            f"{'rel.err':>8} {'L':>9} {'‖w‖':>8} {'‖w‖ pred':>8} {'Δ|‖w‖':>9} {'t_eq':>6} {'eq?':>4}"
        )
        lines = [self.message, head]
        for r in self.rows:
            lines.append(
                f"{r.group[:22]:<22} {r.phase:>2} {f'{r.start_step}-{r.end_step}':>13} {r.lr:>8.3g} "
                f"{r.measured_angular_update:>9.4g} {r.measured_angular_update_se:>8.2g} "
                f"{r.predicted_angular_update:>9.4g} {r.relative_error:>+8.3f} "
                f"{r.measured_unit_grad_power:>9.3g} "
                f"{r.measured_norm:>8.4g} {r.predicted_norm:>8.4g} "
                f"{r.predicted_angular_update_given_norm:>9.4g} {r.time_to_equilibrium:>6} "
                f"{'yes' if r.at_equilibrium else 'no':>4}"
            )
        notes = sorted({r.prediction_note for r in self.rows if r.prediction_note})
        lines += [f"note: {n}" for n in notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def phases(hyper: np.ndarray, rtol: float = 1e-9) -> list[tuple[int, int]]:
    """Split records into runs of constant hyperparameters: ``hyper`` is (n_records, k); returns [start,
    stop)."""
    h = np.asarray(hyper, dtype=np.float64)
    if h.ndim == 1:
        h = h[:, None]
    if h.shape[0] == 0:
        return []
    change = np.any(np.abs(np.diff(h, axis=0)) > rtol * np.maximum(np.abs(h[1:]), np.abs(h[:-1])), axis=1)
    cuts = [0, *(np.flatnonzero(change) + 1).tolist(), h.shape[0]]
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def predict_for(
    family: str | None,
    lr: float,
    weight_decay: float,
    momentum: float,
    extra: dict[str, float],
    unit_grad_sq: float | None,
    reason: str = "",
    dim: int | None = None,
) -> tuple[Any, str]:
    """Call :func:`spheretheory.predict` for these hyperparameters; ``(prediction or None, note)``.

    Only the optimizer-specific hyperparameters that ``predict`` registers for ``family`` are passed, and
    ``dim`` (the number of weights in the group) when it is ≥ 2. Without a finite positive ``unit_grad_sq``
    the norm values of the prediction are meaningless (``predict``'s default L = 1): callers read only the
    angle then. No weight decay means no equilibrium (Thms 1–2): reported as unavailable rather than as Δ* =
    0.
    """
    if family is None:
        return None, f"prediction unavailable: {reason}"
    if weight_decay == 0:
        return (
            None,
            "prediction unavailable: no weight decay, so no equilibrium (the norm grows without bound)",
        )
    try:
        # the function itself: once the submodule is imported, the attribute ``spheretheory.predict`` may be
        # the module rather than the lazily exported function
        from spheretheory.prediction import optimizers
        from spheretheory.prediction import predict as _predict

        spec = optimizers().get(family)
    except (ImportError, AttributeError) as exc:
        return None, f"prediction unavailable: spheretheory.predict cannot be used ({exc})"
    if spec is None:
        return None, f"prediction unavailable: spheretheory.predict does not cover {family!r} yet"
    kw: dict[str, Any] = {"optimizer": family, "lr": lr, "weight_decay": weight_decay}
    hyper = {"momentum": momentum, **extra}
    kw.update({k: v for k, v in hyper.items() if k in spec.hyperparameters})
    if unit_grad_sq is not None and math.isfinite(unit_grad_sq) and unit_grad_sq > 0:
        kw["unit_grad_sq"] = unit_grad_sq
    if dim is not None and dim >= 2:
        kw["dim"] = int(dim)
    try:
        return _predict(**kw), ""
    except (ValueError, TypeError, NotImplementedError) as exc:
        msg = " ".join(str(exc).split())
        return None, f"prediction unavailable for {family}: {msg}"


def _getf(pred: Any, name: str) -> float:
    if pred is None:
        return math.nan
    val = getattr(pred, name, None)
    try:
        return float(np.asarray(val, dtype=np.float64))
    except (TypeError, ValueError):
        return math.nan


def moving_average(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average over ``window`` records (shorter at the start), NaN-free input assumed."""
    x = np.asarray(x, dtype=np.float64)
    c = np.cumsum(np.concatenate([[0.0], x]))
    idx = np.arange(1, x.size + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def compare(
    monitor: MonitoredRun,
    *,
    fraction: float = 0.25,
    rtol: float = 0.1,
    smooth_steps: int = 100,
) -> Comparison:
    """Hold a monitor's records against the predictions, per group and per constant-hyperparameter phase.

    Parameters
    ----------
    monitor:
        A :class:`~spheretheory.integrations.pytorch.monitor.SphereMonitor`, or anything with its read-only view
        :class:`~spheretheory.integrations.pytorch.records.MonitoredRun` (per-group or per-unit records;
        per-unit records are pooled into their group by summing the raw sums, which is exact).
    fraction:
        Last fraction of each phase taken as its equilibrium window, in (0, 1].
    rtol:
        Relative band around Δ* for the time to equilibrium and the ``at_equilibrium`` flag (a choice, default
        10%: the per-step fluctuations of Δ_t average out over ``smooth_steps``, Thm 3's bias term is not
        tighter).
    smooth_steps:
        Length, in optimizer steps, of the trailing moving average of Δ_t used for the band test.

    Returns
    -------
    Comparison
    """
    from ...analysis import equilibrium_stats, time_to_equilibrium

    check_real("fraction", fraction, low=0.0, high=1.0, low_inclusive=False)
    check_real("rtol", rtol, low=0.0, low_inclusive=False)
    smooth_steps = check_int("smooth_steps", smooth_steps, low=1)
    if not monitor.groups:
        return Comparison([], fraction, rtol, smooth_steps, -1, f"nothing to compare: {monitor.message}")
    rec = monitor.group_records()
    steps = rec["step"]
    div = monitor.diverged_step
    message = f"{len(monitor.groups)} group(s), {steps.size} records"
    if div >= 0:
        message += f"; training diverged at step {div} (non-finite gradient or weight): later records ignored"
    rows: list[PhaseComparison] = []
    window_records = max(1, int(math.ceil(smooth_steps / monitor.every)))
    for gi, g in enumerate(monitor.groups):
        family, extra, reason = monitor.optimizer_family(gi)
        hyper = np.stack([rec[k][:, gi] for k in HYPER], axis=1)
        ok = np.isfinite(rec["angular_update"][:, gi]) & np.isfinite(rec["sq_norm"][:, gi])
        if div >= 0:
            ok &= steps < div
        for ph, (a, b) in enumerate(phases(hyper)):
            sel = np.arange(a, b)[ok[a:b]]
            if sel.size == 0:
                continue
            lr, wd, mom = (float(hyper[a, j]) for j in range(3))
            delta = rec["angular_update"][sel, gi]
            st = equilibrium_stats(delta, fraction)
            rms = float(np.sqrt(np.mean(delta[-st.n_records :] ** 2)))
            lkey = "h_tilde" if family == "sgdm" else "unit_grad_sq"
            lser = rec[lkey][sel, gi]
            lst = equilibrium_stats(lser, fraction) if np.all(np.isfinite(lser)) else None
            L = float(lst.mean) if lst is not None else math.nan
            dim = int(monitor.group_size(gi))
            pred, note = predict_for(family, lr, wd, mom, extra, L, reason, dim)
            d_pred = _getf(pred, "angular_update")
            if not (d_pred > 0):
                d_pred = math.nan
            smooth = moving_average(delta, window_records)
            if math.isfinite(d_pred):
                target, reference = d_pred, "prediction"
            else:
                target, reference = None, "own final mean (no prediction)"
            t_eq = int(time_to_equilibrium(smooth, target, rtol=rtol, steps=steps[sel], fraction=fraction))
            at_eq = t_eq >= 0
            if t_eq >= 0:
                t_eq -= int(steps[a])
            sq = rec["sq_norm"][sel, gi][-st.n_records :]
            norms = np.sqrt(sq)
            w_star = _getf(pred, "equilibrium_norm") if math.isfinite(L) and L > 0 else math.nan
            rows.append(
                PhaseComparison(
                    group=g.name,
                    phase=ph,
                    start_step=int(steps[a]),
                    end_step=int(steps[sel[-1]]),
                    n_records=int(sel.size),
                    optimizer=family,
                    lr=lr,
                    weight_decay=wd,
                    momentum=mom,
                    measured_angular_update=float(st.mean),
                    measured_angular_update_se=float(st.se),
                    measured_angular_update_rms=rms,
                    predicted_angular_update=d_pred,
                    predicted_angular_update_first_order=_getf(pred, "angular_update_first_order"),
                    relative_error=(float(st.mean) - d_pred) / d_pred if math.isfinite(d_pred) else math.nan,
                    measured_unit_grad_power=L,
                    measured_unit_grad_power_se=float(lst.se) if lst is not None else math.nan,
                    measured_norm=float(np.mean(norms)),
                    predicted_norm=w_star,
                    predicted_angular_update_given_norm=d_pred * w_star**2 * float(np.mean(1.0 / sq)),
                    time_to_equilibrium=t_eq,
                    predicted_relaxation_steps=_getf(pred, "relaxation_steps"),
                    at_equilibrium=bool(at_eq),
                    reference=reference,
                    prediction_note=note,
                )
            )
    return Comparison(rows, float(fraction), float(rtol), smooth_steps, div, message)
