"""Claims about Muon (``torch.optim.Muon``) on a scale-invariant m×n matrix: the project's own derivation
(:mod:`spheretheory.theory.muon`, issue 10), measured with ``simulate("muon")`` (batched matrices, numpy)."""

from __future__ import annotations

import functools
from typing import Any

from . import _measure as M
from ._core import Claim, Outcome, Param, compared, register

PAPER = "Muon (torch.optim.Muon, Jordan et al. 2024): the project's derivation, issue 10"
QUOTE = (
    "[no paper text on file in /work/shared/papers: the forms are the project's own derivation "
    '(spheretheory/theory/muon.py); issue 10 reports, from torch.optim.Muon on a 32×64 matrix: "its angular '
    'update is far below the naive √(2ηλ), and its norm far above ηr/(2λ)"]'
)

DOMAIN = {
    "lr": Param(0.02, 0.0, 1.0, False, True, doc="learning rate η"),
    "weight_decay": Param(0.5, 0.0, 100.0, False, True, doc="weight decay λ (ηλ < 1)"),
    "momentum": Param(0.95, 0.0, 1.0, True, False, doc="Muon momentum β"),
    "rows": Param(16, 2, 512, integer=True, quick=8, doc="rows m of the matrix"),
    "cols": Param(32, 2, 512, integer=True, quick=16, doc="columns n of the matrix"),
    "ns_steps": Param(5, 0, 20, integer=True, doc="Newton–Schulz iterations (0: exact polar factor)"),
    "trajectories": Param(16, 4, 10_000, integer=True, quick=8, doc="independent matrices"),
}


def simulate_at(p: dict[str, Any], *, quick: bool, seed: int) -> tuple[Any, dict[str, Any]]:
    """``simulate("muon")`` at a claim's point (lr, weight_decay, momentum, rows, cols, ns_steps, trajectories),
    started at the predicted norm: 32 norm relaxation times 1/(2ηλ) and 20 momentum memories 1/(1 − β) (8 and 10
    quick), at least 200 steps; the last half is measured. Also returns ``predict("muon")`` there. The claims of
    this module share the run (the same point, size and seed give the same numbers)."""
    return _simulate_at(tuple(sorted(p.items())), quick, seed)


@functools.lru_cache(maxsize=4)
def _simulate_at(point: tuple, quick: bool, seed: int) -> tuple[Any, dict[str, Any]]:
    p = dict(point)

    el = p["lr"] * p["weight_decay"]
    if el >= 1:
        raise ValueError(f"ηλ = {el:g} must be below 1")
    shape = {"rows": p["rows"], "cols": p["cols"]}
    pr = M.predict(
        "muon", lr=p["lr"], weight_decay=p["weight_decay"], momentum=p["momentum"], ns_steps=p["ns_steps"], **shape
    )
    k = 1 if quick else 4
    steps = int(min(max(4 * k / el, 10 * k / (1 - p["momentum"]), 200), 50_000))
    res = M.equilibrium_run(
        "muon",
        lr=p["lr"],
        weight_decay=p["weight_decay"],
        momentum=p["momentum"],
        dim=(p["rows"], p["cols"]),
        options={"ns_steps": p["ns_steps"]},
        steps=steps,
        trajectories=p["trajectories"],
        init_sq_norm=pr["equilibrium_sq_norm"],
        seed=seed,
    )
    return res, pr


def model_error(p: dict[str, Any]) -> float:
    """The stated model error of the Muon forms, relative: 1/k, k = min(m, n) (finite-size corrections of the
    Marchenko–Pastur moments and of the mean field; the cubic closure of φ adds ≈ 1 %, docs/optimizers.md)."""
    return 1.0 / min(p["rows"], p["cols"])


