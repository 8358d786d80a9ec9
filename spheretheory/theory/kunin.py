"""Kunin et al. (2021), "Neural Mechanics": continuous-time norm dynamics of a scale-invariant weight, and the error of
that continuous-time approximation against the discrete update (t = η·k, step k).

* SGD (their modified-equation form): d|θ|²/dt = −2λ|θ|² + η|g|², i.e.
  |θ(t)|² = e^{−2λt}(|θ(0)|² + η∫₀ᵗ e^{2λτ}|g(τ)|²dτ); closed here with |g|² = L/|θ|² (scale invariance).
* Heavy-ball momentum α (dampening 0): a damped oscillator N̈ + 2γṄ + ω²N = 2|θ̇|², N = |θ|²,
  γ = (1 − α)/(η(1 + α)), ω² = 4λ/(η(1 + α)).

No paper text on file in /work/shared/papers: the forms are quoted from issue 11 / the theory brief (Sec. 8, read in
the authors' code, danielkunin/neural-mechanics). Everything below is derived from the update rules. No sympy at
module level.
"""

from __future__ import annotations

from . import register
from ._numeric import generated
from .base import Derivation, DerivationResult, Step

SOURCE = (
    "Kunin et al. (2021), Neural Mechanics (ICLR 2021), modified-equation analysis of scale invariance (no paper "
    "text on file in /work/shared/papers; the form is quoted from issue 11 and the theory brief, Sec. 8)"
)
A_SCALE = "scale invariance: ⟨θ, g⟩ = 0 exactly and |g|² = ‖g̃‖²/|θ|² (Wan et al. Lemma 1)"
A_TIME = "continuous time t = η·k (k the step); the discrete run is sampled at t_k = ηk"
A_CLOSURE = "mean field: |g|² → L/|θ|² with L = E‖g̃‖² constant (trajectory.heavy_ball_map's closure)"
A_MOMENTUM = "PyTorch heavy ball, dampening 0: v_k = αv_{k−1} + g_k + λθ_k, θ_{k+1} = θ_k − ηv_k, so θ̇ ↔ −v_k"
A_REAL = "real discrete roots: 2ηλ ≤ (1 − √α)² (overdamped slow mode), 0 < α < 1"


def _sym():
    import sympy as sp

    from . import _sym as S

    return sp, S.lr, S.weight_decay, S.unit_grad_sq, S.momentum


def _derive_sgd() -> DerivationResult:
    sp, eta, lam, L, _ = _sym()
    t, tau = sp.symbols("t tau", nonnegative=True)
    k = sp.Symbol("step", nonnegative=True)
    n0 = sp.Symbol("sq_norm0", positive=True)
    a, G = sp.symbols("a G", positive=True)
    per_step = sp.expand((1 - eta * lam) ** 2 * a + eta**2 * G - a)  # exact ‖θ_{k+1}‖² − ‖θ_k‖² (G = |g_k|²)
    g = sp.Function("G")
    printed = sp.exp(-2 * lam * t) * (n0 + eta * sp.Integral(sp.exp(2 * lam * tau) * g(tau), (tau, 0, t)))
    residual = sp.simplify(sp.diff(printed, t).doit() + 2 * lam * printed.doit() - eta * g(t))
    y = sp.Function("y")
    ode = sp.Eq(y(t).diff(t), -4 * lam * y(t) + 2 * eta * L)  # y = N², dy/dt = 2N(−2λN + ηL/N)
    sol = sp.dsolve(ode, y(t), ics={y(0): n0**2}).rhs
    expr = sp.sqrt(sp.expand(sol.subs(t, eta * k)))
    steps = (
        Step("Exact discrete step (SGD, coupled λ): ‖θ_{k+1}‖² − ‖θ_k‖² with G = |g_k|², ⟨θ, g⟩ = 0", per_step),
        Step(
            "Per unit t = ηk (divide by η) and drop the O(ηλ²) term ηλ²N: Kunin et al.'s dN/dt = −2λN + η|g|²; "
            "their integral form N(t) = e^{−2λt}(N(0) + η∫₀ᵗe^{2λτ}|g(τ)|²dτ) solves it: dN/dt + 2λN − η|g|² =",
            residual,
        ),
        Step("Closed loop |g|² = L/N: y = N² obeys a linear ODE", ode),
        Step("Solution with N(0)² = sq_norm0²", sp.Eq(y(t), sol)),
        Step("N at t = η·step", expr),
    )
    return DerivationResult(expr, steps, {"residual": residual, "per_step": per_step})


