"""Thm 3: the angular update at equilibrium (eq. 14)."""

from __future__ import annotations

import math
from typing import Any

from .._core import FAILS, Claim, Outcome, Param, compare, register
from .._measure import predict, reduced_at
from ._common import DIM, LR, PAPER, TRAJ, _check_small, _wd


# ------------------------------------------------------------------------------------- Thm 3
def _thm3(p: dict[str, Any], *, quick: bool, seed: int) -> Outcome:
    _check_small(p)
    a = p["momentum"]
    opt = "sgdm" if a > 0 else "sgd"
    kw = {"momentum": a} if a > 0 else {}
    pr = predict(opt, lr=p["lr"], weight_decay=p["weight_decay"], unit_grad_sq=1.0, dim=p["dim"], **kw)
    printed = float(pr["angular_update_first_order"])  # *.angular_update_first_order: √(2λη/(1+α))
    steps = int(min(max(16 * pr["relaxation_steps"], 2000), 400_000))
    res = reduced_at(
        opt,
        p,
        momentum=a,
        steps=steps,
        seed=seed,
        init_norm=math.sqrt(pr["equilibrium_sq_norm_mean"]),
        record="summary",
        summary_fraction=0.5,
    )
    st = res.equilibrium_stats(quantities=("angular_update",))["angular_update"]
    m, se = float(st.mean[0]), float(st.se[0])
    # What the printed form neglects, from the finite-d theory (finite_d.sgdm_lna): the finite-ηλ term (exact Δ*
    # vs √(2λη/(1+α))) and the finite-width offset of the mean (≈ −1/(4(d−1)), the χ_{d−1} spread of the step
    # direction). Their sum is E[Δ_t] at width d; the allowance is its relative distance to the printed value, so
    # a deviation beyond the derived ones (e.g. 5% at d = 256, where the allowance is ≈ 0.1%) fails. The paper's
    # own error order ∛(V/(Ll)) = ∛(2/(d−1)) (20% at d = 256) is reported, not used.
    finite_d = float(pr["angular_update_mean"])
    allowance = abs(finite_d - printed) / printed
    stated = (2.0 / (p["dim"] - 1)) ** (1 / 3)
    verdict, dev, tol = compare(printed, m, se, first_order=allowance)
    v_fd, dev_fd, _ = compare(finite_d, m, se)
    detail = (
        f"Mean Δ at equilibrium {m:.6g} ± {se:.2g} vs √(2λη/(1+α)) = {printed:.6g}: relative deviation "
        f"{dev:+.2e}; the finite-d theory's E[Δ_t] at d = {p['dim']} is {finite_d:.6g} ({v_fd}, {dev_fd:+.2e}), "
        f"so the printed form neglects {allowance:.2e} relative (finite ηλ: exact Δ* = {pr['angular_update']:.6g}; "
        f"finite d: the χ_{{d−1}} spread of the step, E Δ < √E Δ²). The paper's stated error order ∛(V/(Ll)) = "
        f"{stated:.3g} is far looser."
    )
    return Outcome(
        verdict,
        predicted=printed,
        measured=m,
        se=se,
        tolerance=tol,
        deviation=dev,
        detail=detail,
        counterexample=None if verdict != FAILS else {**p, "measured": m, "printed": printed},
        numbers={
            "exact_mean_field": pr["angular_update"],
            "finite_d_mean": finite_d,
            "finite_d_verdict": v_fd,
            "finite_d_allowance": allowance,
            "stated_error_order": stated,
            "std_of_delta": float(st.std[0]),
            "finite_d_std": float(pr["angular_update_std"]),
            "steps": steps,
        },
    )


register(
    Claim(
        id="wan2021.thm3",
        paper=PAPER,
        where="Thm 3, eq. 14",
        quote="then with probability at least 1 − ∛(V/(L_t l)) we have |Δ_t − √(2λη/(1+α))| < O(∛(V/(L_t l))). (14) In "
        "SGD case, α = 0. [Theorem 3]",
        statement="At equilibrium the angular update Δ_t ≈ √(2λη/(1+α)) (α = 0 for SGD), error O(∛(V/(L_t l))).",
        domain={
            "lr": LR,
            "weight_decay": _wd(1e-3),
            "momentum": Param(0.9, 0.0, 1.0, True, False, doc="α (0: SGD)"),
            "dim": DIM,
            "trajectories": TRAJ,
        },
        derivations=(
            "sgdm.angular_update",
            "sgdm.angular_update_first_order",
            "sgd.angular_update_first_order",
            "finite_d.sgdm_lna",
            "finite_d.chi_mean_factor",
        ),
        method="Reduced-state SGD(M) at equilibrium; mean angular update (R8, exact atan2 form) over the last half.",
        tolerance="holds: within 4 SE; to first order: within 4 SE + the relative distance of the finite-d theory's "
        "E[Δ_t] (finite_d.sgdm_lna: finite ηλ and the O(1/(d−1)) spread of the step) from the printed form — not "
        "the paper's own error order ∛(V/(Ll)) = ∛(2/(d−1)), 20% at d = 256, which no 5% effect could fail.",
        check=_thm3,
    )
)
