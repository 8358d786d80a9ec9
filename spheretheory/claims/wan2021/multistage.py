"""Sec. 4.2, multi-stage LR: whether Δ_t reaches the new equilibrium within a stage (non-stationary claims).

Checked in the paper's ImageNet setting as we read it (Goyal et al. 2017: ResNet-50, SGDM α = 0.9, λ = 1e-4,
batch 8k with η = 3.2 and ⌈1,281,167/8192⌉ = 157 steps per epoch, a 5-epoch linear warmup from η = 0.1, the LR
divided by 10 at epochs 30, 60 and 80 of 90), with the exact reduced-state simulator (isotropic noise, L
constant) and beside it the trajectory prediction (:func:`spheretheory.trajectory`, the iterated mean-field map).
The batch-256 form of the same schedule (η = 0.1, 5005 steps per epoch) has the same relaxation per epoch
(4ηλ/(1 − α) × steps per epoch is fixed by the linear scaling rule) but 32× the steps.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._core import FAILS, HOLDS, UNDERPOWERED, Claim, Outcome, Param, Z, register, underpowered
from ._common import DIM, PAPER, _check_small

NOT_REACHED_QUOTE = (
    "Corollary 3.1 implies SGD/SGDM with smaller learning rate requires more iterations to reach new equilibrium "
    "state. Hence, in second learning rate stage in Imagenet experiments, angular update Δ_t can reach its new "
    "theoretical value within 15 epochs. But in last two learning rate stages of Imagenet/MSCOCO experiments, "
    "SGDM cannot completely reach new equilibrium by the end of training. As a result, we observe empirical "
    "value of Δ_t is smaller than its theoretical value. [Sec. 4.2]"
)

EPOCHS, MILESTONES, WARMUP = 90, (30, 60, 80), 5

DOMAIN = {
    "lr": Param(3.2, 0.0, 10.0, False, False, doc="peak learning rate η (Goyal et al.: 0.1 × 8192/256)"),
    "weight_decay": Param(1e-4, 0.0, 0.1, False, True, doc="weight decay λ"),
    "momentum": Param(0.9, 0.0, 1.0, True, False, doc="α"),
    "steps_per_epoch": Param(157, 20, 100_000, integer=True, doc="iterations per epoch (ImageNet / batch size)"),
    "rtol": Param(0.05, 0.0, 0.5, False, True, doc="'reached' = RMS Δ_t within rtol of Δ* (the paper leaves it open)"),
    "dim": DIM,
    "trajectories": Param(256, 16, 100_000, integer=True, quick=64, doc="independent trajectories"),
}


def _schedule(p: dict[str, Any]):
    from ...schedules import MultiStep, Warmup

    E, W = p["steps_per_epoch"], WARMUP * p["steps_per_epoch"]
    # Goyal et al.: linear warmup from η = 0.1 (1/32 of 3.2), then ÷10 at the milestones (epochs from the start)
    return Warmup(W, MultiStep(tuple(m * E - W for m in MILESTONES), 0.1), start=0.1 / 32), EPOCHS * E


def _windows(p: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """The epochs each part of the claim reads (one epoch of steps, [t0, t1)): the end of stages 3 and 4, and 15
    epochs into stage 2."""
    E = p["steps_per_epoch"]
    return {
        "stage 2, 15 epochs in": (44 * E, 45 * E),
        "end of stage 3": (79 * E, 80 * E),
        "end of stage 4": (89 * E, 90 * E),
    }


def _run(p: dict[str, Any], seed: int):
    """(predicted, measured, se, eq) of RMS Δ_t/Δ*_t per window: the reduced simulation and the trajectory."""
    from ...simulation import simulate
    from ...trajectory_prediction import trajectory

    _check_small(p, limit=0.01)
    sched, T = _schedule(p)
    kw = dict(lr=p["lr"], weight_decay=p["weight_decay"], momentum=p["momentum"])
    a0 = float(trajectory("sgdm", steps=1, **kw).sq_norm_equilibrium[0])  # start at the peak LR's equilibrium
    tr = trajectory("sgdm", steps=T, lr_schedule=sched, sq_norm0=a0, **kw)
    res = simulate(
        "sgdm",
        dim=p["dim"],
        steps=T,
        trajectories=p["trajectories"],
        lr_schedule=sched,
        init_norm=math.sqrt(a0),
        method="reduced",
        seed=seed,
        progress=False,
        **kw,
    )
    dl2 = res.angular_update[:, 0, :] ** 2  # (steps, trajectories)
    pred, meas, se = {}, {}, {}
    for name, (t0, t1) in _windows(p).items():
        eq = tr.angular_update_equilibrium[t0:t1]  # Δ* of each step (η constant inside the window)
        per_traj = np.sqrt((dl2[t0:t1] / eq[:, None] ** 2).mean(axis=0))  # window RMS of Δ_t/Δ*_t, per run
        ms = float(np.mean(per_traj**2))
        meas[name] = math.sqrt(ms)
        se[name] = float(np.std(per_traj**2, ddof=1) / math.sqrt(per_traj.size) / (2 * meas[name]))
        pred[name] = float(np.sqrt(np.mean(tr.angular_update_lag[t0:t1] ** 2)))
    return pred, meas, se, tr


def _verdict_part(measured: float, se: float, threshold: float, above: bool) -> str:
    """measured ≥ threshold (``above``) or < threshold; ``not checkable at this size`` when ±z SE cannot tell the
    side (2·z·se > |measured − threshold|: the power rule of :func:`underpowered`)."""
    if underpowered(se, abs(measured - threshold)):
        return UNDERPOWERED
    return HOLDS if (measured >= threshold) == above else FAILS


def _combine(verdicts: list[str]) -> str:
    if FAILS in verdicts:
        return FAILS
    if UNDERPOWERED in verdicts:
        return UNDERPOWERED
    return HOLDS


def _agreement(pred: dict, meas: dict, se: dict) -> dict[str, bool]:
    # the trajectory prediction against the simulation: z SE + 2 % (the mean-field closure, issue 11's bar)
    return {k: bool(abs(pred[k] - meas[k]) <= Z * se[k] + 0.02 * meas[k]) for k in pred}


def _not_reached(p: dict[str, Any], *, quick: bool, seed: int) -> Outcome:
    pred, meas, se, tr = _run(p, seed)
    thr = 1.0 - p["rtol"]
    parts = {k: _verdict_part(meas[k], se[k], thr, above=False) for k in ("end of stage 3", "end of stage 4")}
    verdict = _combine(list(parts.values()))
    agree = _agreement(pred, meas, se)
    detail = (
        "RMS Δ_t/Δ*_t over the last epoch of each stage: "
        + "; ".join(f"{k}: {meas[k]:.3f} ± {se[k]:.3f} (trajectory {pred[k]:.3f})" for k in parts)
        + f". 'Not reached' = below 1 − rtol = {thr:g}: {', '.join(f'{k} {v}' for k, v in parts.items())}. "
        f"Δ_t stays below Δ* because the norm lags behind the falling LR (the relaxation 4ηλ/(1 − α) per step is "
        f"{4 * p['lr'] * 1e-2 * p['weight_decay'] / (1 - p['momentum']) * p['steps_per_epoch']:.3f} per epoch in "
        f"stage 3). The trajectory prediction agrees with the simulation (z SE + 2 %): {all(agree.values())}."
    )
    return Outcome(
        verdict,
        predicted={k: pred[k] for k in parts},
        measured={k: meas[k] for k in parts},
        se={k: se[k] for k in parts},
        tolerance=thr,
        deviation={k: meas[k] / thr - 1 for k in parts},
        detail=detail,
        counterexample=None if verdict != FAILS else {**p, **{f"measured {k}": meas[k] for k in parts}},
        numbers={"parts": parts, "prediction_agrees": agree, "trajectory": {k: pred[k] for k in pred}},
    )


def _within_15(p: dict[str, Any], *, quick: bool, seed: int) -> Outcome:
    pred, meas, se, tr = _run(p, seed)
    k = "stage 2, 15 epochs in"
    thr = 1.0 - p["rtol"]
    verdict = _verdict_part(meas[k], se[k], thr, above=True)
    # epochs into stage 2 until the predicted Δ/Δ* stays within rtol (stage 2 runs from epoch 30 to 60)
    E = p["steps_per_epoch"]
    lag = tr.angular_update_lag[30 * E : 60 * E]
    out = np.flatnonzero(np.abs(lag - 1) > p["rtol"])
    need = (out[-1] + 1) / E if out.size else 0.0
    reached = out.size == 0 or out[-1] + 1 < lag.size
    agree = _agreement(pred, meas, se)
    detail = (
        f"15 epochs into stage 2, RMS Δ_t/Δ*_t = {meas[k]:.3f} ± {se[k]:.3f} (trajectory {pred[k]:.3f}): "
        f"{'within' if meas[k] >= thr else 'not within'} rtol = {p['rtol']:g}. The trajectory reaches rtol "
        + (f"{need:.1f} epochs into stage 2" if reached else "not before the end of stage 2")
        + f"; 15 epochs suffice only for rtol ≥ {1 - meas[k]:.2f}. (The relaxation per epoch, fixed by the linear "
        f"scaling rule, is the same for the batch-256 form of the schedule; the real run's unit-gradient norm also "
        f"changes at the drop, which this isotropic check leaves out.) Prediction agrees: {agree[k]}."
    )
    return Outcome(
        verdict,
        predicted=pred[k],
        measured=meas[k],
        se=se[k],
        tolerance=thr,
        deviation=meas[k] / thr - 1,
        detail=detail,
        counterexample=None if verdict != FAILS else {**p, "measured_ratio": meas[k], "epochs_needed": need},
        numbers={"epochs_needed": need, "prediction_agrees": agree[k], "rtol_that_holds": 1 - meas[k]},
    )


_METHOD = (
    "Goyal et al.'s schedule (5-epoch warmup from η = 0.1, ÷10 at epochs 30/60/80 of 90), SGDM from the peak "
    "LR's equilibrium norm; the exact reduced-state simulation (independent trajectories) and the trajectory "
    "prediction. Δ_t/Δ*_t (Δ* = the exact mean-field fixed point at that step's LR) is averaged as an RMS over one "
    "epoch per trajectory; SE across trajectories."
)
register(
    Claim(
        id="wan2021.sec42.not_reached",
        paper=PAPER,
        where="Sec. 4.2 (Figure 5(a), multi-stage LR on ImageNet)",
        statement="In the last two LR stages (÷10 at epochs 60 and 80 of 90) SGDM does not reach the new "
        "equilibrium by the stage's end: the RMS angular update stays below its theoretical value Δ*.",
        quote=NOT_REACHED_QUOTE,
        relation="≤",
        domain=DOMAIN,
        derivations=("trajectory.heavy_ball_map", "trajectory.heavy_ball_equilibrium"),
        method=_METHOD,
        tolerance="holds: RMS Δ/Δ* < 1 − rtol at the end of stages 3 and 4; not checkable at this size when "
        "2·4 SE > |measured − (1 − rtol)|.",
        check=_not_reached,
    )
)
register(
    Claim(
        id="wan2021.sec42.stage2_within_15_epochs",
        paper=PAPER,
        where="Sec. 4.2 (Figure 5(a), multi-stage LR on ImageNet)",
        statement="In the second LR stage (÷10 at epoch 30) the angular update reaches its new theoretical value "
        "within 15 epochs.",
        quote=NOT_REACHED_QUOTE,
        relation="≥",
        domain=DOMAIN,
        derivations=("trajectory.heavy_ball_map", "trajectory.heavy_ball_equilibrium"),
        method=_METHOD,
        tolerance="holds: RMS Δ/Δ* over epoch 44–45 ≥ 1 − rtol; not checkable at this size when "
        "2·4 SE > |measured − (1 − rtol)|.",
        check=_within_15,
    )
)
