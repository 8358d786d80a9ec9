"""SGD with coupled weight decay on a scale-invariant weight (Wan et al. 2021, Sec. 2, eq. 7; Thm 1, Thm 3).

Update rule (eq. 7): w_{t+1} = w_t − η (g_t + λ w_t), with g_t ⟂ w_t and ‖g_t‖ = ‖g̃_t‖/‖w_t‖ (Lemma 1, eq. 6).
Everything is derived from that rule: the norm recursion, its fixed point, the equilibrium angular update, the
linearised contraction; :mod:`spheretheory.theory._family` derives the first-order forms and the LR-drop results.
"""

from __future__ import annotations

from . import register
from ._family import register_family
from ._numeric import generated
from .base import Derivation, DerivationResult, Step

PAPER = "Wan et al. (2021)"
PARAMS = ("lr", "weight_decay", "unit_grad_sq")

A_SCALE_INVARIANCE = "scale invariance: ⟨w_t, g_t⟩ = 0 and ‖g_t‖ = ‖g̃_t‖/‖w_t‖ (Lemma 1, eq. 6)"
A_MEAN_FIELD = (
    "mean field: the unit-gradient power ‖g̃_t‖² is replaced by its conditional mean L = E[‖g̃_t‖² | w_t], "
    "held constant (Thm 1 assumptions 2–3 with V → 0)"
)


def _derive_recursion() -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    # A 2-D orthonormal frame suffices: w along e1, g ⟂ w along e2 (Lemma 1).
    x, L, eta, lam = S.sq_norm, S.unit_grad_sq, S.lr, S.weight_decay
    w = sp.Matrix([sp.sqrt(x), 0])
    g = sp.Matrix([0, sp.sqrt(L / x)])
    w_next = w - eta * (g + lam * w)
    expr = sp.expand(w_next.dot(w_next))
    steps = (
        Step("Frame: w_t = √x e₁ with x = ‖w_t‖²; g_t = (‖g̃_t‖/√x) e₂ ⟂ w_t (Lemma 1)"),
        Step("Update (eq. 7): w_{t+1} = (1 − ηλ) w_t − η g_t", w_next.T),
        Step("‖w_{t+1}‖² = (1 − ηλ)² x + η² ‖g̃_t‖² / x, with ‖g̃_t‖² → L", sp.factor_terms(expr)),
    )
    return DerivationResult(expr, steps)


def _derive_equilibrium() -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    x = S.sq_norm
    f = get_recursion().expr
    y = sp.Symbol("y", positive=True)  # y = x², the recursion times x is linear in it
    fixed = sp.Eq(sp.expand(f * x), x**2)
    y_star = S.tidy(sp.solve(fixed.subs(x**2, y), y)[0])
    expr = sp.sqrt(y_star)
    check = sp.simplify(f.subs(x, expr) - expr)
    steps = (
        Step("Norm recursion (sgd.norm_recursion): x_{t+1} = f(x_t)", f),
        Step("Fixed point x = f(x), multiplied by x: linear in y = x²", fixed),
        Step("y* = x*² = η²L / (1 − (1 − ηλ)²) = ηL / (λ(2 − ηλ))", y_star),
        Step("Positive root x* = ‖w*‖² = √y*", expr),
        Step("Check f(x*) − x* simplifies to", check),
    )
    return DerivationResult(expr, steps, {"check": check})


def _derive_angular() -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    x, L, eta, lam = S.sq_norm, S.unit_grad_sq, S.lr, S.weight_decay
    w = sp.Matrix([sp.sqrt(x), 0])
    w_next = (1 - eta * lam) * w - eta * sp.Matrix([0, sp.sqrt(L / x)])
    cos_delta = w.dot(w_next) / (sp.sqrt(w.dot(w)) * sp.sqrt(w_next.dot(w_next)))
    # at the fixed point ‖w_{t+1}‖² = f(x*) = x* = ‖w_t‖²
    at_eq = sp.simplify(w.dot(w_next) / x)
    one_minus_cos = S.tidy(1 - at_eq)
    # arccos(1 − u) = 2·arcsin(√(u/2)) (half-angle: 1 − cos Δ = 2 sin²(Δ/2)); the arcsin form has no cancellation
    # at small u, where 1 − u rounds away the digits of u (ηλ = 1e-12 loses about 5 of them)
    expr = 2 * sp.asin(sp.sqrt(one_minus_cos / 2))
    identity = sp.simplify(sp.cos(expr) - at_eq)
    steps = (
        Step("Definition 3: cos Δ_t = ⟨w_t, w_{t+1}⟩ / (‖w_t‖ ‖w_{t+1}‖), in the frame of sgd.norm_recursion",
             sp.simplify(cos_delta)),
        Step("At the fixed point ‖w_{t+1}‖² = f(x*) = x* = ‖w_t‖², so cos Δ* = ⟨w_t, w_{t+1}⟩ / x*", at_eq),
        Step("Δ* = arccos(1 − ηλ), written cancellation-free as 2·arcsin(√(ηλ/2)) (1 − cos Δ = 2 sin²(Δ/2)): "
             "depends on (η, λ) only through ηλ, exactly, and not on L", expr),
        Step("Check cos Δ* − (1 − ηλ) simplifies to", identity),
    )
    return DerivationResult(expr, steps)