SGD_NORM = register(
    Derivation(
        name="kunin.sgd_sq_norm",
        title="Kunin et al.: continuous-time |θ(t)|² of SGD, closed with |g|² = L/|θ|², at t = η·step",
        source=SOURCE,
        assumptions=(A_SCALE, A_TIME, A_CLOSURE, "the O(ηλ²)·N term of the exact step is dropped (Kunin's form)"),
        parameters=("sq_norm0", "lr", "weight_decay", "unit_grad_sq", "step"),
        derive=_derive_sgd,
        numeric=generated("kunin.sgd_sq_norm"),
        notes="Equilibrium √(ηL/(2λ)) — Wan et al.'s first-order w*² (Thm 1); relaxation e^{−4λt} of N². The discrete\n"
        "fixed point is √(ηL/(λ(2 − ηλ))): see kunin.sgd_continuous_error for the error of this form.",
    )
)


def _sgd_error_parts():
    sp, eta, lam, L, _ = _sym()
    rho = 1 - eta * lam
    a = sp.Symbol("a", positive=True)
    f = rho**2 * a + eta**2 * L / a  # the mean-field map (sgd.norm_recursion)
    a_d = sp.sqrt(eta * L / (lam * (2 - eta * lam)))  # its fixed point (sgd.equilibrium_sq_norm)
    n_c = sp.sqrt(eta * L / (2 * lam))
    mu = sp.simplify(sp.diff(f, a).subs(a, a_d))  # linearised discrete factor per step
    kappa_c = sp.simplify(-sp.diff(-2 * lam * a + eta * L / a, a).subs(a, n_c) * eta)  # continuous rate per step
    e_eq = sp.simplify(a_d / n_c - 1)
    from sympy.codegen.cfunctions import log1p

    e_rate = kappa_c / (-log1p(sp.expand(mu - 1))) - 1  # μ − 1 = −4ηλ + 2η²λ², no cancellation at small ηλ
    return sp, eta, lam, f, a_d, n_c, mu, kappa_c, e_eq, e_rate


def _derive_sgd_error() -> DerivationResult:
    sp, eta, lam, f, a_d, n_c, mu, kappa_c, e_eq, e_rate = _sgd_error_parts()
    expr = sp.Tuple(e_eq, e_rate)
    steps = (
        Step(
            "Discrete mean-field map (sgd.norm_recursion) and its fixed point a* = √(ηL/(λ(2 − ηλ)))", sp.Tuple(f, a_d)
        ),
        Step("Continuous fixed point (kunin.sgd_sq_norm, t → ∞)", n_c),
        Step("Equilibrium error a*/N* − 1 (the continuous form is low by this fraction)", e_eq),
        Step("Linearised discrete factor per step μ = f'(a*) = 2(1 − ηλ)² − 1", mu),
        Step("Continuous relaxation rate per step (linearised at N*): 4ηλ", kappa_c),
        Step("Rate error: continuous rate / discrete rate −ln μ, minus 1", e_rate),
    )
    return DerivationResult(expr, steps)


register(
    Derivation(
        name="kunin.sgd_continuous_error",
        title="Error of Kunin et al.'s continuous-time SGD norm: (equilibrium a*/N* − 1, relaxation-rate ratio − 1)",
        source="derived here (discrete mean-field map vs kunin.sgd_sq_norm)",
        assumptions=(A_SCALE, A_TIME, A_CLOSURE, "ηλ < 1 − 1/√2 (μ > 0)"),
        parameters=("lr", "weight_decay"),
        derive=_derive_sgd_error,
        numeric=generated("kunin.sgd_continuous_error"),
    )
)


def _derive_sgd_error_first() -> DerivationResult:
    sp, eta, lam, *_, e_eq, e_rate = _sgd_error_parts()
    eps = sp.Symbol("epsilon", positive=True)
    es = [e.rewrite(sp.log).subs(lam, eps / eta) for e in (e_eq, e_rate)]
    lead = [sp.series(e, eps, 0, 2).removeO() for e in es]
    nxt = [sp.series(e, eps, 0, 3).removeO() - le for e, le in zip(es, lead, strict=True)]
    expr = sp.Tuple(*[sp.simplify(le.subs(eps, eta * lam)) for le in lead])
    steps = (
        Step("Series of kunin.sgd_continuous_error in ε = ηλ: first-order terms", expr),
        Step("Next terms (neglected)", sp.Tuple(*[sp.simplify(x.subs(eps, eta * lam)) for x in nxt])),
    )
    return DerivationResult(expr, steps)


