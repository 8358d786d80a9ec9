"""SGD with heavy-ball momentum and coupled weight decay (Wan et al. 2021, eq. 10–11; Thm 2, Thm 3).

Update rule (eq. 10–11, = PyTorch SGD with momentum=α, dampening=0, weight_decay=λ):

    v_t = α v_{t−1} + g_t + λ w_t ,    w_{t+1} = w_t − η v_t ,

with g_t ⟂ w_t and ‖g_t‖ = ‖g̃_t‖/‖w_t‖. The state (a, b, c) = (‖w_t‖², ⟨w_t, v_{t−1}⟩, ‖v_{t−1}‖²) obeys a closed
recursion once h_t = ‖g_t‖² + 2α⟨v_{t−1}, g_t⟩ (the paper's h_t) is replaced by its mean L/‖w_t‖² (h̃_t → L).
Its fixed point gives Thm 2's w*, its angular update Thm 3's Δ*, its Jacobian the approach rate.
"""

from __future__ import annotations

from . import register
from ._family import register_family
from ._numeric import generated
from .base import Derivation, DerivationResult, Step

PAPER = "Wan et al. (2021)"
PARAMS = ("lr", "weight_decay", "momentum", "unit_grad_sq")
STATE = ("sq_norm", "w_dot_v", "v_sq_norm")

A_SCALE_INVARIANCE = "scale invariance: ⟨w_t, g_t⟩ = 0 and ‖g_t‖ = ‖g̃_t‖/‖w_t‖ (Lemma 1, eq. 6)"
A_MEAN_FIELD = (
    "mean field (Thm 2, assumption 6 with V → 0): h̃_t = (‖g_t‖² + 2α⟨v_{t−1}, g_t⟩)‖w_t‖² is replaced by its "
    "conditional mean L, held constant"
)
A_MOMENTUM = "0 ≤ α < 1 (the theorem asks α ∈ (1/2, 1); the derivation needs only α < 1)"


def _symbols():
    import sympy as sp

    a = sp.Symbol("sq_norm", positive=True)
    b = sp.Symbol("w_dot_v", real=True)
    c = sp.Symbol("v_sq_norm", positive=True)
    return a, b, c


def _derive_recursion() -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    a, b, c = _symbols()
    eta, lam, al, L = S.lr, S.weight_decay, S.momentum, S.unit_grad_sq
    h = sp.Symbol("h", real=True)
    g1, g2, p = sp.symbols("g1 g2 p", real=True)
    # Frame: e1 ∥ w_t; v_{t−1} in span(e1, e2); g_t ⟂ w_t in span(e2, e3).
    w = sp.Matrix([sp.sqrt(a), 0, 0])
    v = sp.Matrix([b / sp.sqrt(a), p, 0])  # p² = c − b²/a
    g = sp.Matrix([0, g1, g2])
    v_t = al * v + g + lam * w
    w_next = w - eta * v_t

    def reduce(expr):
        expr = sp.expand(expr).subs(g2**2, h - g1**2 - 2 * al * p * g1)  # h = ‖g‖² + 2α⟨v, g⟩
        return sp.expand(sp.expand(expr).subs(p**2, c - b**2 / a))

    raw = [reduce(w_next.dot(w_next)), reduce(w_next.dot(v_t)), reduce(v_t.dot(v_t))]
    mean_field = sp.Tuple(*[sp.expand(e.subs(h, L / a)) for e in raw])
    steps = (
        Step("Frame: w_t = √a e₁; v_{t−1} = (b/√a) e₁ + p e₂ with p² = c − b²/a; g_t = g₁e₂ + g₂e₃ ⟂ w_t"),
        Step("Update (eq. 10–11): v_t = α v_{t−1} + g_t + λ w_t, w_{t+1} = w_t − η v_t", w_next.T),
        Step("Inner products, with h = ‖g_t‖² + 2α⟨v_{t−1}, g_t⟩ = g₁² + g₂² + 2αp g₁ (exact, no averaging): "
             "(‖w_{t+1}‖², ⟨w_{t+1}, v_t⟩, ‖v_t‖²) =", sp.Tuple(*raw)),
        Step("Mean field h → L/a (h̃_t = h_t‖w_t‖² → L)", mean_field),
    )
    return DerivationResult(mean_field, steps, {"exact_in_h": sp.Tuple(*raw), "h": h})


