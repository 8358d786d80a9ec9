"""Mean-field one-step maps for whole training runs under time-varying hyperparameters (η_t, λ_t, L_t).

:func:`spheretheory.trajectory` iterates these maps with the hyperparameters of each step. Each map is derived
here from the optimizer's update rule, in the orthonormal frame of ``sgdm.moment_recursion`` (e₁ ∥ w_t, the
momentum buffer in span(e₁, e₂), the gradient g_t ⟂ w_t in span(e₂, e₃)), and then averaged over the gradient
noise given the past:

* E[g_t] = 0 and E‖g_t‖² = L_t/‖w_t‖² (scale invariance, Wan et al. Lemma 1), so every term linear in g_t drops
  and ‖g_t‖² → L_t/a with the *current mean-field* a = E‖w_t‖² (the mean-field closure: E[L/‖w‖²] ≈ L/E‖w‖²,
  accurate when ‖w‖² fluctuates little — relative spread O(√(ηλ)), see the verification tests);
* the maps are exact for that closure at any (time-varying) η_t, λ_t, L_t: no small-ηλ expansion.

Maps (all registered; numpy twins generated into ``_generated.py``):

* ``trajectory.heavy_ball_map`` — SGD (α = 0) and heavy-ball SGDM (PyTorch SGD, dampening 0) with coupled λ_c
  (added to the gradient) and decoupled λ_d (w ← (1 − ηλ_d)w beside the step);
* ``trajectory.nesterov_map`` — PyTorch SGD with nesterov=True;
* ``trajectory.adam_map`` — Adam (coupled L2) / AdamW (decoupled) with a scalar second moment q per weight
  (all coordinates share the scale: the "equal per-coordinate scale" assumption of ``adamw.contraction_lagged_v``)
  that lags the gradient scale, and PyTorch's bias corrections;
* ``trajectory.lion_map`` — Lion's norm recursion given the radial memory E⟨x_t, sign(c_t)⟩, which obeys a
  linear recursion when the sign autocorrelation (2/π)arcsin(C₁β₂^{k−1}) (the arcsine law of
  ``lion.equilibrium_sq_norm``) is expanded in powers of β₂^{k−1} (:func:`lion_arcsine_weights`).

No sympy at module level.
"""

from __future__ import annotations

import math

import numpy as np

from . import register
from ._numeric import generated
from .base import Derivation, DerivationResult, Step

A_SCALE = "scale invariance: ⟨w_t, g_t⟩ = 0 and ‖g_t‖² = ‖g̃_t‖²/‖w_t‖² (Wan et al. Lemma 1)"
A_NOISE = (
    "gradient noise with zero mean given the past: E[g_t | past] = 0, so ⟨v_{t−1}, g_t⟩ and ⟨w_t, g_t⟩ average "
    "to 0 (no drift term)"
)
A_CLOSURE = (
    "mean-field closure: ‖g_t‖² is replaced by L_t/a_t with a_t the mean-field E‖w_t‖² (exact when ‖w_t‖² does "
    "not fluctuate; the error is second order in its relative spread)"
)
A_EQUAL_SCALE = (
    "Adam: one second moment q per weight tensor (equal per-coordinate gradient scale, q ← β₂q + (1 − β₂)·mean of "
    "the squared gradient coordinates); E[g²/v] is replaced by E[g²]/q (κ = 1, see adam.second_moment_kappa)"
)

STATE = ("sq_norm", "w_dot_v", "v_sq_norm")
HB_PARAMS = ("lr", "weight_decay", "decoupled_weight_decay", "momentum", "unit_grad_sq")
ADAM_PARAMS = (*STATE, "second_moment", "lr", "weight_decay", "decoupled_weight_decay", "beta1", "beta2", "eps",
               "unit_grad_sq", "dim", "bias1", "bias2")  # fmt: skip


def _frame():
    import sympy as sp

    a = sp.Symbol("sq_norm", positive=True)
    b = sp.Symbol("w_dot_v", real=True)
    c = sp.Symbol("v_sq_norm", positive=True)  # the symbol of sgdm.moment_recursion (0 is a valid value)
    g1, g2, p = sp.symbols("g1 g2 p", real=True)
    return a, b, c, g1, g2, p


