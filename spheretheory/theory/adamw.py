"""AdamW (decoupled weight decay) on a scale-invariant weight: equilibrium norm, angular update, relaxation
(``adamw.*``).

No sympy at module level (see :mod:`spheretheory.theory.base`).
"""

from __future__ import annotations

from . import register
from ._adaptive import A_SCALE_INV, A_SMALL, A_STATIONARY_V, A_SYMMETRIC, KOSSON, _slow_mode, _sym, _syms
from ._numeric import generated
from .base import Derivation, DerivationResult, Step

# ----------------------------------------------------------------------------------------------------
# 4. AdamW (decoupled decay) equilibrium
# ----------------------------------------------------------------------------------------------------


def _adamw_sum():
    """S = Σ_{n≥1} A_n², A_n = Σ_{i<n} ρ^{n−1−i}(1−β₁)β₁^i (total weight of one gradient after n steps)."""
    sp, S = _syms()
    eta, lam, b1 = S.lr, S.weight_decay, _sym("beta1", nonnegative=True)
    rho = 1 - eta * lam
    n = sp.Symbol("n", integer=True, positive=True)
    A_n = (1 - b1) * (rho**n - b1**n) / (rho - b1)

    def geo(q):  # Σ_{n≥1} q^n, |q| < 1
        return q / (1 - q)

    total = (1 - b1) ** 2 / (rho - b1) ** 2 * (geo(rho**2) - 2 * geo(rho * b1) + geo(b1**2))
    # the closed form against the finite double sum, for n = 1..6 (symbolic ρ, β₁)
    A_check = sum(
        sp.simplify(sum(rho ** (k - 1 - j) * (1 - b1) * b1**j for j in range(k)) - A_n.subs(n, k)) ** 2
        for k in range(1, 7)
    )
    return sp.simplify(total), A_n, A_check, (eta, lam, b1, rho)


def _adamw_autocorr():
    """S, Q and R(0) for AdamW from the autocorrelation of the update U_t (per coordinate, ε = 0)."""
    sp, S = _syms()
    total, A_n, A_check, (eta, lam, b1, rho) = _adamw_sum()
    f = (1 - b1) / (1 + b1)  # R(0) = E‖U‖²/d = (1−β₁)² Σ β₁^{2j}
    # R(k) = f β₁^k; S = (R(0) + 2 Σ_{k≥1} ρ^k R(k))/(1 − ρ²); Q = Σ_{k≥1} ρ^{k−1} R(k)
    S_auto = f * (1 + 2 * rho * b1 / (1 - rho * b1)) / (1 - rho**2)
    Q = f * b1 / (1 - rho * b1)
    same = sp.simplify(S_auto - total)
    return S_auto, Q, f, same, A_n, A_check, (eta, lam, b1, rho)


def _derive_adamw_sq_norm() -> DerivationResult:
    sp, S = _syms()
    S_auto, Q, f, same, A_n, A_check, (eta, lam, b1, rho) = _adamw_autocorr()
    d = _sym("dim")
    expr = sp.simplify(eta**2 * d * S_auto)
    steps = (
        Step("AdamW: x_{t+1} = ρ x_t − η U_t, ρ = 1 − ηλ, U_t = m̂_t ⊘ √v̂_t = (1−β₁) Σ_j β₁^j ĝ_{t−j}"),
        Step("ĝ_s = g̃_s ⊘ √ṽ_s is scale-free (scale invariance) and ⟂-symmetric; E‖ĝ_s‖² = d (ε = 0)"),
        Step("Autocorrelation of the update: R(k) = E⟨U_t, U_{t+k}⟩/d = (1−β₁)/(1+β₁) · β₁^k"),
        Step(
            "x_t = ρ^t x_0 − η Σ_n ρ^n U_{t−1−n}; symmetry ⇒ E‖x‖² → η² d (R(0) + 2Σ_k ρ^k R(k))/(1 − ρ²)",
            expr,
        ),
        Step("Same value from the per-gradient weights A_n (total weight of ĝ_s after n steps)", A_n),
        Step("Check A_n against the double sum for n = 1..6 (sum of squared residuals; must be 0)", A_check),
        Step("Check Σ A_n² against the autocorrelation form (must be 0)", same),
    )
    return DerivationResult(expr, steps, {"S": S_auto, "Q": Q})