def _norm(p: dict[str, Any], *, quick: bool, seed: int) -> Outcome:
    res, pr = simulate_at(p, quick=quick, seed=seed)
    m, se, _ = M.window_mean(res)
    corr = res.extra["update_correlation_mean"][0]
    naive = float(
        pr["lr_scale"] ** 2 * p["lr"] * min(p["rows"], p["cols"]) * pr["orth_sq_scale"] / (2 * p["weight_decay"])
    )
    detail = (
        f"E‖W‖² {m:.6g} ± {se:.2g} ({res.trajectories} {p['rows']}×{p['cols']} matrices, {res.config['steps']} steps, "
        f"last half) vs muon.equilibrium_sq_norm {float(pr['equilibrium_sq_norm']):.6g}: {{dev:+.2e}}. Without the "
        f"update correlation (η'²k s²/(2ηλ)): {naive:.6g}. Consecutive-update correlation ⟨O_t−1, O_t⟩/‖O‖² "
        f"{float(corr.mean()):.4g} vs predicted {float(pr['update_correlation']):.4g}."
    )
    numbers = {
        "uncorrelated_sq_norm": naive,
        "update_correlation_measured": float(corr.mean()),
        "update_correlation_predicted": float(pr["update_correlation"]),
        "steps": res.config["steps"],
    }
    return compared(pr["equilibrium_sq_norm"], m, se, p, detail, numbers, first_order=model_error(p))


def _angular_update(p: dict[str, Any], *, quick: bool, seed: int) -> Outcome:
    res, pr = simulate_at(p, quick=quick, seed=seed)
    m, se, _ = M.rms_angular_update(res)
    naive = float(pr["angular_update_uncorrelated"])
    detail = (
        f"RMS Δ {m:.6g} ± {se:.2g} ({res.trajectories} {p['rows']}×{p['cols']} matrices, {res.config['steps']} steps, "
        f"last half) vs muon.angular_update {float(pr['angular_update']):.6g}: {{dev:+.2e}}; first order "
        f"{float(pr['angular_update_first_order']):.6g}; the naive √(2ηλ) = {naive:.4g} is {naive / m:.2f}× the "
        "measured value."
    )
    numbers = {"naive_sqrt_2_eta_lambda": naive, "first_order": float(pr["angular_update_first_order"])}
    return compared(pr["angular_update"], m, se, p, detail, numbers, first_order=model_error(p))


_COMMON = dict(
    paper=PAPER,
    quote=QUOTE,
    domain=DOMAIN,
    derivations=(
        "muon.equilibrium_sq_norm",
        "muon.angular_update",
        "muon.update_correlation",
        "muon.momentum_correlation",
        "muon.orth_moments",
    ),
    method="simulate('muon'): independent scale-invariant matrices (isotropic Gaussian noise ⟂ W / ‖W‖), "
    "torch.optim.Muon's rule in float64 (spheretheory/simulation/muon.py), started at the predicted norm, 32 norm "
    "relaxation times and 40 momentum memories (8 and 10 quick); the last half, per matrix, SE across matrices.",
    tolerance="holds: within 4 SE; to first order: within 4 SE + 1/min(m, n) relative (the stated model error: "
    "finite-size corrections of the Marchenko–Pastur moments and the cubic closure of the update correlation).",
)

register(
    Claim(
        id="muon.norm",
        where="theory/muon.py: muon.equilibrium_sq_norm",
        statement="Muon's equilibrium E‖W‖² = η'²k s²(1 + 2Σ_k ρ^k φ(c_k))/(1 − ρ²), ρ = 1 − ηλ, with the "
        "orthogonalised Nesterov momentum's update correlation φ(c_k) and the Newton–Schulz power s².",
        check=_norm,
        **_COMMON,
    )
)

register(
    Claim(
        id="muon.angular_update",
        where="theory/muon.py: muon.angular_update",
        statement="Muon's RMS angular update at equilibrium is tan Δ* = √(S − Q²)/(ρS + Q) (far below the naive "
        "√(2ηλ)), from the same update correlation.",
        check=_angular_update,
        **_COMMON,
    )
)
