"""Adaptive optimizers on the sphere: reference steps, effective-LR measurement, the runs the claims measure.

* :mod:`.reference` — numpy reference steps exposing the state (Adam, AdamW, Adam+L2, AdamS, AdamSRT, Lion,
  AdamG, SGD);
* :mod:`.measure` — η_e = η/(rν) and the effective direction c of one step (Roburin et al. 2020, Sec. 2.3);
* :mod:`.oracle` — a scale-invariant gradient oracle with injected noise;
* :mod:`.runs` — reference-step runs measured by the claims (effective LR over a run, SGD ≡ AdamG); the
  figures of ``docs/adam.md`` are drawn from them in ``paper_checks/adam.py``.

The theory (sympy) is in :mod:`spheretheory.theory.adam`. This package imports numpy only.
"""

from __future__ import annotations

from .measure import StepDecomposition, adam_effective_lr_formula, angle_between, decompose_step
from .oracle import gradient, noise_scale_for, unit_gradient
from .reference import AdamState, StepOut, adam_init, adam_step, adamg_step, lion_step, sgd_step

__all__ = [
    "AdamState",
    "StepDecomposition",
    "StepOut",
    "adam_effective_lr_formula",
    "adam_init",
    "adam_step",
    "adamg_step",
    "angle_between",
    "decompose_step",
    "gradient",
    "lion_step",
    "noise_scale_for",
    "sgd_adamg_mapping",
    "sgd_step",
    "unit_gradient",
]


def sgd_adamg_mapping(lr: float, weight_decay: float, init_norm: float) -> dict[str, float]:
    """AdamG hyperparameters equivalent to SGD + L2 (derivations ``adam.sgd_adamg.*``).

    Returns ``beta`` = (1 − ηλ)⁴, ``lr`` = η' = √((1 − β)/(2β)), ``gamma`` = 1 − β and ``v0`` =
    (1 − β) r_0⁴/(2η²(1 − ηλ)²); for ``weight_decay == 0``: β = 1, γ = 1, η' = 1/√2, v0 = r_0⁴/(2η²).
    """
    from .._validation import check_real

    eta = float(check_real("lr", lr, low=0.0, low_inclusive=False))
    lam = float(check_real("weight_decay", weight_decay, low=0.0))
    r0 = float(check_real("init_norm", init_norm, low=0.0, low_inclusive=False))
    if eta * lam >= 1:
        raise ValueError(f"lr * weight_decay must be in [0, 1); got {eta * lam!r}")
    rho = 1.0 - eta * lam
    if lam == 0.0:
        return {"beta": 1.0, "gamma": 1.0, "lr": 2**-0.5, "v0": r0**4 / (2 * eta**2)}
    beta = rho**4
    return {
        "beta": beta,
        "gamma": 1.0 - beta,
        "lr": ((1.0 - beta) / (2.0 * beta)) ** 0.5,
        "v0": (1.0 - beta) * r0**4 / (2.0 * eta**2 * rho**2),
    }