def _derive_adamw_sq_norm_first() -> DerivationResult:
    sp, S = _syms()
    exact = get_adamw_sq_norm().expr
    lead, rel = S.leading_and_next(exact)
    steps = (
        Step("Exact r*² (adamw.equilibrium_sq_norm)", exact),
        Step(
            "Leading term in ε = ηλ: β₁ drops out — r*² ≈ η d/(2λ), so r* ∝ √(η C/(2λ)) (C = d, the fan-in)",
            lead,
        ),
        Step("Relative size of the next term", rel),
    )
    return DerivationResult(lead, steps, {"relative_next_term": rel})


def _derive_adamw_angle() -> DerivationResult:
    sp, S = _syms()
    S_auto, Q, f, same, A_n, A_check, (eta, lam, b1, rho) = _adamw_autocorr()
    tan = sp.sqrt(f * S_auto - Q**2) / (rho * S_auto + Q)
    expr = sp.atan(S.tidy(tan))
    steps = (
        Step("Radial part of the update: ⟨x_t, U_t⟩ = −η Σ_{n≥0} ρ^n E⟨U_{t−1−n}, U_t⟩ = −η d Q", Q),
        Step("So U_r = ⟨U_t, u_t⟩ = −η d Q / r*: the radial part of the momentum, U_r²/‖U‖² = O(ηλ/(1−β₁))"),
        Step("tan Δ* = η‖U⊥‖/(ρ r* − η U_r) with ‖U⊥‖² = d R(0) − U_r², r*² = η² d S (d cancels)", tan),
        Step("Δ* (mean-field, finite ηλ)", expr),
    )
    return DerivationResult(expr, steps, {"tan": tan})


def _derive_adamw_angle_first() -> DerivationResult:
    sp, S = _syms()
    exact = get_adamw_angle().expr
    lead, rel = S.leading_and_next(exact)
    steps = (
        Step("adamw.angular_update", exact),
        Step("Leading term in ηλ: Δ* = √(2ηλ(1−β₁)/(1+β₁)) (Kosson et al.'s form, derived)", lead),
        Step("Relative size of the next term", rel),
    )
    return DerivationResult(lead, steps, {"relative_next_term": rel})


def _derive_adamw_norm_eps() -> DerivationResult:
    sp, S = _syms()
    eta, lam, G = S.lr, S.weight_decay, S.unit_grad_sq
    d, eps, r = _sym("dim"), _sym("eps", nonnegative=True), _sym("norm")
    sigma = sp.sqrt(G / d)
    kappa = 1 / (1 + eps * r / sigma) ** 2
    r0 = sp.sqrt(eta * d / (2 * lam))
    eq = sp.Eq(r**2, r0**2 * kappa)
    expr = 2 * r0 / (1 + sp.sqrt(1 + 4 * eps * r0 / sigma))  # the positive root, rationalized (finite at ε = 0)
    residual = sp.simplify(sp.expand((expr * (1 + eps * expr / sigma) - r0) * (1 + sp.sqrt(1 + 4 * eps * r0 / sigma))))
    assert residual == 0, residual
    lim = sp.limit(expr, eps, 0)
    steps = (
        Step("With ε: √ṽ ≈ σ per coordinate, σ² = ‖g̃‖²/d; ĝ = g̃/(√ṽ + r ε) so E‖ĝ‖² = d κ(r)", kappa),
        Step("First-order balance (adamw.equilibrium_sq_norm_first_order with E‖ĝ‖² = dκ)", eq),
        Step("⇔ r (1 + ε r/σ) = √(ηd/(2λ)) =: r₀; positive root r = 2r₀/(1 + √(1 + 4εr₀/σ))", expr),
        Step("Check: residual of the quadratic (must be 0)", residual),
        Step("ε → 0 recovers √(ηd/(2λ))", lim),
        Step("Large ε r/σ: r* ≈ (σ² η d/(2 λ ε²))^{1/4} — the norm grows only as (η/λ)^{1/4}, like SGD"),
        Step("Δ* = η√(dκ(1−β₁)/(1+β₁))/r* = √(2ηλ(1−β₁)/(1+β₁)) unchanged: ε shrinks norm and step alike"),
    )
    return DerivationResult(expr, steps, {"limit_eps0": lim})


