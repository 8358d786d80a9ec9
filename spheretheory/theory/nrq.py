"""Noisy Rayleigh Quotient trained on the sphere at a fixed ELR: stationary excess risk and relaxation rate.

Setting (theory brief Sec. 5–6): R(u) = uᵀHu on the unit sphere, H = diag(λ_1 ≤ … ≤ λ_d), stochastic gradient
g = ∇R(u) + σ P_u z with z ~ N(0, I), and the sphere step u' = (u − η g)/‖u − η g‖ (η = ELR). Write
x_i = ⟨u, e_i⟩ for i ≥ 2 and μ_i = λ_i − λ_1; then R(u) − λ_1 = Σ μ_i x_i² *exactly* on the unit sphere.

Derived here (sympy, from the update rule):

* ``nrq.direction_variance`` — the stationary E[x_i²]. Because g ⟂ u, ‖u − ηg‖² = 1 + η²‖g‖² exactly. Keeping
  ∇R to first order in x (g_i = 2μ_i x_i + σ(z_i − x_i⟨u, z⟩)), using E(z_i − x_i⟨u,z⟩)² = 1 − x_i² exactly,
  and replacing 1/(1 + η²‖g‖²) by its mean-field value 1/(1 + η²σ²(d − 1)) (mean field: ‖∇R‖² ≪ σ²(d−1)) gives
  the linear recursion E x'² = c²[(1 − 2ημ)² E x² + η²σ²(1 − E x²)], whose fixed point is the result.
* ``nrq.direction_rate`` — 1 − (slope of that recursion): the per-step relaxation rate of E[x_i²].
* ``nrq.excess_risk_first_order`` / ``nrq.rate_first_order`` — the leading terms as functions of the angular
  update Δ (tan Δ = η‖g‖ exactly; at equilibrium ‖g‖² ≈ σ²(d−1)): excess ≈ σ√(d−1)·Δ/4 (equipartition over the
  d − 1 directions) and rate ≈ 4μΔ/(σ√(d−1)). These are first order in Δ (and in ημ) only.
"""

from __future__ import annotations

import numpy as np

from . import register
from .base import Derivation, DerivationResult, Step

SOURCE = "derived here (NRQ model of the ICLR 2023 submission, reconstructed; sphere training of Kodryan et al.)"
PARAMS = ("elr", "sigma", "gap", "dim")
ASSUME = (
    "unit sphere, u' = (u − η g)/‖u − η g‖ with g ⟂ u, so ‖u − η g‖² = 1 + η²‖g‖² exactly",
    "first order in the distance x to the bottom eigenvector: ∇R_i = 2μ_i x_i (the −2(R−λ_1)x_i term dropped)",
    "mean field: 1/(1 + η²‖g‖²) replaced by 1/(1 + η²σ²(d−1)) (‖∇R‖² ≪ σ²(d−1), noise dominates)",
    "tangential noise σ P_u z, z ~ N(0, I): E(z_i − x_i⟨u,z⟩)² = 1 − x_i² exactly",
)


def _symbols():
    import sympy as sp

    eta = sp.Symbol("elr", positive=True)
    sigma = sp.Symbol("sigma", positive=True)
    mu = sp.Symbol("gap", nonnegative=True)
    d = sp.Symbol("dim", positive=True)
    return sp, eta, sigma, mu, d


def _recursion():
    sp, eta, sigma, mu, d = _symbols()
    v = sp.Symbol("v", nonnegative=True)
    c2 = 1 / (1 + eta**2 * sigma**2 * (d - 1))
    rhs = c2 * ((1 - 2 * eta * mu) ** 2 * v + eta**2 * sigma**2 * (1 - v))
    return sp, v, c2, rhs


def _derive_variance() -> DerivationResult:
    sp, eta, sigma, mu, d = _symbols()
    _, v, c2, rhs = _recursion()
    sol = sp.solve(sp.Eq(v, rhs), v)[0]
    expr = sp.simplify(sol)
    check_uniform = sp.simplify(expr.subs(mu, 0))
    steps = (
        Step("Normalization factor c² = 1/‖u − ηg‖² = 1/(1 + η²‖g‖²), mean field", c2),
        Step("Linearized second-moment recursion v' = c²[(1 − 2ημ)² v + η²σ²(1 − v)]", rhs),
        Step("Stationary point v = v'", expr),
        Step("Check: μ = 0 (flat direction) gives the uniform-sphere value 1/d", check_uniform),
    )
    return DerivationResult(expr, steps, {"uniform_check": check_uniform})


def _variance_numeric(elr, sigma, gap, dim):
    elr, sigma, gap, dim = (np.asarray(a, dtype=float) for a in (elr, sigma, gap, dim))
    return elr * sigma**2 / (4 * gap * (1 - elr * gap) + elr * sigma**2 * dim)


def _derive_rate() -> DerivationResult:
    sp, eta, sigma, mu, d = _symbols()
    _, v, c2, rhs = _recursion()
    slope = sp.simplify(sp.diff(rhs, v))
    expr = sp.simplify(1 - slope)
    lead = sp.series(expr, eta, 0, 2).removeO()
    steps = (
        Step("Slope of the recursion v' = a v + b (sgd-free, linear in v)", slope),
        Step("Relaxation rate r = 1 − a: E x_t² − v* ∝ (1 − r)^t", expr),
        Step("To second order in η", sp.simplify(lead)),
    )
    return DerivationResult(expr, steps, {"series": lead})


