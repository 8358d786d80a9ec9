"""Sec. 3: the two conjectures on the angular update and the training loss (free SGD on the NRQ)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._core import FAILS, HOLDS, UNDERPOWERED, Claim, Outcome, Param, register
from .._measure import predict
from ._common import PAPER


# ------------------------------------------------------------------------------------- Sec. 3 conjectures
def _free_nrq(lrs, wds, p, seed):
    """Free SGD with weight decay on the default NRQ, started at the minimum direction (one basin) with the
    equilibrium norm: spheretheory.simulate(model=NRQ) over the grid of (η, λ) points at once, in chunks of
    100 steps (SGD restarts exactly: its only state is w), the loss evaluated between chunks. Returns (mean
    loss over the second half, its SE across runs, mean Δ) per point, and the model."""
    from ...models import NoisyRayleighQuotient
    from ...simulation import simulate

    model = NoisyRayleighQuotient()
    L = model.noise_std**2 * (model.dim - 1)
    runs = int(p["runs"])
    chunk = 100
    n_chunks = max(2, int(p["steps"]) // chunk)
    lrs, wds = np.asarray(lrs, float), np.asarray(wds, float)
    w = np.zeros((lrs.size, runs, model.dim))
    for j, (lr, wd) in enumerate(zip(lrs, wds, strict=True)):
        pr = predict("sgd", lr=float(lr), weight_decay=float(wd), unit_grad_sq=L)
        w[j, :, int(np.argmin(model.eigenvalues))] = math.sqrt(pr["equilibrium_sq_norm"])
    loss, ang = [], []
    for i in range(n_chunks):
        res = simulate(
            "sgd",
            lr=lrs,
            weight_decay=wds,
            dim=model.dim,
            steps=chunk,
            trajectories=runs,
            model=model,
            w0=w,
            seed=np.random.SeedSequence([seed, i]),
            record="summary",
            summary_fraction=1.0,
            progress=False,
        )
        w = res.w_final
        if i >= n_chunks // 2:
            loss.append(model.loss(w))  # (G, runs)
            ang.append(res.summary["angular_update_mean"])  # (G, runs)
    per_run = np.mean(loss, axis=0)
    delta = np.mean(ang, axis=(0, 2))
    out = [
        (float(per_run[j].mean()), float(per_run[j].std(ddof=1) / math.sqrt(runs)), float(delta[j]))
        for j in range(lrs.size)
    ]
    return out, model


def _conj1(p: dict[str, Any], *, quick: bool, seed: int) -> Outcome:
    lr = p["lr"]
    wds = [p["weight_decay"], p["weight_decay"] * p["ratio"]]
    rows, model = _free_nrq([lr, lr], wds, p, seed)
    (l1, s1, a1), (l2, s2, a2) = rows
    z = (l2 - l1) / math.hypot(s1, s2)
    verdict = HOLDS if (a2 > a1 and z > 4) else FAILS if z < -4 else UNDERPOWERED
    pred = model.min_loss + model.predicted_excess_risk_free(np.array([lr, lr]), np.array(wds))
    detail = (
        f"Free SGD on the NRQ (d = {model.dim}), same basin, α = 0: Δ = {a1:.4g} → {a2:.4g} gives stationary loss "
        f"{l1:.4g} ± {s1:.1g} → {l2:.4g} ± {s2:.1g} (z = {z:.1f}). Derived (mean-field NRQ at the free-SGD ELR): "
        f"{pred[0]:.4g} → {pred[1]:.4g}."
    )
    return Outcome(
        verdict,
        predicted=l1,  # the loss at the smaller Δ; the claim: the loss at the larger Δ (measured) is higher
        measured=l2,
        se=math.hypot(s1, s2),
        tolerance=4 * math.hypot(s1, s2),
        deviation=z,
        detail=detail,
        counterexample=None if verdict != FAILS else {**p, "loss": [l1, l2]},
        numbers={
            "angular_update": [a1, a2],
            "loss": [l1, l2],
            "loss_se": [s1, s2],
            "z": z,
            "derived_loss": pred.tolist(),
        },
    )


def _conj2(p: dict[str, Any], *, quick: bool, seed: int) -> Outcome:
    el = p["lr"] * p["weight_decay"]
    r = p["ratio"]
    lrs = [p["lr"], p["lr"] * r]
    wds = [p["weight_decay"], p["weight_decay"] / r]
    rows, model = _free_nrq(lrs, wds, p, seed)
    (l1, s1, a1), (l2, s2, a2) = rows
    se_d = math.hypot(s1, s2)
    z = (l2 - l1) / se_d
    margin = p["margin"] * min(l1, l2)
    # "similar": no difference at 4 SE, and the comparison could have resolved a difference of `margin`
    verdict = FAILS if abs(z) > 4 else HOLDS if 4 * se_d <= margin else UNDERPOWERED
    detail = (
        f"Free SGD on the NRQ at ηλ = {el:g} from (η, λ) = ({lrs[0]:g}, {wds[0]:g}) and ({lrs[1]:g}, {wds[1]:g}): "
        f"Δ = {a1:.4g} and {a2:.4g}; stationary loss {l1:.4g} ± {s1:.1g} and {l2:.4g} ± {s2:.1g} (z = {z:.1f}; "
        f"4 SE of the difference = {4 * se_d:.2g} against the margin {margin:.2g})."
    )
    return Outcome(
        verdict,
        predicted=l1,
        measured=l2,
        se=math.hypot(s1, s2),
        tolerance=4 * math.hypot(s1, s2),
        deviation=(l2 - l1) / l1,
        detail=detail,
        counterexample=None if verdict != FAILS else {**p, "loss": [l1, l2]},
        numbers={"angular_update": [a1, a2], "z": z},
    )


CONJ_DOMAIN = {
    "lr": Param(0.1, 0.0, 1.0, False, False),
    "weight_decay": Param(1e-3, 0.0, 0.1, False, True),
    "steps": Param(12000, 200, 1_000_000, integer=True, quick=2000),
    "runs": Param(64, 2, 4096, integer=True),
}

register(
    Claim(
        id="wan2021.conjecture1",
        paper=PAPER,
        where="Sec. 3, conjecture 1",
        quote="if the trajectory stays in the same basin with different values of angular update in equilibrium, and "
        "momentum factor is fixed, then 1. Larger angular update leads to higher training loss and lower test "
        "accuracy in equilibrium [Sec. 3]",
        relation=">",
        statement="In one basin, with momentum fixed, a larger equilibrium angular update gives a higher "
        "training loss.",
        domain={**CONJ_DOMAIN, "ratio": Param(10.0, 1.0, 1000.0, False, True, doc="second point: λ × ratio")},
        derivations=("sgd.angular_update", "sgd.equilibrium_sq_norm", "nrq.direction_variance"),
        method="spheretheory.simulate(model=NRQ) SGD in chunks of 100 steps (loss between chunks), 64 runs started "
        "at the minimum direction with the equilibrium norm (one basin); stationary loss = mean over the second "
        "half, SE across runs.",
        tolerance="holds: Δ larger and loss higher by > 4 SE; fails: lower by > 4 SE; else not checkable at this "
        "size (the SE exceeds the difference).",
        check=_conj1,
    )
)

register(
    Claim(
        id="wan2021.conjecture2",
        paper=PAPER,
        where="Sec. 3, conjecture 2",
        quote="2. Even with different learning rate and weight decay, same angular update leads to similar training "
        "loss/test accuracy in equilibrium [Sec. 3]",
        statement="Equal equilibrium angular update from different (η, λ) gives a similar training loss.",
        domain={
            **CONJ_DOMAIN,
            "ratio": Param(4.0, 1.0, 1000.0, False, True, doc="(η·ratio, λ/ratio)"),
            "margin": Param(0.1, 0.0, 1.0, False, True, doc="'similar' = within this fraction of the loss"),
        },
        derivations=("sgd.angular_update",),
        method="As wan2021.conjecture1 at (η, λ) and (ratio·η, λ/ratio).",
        tolerance="fails: |z| > 4 (two-sample, SE across runs); holds: |z| ≤ 4 and 4 SE of the difference ≤ margin × "
        "loss (the comparison had the power to see a difference of that size); else not checkable at this size.",
        check=_conj2,
    )
)