def _average(exprs, a, b, c, g1, g2, p, G):
    """E over the gradient (E g = 0, E‖g‖² = G) of expressions polynomial in (g1, g2), then p² = c − b²/a."""
    import sympy as sp

    out = []
    for e in exprs:
        e = sp.expand(sp.expand(e).subs(g2**2, G - g1**2))
        if any(sum(mon) > 1 for mon in sp.Poly(e, g1, g2).monoms()):  # pragma: no cover - a derivation bug
            raise AssertionError(f"a second-order gradient term is left in {e}")
        e = sp.expand(e.subs({g1: 0, g2: 0}))  # terms linear in g average to zero
        out.append(sp.expand(sp.expand(e).subs(p**2, c - b**2 / a)))
    return out


def _linear_map(kind: str) -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    a, b, c, g1, g2, p = _frame()
    eta, lam, al, L = S.lr, S.weight_decay, S.momentum, S.unit_grad_sq
    lam_d = sp.Symbol("decoupled_weight_decay", nonnegative=True)
    w = sp.Matrix([sp.sqrt(a), 0, 0])
    v = sp.Matrix([b / sp.sqrt(a), p, 0])
    g = sp.Matrix([0, g1, g2])
    d_t = g + lam * w  # the gradient with coupled decay
    v_t = al * v + d_t
    step = v_t if kind == "heavy_ball" else d_t + al * v_t
    w_next = (1 - eta * lam_d) * w - eta * step
    perp = w_next[1] ** 2 + w_next[2] ** 2  # ‖w_{t+1}‖² − ⟨w_t, w_{t+1}⟩²/a without the cancellation
    raw = [w_next.dot(w_next), w_next.dot(v_t), v_t.dot(v_t), w.dot(w_next) / sp.sqrt(a), perp]
    mean = sp.Tuple(*_average(raw, a, b, c, g1, g2, p, L / a))
    rule = (
        "v_t = αv_{t−1} + g_t + λ_c w_t; w_{t+1} = (1 − ηλ_d)w_t − ηv_t"
        if kind == "heavy_ball"
        else "d_t = g_t + λ_c w_t; v_t = αv_{t−1} + d_t; w_{t+1} = (1 − ηλ_d)w_t − η(d_t + αv_t)"
    )
    steps = [
        Step("Frame: w_t = √a e₁; v_{t−1} = (b/√a)e₁ + p e₂ with p² = c − b²/a; g_t = g₁e₂ + g₂e₃ ⟂ w_t"),
        Step(
            f"Update ({'PyTorch SGD momentum' if kind == 'heavy_ball' else 'PyTorch SGD nesterov=True'}): {rule}",
            w_next.T,
        ),
        Step(
            "Average over g_t given the past: g₂² → L/a − g₁², then terms linear in g vanish. "
            "(‖w_{t+1}‖², ⟨w_{t+1}, v_t⟩, ‖v_t‖², ⟨u_t, w_{t+1}⟩, ‖w_{t+1} ⟂ w_t‖²) with u_t = w_t/‖w_t‖; "
            "Δ_t = atan2(√(last), fourth) =",
            mean,
        ),
    ]
    extra = {}
    if kind == "heavy_ball":
        from .sgdm import RECURSION

        diff = sp.simplify(sp.Matrix(list(mean[:3])).subs(lam_d, 0) - sp.Matrix(list(RECURSION.expr)))
        steps.append(
            Step("Check: with λ_d = 0 the first three components equal sgdm.moment_recursion (must be 0)", diff.T)
        )
        extra["check"] = diff
    return DerivationResult(mean, tuple(steps), extra)


def _derive_heavy_ball() -> DerivationResult:
    return _linear_map("heavy_ball")


def _derive_nesterov() -> DerivationResult:
    return _linear_map("nesterov")


