"""Figures of a monitor's records, laid out like Wan et al. (2021) Fig. 3 and Fig. 5 (matplotlib, Agg
backend).

Per layer (Fig. 3): (a) the unit-gradient power — h̃_t for SGDM, ‖g̃_t‖² for SGD — raw (semi-transparent) and
its trailing moving average (solid); (b) ‖w_t‖ with the equilibrium norm predicted from the averaged power
(dashed,
``predict(..., unit_grad_sq=L̄_t).equilibrium_norm``); (c) Δ_t with the predicted Δ* (dashed). Overview (Fig.
5): the angular updates of all layers on one axis with the predicted Δ* per phase.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._validation import check_int
from .compare import _getf, moving_average, phases, predict_for
from .records import HYPER, MonitoredRun


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


def plot_monitor(
    monitor: MonitoredRun,
    path: str | None = None,
    *,
    layers: Sequence[str] | None = None,
    smooth_steps: int = 200,
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
        Window, in optimizer steps, of the moving average of the unit-gradient power (the paper uses 200).
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
        raise ValueError(f"nothing to plot: {monitor.message}; {monitor.n_records} records")
    names = [g.name for g in monitor.groups]
    if layers is None:
        chosen = list(range(len(names)))
    else:
        unknown = [name for name in layers if name not in names]
        if unknown:
            raise ValueError(f"layers: unknown group(s) {unknown}; monitored: {names}")
        chosen = [names.index(name) for name in layers]
    rec = monitor.group_records()
    steps = rec["step"]
    window = max(1, int(math.ceil(smooth_steps / monitor.every)))
    if log_delta is None:
        lr = rec["lr"][np.isfinite(rec["lr"])]
        log_delta = bool(lr.size and lr.max() > 2 * lr.min())
    nrows = len(chosen) + (1 if overview else 0)
    fig, axes = plt.subplots(nrows, 3, figsize=(13, 2.6 * nrows), squeeze=False)
    for row, gi in enumerate(chosen):
        sgdm = float(np.nanmax(rec["momentum"][:, gi])) > 0 and np.any(np.isfinite(rec["h_tilde"][:, gi]))
        pkey, plabel = ("h_tilde", "h̃_t") if sgdm else ("unit_grad_sq", "‖g̃_t‖²")
        power = rec[pkey][:, gi]
        finite = np.isfinite(power)
        smooth = np.full_like(power, np.nan)
        smooth[finite] = moving_average(power[finite], window)
        d_pred, n_pred = _predicted_series(monitor, rec, gi, smooth)
        ax = axes[row]
        ax[0].plot(steps, power, alpha=0.3, lw=0.6, color="C0")
        ax[0].plot(steps, smooth, color="C0", label=f"{window}-record average")
        ax[0].set_ylabel(plabel)
        ax[0].set_title(f"{names[gi]}: unit-gradient power", fontsize=9)
        ax[0].legend(fontsize=7)
        ax[1].plot(steps, np.sqrt(rec["sq_norm"][:, gi]), color="C0", lw=0.8, label="‖w_t‖")
        ax[1].plot(steps, n_pred, "k--", lw=1, label="predicted from averaged power")
        ax[1].set_title("weight norm", fontsize=9)
        ax[1].legend(fontsize=7)
        ax[2].plot(steps, rec["angular_update"][:, gi], color="C3", lw=0.5, label="Δ_t")
        ax[2].plot(steps, d_pred, "k--", lw=1, label="predicted Δ*")
        ax[2].set_title("angular update", fontsize=9)
        ax[2].legend(fontsize=7)
        if log_delta:
            ax[2].set_yscale("log")
        for a in ax:
            a.set_xlabel("step", fontsize=8)
            a.tick_params(labelsize=7)
    if overview:
        ax = axes[-1]
        for i, gi in enumerate(chosen):
            ax[0].plot(steps, rec["angular_update"][:, gi], lw=0.5, color=f"C{i % 10}", label=names[gi])
        d_pred, _ = _predicted_series(monitor, rec, chosen[0], np.full(steps.size, np.nan))
        ax[0].plot(steps, d_pred, "k--", lw=1.2, label="predicted Δ*")
        ax[0].set_title("angular update, all layers", fontsize=9)
        if log_delta:
            ax[0].set_yscale("log")
        ax[0].legend(fontsize=6, ncol=2)
        for i, gi in enumerate(chosen):
            ax[1].plot(steps, np.sqrt(rec["sq_norm"][:, gi]), lw=0.8, color=f"C{i % 10}", label=names[gi])
        ax[1].set_yscale("log")
        ax[1].set_title("weight norms, all layers", fontsize=9)
        for i, gi in enumerate(chosen):
            ax[2].plot(steps, rec["effective_lr"][:, gi], lw=0.8, color=f"C{i % 10}")
        ax[2].set_yscale("log")
        ax[2].set_title("effective learning rate", fontsize=9)
        for a in ax:
            a.set_xlabel("step", fontsize=8)
            a.tick_params(labelsize=7)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
