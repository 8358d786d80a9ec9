"""Figures of a monitor's records, laid out like Wan et al. (2021) Fig. 3 and Fig. 5 (matplotlib, Agg
backend).

Per layer (Fig. 3): (a) the unit-gradient power — h̃_t for SGDM, ‖g̃_t‖² for SGD — raw (semi-transparent) and
its centred moving average within each phase (solid: the L_t fed to the trajectory); (b) ‖w_t‖ measured, the
predicted trajectory √E‖w_t‖² (:func:`.trajectory.group_trajectory`: :func:`spheretheory.trajectory` with the
run's per-step η_t, λ_t, that L_t and the measured initial state; black) and the instantaneous equilibrium norm
at (η_t, λ_t, L_t) (dashed); (c) Δ_t measured per step and as RMS over ``smooth_steps``, the predicted RMS Δ_t of
the trajectory (black) and the instantaneous equilibrium Δ* (dashed). Dotted vertical lines: LR changes. Overview
(Fig. 5): the angular updates of all layers on one axis with the predicted Δ* per phase, the norms and the
effective learning rates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._validation import InputError, check_int
from .compare import _getf, phases, predict_for
from .records import HYPER, MonitoredRun
from .trajectory import centred_average, group_trajectory


def _predicted_series(monitor: MonitoredRun, rec: dict, gi: int, power: np.ndarray) -> tuple[np.ndarray, ...]:
    """Predicted Δ* (per record) and norm from the averaged power (per record), NaN where unavailable."""
    family, extra, reason = monitor.optimizer_family(gi)
    n = rec["step"].size
    delta = np.full(n, np.nan)
    norm = np.full(n, np.nan)
    hyper = np.stack([rec[k][:, gi] for k in HYPER], axis=1)
    for a, b in phases(hyper):
        lr, wd, mom = (float(hyper[a, j]) for j in range(3))
        dim = int(monitor.group_size(gi))
        pred, _ = predict_for(family, lr, wd, mom, extra, None, reason, dim)
        delta[a:b] = _getf(pred, "angular_update")
        if pred is None:
            continue
        # the norm depends on L; w* ∝ L^(1/4) (Thms 1-2), evaluated exactly by predict on a coarse grid of
        # records
        idx = np.unique(np.linspace(a, b - 1, num=min(b - a, 60)).astype(int))
        vals = []
        for i in idx:
            if not (np.isfinite(power[i]) and power[i] > 0):
                vals.append(np.nan)
                continue
            p_i, _ = predict_for(family, lr, wd, mom, extra, float(power[i]), reason, dim)
            vals.append(_getf(p_i, "equilibrium_norm"))
        norm[a:b] = np.interp(np.arange(a, b), idx, np.asarray(vals))
    return delta, norm


def _layer_label(monitor: MonitoredRun, group: Any) -> str:
    """The group's module path with its layer type and normalisation, e.g. ``features.0 (Conv2d, batchnorm)``."""
    try:
        module = type(monitor.model.get_submodule(group.name)).__name__
    except (AttributeError, ValueError, TypeError):  # manual groups are named after parameters
        module = None
    kind = getattr(group, "kind", None)
    inside = ", ".join(x for x in (module, kind) if x)
    return f"{group.name} ({inside})" if inside else str(group.name)


def _mark_lr_changes(ax: Any, drops: Sequence[int], label: bool = False) -> None:
    """Dotted vertical lines at the steps where the learning rate changes (LR drops); ``label``: name the first
    in the legend."""
    for i, t in enumerate(drops):
        ax.axvline(t, color="0.45", ls=":", lw=1.0, label="LR change" if label and i == 0 else None, zorder=0)


def _legend(ax: Any, **kw: Any) -> None:
    ax.legend(fontsize=7.5, framealpha=0.85, handlelength=2.2, **kw)


def _windowed_rms(x: np.ndarray, window: int, bounds: list[tuple[int, int]]) -> np.ndarray:
    """√(centred moving average of x²) within each phase: the measured counterpart of the predicted RMS Δ_t."""
    return np.sqrt(centred_average(np.asarray(x, dtype=np.float64) ** 2, window, bounds))