def _derive_adam() -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    a, b, c, g1, g2, p = _frame()
    eta, lam, L = S.lr, S.weight_decay, S.unit_grad_sq
    lam_d = sp.Symbol("decoupled_weight_decay", nonnegative=True)
    b1 = sp.Symbol("beta1", nonnegative=True)
    b2 = sp.Symbol("beta2", nonnegative=True)
    eps = sp.Symbol("eps", nonnegative=True)
    d = sp.Symbol("dim", positive=True)
    q = sp.Symbol("second_moment", nonnegative=True)
    c1 = sp.Symbol("bias1", positive=True)
    c2 = sp.Symbol("bias2", positive=True)
    x = sp.Matrix([sp.sqrt(a), 0, 0])
    m = sp.Matrix([b / sp.sqrt(a), p, 0])
    g = sp.Matrix([0, g1, g2])
    grad = g + lam * x
    m_t = b1 * m + (1 - b1) * grad
    q_t = b2 * q + (1 - b2) * (L / a + lam**2 * a) / d  # mean over coordinates of (g + λx)², E⟨g, x⟩ = 0
    P_expr = 1 / (c1 * (sp.sqrt(q_t / c2) + eps))  # m̂/(√v̂ + ε) = P m_t
    P = sp.Symbol("P", positive=True)  # kept as a symbol while averaging (it does not depend on g_t's direction)
    x_next = (1 - eta * lam_d) * x - eta * P * m_t
    raw = [
        x_next.dot(x_next),
        x_next.dot(m_t),
        m_t.dot(m_t),
        x.dot(x_next) / sp.sqrt(a),
        x_next[1] ** 2 + x_next[2] ** 2,
    ]
    mean = [sp.collect(e, P) for e in _average(raw, a, b, c, g1, g2, p, L / a)]
    expr = sp.Tuple(*mean[:3], q_t, mean[3], mean[4], eta * P / a).xreplace({P: P_expr})
    # E‖x_{t+1}‖² − ‖x_t‖² term by term ((1 − ηλ)² − 1 expanded): no cancellation when ηλ is below round-off
    increment = sp.collect(sp.expand(mean[0] - a), P).xreplace({P: P_expr})
    steps = (
        Step("Frame as in trajectory.heavy_ball_map: x_t = √a e₁, m_{t−1} = (b/√a)e₁ + p e₂, g_t ⟂ x_t"),
        Step(
            "Second moment (PyTorch: updated with the current gradient before the step), one scalar per weight: "
            "q_t = β₂q_{t−1} + (1 − β₂)(‖g_t‖² + λ²‖x_t‖²)/d",
            q_t,
        ),
        Step(
            "Update: m_t = β₁m_{t−1} + (1 − β₁)(g_t + λx_t); x_{t+1} = (1 − ηλ_d)x_t − η m_t/(c₁(√(q_t/c₂) + ε)) "
            "with the bias corrections c₁ = 1 − β₁^{t+1}, c₂ = 1 − β₂^{t+1} (1 for a run at equilibrium)",
            x_next.T,
        ),
        Step(
            "Average over g_t (‖g_t‖² → L/a): (‖x_{t+1}‖², ⟨x_{t+1}, m_t⟩, ‖m_t‖², q_t, ⟨u_t, x_{t+1}⟩, "
            "‖x_{t+1} ⟂ x_t‖², η_e = ηP/a) =",
            expr,
        ),
    )
    return DerivationResult(expr, steps, {"increment": increment})