def _derive_adamw_contraction() -> DerivationResult:
    sp, S = _syms()
    eta, lam, G = S.lr, S.weight_decay, S.unit_grad_sq
    d, eps, s = _sym("dim"), _sym("eps", nonnegative=True), _sym("sq_norm")
    sigma = sp.sqrt(G / d)
    rho = 1 - eta * lam
    K = _sym("K")
    kappa = 1 / (1 + eps * sp.sqrt(s) / sigma) ** 2
    f = rho**2 * s + K * kappa  # mean recursion, K = η² d (per-step weight, momentum memory neglected)
    mu_s = sp.diff(f, s)
    rstar = get_adamw_norm_eps().expr
    K_star = sp.solve(sp.Eq(f.subs(s, rstar**2), rstar**2), K)[0]
    mu_general = mu_s.subs(K, K_star).subs(s, rstar**2)
    z = _sym("z")
    mu_z = rho**2 - (1 - rho**2) * z / (1 + z)
    mu = mu_z.subs(z, eps * rstar / sigma)
    pt = {eta: sp.Rational(1, 10), lam: sp.Rational(1, 7), G: 3, d: 5, eps: sp.Rational(1, 2)}
    check = sp.N((mu_general - mu).subs(pt), 30)
    assert abs(check) < 1e-25, check
    steps = (
        Step("Mean recursion of s = r² (momentum memory neglected: 1/(1−β₁) ≪ 1/(ηλ))", f),
        Step("μ = f′(s*) at the fixed point; with z = ε r*/σ it is ρ² − (1 − ρ²) z/(1 + z)", mu_z),
        Step("In the parameters (checked against f′(s*) at a sample point)", mu),
        Step("ε = 0: μ = (1−ηλ)², relaxation ≈ 1/(2ηλ) steps; ε dominant: ≈ 1/(4ηλ), SGD's value"),
    )
    return DerivationResult(mu, steps, {"mu_z": mu_z, "check": check})


def get_adamw_sq_norm() -> Derivation:
    return _ADAMW_SQ


def get_adamw_angle() -> Derivation:
    return _ADAMW_ANGLE


def get_adamw_norm_eps() -> Derivation:
    return _ADAMW_NORM_EPS


