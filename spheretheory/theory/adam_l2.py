"""Adam with coupled L2 weight decay on a scale-invariant weight: first-order equilibrium (``adam_l2.*``).

No sympy at module level (see :mod:`spheretheory.theory.base`).
"""

from __future__ import annotations

from . import register
from ._adaptive import A_SCALE_INV, A_SMALL, A_STATIONARY_V, A_SYMMETRIC, _slow_mode, _sym, _syms
from ._numeric import generated
from .base import Derivation, DerivationResult, Step

# ----------------------------------------------------------------------------------------------------
# 6. Adam with coupled L2
# ----------------------------------------------------------------------------------------------------


def _derive_adam_l2_norm() -> DerivationResult:
    sp, S = _syms()
    eta, lam, G = S.lr, S.weight_decay, S.unit_grad_sq
    d, r = _sym("dim"), _sym("norm")
    sigma = sp.sqrt(G / d)
    lam_eff = lam * r / sigma
    balance = sp.Eq(r**2, eta * d / (2 * lam_eff))
    sol = [s for s in sp.solve(balance, r) if s.is_positive is not False]
    expr = S.tidy(sol[0])
    steps = (
        Step(
            "Adam + L2: a = m̂ of (g + λx), b = √v̂ + ε; assume ‖λx‖ ≪ ‖g‖ coordinatewise in v (checked: "
            "λ r*²/σ ≪ 1) and ε r ≪ σ, so √v̂ ≈ σ/r with σ² = ‖g̃‖²/d"
        ),
        Step(
            "Then x ← x − ηλ r x/σ − η ĝ: decoupled decay with λ_eff = λ r/σ — it depends on r and on ‖g̃‖",
            lam_eff,
        ),
        Step("AdamW's first-order balance r² = η d/(2 λ_eff)", balance),
        Step("r*³ = η √d ‖g̃‖ / (2λ): no hyperparameter-only value; r* ∝ ‖g̃‖^{1/3}", expr),
    )
    return DerivationResult(expr, steps, {"lam_eff": lam_eff})


def _derive_adam_l2_angle() -> DerivationResult:
    sp, S = _syms()
    eta, lam, G = S.lr, S.weight_decay, S.unit_grad_sq
    d, b1 = _sym("dim"), _sym("beta1", nonnegative=True)
    r = _ADAM_L2_NORM.expr
    lam_eff = lam * r / sp.sqrt(G / d)
    expr = S.tidy(sp.sqrt(2 * eta * lam_eff * (1 - b1) / (1 + b1)))
    steps = (
        Step("AdamW's first-order Δ* with λ → λ_eff = λ r*/σ", expr),
        Step("Δ* ∝ η^{2/3} λ^{1/3} d^{1/3} ‖g̃‖^{−1/3}·(...): depends on the gradient norm"),
    )
    return DerivationResult(expr, steps)


def _derive_adam_l2_contraction() -> DerivationResult:
    sp, S = _syms()
    eta, lam, G = S.lr, S.weight_decay, S.unit_grad_sq
    d, s = _sym("dim"), _sym("sq_norm")
    sigma = sp.sqrt(G / d)
    f = (1 - eta * lam * sp.sqrt(s) / sigma) ** 2 * s + eta**2 * d
    mu = sp.diff(f, s).subs(s, _ADAM_L2_NORM.expr**2)
    lead = S.tidy(1 - 3 * eta * lam * _ADAM_L2_NORM.expr / sigma)
    steps = (
        Step("Mean recursion s ← (1 − ηλ√s/σ)² s + η² d (momentum memory neglected)", f),
        Step("f′(s*)", sp.simplify(mu)),
        Step("First order: μ ≈ 1 − 3ηλ_eff (relaxation ≈ 1/(3ηλ_eff) steps)", lead),
    )
    return DerivationResult(lead, steps)


_L2_ASSUME = (A_SCALE_INV, A_SYMMETRIC, A_STATIONARY_V, A_SMALL, "λ r² ≪ σ (gradient dominates v)", "ε r ≪ σ")
_ADAM_L2_NORM = register(
    Derivation(
        name="adam_l2.equilibrium_norm_first_order",
        title="Adam + coupled L2: equilibrium norm (η √d ‖g̃‖/(2λ))^{1/3} (needs the gradient norm)",
        source="brief Sec. 4 [reconstructed]; derived here",
        assumptions=_L2_ASSUME,
        parameters=("lr", "weight_decay", "dim", "unit_grad_sq"),
        derive=_derive_adam_l2_norm,
        numeric=generated("adam_l2.equilibrium_norm_first_order"),
    )
)
register(
    Derivation(
        name="adam_l2.angular_update_first_order",
        title="Adam + coupled L2: equilibrium angular update (depends on the gradient norm)",
        source="derived here",
        assumptions=_L2_ASSUME,
        parameters=("lr", "weight_decay", "dim", "unit_grad_sq", "beta1"),
        derive=_derive_adam_l2_angle,
        numeric=generated("adam_l2.angular_update_first_order"),
    )
)
register(
    Derivation(
        name="adam_l2.contraction",
        title="Adam + coupled L2: contraction of the mean norm recursion, first order",
        source="derived here",
        assumptions=_L2_ASSUME,
        parameters=("lr", "weight_decay", "dim", "unit_grad_sq"),
        derive=_derive_adam_l2_contraction,
        numeric=generated("adam_l2.contraction"),
    )
)


def _derive_adam_l2_contraction_v() -> DerivationResult:
    sp, S = _syms()
    eta, lam, G = S.lr, S.weight_decay, S.unit_grad_sq
    d, b2 = _sym("dim"), _sym("beta2", nonnegative=True)
    s, q, K, sig, r_ = _sym("sq_norm"), _sym("q"), _sym("K"), _sym("sigma"), _sym("r_star")
    F = (1 - eta * lam / sp.sqrt(q)) ** 2 * s + K * (sig**2 / s) / q
    Gq = b2 * q + (1 - b2) * sig**2 / s
    mu_sym, J = _slow_mode(F, Gq, s, q, K, r_**2, sig**2 / r_**2)
    mu = mu_sym.subs({r_: _ADAM_L2_NORM.expr, sig: sp.sqrt(G / d)})
    steps = (
        Step("Adam + L2, ε = 0: the decay is divided by √v too — per coordinate λx/√q, λ_eff = λ/√q* = λr*/σ"),
        Step("s ← (1 − ηλ/√q)² s + K σ²/(s q);  q ← β₂ q + (1 − β₂) σ²/s", sp.Tuple(F, Gq)),
        Step("Fixed point q* = σ²/s*; K from F(s*, q*) = s*; Jacobian", J),
        Step("Slow eigenvalue, s* from adam_l2.equilibrium_norm_first_order", mu_sym),
        Step("First order with c = ηλ_eff, b = 1 − β₂: m = [(4c+b) − √((4c+b)² − 12cb)]/2 (b ≫ c: 3c; b ≪ c: 3b/4)"),
    )
    return DerivationResult(mu, steps)


register(
    Derivation(
        name="adam_l2.contraction_lagged_v",
        title="Adam + L2: slow eigenvalue of the (norm, second moment) mean dynamics",
        source="derived here",
        assumptions=(*_L2_ASSUME, "momentum memory neglected"),
        parameters=("lr", "weight_decay", "beta2", "dim", "unit_grad_sq"),
        derive=_derive_adam_l2_contraction_v,
        numeric=generated("adam_l2.contraction_lagged_v"),
    )
)
