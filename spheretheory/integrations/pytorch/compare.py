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

* the *trajectory*: the run predicted step by step from its measured start with the optimizer's per-step η_t,
  λ_t and the smoothed measured L_t (:func:`.trajectory.group_trajectory`), and its relative error in RMS Δ_t and
  ‖w_t‖ over the transient at the start of the phase, the worst window and the end (``trajectory_*`` fields,
  :func:`.trajectory.phase_errors`);
* with ``per_unit=True``: each unit's Δ (mean over the units) against ``predict(..., dim=d_unit)``'s finite-d
  ``angular_update_mean`` / ``angular_update_rms`` (``unit_*`` fields).

When the optimizer is not covered (``predict`` raises, e.g. Adam with coupled L2, Nesterov, no weight decay)
the measurements are still reported and the prediction is marked unavailable with the reason; time to
equilibrium and the flag then refer to the phase's own final mean (the series has settled), and ``reference``
says so.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..._validation import check_int, check_real
from .records import HYPER, MonitoredRun
from .trajectory import group_trajectory, phase_errors

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
    trajectory_angular_update_error_transient: float = math.nan
    trajectory_angular_update_error_transient_se: float = math.nan
    trajectory_angular_update_error_end: float = math.nan
    trajectory_angular_update_error_end_se: float = math.nan
    trajectory_angular_update_error_max: float = math.nan
    trajectory_norm_error_max: float = math.nan
    trajectory_norm_error_end: float = math.nan
    trajectory_note: str = ""
    radial_gradient_to_decay: float = math.nan
    unit_dim: float = math.nan
    n_units: int = 0
    measured_unit_angular_update_mean: float = math.nan
    measured_unit_angular_update_se: float = math.nan
    measured_unit_angular_update_rms: float = math.nan
    predicted_unit_angular_update_mean: float = math.nan
    predicted_unit_angular_update_rms: float = math.nan
    unit_note: str = ""

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
    transient_steps: int = 300
    trajectories: list[Any] = field(default_factory=list)  # GroupTrajectory per group (not in to_dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": [r.to_dict() for r in self.rows],
            "fraction": self.fraction,
            "rtol": self.rtol,
            "smooth_steps": self.smooth_steps,
            "transient_steps": self.transient_steps,
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
                f"{r.group[:22]:<22} {r.phase:>2} {f'{r.start_step}-{r.end_step}':>13} {_cell(r.lr, '8.3g')} "
                f"{_cell(r.measured_angular_update, '9.4g')} {_cell(r.measured_angular_update_se, '8.2g')} "
                f"{_cell(r.predicted_angular_update, '9.4g')} {_cell(r.relative_error, '+8.3f')} "
                f"{_cell(r.measured_unit_grad_power, '9.3g')} "
                f"{_cell(r.measured_norm, '8.4g')} {_cell(r.predicted_norm, '8.4g')} "
                f"{_cell(r.predicted_angular_update_given_norm, '9.4g')} "
                f"{(str(r.time_to_equilibrium) if r.time_to_equilibrium >= 0 else 'never'):>6} "
                f"{'yes' if r.at_equilibrium else 'no':>4}"
            )
        notes = sorted({r.prediction_note for r in self.rows if r.prediction_note})
        lines += [f"note: {n}" for n in notes]
        if any(not math.isfinite(v) for r in self.rows for v in _numbers(r)):
            lines.append(
                "note: n/a = not available: no prediction for this optimizer (see the note above), or an SE or "
                "L that the window cannot give"
            )
        if any(r.time_to_equilibrium < 0 for r in self.rows):
            lines.append("note: t_eq never = the moving average of Δ did not settle within rtol in this phase")
        lines += self.trajectory_table()
        lines += self.unit_table()
        return "\n".join(lines)

    def trajectory_table(self) -> list[str]:
        """Lines of the trajectory block: measured/predicted − 1 of RMS Δ_t and ‖w_t‖ per group and phase."""
        if not any(math.isfinite(r.trajectory_angular_update_error_end) for r in self.rows):
            notes = sorted({r.trajectory_note for r in self.rows if r.trajectory_note})
            return [f"trajectory: {n}" for n in notes]
        tr = self.transient_steps
        lines = [
            "",
            "trajectory (per-step lr/wd, smoothed measured L_t, measured initial state): measured/predicted − 1 ± se",
            f"{'group':<22} {'ph':>2} {f'Δ first {tr}':>17} {f'Δ worst {self.smooth_steps}':>10} "
            f"{'Δ last ' + format(self.fraction, '.0%'):>17} {'‖w‖ worst':>9} {'‖w‖ last':>9} {'⟨w,g⟩/λ‖w‖²':>11}",
        ]
        for r in self.rows:
            lines.append(
                f"{r.group[:22]:<22} {r.phase:>2} "
                f"{_pm(r.trajectory_angular_update_error_transient, r.trajectory_angular_update_error_transient_se)} "
                f"{_cell(r.trajectory_angular_update_error_max, '+10.1%')} "
                f"{_pm(r.trajectory_angular_update_error_end, r.trajectory_angular_update_error_end_se)} "
                f"{_cell(r.trajectory_norm_error_max, '+9.1%')} {_cell(r.trajectory_norm_error_end, '+9.1%')} "
                f"{_cell(r.radial_gradient_to_decay, '+11.3f')}"
            )
        lines += [f"note: {n}" for n in sorted({r.trajectory_note for r in self.rows if r.trajectory_note})]
        lines.append(
            "note: ⟨w,g⟩/λ‖w‖² = the radial gradient's pull on ‖w‖² relative to the weight decay's, over the phase; 0 "
            "for an exactly scale-invariant group (Lemma 1), which the trajectory assumes (a norm eps breaks it)"
        )
        return lines

    def unit_table(self) -> list[str]:
        """Lines of the per-unit block (``per_unit=True``): each unit's Δ against the finite-d prediction at its
        own d."""
        rows = [r for r in self.rows if r.n_units > 0]
        if not rows:
            return []
        lines = [
            "",
            "per unit (each unit its own d; mean over the units of the window mean of Δ, ± se across units)",
            f"{'group':<22} {'ph':>2} {'units':>5} {'d':>6} {'Δ mean meas':>11} {'± se':>8} {'Δ mean pred':>11} "
            f"{'Δ rms meas':>10} {'Δ rms pred':>10}",
        ]
        for r in rows:
            lines.append(
                f"{r.group[:22]:<22} {r.phase:>2} {r.n_units:>5} {_cell(r.unit_dim, '6.0f')} "
                f"{_cell(r.measured_unit_angular_update_mean, '11.4g')} "
                f"{_cell(r.measured_unit_angular_update_se, '8.2g')} "
                f"{_cell(r.predicted_unit_angular_update_mean, '11.4g')} "
                f"{_cell(r.measured_unit_angular_update_rms, '10.4g')} "
                f"{_cell(r.predicted_unit_angular_update_rms, '10.4g')}"
            )
        lines += [f"note: {n}" for n in sorted({r.unit_note for r in rows if r.unit_note})]
        return lines

    def __str__(self) -> str:
        return self.table()