register(
    Derivation(
        name="kunin.sgd_continuous_error_first_order",
        title="First-order terms of the error of Kunin et al.'s SGD form: equilibrium ηλ/4, relaxation rate −3ηλ/2",
        source="derived here (series of kunin.sgd_continuous_error)",
        assumptions=(A_SCALE, A_TIME, A_CLOSURE, "ηλ ≪ 1"),
        parameters=("lr", "weight_decay"),
        derive=_derive_sgd_error_first,
        numeric=generated("kunin.sgd_continuous_error_first_order"),
        notes="The continuous form puts ‖w‖² low by ηλ/4 at equilibrium and relaxes 3ηλ/2 (relative) too slowly.",
    )
)


def _derive_recursion() -> DerivationResult:
    sp, eta, lam, _, al = _sym()
    a0, a1, c0, c1, p0 = sp.symbols("sq_norm sq_norm_prev v_sq_norm v_sq_norm_prev p_prev", real=True)
    # exact scalar identities of the heavy-ball update, with p_k = ⟨θ_k, v_k⟩, a_k = ‖θ_k‖², c_k = ‖v_k‖²:
    #   a_{k+1} = a_k − 2ηp_k + η²c_k                      (θ_{k+1} = θ_k − ηv_k)
    #   p_k = α⟨θ_k, v_{k−1}⟩ + ⟨θ_k, g_k⟩ + λa_k,  ⟨θ_k, g_k⟩ = 0,  ⟨θ_k, v_{k−1}⟩ = p_{k−1} − ηc_{k−1}
    p_prev = sp.solve(sp.Eq(a0, a1 - 2 * eta * p0 + eta**2 * c1), p0)[0]  # from the previous step's identity
    p_k = al * (p_prev - eta * c1) + lam * a0
    a_next = sp.expand(a0 - 2 * eta * p_k + eta**2 * c0)
    # centred differences of the oscillator: ((1+α)/2)Δ²a + ((1−α)/2)(a_{k+1} − a_{k−1}) + 2ηλa_k = η²(c_k + αc_{k−1})
    an = sp.Symbol("sq_norm_next", real=True)
    centred = (
        (1 + al) / 2 * (an - 2 * a0 + a1) + (1 - al) / 2 * (an - a1) + 2 * eta * lam * a0 - eta**2 * (c0 + al * c1)
    )
    check = sp.simplify(centred.subs(an, a_next))
    stationary = sp.solve(sp.Eq(a0, a_next.subs({a1: a0, c1: c0})), a0)[0]
    steps = (
        Step(
            "Exact identities (scale invariance ⟨θ_k, g_k⟩ = 0 for every mini-batch; no mean field): "
            "a_{k+1} = a_k − 2ηp_k + η²c_k, p_k = α(p_{k−1} − ηc_{k−1}) + λa_k, with p_k = ⟨θ_k, v_k⟩"
        ),
        Step("p_{k−1} from the previous step's identity", p_prev),
        Step("Eliminating p: the exact second-order norm recursion a_{k+1} =", a_next),
        Step(
            "It is the centred-difference form of Kunin's oscillator: ((1+α)/2)Δ²a + ((1−α)/2)(a_{k+1} − a_{k−1}) "
            "+ 2ηλa_k − η²(c_k + αc_{k−1}) vanishes identically:",
            check,
        ),
        Step(
            "Stationary a = c-weighted: a* = η(1 + α)c*/(2λ) = 2c*/ω² (the oscillator's N* = 2|θ̇|²/ω² exactly)",
            stationary,
        ),
    )
    return DerivationResult(a_next, steps, {"check": check, "stationary": stationary})


RECURSION = register(
    Derivation(
        name="kunin.momentum_norm_recursion",
        title="Exact discrete norm recursion of heavy-ball SGD: a_{k+1} from (a_k, a_{k−1}, ‖v_k‖², ‖v_{k−1}‖²)",
        source="derived here (the discrete counterpart of Kunin et al.'s damped oscillator)",
        assumptions=(A_SCALE, A_MOMENTUM),
        parameters=("sq_norm", "sq_norm_prev", "v_sq_norm", "v_sq_norm_prev", "lr", "weight_decay", "momentum"),
        derive=_derive_recursion,
        numeric=generated("kunin.momentum_norm_recursion"),
        notes="Exact for every realisation (no mean field): checked per trajectory against the reduced simulator.",
    )
)


