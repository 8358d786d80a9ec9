"""The predicted trajectory of a monitored group: :func:`spheretheory.trajectory` fed with what the run measured.

For one group of a :class:`~spheretheory.integrations.pytorch.monitor.SphereMonitor`, :func:`group_trajectory`
iterates the optimizer's mean-field moment map (``trajectory.heavy_ball_map`` for SGD/SGDM, ...; see
:mod:`spheretheory.trajectory_prediction`) over the recorded steps with

* the optimizer's own per-step η_t and λ_t (read by the monitor at every step, also between records);
* the measured unit-gradient power L_t — h̃_t for heavy-ball SGDM (Wan et al. Thm 2: the map depends on the gradient
  only through ‖g_t‖² + 2α⟨v_{t−1}, g_t⟩, i.e. h̃_t/‖w_t‖², so feeding h̃ keeps the measured gradient–momentum
  correlation), ‖g̃_t‖² otherwise — smoothed by a centred moving average over ``smooth_steps`` *within* each
  constant-hyperparameter phase (a drop changes L at once, so the average never crosses a drop);
* the measured initial state: (‖w‖², ⟨w, v⟩, ‖v‖²) of the first record for the SGD family (v the momentum buffer;
  zero for a fresh optimizer), ‖w‖² with fresh moments otherwise.

L_t is an input, not a prediction: the trajectory predicts how ‖w_t‖² and Δ_t respond to η_t, λ_t and L_t. Where
the weights were changed outside the optimizer step (the k^(−1/4) rescaling, ``rescale_on_lr_change=True``, or a
jump of ‖w‖² between consecutive records that the recorded step does not explain), the iteration restarts from
the measured state there; :attr:`GroupTrajectory.restarts` lists those steps.

:func:`window_errors` turns the prediction into relative errors of measured vs predicted RMS Δ_t and ‖w_t‖ over
the windows of a phase (the transient after a drop, the worst window, the end of the phase).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._validation import check_int
from .records import HYPER, MonitoredRun

__all__ = ["GroupTrajectory", "centred_average", "group_trajectory", "phase_errors"]

#: Relative jump of ‖w‖² between consecutive records, beyond what the recorded step explains, taken as a weight
#: change outside the optimizer (float32 rounding of the Gram sums is ~1e-7 relative; a rescaling is ≥ 1%).
JUMP_RTOL = 1e-4


@dataclass
class GroupTrajectory:
    """The trajectory predicted for one group at its record steps (NaN where unavailable; ``note`` says why).

    Attributes
    ----------
    group, family:
        Group name and the optimizer family of :func:`spheretheory.predict` (``None``: not covered).
    step:
        Record steps (those of ``monitor.group_records()``).
    unit_grad_sq:
        The smoothed measured L_t fed to the map (h̃_t for SGDM, ‖g̃_t‖² otherwise).
    sq_norm, angular_update:
        Predicted E‖w_t‖² and RMS Δ_t (rad).
    sq_norm_equilibrium, angular_update_equilibrium:
        The instantaneous equilibrium of the same map at step t's (η_t, λ_t, L_t).
    restarts:
        Steps where the iteration (re)started from the measured state (the first record, weight rescalings).
    """

    group: str
    family: str | None
    step: np.ndarray
    unit_grad_sq: np.ndarray
    sq_norm: np.ndarray
    angular_update: np.ndarray
    sq_norm_equilibrium: np.ndarray
    angular_update_equilibrium: np.ndarray
    restarts: list[int] = field(default_factory=list)
    note: str = ""

    @property
    def available(self) -> bool:
        return bool(np.any(np.isfinite(self.angular_update)))


def centred_average(x: np.ndarray, window: int, bounds: list[tuple[int, int]]) -> np.ndarray:
    """Centred moving average of ``x`` over ``window`` records, separately inside each [start, stop) of
    ``bounds`` (shorter near the ends); non-finite entries are left out of the averages."""
    x = np.asarray(x, dtype=np.float64)
    out = np.full_like(x, np.nan)
    half_lo, half_hi = (window - 1) // 2, window // 2
    for a, b in bounds:
        seg = x[a:b]
        ok = np.isfinite(seg)
        c = np.cumsum(np.concatenate([[0.0], np.where(ok, seg, 0.0)]))
        n = np.cumsum(np.concatenate([[0], ok.astype(np.int64)]))
        i = np.arange(seg.size)
        lo, hi = np.maximum(i - half_lo, 0), np.minimum(i + half_hi + 1, seg.size)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[a:b] = (c[hi] - c[lo]) / (n[hi] - n[lo])
    return out


def _hold(rec_steps: np.ndarray, values: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """The value of the last record at or before each step (the hyperparameters of a run without a per-step
    log)."""
    idx = np.clip(np.searchsorted(rec_steps, steps, side="right") - 1, 0, rec_steps.size - 1)
    return values[idx]


def _jumps(rec: dict, gi: int) -> list[int]:
    """Record steps t+1 whose ‖w‖² differs from ‖w_t + d_t‖² = w2 + 2⟨d, w⟩ + ‖d‖² of the record before
    (consecutive records only): the weights were changed between the steps."""
    s = rec["step"]
    w2, dw, d2 = rec["w2"][:, gi], rec["dw"][:, gi], rec["d2"][:, gi]
    expect = w2[:-1] + 2 * dw[:-1] + d2[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        jump = np.abs(w2[1:] / expect - 1.0) > JUMP_RTOL
    consecutive = np.diff(s) == 1
    return [int(s[i + 1]) for i in np.flatnonzero(jump & consecutive)]


def group_trajectory(
    monitor: MonitoredRun,
    index: int,
    *,
    smooth_steps: int = 100,
    rec: dict[str, np.ndarray] | None = None,
    lr: np.ndarray | None = None,
    initial_state: tuple[float, ...] | None = None,
) -> GroupTrajectory:
    """Predict group ``index``'s trajectory with its measured per-step η_t, λ_t, smoothed L_t and initial state.

    Parameters
    ----------
    monitor:
        A :class:`~spheretheory.integrations.pytorch.monitor.SphereMonitor` (or any
        :class:`~spheretheory.integrations.pytorch.records.MonitoredRun`; without ``hyper_per_step`` the
        hyperparameters of each record are held until the next one).
    index:
        The group.
    smooth_steps:
        Window of the centred moving average of L_t, in optimizer steps.
    rec:
        ``monitor.group_records()`` if already at hand.
    lr, initial_state:
        Overrides for checks only: a per-step η array (length: the recorded steps, first to last record) and the
        initial state instead of the measured ones.

    Returns
    -------
    GroupTrajectory
    """
    from ...trajectory_prediction import MAPS, trajectory

    smooth_steps = check_int("smooth_steps", smooth_steps, low=1)
    rec = monitor.group_records() if rec is None else rec
    steps = rec["step"]
    g = monitor.groups[index]
    nan = np.full(steps.size, np.nan)
    family, extra, reason = monitor.optimizer_family(index)
    lkey = "h_tilde" if family == "sgdm" else "unit_grad_sq"
    from .compare import phases  # the same phase split as the comparison

    hyper = np.stack([rec[k][:, index] for k in HYPER], axis=1)
    bounds = phases(hyper)
    window = max(1, int(math.ceil(smooth_steps / max(int(getattr(monitor, "every", 1)), 1))))
    L = centred_average(rec[lkey][:, index], window, bounds)
    out = GroupTrajectory(g.name, family, steps, L, nan.copy(), nan.copy(), nan.copy(), nan.copy())
    if steps.size == 0:
        out.note = "no records"
        return out
    if family not in MAPS:
        out.note = f"trajectory unavailable: {reason or f'spheretheory.trajectory does not cover {family!r}'}"
        return out
    spec = MAPS[family]
    div = int(getattr(monitor, "diverged_step", -1))
    last = int(steps[-1]) if div < 0 else min(int(steps[-1]), div - 1)
    s0 = int(steps[0])
    all_steps = np.arange(s0, last + 1)
    if all_steps.size == 0:
        out.note = "trajectory unavailable: no record before the divergence"
        return out
    per_step = getattr(monitor, "hyper_per_step", None)
    if per_step is not None:
        lr_all, wd_all = (x[s0 : last + 1] for x in per_step(index))
    else:
        lr_all, wd_all = (_hold(steps, rec[k][:, index], all_steps) for k in ("lr", "weight_decay"))
    if lr is not None:
        lr_all = np.asarray(lr, dtype=np.float64)
        if lr_all.shape != all_steps.shape:
            raise ValueError(f"lr must have one value per step {s0}..{last} ({all_steps.size}); got {lr_all.shape}")
    ok = np.isfinite(L) & (L > 0)
    if not ok.any():
        out.note = f"trajectory unavailable: no finite measured {lkey}"
        return out
    L_all = np.interp(all_steps, steps[ok], L[ok])
    if family == "sgd" and float(np.nanmax(rec["momentum"][:, index])) > 0:  # pragma: no cover - mapping guards
        out.note = "trajectory unavailable: momentum > 0 mapped to sgd"
        return out
    changes = set(getattr(monitor, "weight_change_steps", lambda: [])()) | set(_jumps(rec, index))
    starts = sorted({s0, *(t for t in changes if s0 < t <= last)})
    given = {"momentum": float(hyper[0, 2]), **extra}
    kw: dict[str, Any] = {k: v for k, v in given.items() if k in spec.hyperparameters}
    if spec.needs_dim:
        kw["dim"] = int(monitor.group_size(index))
    notes = []
    for j, a in enumerate(starts):
        b = starts[j + 1] if j + 1 < len(starts) else last + 1
        r = int(np.searchsorted(steps, a))  # first record at or after a
        if r >= steps.size or steps[r] >= b:
            continue
        a = int(steps[r])  # start from a measured record
        if initial_state is not None and j == 0:
            state = tuple(float(x) for x in initial_state)
        elif spec.kind == "linear":
            state = tuple(float(rec[k][r, index]) for k in ("w2", "wv", "v2"))
        else:
            state = (float(rec["w2"][r, index]),)
        init = {"state0": state} if len(state) > 1 else {"sq_norm0": state[0]}
        sl = slice(a - s0, b - s0)
        try:
            tr = trajectory(
                family,
                steps=b - a,
                lr=lr_all[sl],
                weight_decay=wd_all[sl],
                unit_grad_sq=L_all[sl],
                **init,
                **kw,
            )
        except (ValueError, TypeError) as exc:
            notes.append(f"steps {a}-{b - 1}: trajectory unavailable ({' '.join(str(exc).split())})")
            continue
        m = (steps >= a) & (steps < b)
        k = steps[m] - a
        out.sq_norm[m] = tr.sq_norm[k]
        out.angular_update[m] = tr.angular_update[k]
        out.sq_norm_equilibrium[m] = tr.sq_norm_equilibrium[k]
        out.angular_update_equilibrium[m] = tr.angular_update_equilibrium[k]
        out.restarts.append(a)
    out.note = "; ".join(notes)
    return out


def phase_errors(
    delta: np.ndarray,
    sq_norm: np.ndarray,
    traj: GroupTrajectory,
    sel: np.ndarray,
    *,
    window: int,
    transient: int,
    fraction: float,
) -> dict[str, float]:
    """Relative errors (measured / predicted − 1) of the trajectory over one phase.

    ``sel``: the phase's record indices (finite records). Δ is compared as RMS over windows (the map predicts
    RMS Δ_t, Thm 3's √E[Δ²]), ‖w‖ record by record against √E‖w_t‖².

    Returns
    -------
    dict
        ``delta_transient`` (first ``transient`` records of the phase), ``delta_end`` (last ``fraction``, the
        window of the equilibrium columns), ``delta_max`` (the largest |error| over consecutive ``window``-record
        windows, with its sign), ``norm_max`` (largest |error| of ‖w_t‖ over the phase, with its sign),
        ``norm_end`` (mean over the last ``fraction``), and ``delta_end_se`` / ``delta_transient_se``: the
        relative standard error of the measured RMS in those windows from the per-step noise, ½·sd(q)·√(τ/n)/mean(q)
        for the residual q_t = Δ_t²/(centred ``window``/4-record average of Δ²) over the n records of the window, τ
        its integrated autocorrelation time over the whole phase
        (:func:`spheretheory.analysis.integrated_autocorrelation_time`). The slow fluctuation of ‖w_t‖ around the
        mean field (Δ_t ∝ 1/‖w_t‖²) is not in it: it is the norm error.
    """
    from ...analysis import integrated_autocorrelation_time

    keys = ("delta_transient", "delta_transient_se", "delta_end", "delta_end_se", "delta_max", "norm_max", "norm_end")
    res = dict.fromkeys(keys, math.nan)
    pd, pn = traj.angular_update[sel], traj.sq_norm[sel]
    good = np.isfinite(pd) & np.isfinite(pn)
    if not good.any():
        return res
    sel, pd, pn = sel[good], pd[good], pn[good]
    d2, pd2 = delta[sel] ** 2, pd**2

    # statistical error of a window's mean Δ², from the run alone (not from the prediction, whose misses must not
    # widen the error bar): the per-step residual q_t = Δ_t²/(its centred moving average over a quarter window, short
    # enough to follow a transient, long against the per-step noise's correlation of ~1/(1−α) steps), with its
    # integrated autocorrelation time estimated once over the whole phase; se = ½·sd(q)·√(τ/n)/mean(q) for the RMS.
    # It covers the fast per-step noise; the slow wandering of ‖w_t‖ around the mean field (Δ_t ∝ 1/‖w_t‖²) is the
    # norm error, reported beside it.
    q_all = d2 / centred_average(d2, max(4, window // 4), [(0, d2.size)])
    tau = float(integrated_autocorrelation_time(q_all)) if q_all.size >= 4 else math.nan

    def err(lo: int, hi: int) -> tuple[float, float]:
        e = math.sqrt(float(np.mean(d2[lo:hi])) / float(np.mean(pd2[lo:hi]))) - 1.0
        q = q_all[lo:hi]
        se = 0.5 * float(np.std(q)) * math.sqrt(max(tau, 1.0) / q.size) / float(np.mean(q)) if q.size >= 4 else math.nan
        return e, se

    n = sel.size
    res["delta_transient"], res["delta_transient_se"] = err(0, min(transient, n))
    start = n - max(1, int(math.ceil(n * fraction)))
    res["delta_end"], res["delta_end_se"] = err(start, n)
    errs = [err(lo, min(lo + window, n))[0] for lo in range(0, n, window) if min(lo + window, n) - lo >= window // 2]
    if errs:
        res["delta_max"] = max(errs, key=abs)
    ne = np.sqrt(sq_norm[sel] / pn) - 1.0
    res["norm_max"] = float(ne[np.argmax(np.abs(ne))])
    res["norm_end"] = float(np.mean(ne[start:]))
    return res