def _cell(value: float, spec: str) -> str:
    """Format a table number; a non-finite value is ``n/a`` (the table's notes say why)."""
    width = int("".join(ch for ch in spec.split(".")[0] if ch.isdigit()))
    return format(value, spec) if math.isfinite(value) else f"{'n/a':>{width}}"


def _pm(value: float, se: float) -> str:
    """``+1.2% ± 0.8%`` (17 characters), ``n/a`` when the value is not finite."""
    if not math.isfinite(value):
        return f"{'n/a':>17}"
    return f"{format(value, '+.1%') + ' ± ' + (format(se, '.1%') if math.isfinite(se) else 'n/a'):>17}"


def _numbers(r: PhaseComparison) -> tuple[float, ...]:
    return (
        r.measured_angular_update,
        r.measured_angular_update_se,
        r.predicted_angular_update,
        r.relative_error,
        r.measured_unit_grad_power,
        r.predicted_norm,
        r.predicted_angular_update_given_norm,
    )


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
    transient_steps: int = 300,
    trajectory: bool = True,
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
        Length, in optimizer steps, of the trailing moving average of Δ_t used for the band test, of the centred
        average of L_t fed to the trajectory, and of the windows of ``trajectory_angular_update_error_max``.
    transient_steps:
        Length, in optimizer steps, of the window at the start of each phase (the transient after a drop) for
        ``trajectory_angular_update_error_transient``.
    trajectory:
        Also predict each group's whole trajectory (:func:`.trajectory.group_trajectory`) and report its errors
        per phase (the ``trajectory_*`` fields; :attr:`Comparison.trajectories` holds the predicted series).

    Returns
    -------
    Comparison
    """
    from ...analysis import equilibrium_stats, time_to_equilibrium

    check_real("fraction", fraction, low=0.0, high=1.0, low_inclusive=False)
    check_real("rtol", rtol, low=0.0, low_inclusive=False)
    smooth_steps = check_int("smooth_steps", smooth_steps, low=1)
    transient_steps = check_int("transient_steps", transient_steps, low=1)
    if not monitor.groups:
        return Comparison([], fraction, rtol, smooth_steps, -1, f"nothing to compare: {monitor.message}")
    rec = monitor.group_records()
    units = monitor.records() if getattr(monitor, "per_unit", False) else None
    trajectories = (
        [group_trajectory(monitor, gi, smooth_steps=smooth_steps, rec=rec) for gi in range(len(monitor.groups))]
        if trajectory
        else []
    )
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
            extra_fields: dict[str, Any] = {}
            if trajectories:
                tr = trajectories[gi]
                errs = phase_errors(
                    rec["angular_update"][:, gi],
                    rec["sq_norm"][:, gi],
                    tr,
                    sel,
                    window=window_records,
                    transient=max(1, int(math.ceil(transient_steps / monitor.every))),
                    fraction=fraction,
                )
                extra_fields.update({f"trajectory_{_ERR_FIELDS[k]}": v for k, v in errs.items()})
                extra_fields["trajectory_note"] = tr.note
            # Lemma 1 makes ⟨w, g⟩ = 0; a normalisation eps breaks it, and the map (which assumes it) then misses
            # the norm by the ratio of the radial gradient's pull to the weight decay's: ⟨w, g⟩ / (λ‖w‖²)
            with np.errstate(invalid="ignore", divide="ignore"):
                extra_fields["radial_gradient_to_decay"] = float(
                    np.mean(rec["wg"][sel, gi]) / np.mean(wd * rec["w2"][sel, gi])
                )
            if units is not None:
                extra_fields.update(_unit_fields(units, gi, sel, fraction, family, lr, wd, mom, extra, reason))
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
                    **extra_fields,
                )
            )
    return Comparison(rows, float(fraction), float(rtol), smooth_steps, div, message, transient_steps, trajectories)


#: :func:`.trajectory.phase_errors` keys → the ``trajectory_*`` fields of :class:`PhaseComparison`.
_ERR_FIELDS = {
    "delta_transient": "angular_update_error_transient",
    "delta_transient_se": "angular_update_error_transient_se",
    "delta_end": "angular_update_error_end",
    "delta_end_se": "angular_update_error_end_se",
    "delta_max": "angular_update_error_max",
    "norm_max": "norm_error_max",
    "norm_end": "norm_error_end",
}


def _unit_fields(
    units: dict[str, np.ndarray],
    gi: int,
    sel: np.ndarray,
    fraction: float,
    family: str | None,
    lr: float,
    wd: float,
    mom: float,
    extra: dict[str, float],
    reason: str,
) -> dict[str, Any]:
    """Per-unit Δ of group ``gi`` over the phase window against the prediction at each unit's own d.

    Each unit is its own scale-invariant vector of d_u weights (a BatchNorm channel: in_channels·k·k), so its Δ
    follows the finite-d theory at d_u (``predict(..., dim=d_u)``'s ``angular_update_mean`` /
    ``angular_update_rms``; e.g. mean Δ = Δ*·E[χ_{d−1}]/√(d−1) for SGD), not the d → ∞ Δ* of the pooled group.
    """
    from ...analysis import equilibrium_stats

    cols = np.flatnonzero(units["column_group"] == gi)
    dims = units["n_elements"][cols].astype(np.int64)
    delta = units["angular_update"][np.ix_(sel, cols)]
    st = equilibrium_stats(delta, fraction)  # units as independent series: se across units
    win = delta[-int(st.n_records) :] if st.n_records else delta
    out: dict[str, Any] = {
        "n_units": int(cols.size),
        "unit_dim": float(np.mean(dims)),
        "measured_unit_angular_update_mean": float(st.mean),
        "measured_unit_angular_update_se": float(st.se),
        "measured_unit_angular_update_rms": float(np.sqrt(np.nanmean(win**2))),
    }
    means, rmss, notes = [], [], set()
    for d in np.unique(dims):
        pred, note = predict_for(family, lr, wd, mom, extra, None, reason, int(d))
        w = float(np.mean(dims == d))
        m_, r_ = _getf(pred, "angular_update_mean"), _getf(pred, "angular_update_rms")
        if pred is not None and not math.isfinite(m_):
            notes.add(f"{family}: no finite-d prediction (angular_update_mean) yet; the d → ∞ Δ* is shown")
            m_ = r_ = _getf(pred, "angular_update")
        if note:
            notes.add(note)
        means.append(w * m_)
        rmss.append(w * r_)
    out["predicted_unit_angular_update_mean"] = float(np.sum(means))
    out["predicted_unit_angular_update_rms"] = float(np.sum(rmss))
    if dims.min() != dims.max():
        notes.add(f"unit sizes differ ({dims.min()}-{dims.max()}): predictions averaged over the units")
    out["unit_note"] = "; ".join(sorted(notes))
    return out