def _derive_contraction() -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    x = S.sq_norm
    f = get_recursion().expr
    slope = sp.diff(f, x)
    mu = S.tidy(sp.expand(slope.subs(x, get_equilibrium().expr)))
    steps = (
        Step("Linearise x_{t+1} = f(x_t) at x*: x_{t+1} − x* ≈ f′(x*) (x_t − x*)", slope),
        Step("μ = f′(x*) = 1 − 4ηλ + 2(ηλ)² = (1 − ηλ)² − ηλ(2 − ηλ)", mu),
    )
    gap = S.tidy(sp.expand(1 - mu))  # 4ηλ − 2(ηλ)²: no cancellation in the numeric twin
    lead, _ = S.leading_and_next(gap)
    return DerivationResult(mu, steps, {"first_order_gap": lead, "gap": gap})


def get_recursion() -> Derivation:
    return RECURSION


def get_equilibrium() -> Derivation:
    return EQUILIBRIUM


RECURSION = register(
    Derivation(
        name="sgd.norm_recursion",
        title="One-step recursion of ‖w‖² under SGD with weight decay",
        source=f"{PAPER}, eq. 7 and Lemma 1 (the recursion in the proof of Thm 1)",
        assumptions=(A_SCALE_INVARIANCE, "in the numeric function ‖g̃_t‖² = unit_grad_sq (a given value)"),
        parameters=("sq_norm", *PARAMS),
        derive=_derive_recursion,
        numeric=generated("sgd.norm_recursion"),
        scalar_twin=True,  # compiled by numba in theory.iterate
    )
)

EQUILIBRIUM = register(
    Derivation(
        name="sgd.equilibrium_sq_norm",
        title="Exact equilibrium squared weight norm ‖w*‖² (fixed point of the norm recursion)",
        source=f"{PAPER}, Thm 1 (whose w*² = √(Lη/(2λ)) is the first-order form)",
        assumptions=(A_SCALE_INVARIANCE, A_MEAN_FIELD),
        parameters=PARAMS,
        derive=_derive_equilibrium,
        numeric=generated("sgd.equilibrium_sq_norm"),
        notes=(
            "x* = √(ηL/(λ(2 − ηλ))). Under noise, E‖w‖² sits slightly off x* (Jensen: E[L/x] ≥ L/E[x]); the\n"
            "size of that offset is measured by the simulation checks, not assumed away."
        ),
    )
)

register(
    Derivation(
        name="sgd.angular_update",
        title="Exact equilibrium angular update Δ* (Def. 3 at the fixed point)",
        source=f"{PAPER}, Thm 3 (whose √(2λη) is the first-order form)",
        assumptions=(A_SCALE_INVARIANCE, A_MEAN_FIELD, "the step starts at ‖w_t‖² = x*"),
        parameters=PARAMS,
        derive=_derive_angular,
        numeric=generated("sgd.angular_update"),
    )
)

register(
    Derivation(
        name="sgd.contraction",
        title="Linearised contraction μ of the norm recursion at equilibrium (deviation of ‖w‖² ∝ μ^t)",
        source="derived here; compare with the (1 − 2λη)^t of Wan et al. (2021) Thm 1, eq. 8",
        assumptions=(A_SCALE_INVARIANCE, A_MEAN_FIELD, "small deviations from x* (linearisation)"),
        parameters=("lr", "weight_decay"),
        derive=_derive_contraction,
        numeric=generated("sgd.contraction"),
    )
)


def _paper_rate():
    from . import _sym as S

    return 1 - 2 * S.lr * S.weight_decay


def _paper_bound():
    import sympy as sp

    from . import _sym as S

    return sp.ceiling(sp.log(S.factor) / (2 * S.weight_decay * S.lr))


register_family(
    "sgd",
    parameters=PARAMS,
    paper=PAPER,
    paper_sq_norm=f"{PAPER}, Thm 1: w*_t = (L η/(2λ))^(1/4)",
    paper_angular=f"{PAPER}, Thm 3 with α = 0: Δ ≈ √(2λη)",
    paper_rate_text=f"{PAPER}, Thm 1, eq. 8: E[(‖w_t‖² − w*²)²] ≤ (1 − 2λη)^t B + 2Vη²/l",
    paper_bound_text=f"{PAPER}, Corollary 3.1 (SGD): at least ⌈log(k)/(2λη)⌉ iterations",
    paper_rate=_paper_rate,
    paper_bound=_paper_bound,
)