def _rate_numeric(elr, sigma, gap, dim):
    elr, sigma, gap, dim = (np.asarray(a, dtype=float) for a in (elr, sigma, gap, dim))
    c2 = 1 / (1 + elr**2 * sigma**2 * (dim - 1))
    return 1 - c2 * ((1 - 2 * elr * gap) ** 2 - elr**2 * sigma**2)


def _derive_excess_first_order() -> DerivationResult:
    import sympy as sp

    sigma = sp.Symbol("sigma", positive=True)
    d = sp.Symbol("dim", positive=True)
    delta = sp.Symbol("angular_update", positive=True)
    eta = sp.Symbol("elr", positive=True)
    mu = sp.Symbol("gap", positive=True)
    per_dir = mu * get("nrq.direction_variance").expr.subs({sp.Symbol("gap", nonnegative=True): mu})
    lead_eta = sp.simplify(sp.series(per_dir, eta, 0, 2).removeO())
    total = sp.simplify((d - 1) * lead_eta)
    eta_of_delta = sp.tan(delta) / (sigma * sp.sqrt(d - 1))
    in_delta = sp.simplify(total.subs(eta, eta_of_delta))
    expr = sp.simplify(sp.series(in_delta, delta, 0, 2).removeO())
    steps = (
        Step("Per-direction excess μ v (nrq.direction_variance)", per_dir),
        Step("Leading order in η: ησ²/4 per direction, independent of μ (equipartition)", lead_eta),
        Step("Sum over the d − 1 directions", total),
        Step(
            "Angular update: tan Δ = η‖g‖ exactly, ‖g‖ ≈ σ√(d−1) at equilibrium ⇒ η = tan Δ/(σ√(d−1))",
            eta_of_delta,
        ),
        Step("Excess risk in terms of Δ", in_delta),
        Step("Leading order in Δ", expr),
    )
    return DerivationResult(expr, steps)


def _excess_first_order_numeric(angular_update, sigma, dim):
    a, s, d = (np.asarray(x, dtype=float) for x in (angular_update, sigma, dim))
    return s * np.sqrt(d - 1) * a / 4


def _derive_rate_first_order() -> DerivationResult:
    import sympy as sp

    sigma = sp.Symbol("sigma", positive=True)
    d = sp.Symbol("dim", positive=True)
    delta = sp.Symbol("angular_update", positive=True)
    eta = sp.Symbol("elr", positive=True)
    rate = get("nrq.direction_rate").expr
    lead = sp.simplify(sp.series(rate, eta, 0, 2).removeO())
    in_delta = lead.subs(eta, sp.tan(delta) / (sigma * sp.sqrt(d - 1)))
    expr = sp.simplify(sp.series(in_delta, delta, 0, 2).removeO())
    steps = (
        Step("Relaxation rate (nrq.direction_rate), leading order in η", lead),
        Step("η = tan Δ/(σ√(d−1)) and leading order in Δ", expr),
    )
    return DerivationResult(expr, steps)


def _rate_first_order_numeric(angular_update, sigma, gap, dim):
    a, s, mu, d = (np.asarray(x, dtype=float) for x in (angular_update, sigma, gap, dim))
    return 4 * mu * a / (s * np.sqrt(d - 1))


def get(name: str) -> Derivation:
    from . import get as _get

    return _get(name)


register(
    Derivation(
        name="nrq.direction_variance",
        title="NRQ on the sphere: stationary E[x_i²] along an eigen-direction with gap μ",
        source=SOURCE,
        assumptions=ASSUME,
        parameters=PARAMS,
        derive=_derive_variance,
        numeric=_variance_numeric,
        codegen=False,
        notes="Valid for η·μ < 1 (pole at the linear stability boundary ηmax μ = 1, i.e. ELR·λ_max(tangent "
        "Hessian) = 2) and while the excess is small against the random-point level. The stationary excess "
        "risk is Σ_i μ_i v_i.",
    )
)
register(
    Derivation(
        name="nrq.direction_rate",
        title="NRQ on the sphere: per-step relaxation rate of E[x_i²]",
        source=SOURCE,
        assumptions=ASSUME,
        parameters=PARAMS,
        derive=_derive_rate,
        numeric=_rate_numeric,
        codegen=False,
        notes="First order: r ≈ 4ημ. The loss relaxes as Σ μ_i (E x_i0² − v_i)(1 − r_i)^t + Σ μ_i v_i.",
    )
)
register(
    Derivation(
        name="nrq.excess_risk_first_order",
        title="NRQ equilibrium excess risk as a function of the angular update (first order)",
        source=SOURCE,
        assumptions=(*ASSUME, "first order in Δ and in ημ"),
        parameters=("angular_update", "sigma", "dim"),
        derive=_derive_excess_first_order,
        numeric=_excess_first_order_numeric,
        codegen=False,
        notes="Same form for free SGD with weight decay at equilibrium (Δ ≈ √(2ηλ)), where the effective LR "
        "η/‖w‖² plays the ELR: the excess risk is set by the angular update alone, to first order.",
    )
)
register(
    Derivation(
        name="nrq.rate_first_order",
        title="NRQ local convergence rate as a function of the angular update (first order)",
        source=SOURCE,
        assumptions=(*ASSUME, "first order in Δ"),
        parameters=("angular_update", "sigma", "gap", "dim"),
        derive=_derive_rate_first_order,
        numeric=_rate_first_order_numeric,
        codegen=False,
    )
)