def _derive_state() -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    a, b, c = _symbols()
    eta, lam, al, L = S.lr, S.weight_decay, S.momentum, S.unit_grad_sq
    F = RECURSION.expr
    eq_a, eq_b, eq_c = (sp.Eq(F[i], s) for i, s in enumerate((a, b, c)))
    # The first two equations are linear in (b, c) at fixed a.
    bc = sp.solve([eq_a, eq_b], [b, c], dict=True)[0]
    b_star, c_star = sp.simplify(bc[b]), sp.simplify(bc[c])
    y = sp.Symbol("y", positive=True)  # y = a²
    third = sp.expand((eq_c.lhs - eq_c.rhs).subs({b: b_star, c: c_star}) * a)
    y_star = S.tidy(sp.solve(third.subs(a**2, y), y)[0])
    a_star = sp.sqrt(y_star)
    state = sp.Tuple(a_star, S.tidy(b_star.subs(a, a_star)), S.tidy(c_star.subs(a, a_star)))
    thm2 = L * eta / (lam * (1 - al) * (2 - lam * eta / (1 + al)))  # Wan et al. Thm 2: (w*)⁴ as printed
    diff = sp.simplify(y_star - thm2)
    residual = sp.simplify(sp.Matrix(F.subs({a: state[0], b: state[1], c: state[2]})) - sp.Matrix(state))
    steps = (
        Step("Fixed point of the mean-field recursion (sgdm.moment_recursion): F(a, b, c) = (a, b, c)"),
        Step("‖w‖² and ⟨w, v⟩ equations are linear in (b, c): b* = −λa/(1+α), c* = 2λa/(η(1+α))",
             sp.Tuple(b_star, c_star)),
        Step("‖v‖² equation, times a, is linear in y = a²", sp.Eq(third, 0)),
        Step("y* = a*² = (‖w*‖²)²", y_star),
        Step("Thm 2 as printed, (w*)⁴ = Lη / (λ(1−α)(2 − λη/(1+α))); y* − (w*)⁴ simplifies to", diff),
        Step("Fixed point (a*, b*, c*)", state),
        Step("Check F(a*, b*, c*) − (a*, b*, c*) =", residual.T),
    )
    return DerivationResult(state, steps, {"thm2_difference": diff, "y_star": y_star})


def _derive_sq_norm() -> DerivationResult:
    st = STATE_DERIV.result
    expr = st.expr[0]
    return DerivationResult(
        expr,
        (*st.steps, Step("‖w*‖² = a*: Thm 2's w*² holds EXACTLY for the mean-field recursion", expr)),
        {"thm2_difference": st.extra["thm2_difference"]},
    )


def _derive_angular() -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    a, b, c = _symbols()
    a_s, b_s, _ = STATE_DERIV.expr
    lam, al, eta = S.weight_decay, S.momentum, S.lr
    w_dot_next = a - eta * (al * b + lam * a)  # ⟨w_t, w_{t+1}⟩ = a − η⟨w_t, v_t⟩ and ⟨w_t, g_t⟩ = 0
    cos_eq = S.tidy((w_dot_next / a).subs({a: a_s, b: b_s}))
    one_minus_cos = S.tidy(1 - cos_eq)
    # arccos(1 − u) = 2·arcsin(√(u/2)): no cancellation at small u (see sgd.angular_update)
    expr = 2 * sp.asin(sp.sqrt(one_minus_cos / 2))
    identity = sp.simplify(sp.cos(expr) - cos_eq)
    steps = (
        Step("⟨w_t, w_{t+1}⟩ = a − η⟨w_t, v_t⟩ = a − η(αb + λa) (g_t ⟂ w_t: exact, no noise enters)", w_dot_next),
        Step("At the fixed point ‖w_{t+1}‖ = ‖w_t‖, so cos Δ* = ⟨w_t, w_{t+1}⟩/a* with b* = −λa*/(1+α)", cos_eq),
        Step("Δ* = arccos(1 − ηλ/(1+α)), written cancellation-free as 2·arcsin(√(ηλ/(2(1+α)))) "
             "(1 − cos Δ = 2 sin²(Δ/2)): a function of ηλ and α only, independent of L", expr),
        Step("Check cos Δ* − (1 − ηλ/(1+α)) simplifies to", identity),
    )
    return DerivationResult(expr, steps)


