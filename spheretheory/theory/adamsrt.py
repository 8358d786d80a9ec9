"""AdamSRT (Roburin et al.'s code): rescaled second moment, transported momentum (``adamsrt.*``).

No sympy at module level (see :mod:`spheretheory.theory.base`).
"""

from __future__ import annotations

from . import register
from ._adaptive import A_SCALE_INV, A_STATIONARY_V, A_SYMMETRIC, _sym, _syms
from ._numeric import generated
from .base import Derivation, DerivationResult, Step

# ----------------------------------------------------------------------------------------------------
# 7. AdamSRT: rescaled second moment, transported momentum (Roburin et al.'s code)
# ----------------------------------------------------------------------------------------------------


def _derive_adamsrt_sq_norm() -> DerivationResult:
    sp, S = _syms()
    eta, lam = S.lr, S.weight_decay
    d, b1, s = _sym("dim"), _sym("beta1", nonnegative=True), _sym("sq_norm")
    rho = 1 - eta * lam
    f = (1 - b1) / (1 + b1)
    rec = rho**2 * s + eta**2 * d * f
    sol = sp.solve(sp.Eq(rec, s), s)[0]
    expr = S.tidy(sol)
    steps = (
        Step("Transport m ← (⟨x,x'⟩m − ⟨m,x'⟩x)/‖x'‖² makes ⟨m, x'⟩ = 0; g ⟂ x too, so U_t ⟂ x_t exactly"),
        Step("Hence r_{t+1}² = ρ² r_t² + η² ‖U_t‖², E‖U‖² = d (1−β₁)/(1+β₁): no cross term", rec),
        Step("Fixed point r*² = η² d (1−β₁)/((1+β₁)(1 − ρ²))", expr),
    )
    return DerivationResult(expr, steps)


def _derive_adamsrt_angle() -> DerivationResult:
    sp, S = _syms()
    eta, lam = S.lr, S.weight_decay
    rho = 1 - eta * lam
    expr = S.acos_one_minus(1 - rho)
    steps = (
        Step("cos Δ_t = ⟨x_t, x_{t+1}⟩/(r_t r_{t+1}) = ρ r_t / r_{t+1} since U_t ⟂ x_t"),
        Step(
            "At r_t = r_{t+1} = r* (mean field): Δ* = arccos(1 − ηλ) ≈ √(2ηλ), independent of β₁ — as SGD", sp.acos(rho)
        ),
        Step("The same angle without cancellation in 1 − ηλ: 2·asin(√(ηλ/2))", expr),
    )
    return DerivationResult(expr, steps)


register(
    Derivation(
        name="adamsrt.equilibrium_sq_norm",
        title="AdamSRT (decoupled decay) equilibrium E‖x‖²: the transported momentum has no radial part",
        source="derived here, for the AdamSRT of Roburin et al.'s code (brief Sec. 3)",
        assumptions=(A_SCALE_INV, A_SYMMETRIC, A_STATIONARY_V, "ε = 0; one second moment per group"),
        parameters=("lr", "weight_decay", "dim", "beta1"),
        derive=_derive_adamsrt_sq_norm,
        numeric=generated("adamsrt.equilibrium_sq_norm"),
    )
)
register(
    Derivation(
        name="adamsrt.angular_update",
        title="AdamSRT equilibrium angular update arccos(1 − ηλ) (no β₁ dependence)",
        source="derived here",
        assumptions=(A_SCALE_INV, A_SYMMETRIC, A_STATIONARY_V, "mean field: r_t = r_{t+1} = r*"),
        parameters=("lr", "weight_decay"),
        derive=_derive_adamsrt_angle,
        numeric=generated("adamsrt.angular_update"),
    )
)
