"""Claim of Li, Lyu & Arora (2020): equilibrium is reached in O(1/(ηλ)) steps (theory brief Sec. 7)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import InputError
from . import _measure as M
from ._core import FAILS, Claim, Outcome, Param, compare, register

PAPER = "Li, Lyu & Arora (2020), intrinsic learning rate"


def _time(p: dict[str, Any], *, quick: bool, seed: int) -> Outcome:
    lr = p["lr"]
    wds = [p["weight_decay"], p["weight_decay"] * p["ratio"]]
    cs, ses, preds = [], [], []
    for i, wd in enumerate(wds):
        el = lr * wd
        if el > 0.05:
            raise InputError(f"lr*weight_decay*ratio must be <= 0.05 (ηλ ≪ 1); got {el:g}")
        pr = M.predict("sgd", lr=lr, weight_decay=wd)
        x_star = pr["equilibrium_sq_norm"]
        steps = int(max(3 * pr["relaxation_steps"] * math.log(abs(p["start"] - 1) / p["rtol"]), 200))
        every = max(1, steps // 3000)
        res = M.reduced(
            "sgd",
            lr=lr,
            weight_decay=wd,
            dim=p["dim"],
            steps=steps,
            trajectories=p["trajectories"],
            seed=seed + i,
            init_norm=math.sqrt(p["start"] * x_star),
            record_every=every,
        )
        x = res.sq_norm[:, 0, :]
        t = res.steps

        def reach(m, t=t, x_star=x_star):
            inside = np.abs(m / x_star - 1) <= p["rtol"]
            return float(t[np.argmax(inside)]) if inside.any() else float("nan")

        tm, se = M.batched(reach, x)
        cs.append(tm * el)
        ses.append(math.hypot(se, every) * el)
        # linearised: |gap| ≈ |start − 1| μ^t, first entry into the band
        preds.append(pr["relaxation_steps"] * math.log(abs(p["start"] - 1) / p["rtol"]) * el)
    verdict, dev, tol = compare(cs[0], cs[1], math.hypot(*ses), first_order=4 * max(wds) * lr)
    detail = (
        f"Steps to equilibrium (E‖w‖² first within rtol = {p['rtol']:g} of w*², from ‖w_0‖² = {p['start']:g}·w*²) "
        f"times ηλ: {cs[0]:.4g} ± {ses[0]:.2g} at λ = {wds[0]:g} and {cs[1]:.4g} ± {ses[1]:.2g} at λ = {wds[1]:g} "
        f"(η = {lr:g}): the product is constant, i.e. the time scales as 1/(ηλ){'' if verdict != FAILS else ' — NOT'}"
        f" (relative difference {dev:+.2e}). The linearised recursion predicts {preds[0]:.4g} and {preds[1]:.4g}."
    )
    return Outcome(
        verdict,
        predicted=cs[0],
        measured=cs[1],
        se=math.hypot(*ses),
        tolerance=tol,
        deviation=dev,
        detail=detail,
        counterexample=None if verdict != FAILS else {**p, "products": cs},
        numbers={"products": cs, "product_se": ses, "linearised": preds},
    )


register(
    Claim(
        id="li2020.time_to_equilibrium",
        paper=PAPER,
        where="abstract / Sec. 5",
        quote="[no paper text on file in /work/shared/papers; Wan et al. (2021), Remark 1, cite it: 'the mixing time "
        "O(1/(λη)) presented in Li et al. (2020)']",
        statement="With normalization and weight decay, SGD reaches equilibrium in O(1/(ηλ)) steps "
        "(intrinsic learning rate λ_e = ηλ).",
        domain={
            "lr": Param(0.1, 0.0, 1.0, False, False),
            "weight_decay": Param(2e-3, 0.0, 0.1, False, True),
            "ratio": Param(4.0, 1.0, 100.0, False, True, doc="second point: λ × ratio"),
            "start": Param(4.0, 0.0, 100.0, False, True, doc="‖w_0‖²/w*²"),
            "rtol": Param(0.05, 0.0, 0.5, False, True),
            "dim": Param(256, 4, 100_000, integer=True),
            "trajectories": Param(512, 16, 100_000, integer=True, quick=256),
        },
        derivations=("sgd.relaxation_steps", "sgd.norm_recursion", "sgd.equilibrium_sq_norm"),
        method="Reduced-state SGD from ‖w_0‖² = start·w*² at two weight decays; first step at which the "
        "trajectory-mean ‖w‖² is within rtol of w*² (SE from 8 batches plus the record spacing); the product "
        "with ηλ must not depend on ηλ.",
        tolerance="holds: the two products within 4 combined SE; to first order: within that + 4ηλ relative "
        "(the O(ηλ) correction to the contraction).",
        check=_time,
    )
)