def _derive_contraction() -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    a, b, c = _symbols()
    al, eps = S.momentum, S.eps
    F = sp.Matrix(list(RECURSION.expr))
    st = STATE_DERIV.expr
    J = sp.simplify(F.jacobian([a, b, c]).subs({a: st[0], b: st[1], c: st[2]}))
    mu = sp.Symbol("mu")
    charpoly = sp.factor(sp.simplify((J - mu * sp.eye(3)).det()))
    quad = sp.Poly(sp.simplify(sp.expand(charpoly * (1 + al) / (mu - al**2))), mu)
    # μ² − B μ + α = 0 with B = 1 + α − 4ηλ + 2(ηλ)²/(1 + α); the slow root is (B + √(B² − 4α))/2 when real.
    coeffs = [sp.simplify(cf / quad.LC()) for cf in quad.all_coeffs()]
    B = sp.simplify(-coeffs[1])
    disc = B**2 - 4 * coeffs[2]
    real_root = (B + sp.sqrt(disc)) / 2
    expr = sp.Piecewise((real_root, disc >= 0), (sp.sqrt(coeffs[2]), True))
    # Gap 1 − μ without cancellation (μ → 1 as ηλ → 0): rationalise 1 − (B + √D)/2 and simplify 1 + α − B
    # symbolically, so the numeric twin never subtracts two numbers close to 1.
    one_minus_b = sp.simplify(sp.expand((1 + al) - B))
    stable_gap = 2 * one_minus_b / (2 - B + sp.sqrt(disc))
    gap = sp.Piecewise((stable_gap, disc >= 0), (1 - sp.sqrt(coeffs[2]), True))
    # First-order gap: put μ = 1 − κε into the quadratic (λ = ε/η) and cancel the O(ε) term.
    kappa = sp.Symbol("kappa")
    on_slow = sp.expand(quad.as_expr().subs({mu: 1 - kappa * eps, S.weight_decay: eps / S.lr}))
    kappa0 = sp.solve(sp.expand(on_slow).coeff(eps, 1), kappa)[0]
    lead = S.tidy(kappa0 * S.lr * S.weight_decay)
    steps = (
        Step("Jacobian of the mean-field recursion at the fixed point (sgdm.equilibrium_state)", J),
        Step("Characteristic polynomial det(J − μI): one root μ = α², and a quadratic", charpoly),
        Step("Quadratic, monic: μ² − Bμ + α = 0 with B =", B),
        Step("Slowest mode: μ = (B + √(B² − 4α))/2 when B² ≥ 4α, else a complex pair of modulus √α", expr),
        Step("Leading order in ε = ηλ: 1 − μ ≈", lead),
        Step("Real slow root ⇔ B² ≥ 4α, i.e. about 4ηλ ≤ (1 − √α)² — cf. Thm 2's assumption ηλ < (1 − √α)²",
             S.tidy(disc.subs(S.weight_decay, eps / S.lr))),
    )
    steps = (*steps, Step("Gap 1 − μ in a cancellation-free form (used by the numeric functions)", gap))
    return DerivationResult(expr, steps, {"first_order_gap": lead, "gap": gap, "discriminant": disc})