def _run_title(monitor: MonitoredRun, rec: dict, steps: np.ndarray, drops: Sequence[int]) -> str:
    """Model, optimizer and its hyperparameters at the first record, the steps covered, the LR changes."""
    hyper = ", ".join(
        f"{k}={float(rec[k][0, 0]):g}" for k in ("lr", "momentum", "weight_decay") if np.isfinite(rec[k][0, 0])
    )
    model = type(getattr(monitor, "model", None)).__name__.replace("NoneType", "model")
    optimizer = type(getattr(monitor, "optimizer", None)).__name__.replace("NoneType", "the optimizer")
    title = f"{model} trained with {optimizer} ({hyper} at step {steps[0]})"
    title += f", steps {steps[0]}-{steps[-1]}"
    if drops:
        title += f"; LR changes at step {', '.join(map(str, drops))} (dotted lines)"
    return title


def plot_monitor(
    monitor: MonitoredRun,
    path: str | None = None,
    *,
    layers: Sequence[str] | None = None,
    smooth_steps: int = 100,
    overview: bool = True,
    log_delta: bool | None = None,
) -> Any:
    """Draw the per-layer panels (Fig. 3 style) and, optionally, the all-layer Δ overview (Fig. 5 style).

    Parameters
    ----------
    monitor:
        A monitor with records.
    path:
        Where to save the figure (any matplotlib format); ``None``: only return it.
    layers:
        Group names to draw (default: all).
    smooth_steps:
        Window, in optimizer steps, of the centred moving average of the unit-gradient power L_t fed to the
        trajectory (as in ``compare``, default 100; Wan et al. average the power over 200) and of the measured RMS
        of Δ_t.
    overview:
        Add a bottom row with Δ_t of every layer on one axis.
    log_delta:
        Logarithmic axis for Δ_t (default: when the learning rate changes during the records, so that every
        stage stays readable).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    smooth_steps = check_int("smooth_steps", smooth_steps, low=1)
    if not monitor.groups or monitor.n_records == 0:
        raise InputError(f"nothing to plot: {monitor.message}; {monitor.n_records} records")
    names = [g.name for g in monitor.groups]
    if layers is None:
        chosen = list(range(len(names)))
    else:
        unknown = [name for name in layers if name not in names]
        if unknown:
            raise InputError(f"layers: unknown group(s) {unknown}; monitored: {names}")
        chosen = [names.index(name) for name in layers]
    rec = monitor.group_records()
    steps = rec["step"]
    window = max(1, int(math.ceil(smooth_steps / monitor.every)))
    if log_delta is None:
        lr = rec["lr"][np.isfinite(rec["lr"])]
        log_delta = bool(lr.size and lr.max() > 2 * lr.min())
    labels = [_layer_label(monitor, g) for g in monitor.groups]
    lr_all = rec["lr"][:, 0]
    drops = [int(steps[i]) for i in range(1, steps.size) if np.isfinite(lr_all[i]) and lr_all[i] != lr_all[i - 1]]
    trajs = {gi: group_trajectory(monitor, gi, smooth_steps=smooth_steps, rec=rec) for gi in chosen}
    nrows = len(chosen) + (1 if overview else 0)
    fig, axes = plt.subplots(nrows, 3, figsize=(14, 3.0 * nrows), squeeze=False)
    for row, gi in enumerate(chosen):
        sgdm = float(np.nanmax(rec["momentum"][:, gi])) > 0 and np.any(np.isfinite(rec["h_tilde"][:, gi]))
        pkey, plabel = (
            ("h_tilde", r"$\tilde h_t=(\|g_t\|^2+2\alpha\langle v_{t-1},g_t\rangle)\|w_t\|^2$")
            if sgdm
            else ("unit_grad_sq", r"$\|\tilde g_t\|^2=\|g_t\|^2\|w_t\|^2$")
        )
        bounds = phases(np.stack([rec[k][:, gi] for k in HYPER], axis=1))
        power = rec[pkey][:, gi]
        tr = trajs[gi]
        smooth = tr.unit_grad_sq
        d_pred, n_pred = _predicted_series(monitor, rec, gi, smooth)
        ax = axes[row]
        ax[0].plot(steps, power, alpha=0.3, lw=0.6, color="C0", label="per step")
        ax[0].plot(steps, smooth, color="C0", label=f"centred {smooth_steps}-step average ($L_t$)")
        ax[0].set_ylabel("unit-gradient power (loss$^2$)", fontsize=8)
        ax[0].set_title(f"{labels[gi]}: {plabel}", fontsize=9)
        ax[1].plot(steps, np.sqrt(rec["sq_norm"][:, gi]), color="C0", lw=1.0, label=r"$\|w_t\|$ measured")
        if tr.available:
            ax[1].plot(steps, np.sqrt(tr.sq_norm), color="k", lw=1.2, label=r"trajectory $\sqrt{E\|w_t\|^2}$")
            ax[1].plot(steps, np.sqrt(tr.sq_norm_equilibrium), color="0.35", ls="--", lw=1.0,
                       label=r"instantaneous equilibrium $w^*(\eta_t,\lambda_t,L_t)$")  # fmt: skip
            later = tr.restarts[1:]
            if later:
                ax[1].plot(later, np.sqrt(tr.sq_norm[np.searchsorted(steps, later)]), "kv", ms=5,
                           label="restart at the measured state (weights rescaled)")  # fmt: skip
        else:
            ax[1].plot(steps, n_pred, "k--", lw=1, label="instantaneous equilibrium from $L_t$")
        ax[1].set_title(f"{labels[gi]}: weight norm", fontsize=9)
        ax[1].set_ylabel(r"$\|w_t\|$ (L2 norm of the layer's weights)", fontsize=8)
        ax[2].plot(steps, rec["angular_update"][:, gi], color="C3", lw=0.4, alpha=0.35, label=r"$\Delta_t$ per step")
        ax[2].plot(steps, _windowed_rms(rec["angular_update"][:, gi], window, bounds), color="C3", lw=1.2,
                   label=f"measured RMS over {smooth_steps} steps")  # fmt: skip
        if tr.available:
            ax[2].plot(steps, tr.angular_update, color="k", lw=1.2, label=r"trajectory (RMS $\Delta_t$)")
        ax[2].plot(steps, d_pred, color="0.35", ls="--", lw=1.0, label=r"instantaneous equilibrium $\Delta^*$")
        ax[2].set_title(f"{labels[gi]}: angular update", fontsize=9)
        ax[2].set_ylabel(r"$\Delta_t=\angle(w_t,w_{t+1})$ (rad)", fontsize=8)
        if log_delta:
            ax[2].set_yscale("log")
        for j, a in enumerate(ax):
            a.set_xlabel("optimizer step", fontsize=8)
            a.tick_params(labelsize=7)
            _mark_lr_changes(a, drops, label=j == 0)
            _legend(a)
    if overview:
        ax = axes[-1]
        for i, gi in enumerate(chosen):
            bounds = phases(np.stack([rec[k][:, gi] for k in HYPER], axis=1))
            rms = _windowed_rms(rec["angular_update"][:, gi], window, bounds)
            ax[0].plot(steps, rms, lw=1.0, color=f"C{i % 10}", label=f"{labels[gi]} (RMS over {smooth_steps} steps)")
            if trajs[gi].available:
                ax[0].plot(steps, trajs[gi].angular_update, lw=1.0, ls="-.", color=f"C{i % 10}", alpha=0.9)
        if any(trajs[gi].available for gi in chosen):
            ax[0].plot([], [], "k-.", lw=1.0, label="trajectory (dash-dot, layer colour)")
        d_pred, _ = _predicted_series(monitor, rec, chosen[0], np.full(steps.size, np.nan))
        ax[0].plot(steps, d_pred, "k--", lw=1.2, label=r"instantaneous equilibrium $\Delta^*$")
        ax[0].set_title("angular update, all layers", fontsize=9)
        ax[0].set_ylabel(r"RMS $\Delta_t$ (rad)", fontsize=8)
        if log_delta:
            ax[0].set_yscale("log")
        for i, gi in enumerate(chosen):
            ax[1].plot(steps, np.sqrt(rec["sq_norm"][:, gi]), lw=0.8, color=f"C{i % 10}", label=labels[gi])
        ax[1].set_title("weight norms, all layers", fontsize=9)
        ax[1].set_ylabel(r"$\|w_t\|$ (L2 norm of the layer's weights)", fontsize=8)
        for i, gi in enumerate(chosen):
            ax[2].plot(steps, rec["effective_lr"][:, gi], lw=0.8, color=f"C{i % 10}", label=labels[gi])
        ax[2].set_yscale("log")
        ax[2].set_title("effective learning rate, all layers", fontsize=9)
        ax[2].set_ylabel(r"effective LR $\eta_t/\|w_t\|^2$ (per step)", fontsize=8)
        for j, a in enumerate(ax):
            a.set_xlabel("optimizer step", fontsize=8)
            a.tick_params(labelsize=7)
            _mark_lr_changes(a, drops, label=j == 0)
            # Δ falls at each drop: below the first stage's level, before the first drop, is empty
            _legend(a, ncol=1 if len(chosen) < 4 else 2, **({"loc": "lower left"} if j == 0 and drops else {}))
    fig.suptitle(_run_title(monitor, rec, steps, drops), fontsize=10)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
