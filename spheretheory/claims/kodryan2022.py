"""Claims of Kodryan et al. (2022), three regimes of training on the sphere (theory brief Sec. 5).

The three-regime claim is measured with :func:`spheretheory.regimes.sweep` on the wells-on-S² toy (its noise is
multiplicative, so it vanishes at a minimum and a run can truly converge); the monotone-loss claim on the Noisy
Rayleigh Quotient (docs/regimes.md), whose gradient noise does not vanish at its minimum: there every fixed ELR
ends in a chaotic equilibrium, and a small-ELR run that still descends is only shorter than its convergence
time (the derived boundary RELAXATION_BUDGET/(r·T) falls as 1/T), which the classifier reports as
``undetermined``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import InputError
from ._core import FAILS, HOLDS, NOT_CHECKABLE, UNDERPOWERED, Claim, Outcome, Param, Z, register

PAPER = "Kodryan et al. (2022), three regimes"
STEPS = Param(4000, 400, 200_000, integer=True, quick=2000, doc="steps per run")
RUNS = Param(8, 2, 256, integer=True, doc="independent runs per ELR")
QUOTE = (
    "We discover three regimes of such training depending on the ELR value: convergence, chaotic equilibrium, and "
    "divergence. [abstract; only the abstract and a summary are on file, no equation]"
)


def _sweep(model, elrs, p, seed):
    from ..regimes import sweep

    backend = "numba" if model == "nrq" else "numpy"
    return sweep(model, elrs, steps=p["steps"], runs=p["runs"], seed=seed, backend=backend, progress_bar=False)


ORDER = ("convergence", "chaotic_equilibrium", "divergence")


def _regimes(p: dict[str, Any], *, quick: bool, seed: int) -> Outcome:
    lo, hi, n = p["elr_min"], p["elr_max"], int(p["points"])
    if not lo < hi:
        raise InputError(f"elr_min < elr_max required; got {lo}, {hi}")
    elrs = np.geomspace(lo, hi, n).tolist()
    d = _sweep("toy", elrs, p, seed)
    got = d.regimes()
    decided = [(e, r) for e, r in zip(elrs, got, strict=True) if r in ORDER]
    elrs_d = [e for e, _ in decided]
    idx = [ORDER.index(r) for _, r in decided]
    ordered = d.ordered()
    present = {r for _, r in decided} == set(ORDER)
    b = d.boundaries
    # the classified transitions, for comparison with the derived boundaries
    trans = {
        f"{ORDER[i]}→{ORDER[i + 1]}": [elrs_d[k], elrs_d[k + 1]]
        for k in range(len(idx) - 1)
        for i in range(2)
        if idx[k] <= i < idx[k + 1]
    }
    # our derived boundaries (not the paper's claim) against the classified transitions, within the sweep's
    # resolution (one grid ratio either side: the classification at a grid point next to a boundary is uncertain)
    ratio = (hi / lo) ** (1 / (n - 1))
    agree = {}
    for key, name in (
        ("convergence→chaotic_equilibrium", "stability"),
        ("chaotic_equilibrium→divergence", "random_walk"),
    ):
        if key in trans and name in b:
            agree[name] = bool(trans[key][0] / ratio <= b[name] <= trans[key][1] * ratio)
    if not ordered:
        verdict = FAILS
    elif present:
        verdict = HOLDS
    elif "undetermined" in got:
        verdict = UNDERPOWERED  # a regime may hide in the ELRs whose runs are too short: run longer
    else:
        verdict = NOT_CHECKABLE
    detail = (
        f"Classified regimes on {n} log-spaced ELRs in [{lo:g}, {hi:g}]: "
        + ", ".join(f"{e:.3g}: {r}" for e, r in zip(elrs, got, strict=True))
        + (". All three regimes appear, in order" if verdict == HOLDS else "")
        + (". The regimes are OUT OF ORDER in ELR" if verdict == FAILS else "")
        + (". Not all three regimes appear in this range" if verdict == NOT_CHECKABLE else "")
        + (". Not all three regimes appear, and some runs are too short to tell" if verdict == UNDERPOWERED else "")
        + "; transitions between "
        + ", ".join(f"{k} in ({v[0]:.3g}, {v[1]:.3g})" for k, v in trans.items())
        + f". Derived boundaries for the toy at T = {p['steps']}: "
        + ", ".join(f"{k} {v:.4g}" for k, v in b.items())
        + (f" (within one grid step of the classified transition: {agree})" if agree else "")
        + "."
    )
    return Outcome(
        verdict,
        predicted=list(ORDER),
        measured=got,
        detail=detail,
        counterexample=None if verdict != FAILS else {**p, "elrs": elrs, "regimes": got},
        numbers={
            "boundaries": b,
            "transitions": trans,
            "derived_boundary_inside_transition": agree,
            "results": [
                {k: r.get(k) for k in ("elr", "regime", "confidence", "loss", "loss_se", "angular_update")}
                for r in d.results
            ],
        },
    )


register(
    Claim(
        id="kodryan2022.regimes",
        paper=PAPER,
        where="abstract (summary on file)",
        statement="Training on the sphere at a fixed ELR shows three regimes: convergence at small ELR, a chaotic "
        "equilibrium at intermediate ELR, divergence (random walk) at large ELR.",
        quote=QUOTE,
        relation="ordered",
        domain={
            "elr_min": Param(0.01, 0.0, None, False, doc="smallest ELR of the sweep"),
            "elr_max": Param(100.0, 0.0, None, False, doc="largest ELR of the sweep"),
            "points": Param(8, 3, 60, integer=True, doc="log-spaced ELRs (8: no grid point on a derived boundary)"),
            "steps": Param(2000, 400, 200_000, integer=True, quick=1000, doc="steps per run"),
            "runs": RUNS,
        },
        derivations=("toy.random_walk_elr", "toy.lyapunov_exponent"),
        method="regimes.sweep on the default wells-on-S² toy (multiplicative noise, which vanishes at a minimum, "
        "so convergence is a real asymptotic regime) over log-spaced ELRs; regimes.classify per ELR (majority "
        "over runs; undetermined = run too short, skipped in the ordering); classified transitions next to the "
        "derived stability and random-walk boundaries. Not the NRQ: its noise does not vanish at the minimum, so "
        "its small-ELR 'convergence' is only a run shorter than its convergence time (a boundary ∝ 1/T).",
        tolerance="holds: all three regimes appear and the decided ones never go back in ELR; fails: out of order; "
        "not checkable: a regime is missing from the range (at this size, when some runs were too short).",
        check=_regimes,
    )
)


def _monotone(p: dict[str, Any], *, quick: bool, seed: int) -> Outcome:
    lo, hi, n = p["elr_min"], p["elr_max"], int(p["points"])
    if not lo < hi:
        raise InputError(f"elr_min < elr_max required; got {lo}, {hi}")
    elrs = np.geomspace(lo, hi, n).tolist()
    d = _sweep("nrq", elrs, p, seed)
    rows = [r for r in d.results if r["regime"] == "chaotic_equilibrium"]
    if len(rows) < 2:
        return Outcome(NOT_CHECKABLE, detail=f"fewer than two ELRs in regime 2 among {elrs} ({d.regimes()})")
    loss = np.array([r["loss"] for r in rows])
    se = np.array([r["loss_se"] for r in rows])
    z = np.diff(loss) / np.hypot(se[1:], se[:-1])
    pred = [r.get("predicted_stationary_loss") for r in rows]
    if np.all(z > Z):
        verdict = HOLDS
    elif np.any(z < -Z):
        verdict = FAILS
    else:
        verdict = UNDERPOWERED
    detail = (
        f"Stationary loss in regime 2 at ELR {[round(r['elr'], 4) for r in rows]}: "
        f"{[round(float(x), 4) for x in loss]} (± {[round(float(x), 4) for x in se]}); increments are "
        f"z = {[round(float(x), 1) for x in z]} SE"
        + ("" if verdict != UNDERPOWERED else " — not resolved at 4 SE; use more runs")
        + ". Derived stationary loss (NRQ, self-consistent mean field): "
        + f"{[None if x is None else round(x, 4) for x in pred]}."
    )
    return Outcome(
        verdict,
        predicted="increasing",
        measured=loss.tolist(),
        se=se.tolist(),
        tolerance=Z,
        deviation=float(np.min(z)),
        detail=detail,
        counterexample=None if verdict != FAILS else {**p, "elrs": [r["elr"] for r in rows], "loss": loss.tolist()},
        numbers={"z": z.tolist(), "predicted": pred, "elrs": [r["elr"] for r in rows]},
    )


register(
    Claim(
        id="kodryan2022.monotone_loss",
        paper=PAPER,
        where="summary (regime 2)",
        statement="Within the chaotic-equilibrium regime the stationary loss increases with the ELR.",
        quote="[no sentence on file: only the abstract and a summary ('Distinct features of each regime relate to "
        "properties of the intrinsic loss landscape') are in /work/shared/papers; this is the project's reading]",
        relation="increasing",
        domain={
            "elr_min": Param(0.01, 0.0, None, False),
            "elr_max": Param(0.3, 0.0, None, False),
            "points": Param(4, 2, 20, integer=True),
            "steps": STEPS,
            "runs": Param(16, 2, 256, integer=True, quick=8),
        },
        derivations=("nrq.direction_variance",),
        method="regimes.sweep at log-spaced ELRs; stationary loss = mean over the second half, SE across runs; "
        "only ELRs classified chaotic_equilibrium are compared.",
        tolerance="holds: every increment > 4 SE; fails: some decrement > 4 SE; otherwise not checkable at this size.",
        check=_monotone,
    )
)