_ADAMW_ASSUME = (A_SCALE_INV, A_SYMMETRIC, A_STATIONARY_V, "ε = 0")
_ADAMW_SQ = register(
    Derivation(
        name="adamw.equilibrium_sq_norm",
        title="AdamW equilibrium E‖x‖² (stationary, ε = 0)",
        source=f"derived here; {KOSSON} gives the first-order form",
        assumptions=_ADAMW_ASSUME,
        parameters=("lr", "weight_decay", "dim", "beta1"),
        derive=_derive_adamw_sq_norm,
        numeric=generated("adamw.equilibrium_sq_norm"),
    )
)
register(
    Derivation(
        name="adamw.equilibrium_sq_norm_first_order",
        title="AdamW equilibrium E‖x‖² to first order: η d/(2λ)",
        source=f"{KOSSON}: norm ∝ √(η C/(2λ))",
        assumptions=(*_ADAMW_ASSUME, A_SMALL),
        parameters=("lr", "weight_decay", "dim"),
        derive=_derive_adamw_sq_norm_first,
        numeric=generated("adamw.equilibrium_sq_norm_first_order"),
    )
)
_ADAMW_ANGLE = register(
    Derivation(
        name="adamw.angular_update",
        title="AdamW equilibrium angular update, finite ηλ, with the radial part of the momentum",
        source="derived here",
        assumptions=_ADAMW_ASSUME,
        parameters=("lr", "weight_decay", "beta1"),
        derive=_derive_adamw_angle,
        numeric=generated("adamw.angular_update"),
    )
)
register(
    Derivation(
        name="adamw.angular_update_first_order",
        title="AdamW equilibrium angular update to first order √(2ηλ(1−β₁)/(1+β₁))",
        source=f"{KOSSON}",
        assumptions=(*_ADAMW_ASSUME, A_SMALL),
        parameters=("lr", "weight_decay", "beta1"),
        derive=_derive_adamw_angle_first,
        numeric=generated("adamw.angular_update_first_order"),
    )
)
_ADAMW_NORM_EPS = register(
    Derivation(
        name="adamw.equilibrium_norm_eps",
        title="AdamW equilibrium norm with ε > 0 (first order in ηλ)",
        source="derived here (the effect of ε as the norm grows, Roburin Sec. 4)",
        assumptions=(
            A_SCALE_INV,
            A_SYMMETRIC,
            A_STATIONARY_V,
            A_SMALL,
            "equal per-coordinate gradient scale",
        ),
        parameters=("lr", "weight_decay", "dim", "unit_grad_sq", "eps"),
        derive=_derive_adamw_norm_eps,
        numeric=generated("adamw.equilibrium_norm_eps"),
    )
)
register(
    Derivation(
        name="adamw.contraction",
        title="AdamW: linearised contraction μ of the mean norm recursion (relaxation ≈ −1/ln μ steps)",
        source="derived here",
        assumptions=(A_SCALE_INV, A_SYMMETRIC, A_STATIONARY_V, A_SMALL, "momentum memory neglected"),
        parameters=("lr", "weight_decay", "dim", "unit_grad_sq", "eps"),
        derive=_derive_adamw_contraction,
        numeric=generated("adamw.contraction"),
    )
)


# ----------------------------------------------------------------------------------------------------
# Relaxation with a lagging second moment
# ----------------------------------------------------------------------------------------------------


def _derive_adamw_contraction_v() -> DerivationResult:
    sp, S = _syms()
    eta, lam, G = S.lr, S.weight_decay, S.unit_grad_sq
    d, eps, b2 = _sym("dim"), _sym("eps", nonnegative=True), _sym("beta2", nonnegative=True)
    s, q, K, sig, r_ = _sym("sq_norm"), _sym("q"), _sym("K"), _sym("sigma"), _sym("r_star")
    rho = 1 - eta * lam
    F = rho**2 * s + K * (sig**2 / s) / (sp.sqrt(q) + eps) ** 2
    Gq = b2 * q + (1 - b2) * sig**2 / s
    mu_sym, J = _slow_mode(F, Gq, s, q, K, r_**2, sig**2 / r_**2)
    r_star = get_adamw_norm_eps().expr
    mu = mu_sym.subs({r_: r_star, sig: sp.sqrt(G / d)})
    a, b, z = _sym("a"), _sym("b"), _sym("z")
    m_z = ((2 * a + b) - sp.sqrt((2 * a + b) ** 2 - 4 * a * b * (2 - 1 / (1 + z)))) / 2
    pt = {eta: 0.1, lam: 1 / 7, G: 3.0, d: 5.0, eps: 0.5, b2: 0.9}
    zval = (eps * r_star / sp.sqrt(G / d)).subs(pt)
    check = float(mu.subs(pt) - (1 - m_z.subs({a: 1 - rho**2, b: 1 - b2, z: zval}).subs(pt)))
    assert abs(check) < 1e-12, check
    steps = (
        Step("Mean dynamics of s = ‖x‖² and of the second moment q (per coordinate, g² ≈ σ²/s, σ² = ‖g̃‖²/d)"),
        Step("s ← ρ² s + K (σ²/s)/(√q + ε)²   (K: per-step norm growth, momentum memory neglected)", F),
        Step("q ← β₂ q + (1 − β₂) σ²/s   (v lags the norm: the gradient scale it remembers is old)", Gq),
        Step("Fixed point q* = σ²/s*, s* = r*²; K from F(s*, q*) = s*; Jacobian there", J),
        Step("Slow eigenvalue μ = tr/2 + √(tr²/4 − det), r* from adamw.equilibrium_norm_eps", mu_sym),
        Step(
            "Same as μ = 1 − m with a = 1 − ρ², b = 1 − β₂, z = ε r*/σ: m = [(2a+b) − √((2a+b)² − 4ab(2 − 1/(1+z)))]/2"
            " (checked at a sample point)",
            m_z,
        ),
        Step(
            "Limits: b ≫ a: m → a(1 + z/(1+z)) (adamw.contraction); a ≫ b, z = 0: m → b/2 — the relaxation "
            "takes ≈ 2/(1 − β₂) steps, not 1/(2ηλ), when the second moment is slower than the norm"
        ),
    )
    return DerivationResult(mu, steps, {"m_z": m_z, "check": check})