def _derive_oscillator() -> DerivationResult:
    sp, eta, lam, _, al = _sym()
    h = sp.Symbol("h", positive=True)  # = η, the time step in t = ηk
    t = sp.Symbol("t")
    th = sp.Function("theta")
    # modified equation: θ_{k±1} = θ(t ± h) expanded to second order
    fwd = sp.series(th(t + h), h, 0, 3).removeO().doit()
    bwd = sp.series(th(t - h), h, 0, 3).removeO().doit()
    lhs = sp.expand((fwd - th(t)) - al * (th(t) - bwd))  # θ_{k+1} − θ_k − α(θ_k − θ_{k−1}) = −η(g + λθ)
    d1, d2 = th(t).diff(t), th(t).diff(t, 2)
    mod = sp.collect(sp.expand(lhs.subs(h, eta) / eta), [d1, d2])
    # ⟨θ, ·⟩ of the modified equation with ⟨θ, g⟩ = 0, ⟨θ, θ̇⟩ = Ṅ/2, ⟨θ, θ̈⟩ = N̈/2 − |θ̇|²
    N0, N1, N2, V = sp.symbols("N Ndot Nddot Vsq")
    proj = sp.expand(mod.coeff(d2) * (N2 / 2 - V) + mod.coeff(d1) * N1 / 2 + lam * N0)
    norm = sp.expand(proj / proj.coeff(N2))
    damping = sp.simplify(norm.coeff(N1) / 2)
    omega_sq = sp.simplify(norm.coeff(N0))
    forcing = sp.simplify(-norm.coeff(V) * V)
    d = sp.Symbol("d", nonnegative=True)  # the brief's dampening, 0 here
    printed = ((1 - al) / (eta * (1 - d) * (1 + al)), 4 * lam / (eta * (1 - d) * (1 + al)))
    diff = sp.Tuple(sp.simplify(damping - printed[0].subs(d, 0)), sp.simplify(omega_sq - printed[1].subs(d, 0)))
    expr = sp.Tuple(damping, omega_sq)
    steps = (
        Step("Heavy ball in position form: θ_{k+1} − θ_k − α(θ_k − θ_{k−1}) = −η(g_k + λθ_k); with θ_{k±1} = "
             "θ(t ± η) to second order the left side per unit η is", mod),
        Step("⟨θ, ·⟩ with ⟨θ, g⟩ = 0, ⟨θ, θ̇⟩ = Ṅ/2, ⟨θ, θ̈⟩ = N̈/2 − |θ̇|² (N = |θ|², Vsq = |θ̇|²), normalised to "
             "N̈ + 2γṄ + ω²N − (forcing) = 0", norm),
        Step("Forcing 2|θ̇|² (θ̇ ↔ −v_k, so |θ̇|² ↔ ‖v_k‖²)", forcing),
        Step("(γ, ω²) per unit t", expr),
        Step("Minus the quoted form at dampening d = 0: γ = (1−β)/(η(1−d)(1+β)), ω² = 4λ/(η(1−d)(1+β)) (must be 0)",
             diff),
    )  # fmt: skip
    return DerivationResult(expr, steps, {"printed_difference": diff, "forcing": forcing})


register(
    Derivation(
        name="kunin.momentum_oscillator",
        title="Kunin et al.: |θ|² of heavy-ball SGD as a damped oscillator N̈ + 2γṄ + ω²N = 2|θ̇|², (γ, ω²) per unit t",
        source=SOURCE,
        assumptions=(A_SCALE, A_TIME, A_MOMENTUM, "second-order modified equation (θ_{k±1} = θ(t ± η) + O(η³))"),
        parameters=("lr", "weight_decay", "momentum"),
        derive=_derive_oscillator,
        numeric=generated("kunin.momentum_oscillator"),
        notes="The discrete counterpart is kunin.momentum_norm_recursion (its centred-difference form, exact).",
    )
)


def _rates():
    """Per-step decay rates of the slow and fast modes: continuous (oscillator) and discrete (recursion)."""
    sp, eta, lam, _, al = _sym()
    eps = sp.Symbol("epsilon", positive=True)
    m = sp.Symbol("m", positive=True)  # 1 − α, positive, so that √((1 − α)²) = 1 − α
    p = 2 - m
    q = m / p
    from sympy.codegen.cfunctions import log1p

    x = 4 * eps / (p * q**2)
    y = (4 * eps * p - 4 * eps**2) / m**2
    root, droot = sp.sqrt(1 - x), sp.sqrt(1 - y)
    # written without cancellation at small ηλ: 1 − √(1 − x) = x/(1 + √(1 − x)); −ln z_slow = −log1p(−(1 − z_slow))
    k_c = (q * x / (1 + root), q * (1 + root))  # η·(γ ∓ √(γ² − ω²))
    k_d = (-log1p(-(2 * eps + m * y / (1 + droot)) / 2), -sp.log((p - 2 * eps - m * droot) / 2))
    return sp, eta, lam, al, eps, m, k_c, k_d