def _derive_lion() -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    eta, lam = S.lr, S.weight_decay
    a = sp.Symbol("sq_norm", positive=True)
    X = sp.Symbol("x_dot_update", real=True)
    d = sp.Symbol("dim", positive=True)
    rho = 1 - eta * lam
    a_next = sp.expand(rho**2 * a - 2 * rho * eta * X + eta**2 * d)
    dot = sp.expand((rho * a - eta * X) / sp.sqrt(a))
    perp = sp.expand(eta**2 * (d - X**2 / a))  # the update's part ⟂ x_t, with E⟨x, U⟩² → X² (mean field)
    expr = sp.Tuple(a_next, dot, perp)
    # The radial memory: X_t = E⟨x_t, U_t⟩ = −d Σ_{k≥1} η_{t−k} Π_{j=t−k+1}^{t−1} ρ_j R(k), R(k) = Σ_n w_n q_n^{k−1}
    Sn, qn, rho_t = sp.symbols("S_n q_n rho_t", positive=True)
    k = sp.Symbol("k", integer=True, positive=True)
    # the fixed point of S ↦ η + ρqS against the stationary sum Σ_k η(ρq)^{k−1}, at a sample point (ρ, q < 1)
    pt = {eta: sp.Rational(1, 10), lam: sp.Rational(1, 3), qn: sp.Rational(7, 8)}
    stationary = sp.summation((eta * (rho * qn) ** (k - 1)).subs(pt), (k, 1, sp.oo))
    rec_fixed = sp.simplify((eta / (1 - rho * qn)).subs(pt) - stationary)
    steps = (
        Step("Lion (decoupled): x_{t+1} = ρ_t x_t − η_t U_t, ρ_t = 1 − η_tλ_t, U_t = sign(c_t), ‖U_t‖² = d exactly"),
        Step("E‖x_{t+1}‖², ⟨u_t, x_{t+1}⟩ and ‖x_{t+1} ⟂ x_t‖² given X_t = E⟨x_t, U_t⟩ (u_t = x_t/‖x_t‖)", expr),
        Step(
            "Unrolling x_t and the symmetry of the noise (the past direction x_0 drops out): X_t = −d Σ_{k≥1} "
            "η_{t−k} Π_{j=t−k+1}^{t−1}ρ_j R(k), with R(k) = E⟨U_t, U_{t+k}⟩/d = (2/π)arcsin(C₁β₂^{k−1}) "
            "(lion.equilibrium_sq_norm)"
        ),
        Step(
            "arcsin z = Σ_n (2n)!/(4ⁿ(n!)²(2n+1)) z^{2n+1}: R(k) = Σ_n w_n q_n^{k−1}, q_n = β₂^{2n+1}, "
            "w_n = (2/π)(2n)!/(4ⁿ(n!)²(2n+1)) C₁^{2n+1}; so X_t = −d Σ_n w_n S_{n,t} with "
            "S_{n,t+1} = η_t + ρ_t q_n S_{n,t}",
            sp.Eq(sp.Symbol("S_n'"), eta + rho_t * qn * Sn),
        ),
        Step(
            "At constant η, λ the fixed point S_n = η/(1 − ρq_n) is the stationary sum (difference must be 0); "
            "then the fixed point of the map is lion.equilibrium_sq_norm term by term",
            rec_fixed,
        ),
    )
    return DerivationResult(expr, steps, {"stationary_check": rec_fixed})