register(
    Derivation(
        name="adamw.contraction_lagged_v",
        title="AdamW: slow eigenvalue of the (norm, second moment) mean dynamics (relaxation ≈ −1/ln μ)",
        source="derived here",
        assumptions=(A_SCALE_INV, A_SYMMETRIC, A_SMALL, "momentum memory neglected", "equal per-coordinate scale"),
        parameters=("lr", "weight_decay", "beta2", "dim", "unit_grad_sq", "eps"),
        derive=_derive_adamw_contraction_v,
        numeric=generated("adamw.contraction_lagged_v"),
    )
)


# ----------------------------------------------------------------------------------------------------
# Published closed form side by side: the exact discrete "hyperball" form
# ----------------------------------------------------------------------------------------------------
WEN = "Wen et al. (2025), weight decay / hyperball analysis, as quoted in issue 10 (paper text not in the library)"


def _derive_hyperball() -> DerivationResult:
    sp, S = _syms()
    eta, lam, b1, d = S.lr, S.weight_decay, _sym("beta1", nonnegative=True), _sym("dim")
    a = 1 - eta * lam
    U2 = d * (1 - b1) / (1 + b1)  # E‖U_t‖² of AdamW's update (R(0)·d of adamw.equilibrium_sq_norm)
    expr = eta**2 * U2 * (1 + a * b1) / ((1 - a**2) * (1 - a * b1))
    diff = sp.simplify(expr - get_adamw_sq_norm().expr)
    steps = (
        Step("Printed: ‖W_∞‖ = ηU·√((1 + aβ₁)/((1 − a²)(1 − aβ₁))), a = 1 − ηλ, U² the per-step update power"),
        Step("U² = E‖m̂/√v̂‖² = d(1 − β₁)/(1 + β₁) for symmetric noise (ε = 0, β₂ → 1)", U2),
        Step("‖W_∞‖² with that U²", expr),
        Step("Minus adamw.equilibrium_sq_norm (derived here): identical at finite ηλ", diff),
    )
    return DerivationResult(expr, steps, {"difference": diff})


register(
    Derivation(
        name="adamw.equilibrium_sq_norm_hyperball",
        title="AdamW ‖W_∞‖² in the exact discrete 'hyperball' form (a = 1 − ηλ), side by side with ours",
        source=WEN,
        assumptions=_ADAMW_ASSUME,
        parameters=("lr", "weight_decay", "dim", "beta1"),
        derive=_derive_hyperball,
        numeric=generated("adamw.equilibrium_sq_norm_hyperball"),
        notes="Equal to adamw.equilibrium_sq_norm identically (the derivation's last step); Kosson et al.'s\n"
        "η d/(2λ) (adamw.equilibrium_sq_norm_first_order) is its first-order limit.",
    )
)