RECURSION = register(
    Derivation(
        name="sgdm.moment_recursion",
        title="Mean-field one-step map of (‖w‖², ⟨w, v⟩, ‖v‖²) under heavy-ball SGDM with weight decay",
        source=f"{PAPER}, eq. 10–11 (the recursion in the proof of Thm 2)",
        assumptions=(A_SCALE_INVARIANCE, A_MEAN_FIELD),
        parameters=(*STATE, *PARAMS),
        derive=_derive_recursion,
        numeric=generated("sgdm.moment_recursion"),
        scalar_twin=True,  # compiled by numba in theory.iterate
        notes="The map before averaging (exact in h_t) is kept in result.extra['exact_in_h'].",
    )
)

STATE_DERIV = register(
    Derivation(
        name="sgdm.equilibrium_state",
        title="Fixed point (‖w*‖², ⟨w, v⟩*, ‖v‖*²) of the mean-field SGDM recursion",
        source=f"{PAPER}, Thm 2",
        assumptions=(A_SCALE_INVARIANCE, A_MEAN_FIELD, A_MOMENTUM),
        parameters=PARAMS,
        derive=_derive_state,
        numeric=generated("sgdm.equilibrium_state"),
    )
)

register(
    Derivation(
        name="sgdm.equilibrium_sq_norm",
        title="Exact equilibrium squared weight norm ‖w*‖² under SGDM (mean field)",
        source=f"{PAPER}, Thm 2: w* = (L η / (λ(1−α)(2 − λη/(1+α))))^(1/4)",
        assumptions=(A_SCALE_INVARIANCE, A_MEAN_FIELD, A_MOMENTUM),
        parameters=PARAMS,
        derive=_derive_sq_norm,
        numeric=generated("sgdm.equilibrium_sq_norm"),
        notes="Thm 2's w*² is exactly this fixed point (not only to first order): see the derivation's check.",
    )
)

register(
    Derivation(
        name="sgdm.angular_update",
        title="Exact equilibrium angular update Δ* under SGDM (mean field)",
        source=f"{PAPER}, Thm 3: Δ ≈ √(2λη/(1+α))",
        assumptions=(A_SCALE_INVARIANCE, A_MEAN_FIELD, A_MOMENTUM, "the step starts at the fixed point"),
        parameters=PARAMS,
        derive=_derive_angular,
        numeric=generated("sgdm.angular_update"),
    )
)

register(
    Derivation(
        name="sgdm.contraction",
        title="Slowest linearised contraction μ of the SGDM recursion at equilibrium",
        source="derived here; compare with the (1 − 2λη/(1−α))^t of Wan et al. (2021) Thm 2, eq. 12",
        assumptions=(A_SCALE_INVARIANCE, A_MEAN_FIELD, A_MOMENTUM, "small deviations (linearisation)"),
        parameters=("lr", "weight_decay", "momentum"),
        derive=_derive_contraction,
        numeric=generated("sgdm.contraction"),
    )
)


def _paper_rate():
    from . import _sym as S

    return 1 - 2 * S.lr * S.weight_decay / (1 - S.momentum)


def _paper_bound():
    import sympy as sp

    from . import _sym as S

    return sp.ceiling(sp.log(S.factor) * (1 - S.momentum) / (2 * S.weight_decay * S.lr))


register_family(
    "sgdm",
    parameters=PARAMS,
    paper=PAPER,
    paper_sq_norm=f"{PAPER}, Thm 2 to first order: w*² ≈ √(Lη/(2λ(1−α)))",
    paper_angular=f"{PAPER}, Thm 3: Δ ≈ √(2λη/(1+α))",
    paper_rate_text=f"{PAPER}, Thm 2, eq. 12: E[(‖w_t‖² − w*²)²] ≤ (1 − 2λη/(1−α))^t B + Vη²C/l",
    paper_bound_text=f"{PAPER}, Corollary 3.1 (SGDM): at least ⌈log(k)(1−α)/(2λη)⌉ iterations",
    paper_rate=_paper_rate,
    paper_bound=_paper_bound,
)