def _derive_momentum_error() -> DerivationResult:
    sp, eta, lam, al, eps, m, k_c, k_d = _rates()
    back = {eps: eta * lam, m: 1 - al}
    errs = [(kc / kd - 1).subs(back) for kc, kd in zip(k_c, k_d, strict=True)]
    # the slow rate of the discrete roots, checked against the quadratic at a sample point (40 digits)
    pt = {eps: sp.Rational(1, 1000), m: sp.Rational(1, 10)}
    z = sp.exp(-k_d[0].rewrite(sp.log).subs(pt))
    resid = sp.N(z**2 - (2 - pt[m] - 2 * pt[eps]) * z + (1 - pt[m]), 40)
    if abs(resid) > 1e-30:  # pragma: no cover - a derivation bug
        raise AssertionError(f"slow root residual {resid}")
    expr = sp.Tuple(*errs)
    steps = (
        Step("Continuous per-step rates η(γ ∓ √(γ² − ω²)) of kunin.momentum_oscillator (slow, fast)",
             sp.Tuple(*[x.subs(back) for x in k_c])),
        Step("Discrete per-step rates −ln z of the roots of z² − (1 + α − 2ηλ)z + α (kunin.momentum_norm_recursion)",
             sp.Tuple(*[x.subs(back) for x in k_d])),
        Step("Rate errors continuous/discrete − 1 (slow, fast)", expr),
    )  # fmt: skip
    return DerivationResult(expr, steps)


register(
    Derivation(
        name="kunin.momentum_continuous_error",
        title="Error of Kunin et al.'s oscillator against the discrete recursion: (slow, fast) mode rate ratio − 1",
        source="derived here",
        assumptions=(A_SCALE, A_TIME, A_MOMENTUM, A_REAL, "4ηλ(1 + α) ≤ (1 − α)² (overdamped oscillator)"),
        parameters=("lr", "weight_decay", "momentum"),
        derive=_derive_momentum_error,
        numeric=generated("kunin.momentum_continuous_error"),
        notes="The equilibrium N* = 2|θ̇|²/ω² has no error (kunin.momentum_norm_recursion, last step).",
    )
)


def _derive_momentum_error_leading() -> DerivationResult:
    sp, eta, lam, al, eps, m, k_c, k_d = _rates()
    s_c, s_d = (sp.series(x.rewrite(sp.log), eps, 0, 4).removeO() for x in (k_c[0], k_d[0]))
    slow = sp.series(s_c / s_d - 1, eps, 0, 3).removeO()
    first = sp.simplify(slow.coeff(eps, 1))
    second = sp.factor(sp.simplify(slow.coeff(eps, 2)))
    fast = sp.simplify((k_c[1] / k_d[1] - 1).subs(eps, 0))
    back = {eps: eta * lam, m: 1 - al}
    expr = sp.Tuple(sp.factor((second * eps**2).subs(back)), sp.simplify(fast.subs(back)))
    steps = (
        Step("Slow-mode rate error in ε = ηλ: the first-order coefficient (0: centred differences are second-order "
             "accurate)", first),
        Step("Second-order term (the leading one), 1 − α = m", second * eps**2),
        Step("Fast-mode rate error at ηλ → 0 (a function of α only: ln α against −2(1 − α)/(1 + α))", fast),
        Step("Leading errors (slow, fast) in η, λ, α", expr),
    )  # fmt: skip
    return DerivationResult(expr, steps, {"first_order_coefficient": first})


register(
    Derivation(
        name="kunin.momentum_continuous_error_leading",
        title="Leading errors of Kunin et al.'s oscillator: slow mode (2/3)(ηλ/(1 − α))² (no first-order term), fast "
        "mode 2(1 − α)/((1 + α)(−ln α)) − 1",
        source="derived here (series of kunin.momentum_continuous_error)",
        assumptions=(A_SCALE, A_TIME, A_MOMENTUM, A_REAL, "ηλ ≪ (1 − α)²"),
        parameters=("lr", "weight_decay", "momentum"),
        derive=_derive_momentum_error_leading,
        numeric=generated("kunin.momentum_continuous_error_leading"),
        notes="With the forcing written as 2|θ̇|² = 2‖v‖² the oscillator is the discrete recursion's continuum limit:\n"
        "its equilibrium is exact and the slow mode's error is second order; the fast (momentum) mode is off by\n"
        "O(((1 − α)/(1 + α))²) relative, −0.09 % at α = 0.9, −3.8 % at α = 0.5. The slow-mode series is in\n"
        "ηλ(1 + α)/(1 − α)²: at ηλ = 1e-3, α = 0.9 the exact error (2.1e-4) is 3× the leading term.",
    )
)