def lion_arcsine_weights(beta1, beta2, terms: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """(w_n, q_n), n < ``terms``: the sign autocorrelation R(k) = Σ_n w_n q_n^{k−1} of Lion (see trajectory.lion_map).

    C₁ = Cov(c_t, c_{t+1})/Var(c_t) for c_t = Σ_j w_j g_{t−j}, w_0 = 1 − β₁, w_j = β₁(1 − β₂)β₂^{j−1} (the
    closed forms of ``lion.equilibrium_sq_norm``'s derivation); the series in C₁ < 1 is truncated at ``terms``.
    """
    b1, b2 = float(beta1), float(beta2)
    w0 = 1.0 - b1
    V = w0**2 + (b1 * (1 - b2)) ** 2 / (1 - b2**2)
    cov1 = w0 * b1 * (1 - b2) + (b1 * (1 - b2)) ** 2 * b2 / (1 - b2**2)
    C1 = cov1 / V
    n = np.arange(terms)
    coeff = np.array([math.comb(2 * k, k) / (4.0**k * (2 * k + 1)) for k in n])
    return 2.0 / math.pi * coeff * C1 ** (2 * n + 1), b2 ** (2 * n + 1.0)


HEAVY_BALL = register(
    Derivation(
        name="trajectory.heavy_ball_map",
        title="Mean-field one-step map of (‖w‖², ⟨w, v⟩, ‖v‖²) and the step's angle for SGD/SGDM (coupled/decoupled λ)",
        source="derived here; with λ_d = 0 it is sgdm.moment_recursion (Wan et al. 2021, proof of Thm 2)",
        assumptions=(A_SCALE, A_NOISE, A_CLOSURE),
        parameters=(*STATE, *HB_PARAMS),
        derive=_derive_heavy_ball,
        numeric=generated("trajectory.heavy_ball_map"),
        scalar_twin=True,  # iterated by the numba kernels of spheretheory.trajectory_prediction
        notes="SGD is α = 0 (the buffer is then v_t = g_t + λ_c w_t). Time-varying η, λ, L enter step by step.",
    )
)
NESTEROV = register(
    Derivation(
        name="trajectory.nesterov_map",
        title="Mean-field one-step map of (‖w‖², ⟨w, v⟩, ‖v‖²) and the step's angle parts for Nesterov SGD (PyTorch)",
        source="derived here",
        assumptions=(A_SCALE, A_NOISE, A_CLOSURE),
        parameters=(*STATE, *HB_PARAMS),
        derive=_derive_nesterov,
        numeric=generated("trajectory.nesterov_map"),
        scalar_twin=True,  # iterated by the numba kernels of spheretheory.trajectory_prediction
    )
)
register(
    Derivation(
        name="trajectory.adam_map",
        title="Mean-field one-step map of (‖x‖², ⟨x, m⟩, ‖m‖², q), the step's angle parts and η_e for Adam / AdamW",
        source="derived here (the (norm, second moment) dynamics of adamw.contraction_lagged_v, with momentum)",
        assumptions=(A_SCALE, A_NOISE, A_CLOSURE, A_EQUAL_SCALE),
        parameters=ADAM_PARAMS,
        derive=_derive_adam,
        numeric=generated("trajectory.adam_map"),
        scalar_twin=True,  # iterated by the numba kernels of spheretheory.trajectory_prediction
        notes="AdamW: weight_decay = 0, decoupled_weight_decay = λ; Adam (L2): the reverse.",
    )
)


def _derive_adam_increment() -> DerivationResult:
    from . import get

    inc = get("trajectory.adam_map").result.extra["increment"]
    steps = (
        Step("E‖x_{t+1}‖² − ‖x_t‖² of trajectory.adam_map, expanded term by term ((1 − ηλ_d)² − 1 = −2ηλ_d + "
             "η²λ_d²): the fixed-point residual without the cancellation of F − a at tiny ηλ", inc),
    )  # fmt: skip
    return DerivationResult(inc, steps)


register(
    Derivation(
        name="trajectory.adam_map_increment",
        title="E‖x_{t+1}‖² − ‖x_t‖² of trajectory.adam_map without cancellation (the Adam fixed-point residual)",
        source="derived here (trajectory.adam_map)",
        assumptions=(A_SCALE, A_NOISE, A_CLOSURE, A_EQUAL_SCALE),
        parameters=ADAM_PARAMS,
        derive=_derive_adam_increment,
        numeric=generated("trajectory.adam_map_increment"),
        scalar_twin=True,  # the root of the Adam fixed point, compiled by spheretheory.trajectory_prediction
    )
)
register(
    Derivation(
        name="trajectory.lion_map",
        title="Lion: E‖x_{t+1}‖² and the step's angle parts given the radial memory X_t = E⟨x_t, sign(c_t)⟩",
        source="derived here (the time-dependent form of lion.equilibrium_sq_norm)",
        assumptions=(
            A_SCALE,
            "conditionally symmetric noise",
            "per-coordinate Gaussian c_t (arcsine law)",
            "the sign autocorrelation of a stationary run, also when η_t, λ_t change",
        ),
        parameters=("sq_norm", "x_dot_update", "lr", "weight_decay", "dim"),
        derive=_derive_lion,
        numeric=generated("trajectory.lion_map"),
        scalar_twin=True,  # iterated by the numba kernels of spheretheory.trajectory_prediction
    )
)


def _fixed_point(kind: str) -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    F = (HEAVY_BALL if kind == "heavy_ball" else NESTEROV).expr
    a, b, c = (next(s for s in F.free_symbols if s.name == n) for n in STATE)
    bc = sp.solve([sp.Eq(F[1], b), sp.Eq(F[2], c)], [b, c], dict=True)[0]
    b_star, c_star = sp.factor(sp.simplify(bc[b])), sp.factor(sp.simplify(bc[c]))
    third = sp.numer(sp.together(sp.expand((F[0] - a).subs({b: b_star, c: c_star}) * a)))
    y = sp.Symbol("y", positive=True)
    lin = sp.expand(third).subs(a**2, y)
    if a in lin.free_symbols:  # pragma: no cover - a derivation bug
        raise AssertionError("the fixed-point equation is not linear in y = a²")
    y_star = sp.factor(sp.solve(lin, y)[0])
    a_star = sp.sqrt(y_star)
    state = sp.Tuple(a_star, sp.factor(b_star.subs(a, a_star)), sp.factor(c_star.subs(a, a_star)))
    # check at a sample point, to 40 digits (a symbolic simplify of the radicals is slow)
    pt = {
        S.lr: sp.Rational(1, 10),
        S.weight_decay: sp.Rational(1, 70),
        S.momentum: sp.Rational(9, 10),
        S.unit_grad_sq: sp.Rational(3, 2),
        sp.Symbol("decoupled_weight_decay", nonnegative=True): sp.Rational(1, 30),
    }
    st = [sp.N(e.subs(pt), 40) for e in state]
    residual = sp.Matrix([sp.N(F[i].subs(pt).subs({a: st[0], b: st[1], c: st[2]}), 40) - st[i] for i in range(3)])
    if max(abs(r) for r in residual) > 1e-30:  # pragma: no cover - a derivation bug
        raise AssertionError(f"fixed point residual {residual}")
    steps = [
        Step(
            f"Fixed point of trajectory.{kind}_map: F(a, b, c) = (a, b, c); the ⟨w, v⟩ and ‖v‖² equations are "
            "linear in (b, c) at fixed a",
            sp.Tuple(b_star, c_star),
        ),
        Step("The ‖w‖² equation, times a, is linear in y = a²", sp.Eq(lin, 0)),
        Step("Fixed point (a*, b*, c*)", state),
        Step(
            "Check F(a*, b*, c*) − (a*, b*, c*) at η = 1/10, λ = 1/70, λ_d = 1/30, α = 9/10, L = 3/2 (40 digits)",
            residual.T,
        ),
    ]
    extra = {"residual": residual}
    if kind == "heavy_ball":
        from .sgdm import STATE_DERIV

        lam_d = sp.Symbol("decoupled_weight_decay", nonnegative=True)
        diff = sp.Matrix(
            [
                sp.simplify(sp.radsimp(e.subs(lam_d, 0)) - sp.radsimp(f))
                for e, f in zip(state, STATE_DERIV.expr, strict=True)
            ]
        )
        steps.append(Step("Check: λ_d = 0 gives sgdm.equilibrium_state (Wan et al. Thm 2; must be 0)", diff.T))
        extra["check"] = diff
    return DerivationResult(state, tuple(steps), extra)


def _derive_heavy_ball_eq() -> DerivationResult:
    return _fixed_point("heavy_ball")


def _derive_nesterov_eq() -> DerivationResult:
    return _fixed_point("nesterov")


register(
    Derivation(
        name="trajectory.heavy_ball_equilibrium",
        title="Fixed point (‖w*‖², ⟨w, v⟩*, ‖v‖*²) of trajectory.heavy_ball_map (SGD/SGDM, coupled and decoupled λ)",
        source="derived here; λ_d = 0 is sgdm.equilibrium_state (Wan et al. 2021, Thm 2)",
        assumptions=(A_SCALE, A_NOISE, A_CLOSURE, "0 ≤ α < 1"),
        parameters=HB_PARAMS,
        derive=_derive_heavy_ball_eq,
        numeric=generated("trajectory.heavy_ball_equilibrium"),
    )
)
register(
    Derivation(
        name="trajectory.nesterov_equilibrium",
        title="Fixed point (‖w*‖², ⟨w, v⟩*, ‖v‖*²) of trajectory.nesterov_map (PyTorch Nesterov SGD)",
        source="derived here",
        assumptions=(A_SCALE, A_NOISE, A_CLOSURE, "0 ≤ α < 1"),
        parameters=HB_PARAMS,
        derive=_derive_nesterov_eq,
        numeric=generated("trajectory.nesterov_equilibrium"),
    )
)


def _derive_lag() -> DerivationResult:
    import sympy as sp

    from . import _sym as S
    from . import get
    from .sgdm import STATE_DERIV

    eta, lam = S.lr, S.weight_decay
    r = sp.Symbol("lr_log_rate", real=True)  # d ln η_t / dt, per step
    a_star = STATE_DERIV.expr[0]
    elasticity = sp.simplify(eta * sp.diff(sp.log(a_star), eta))  # d ln a*/d ln η (1/2 + O(ηλ))
    gap = get("sgdm.contraction").result.extra["gap"]
    delta, mu, da = sp.symbols("delta mu Delta_a", real=True)
    quasi = sp.solve(sp.Eq(delta, mu * delta - da), delta)[0]  # δ_{t+1} = μδ_t − (a*_{t+1} − a*_t), δ constant
    ratio_sq = 1 + quasi.subs({mu: 1 - sp.Symbol("kappa", positive=True)}) / sp.Symbol("a_star", positive=True)
    expr = 1 + elasticity * r / gap
    gap1 = get("sgdm.contraction").result.extra["first_order_gap"]  # 4ηλ/(1 − α)
    lead = sp.simplify(1 + sp.limit(elasticity, lam, 0) * r / gap1)
    steps = (
        Step("Deviation δ_t = ‖w_t‖² − a*(η_t) of the SGDM map, linearised: δ_{t+1} = μδ_t − (a*_{t+1} − a*_t), "
             "μ = the slow eigenvalue (sgdm.contraction); a slowly varying schedule gives the quasi-static δ =",
             quasi),
        Step("With a*_{t+1} − a*_t = a*·(d ln a*/d ln η)·r, r = d ln η_t/dt, κ = 1 − μ: ‖w‖²/a* = 1 − (d ln a*/d ln η)"
             "·r/κ", ratio_sq),
        Step("d ln a*/d ln η from sgdm.equilibrium_state (1/2 to leading order)", elasticity),
        Step("Δ_t ∝ η_t/‖w_t‖² at fixed η (noise-dominated step), so Δ_t/Δ*_t = a*/‖w_t‖² ≈ 1 + (d ln a*/d ln η)·r/κ "
             "(first order in r/κ)", expr),
        Step("Leading order in ηλ: Δ_t/Δ*_t ≈ 1 + r(1 − α)/(8ηλ) — a decaying LR (r < 0) leaves Δ below Δ*", lead),
    )  # fmt: skip
    return DerivationResult(expr, steps, {"leading": lead, "elasticity": elasticity})


register(
    Derivation(
        name="trajectory.angular_update_lag_first_order",
        title="Lag Δ_t/Δ*_t of SGDM behind the instantaneous equilibrium, first order in the LR's rate of change",
        source="derived here (linear response of the SGDM map; compare the iterated trajectory)",
        assumptions=(A_SCALE, A_NOISE, A_CLOSURE, "|r|/(1 − μ) ≪ 1: the schedule changes slowly on the relaxation time",
                     "real slow mode: 4ηλ ≲ (1 − √α)² (sgdm.contraction)", "λ and L constant"),
        parameters=("lr", "weight_decay", "momentum", "lr_log_rate"),
        derive=_derive_lag,
        numeric=generated("trajectory.angular_update_lag_first_order"),
        notes="Neglected: O(r/κ) and O(κ/(1 − α)) (fast momentum modes) relative corrections. Late in a decay r/κ is\n"
        "not small and the first-order form fails (tests/test_trajectory.py): use spheretheory.trajectory() there.",
    )
)  # fmt: skip
