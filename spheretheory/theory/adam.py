"""Adaptive optimizers on the sphere: the generic scheme x ← x − η a ⊘ b (Roburin et al. 2020, Sec. 2).

* the exact image step on the unit sphere of the generic scheme and its order-2 expansion
  (``adam.image_step_angle``, ``adam.image_step_norm_ratio``);
* the effective learning rate η_e = η/(r ν), ν = ‖r b‖/√d, for SGD, SGD-M, Adam, AdamW and AdamG
  (``adam.effective_lr.*``);
* the SGD (+ L2) ⇔ AdamG equivalence with its exact hyperparameter mapping and error term
  (``adam.sgd_adamg.*``);
* the second-moment factor κ of a finite β₂ (``adam.second_moment_kappa``).

The equilibria have one module per family: :mod:`.adamw`, :mod:`.lion`, :mod:`.adam_l2`, :mod:`.adamsrt`.

No sympy at module level (see :mod:`spheretheory.theory.base`).
"""

from __future__ import annotations

from . import register
from ._adaptive import A_SCALE_INV, ROBURIN, _sym, _syms
from ._numeric import generated
from .base import Derivation, DerivationResult, Step

# ----------------------------------------------------------------------------------------------------
# 1. The generic scheme and its exact image step on the sphere
# ----------------------------------------------------------------------------------------------------


def _derive_generic_identity():
    """The exact identity x_{k+1}/r_k = u_k − η_e c_k, coordinate by coordinate."""
    sp, S = _syms()
    eta, r, nu = S.lr, _sym("norm"), _sym("nu")
    a, b, u = sp.symbols("a_i b_i u_i", real=True)
    b = sp.Symbol("b_i", positive=True)
    x = r * u
    x_next = x - eta * a / b
    d_i = r * b / nu
    c_i = r * a / d_i
    eta_e = eta / (r * nu)
    residual = sp.simplify(x_next / r - (u - eta_e * c_i))
    return x_next, d_i, c_i, eta_e, residual


def _derive_image_angle() -> DerivationResult:
    sp, S = _syms()
    t, cr = _sym("eta_e"), _sym("c_radial", real=True)
    ct = _sym("c_tangential", nonnegative=True)
    x_next, d_i, c_i, eta_e, residual = _derive_generic_identity()
    u = sp.Matrix([1, 0])
    c = sp.Matrix([cr, ct])
    y = u - t * c
    u_next = y / sp.sqrt(y.dot(y))
    expr = sp.atan2(t * ct, 1 - t * cr)
    series = sp.series(sp.atan(t * ct / (1 - t * cr)), t, 0, 4).removeO()
    u_series = u_next.applyfunc(lambda e: sp.series(e, t, 0, 3).removeO())
    steps = (
        Step("Generic scheme (Roburin Sec. 2.2): x_{k+1} = x_k − η a_k ⊘ b_k; coordinate i", x_next),
        Step(
            "d_k = r_k b_k/ν_k with ν_k = ‖r_k b_k‖/√d; c_k = r_k a_k ⊘ d_k (coordinate i)",
            sp.Tuple(d_i, c_i),
        ),
        Step("Exact identity x_{k+1}/r_k = u_k − η_e c_k with η_e = η/(r_k ν_k): residual", residual),
        Step("Frame: u_k = e₁, c_k = c_r e₁ + ‖c⊥‖ e₂ (c_r = ⟨c_k, u_k⟩ the radial part)", c.T),
        Step("u_{k+1} = (u_k − η_e c_k)/‖u_k − η_e c_k‖ (exact)", u_next.T),
        Step("Exact angle: Δ_k = atan2(η_e ‖c⊥‖, 1 − η_e c_r)", expr),
        Step("Series in η_e: the radial part enters at order 2", series),
        Step(
            "Order-2 image step: u_{k+1} = u − η_e c⊥ − η_e² (c_r c⊥ + ½‖c⊥‖² u) + O(η_e³) (components)",
            u_series.T,
        ),
    )
    return DerivationResult(expr, steps, {"series": series, "u_next_order2": u_series, "identity": residual})


def _derive_image_norm() -> DerivationResult:
    sp, S = _syms()
    t, cr = _sym("eta_e"), _sym("c_radial", real=True)
    ct = _sym("c_tangential", nonnegative=True)
    expr = sp.sqrt((1 - t * cr) ** 2 + t**2 * ct**2)
    series = sp.series(expr, t, 0, 3).removeO()
    steps = (
        Step("r_{k+1}/r_k = ‖u_k − η_e c_k‖ (exact identity of adam.image_step_angle)", expr),
        Step("Series in η_e: the radial part c_r changes the norm at order 1, ‖c⊥‖ at order 2", series),
    )
    return DerivationResult(expr, steps, {"series": series})


register(
    Derivation(
        name="adam.image_step_angle",
        title="Exact angle of the image step on the sphere of the generic scheme x ← x − η a ⊘ b",
        source=f"{ROBURIN}, Sec. 2.3 (the paper's order-2 image step is the series of this)",
        assumptions=("none: exact for any a, b (only b ≠ 0)",),
        parameters=("eta_e", "c_radial", "c_tangential"),
        derive=_derive_image_angle,
        numeric=generated("adam.image_step_angle"),
        notes=(
            "Δ_k = η_e ‖c⊥‖ + η_e² c_r ‖c⊥‖ + O(η_e³): to first order only the tangential part of the\n"
            "effective direction moves u; the radial part c_r (e.g. the radial part of Adam's momentum)\n"
            "acts at order 2."
        ),
    )
)

register(
    Derivation(
        name="adam.image_step_norm_ratio",
        title="Exact norm ratio r_{k+1}/r_k of the generic scheme",
        source=f"{ROBURIN}, Sec. 2.3",
        assumptions=("none: exact",),
        parameters=("eta_e", "c_radial", "c_tangential"),
        derive=_derive_image_norm,
        numeric=generated("adam.image_step_norm_ratio"),
    )
)


# ----------------------------------------------------------------------------------------------------
# 2. Effective learning rates η_e = η/(r ν)
# ----------------------------------------------------------------------------------------------------


def _derive_elr_sgd() -> DerivationResult:
    sp, S = _syms()
    eta, r = S.lr, _sym("norm")
    nu = sp.sqrt((r * 1) ** 2)  # b = 1 in every coordinate: ‖r·1‖/√d = r
    expr = sp.simplify(eta / (r * nu))
    steps = (
        Step("SGD: a = ∇L(x) = ∇L(u)/r (scale invariance), b = 1"),
        Step("ν = ‖r b‖/√d = r", nu),
        Step("η_e = η/(r ν); c = r a ⊘ d = ∇L(u) (d = 1): u_{k+1} = u_k − (η/r²) ∇L(u_k) + O(η_e²)", expr),
    )
    return DerivationResult(expr, steps)


def _derive_elr_sgdm() -> DerivationResult:
    sp, S = _syms()
    eta, r = S.lr, _sym("norm")
    expr = eta / r**2
    steps = (
        Step("SGD-M (heavy ball): a_k = m_k = α m_{k−1} + ∇L(x_k), b = 1 ⇒ ν = r"),
        Step(
            "η_e = η/r², c_k = r_k m_k = Σ_j α^j (r_k/r_{k−j}) ∇L(u_{k−j}) (past unit gradients, rescaled)",
            expr,
        ),
        Step(
            "The past gradients are tangent to past spheres: ⟨c_k, u_k⟩ ≠ 0 in general — the radial part of "
            "the momentum, which acts at order 2 (adam.image_step_angle)"
        ),
    )
    return DerivationResult(expr, steps)


def _derive_elr_adam() -> DerivationResult:
    sp, S = _syms()
    eta, r, eps = S.lr, _sym("norm"), _sym("eps", nonnegative=True)
    q2, q1 = _sym("unit_v_mean"), _sym("unit_sqrt_v_mean")
    sv = sp.Symbol("sqrt_vt_i", positive=True)
    rb = sp.expand(r * (sv / r + eps))
    nu_sq = q2 + 2 * r * eps * q1 + r**2 * eps**2
    expr = eta / (r * sp.sqrt(nu_sq))
    uniform = sp.simplify(expr.subs({q2: _sym("s") ** 2, q1: _sym("s")}))
    steps = (
        Step("Adam: a = m̂_k, b = √v̂_k + ε. Write ṽ_k = r_k² v̂_k (the second moment in unit-gradient scale)"),
        Step("r b_i = √ṽ_i + r ε (coordinate i)", rb),
        Step("ν² = ‖r b‖²/d = mean(ṽ) + 2 r ε mean(√ṽ) + r² ε²", nu_sq),
        Step("η_e = η/(r ν) (exact, by the identity of adam.image_step_angle)", expr),
        Step("Equal coordinates √ṽ_i = s: η_e = η/(r (s + ε r)); ε = 0: η_e = η/(r s) ∝ 1/r, not 1/r²", uniform),
        Step(
            "c = r m̂ ⊘ d with d = r b/ν: the direction is the unit-scale momentum, divided coordinatewise by "
            "the normalized second moment; ε makes d depend on r, so the effect of ε grows with the norm"
        ),
    )
    return DerivationResult(expr, steps, {"uniform": uniform})


def _derive_elr_adamw() -> DerivationResult:
    sp, S = _syms()
    eta, lam, r, eps = S.lr, S.weight_decay, _sym("norm"), _sym("eps", nonnegative=True)
    q2, q1 = _sym("unit_v_mean"), _sym("unit_sqrt_v_mean")
    nu = sp.sqrt(q2 + 2 * r * eps * q1 + r**2 * eps**2)
    eta_adam = eta / (r * nu)
    expr = eta_adam / (1 - eta * lam)
    steps = (
        Step("AdamW: x_{k+1} = (1 − ηλ) x_k − η m̂ ⊘ (√v̂ + ε)"),
        Step("x_{k+1}/r_k = (1 − ηλ) u_k − η_e^Adam c_k, η_e^Adam from adam.effective_lr.adam", eta_adam),
        Step(
            "Normalizing removes the factor (1 − ηλ): the image step is that of c with η_e^Adam/(1 − ηλ)",
            expr,
        ),
    )
    return DerivationResult(expr, steps)


def _derive_elr_adamg() -> DerivationResult:
    sp, S = _syms()
    eta, v = S.lr, _sym("second_moment")
    expr = eta / sp.sqrt(v)
    steps = (
        Step("AdamG without momentum on the sphere (Cho & Lee 2017): u ← N(u − η' g/√v), v a scalar per group"),
        Step("Already on the sphere (r = 1): a = g, b = √v·1 ⇒ ν = √v, η_e = η'/√v, c = g", expr),
    )
    return DerivationResult(expr, steps)


for _name, _title, _params, _fn in (
    ("sgd", "SGD", ("lr", "norm"), _derive_elr_sgd),
    ("sgdm", "SGD with heavy-ball momentum", ("lr", "norm"), _derive_elr_sgdm),
    ("adam", "Adam", ("lr", "norm", "unit_v_mean", "unit_sqrt_v_mean", "eps"), _derive_elr_adam),
    (
        "adamw",
        "AdamW",
        ("lr", "weight_decay", "norm", "unit_v_mean", "unit_sqrt_v_mean", "eps"),
        _derive_elr_adamw,
    ),
    ("adamg", "AdamG (on the sphere, no momentum)", ("lr", "second_moment"), _derive_elr_adamg),
):
    register(
        Derivation(
            name=f"adam.effective_lr.{_name}",
            title=f"Effective learning rate η_e = η/(r ν) of {_title}",
            source=f"{ROBURIN}, Sec. 2.3 (definition) — derived here for each optimizer",
            assumptions=(A_SCALE_INV,) if _name in ("sgd", "sgdm") else ("none: exact identity (definition of ṽ)",),
            parameters=_params,
            derive=_fn,
            numeric=generated(f"adam.effective_lr.{_name}"),
            notes="unit_v_mean = mean_i r² v̂_i, unit_sqrt_v_mean = mean_i r √v̂_i (moments in unit scale).",
        )
    )


# ----------------------------------------------------------------------------------------------------
# 3. SGD + L2 ⇔ AdamG (no momentum) on the sphere
# ----------------------------------------------------------------------------------------------------


def _sgd_adamg_core():
    """Match the SGD norm recursion with an AdamG second-moment recursion; returns the pieces (sympy)."""
    sp, S = _syms()
    eta, lam, G = S.lr, S.weight_decay, S.unit_grad_sq
    r = _sym("norm")
    beta, gamma, C, v = _sym("beta"), _sym("gamma"), _sym("C"), _sym("second_moment")
    rho = 1 - eta * lam
    r2_next = rho**2 * r**2 + eta**2 * G / r**2  # exact: g ⟂ x
    v_next_exact = sp.expand(C * r2_next**2)  # v := C r⁴
    # collect in r: C ρ⁴ r⁴ + 2 C ρ² η² G + C η⁴ G² / r⁴
    beta_sol = rho**4
    C_sol = gamma / (2 * eta**2 * rho**2)
    remainder = sp.simplify((v_next_exact - beta_sol * C * r**4 - gamma * G).subs(C, C_sol))
    remainder_v = sp.simplify(remainder.subs(r, (v / C_sol) ** sp.Rational(1, 4)))
    lr_prime = sp.simplify(eta * sp.sqrt(C_sol) / rho)
    return {
        "r2_next": r2_next,
        "v_next": v_next_exact,
        "beta": beta_sol,
        "C": C_sol,
        "remainder": remainder,
        "remainder_v": remainder_v,
        "lr_prime": lr_prime,
        "symbols": (eta, lam, G, r, beta, gamma, C, v),
    }


def _derive_sgd_adamg_error() -> DerivationResult:
    sp, S = _syms()
    core = _sgd_adamg_core()
    eta, lam, G, r, beta, gamma, C, v = core["symbols"]
    rho = 1 - eta * lam
    g1 = 1 - rho**4
    rel = sp.simplify(core["remainder_v"].subs(gamma, g1) / (g1 * G))
    beta_s = sp.Symbol("beta", positive=True)
    rel_beta = sp.simplify(rel.subs(lam, (1 - beta_s ** sp.Rational(1, 4)) / eta))
    eta_e_sq = sp.simplify(core["lr_prime"].subs(gamma, g1) ** 2 / v)
    check = sp.simplify(rel - eta_e_sq * G / 2)
    steps = (
        Step("SGD + L2 (eq. 7): x_{k+1} = ρ x_k − (η/r_k) g̃_k with ρ = 1 − ηλ, g̃_k = ∇L(u_k) ⟂ u_k"),
        Step("Exact norm recursion r_{k+1}² = ρ² r_k² + η² ‖g̃_k‖² / r_k²", core["r2_next"]),
        Step("Exact image step: u_{k+1} = N(u_k − η/(ρ r_k²) g̃_k) — AdamG's step with η'/√v_k = η/(ρ r_k²)"),
        Step("Set v_k = C r_k⁴; then v_{k+1} = C r_{k+1}⁴ =", core["v_next"]),
        Step(
            "Match v_{k+1} = β v_k + γ ‖g̃_k‖² + E_k: β = ρ⁴ = (1 − ηλ)⁴ and C = γ/(2η²ρ²)",
            sp.Tuple(core["beta"], core["C"]),
        ),
        Step("The step matches iff η' = η √C / ρ = √(γ/(2β))", core["lr_prime"]),
        Step("Exact remainder E_k (in v_k)", core["remainder_v"]),
        Step("With the EMA normalization γ = 1 − β: E_k / ((1 − β)‖g̃_k‖²) =", rel),
        Step("In β: (1 − β) ‖g̃‖² / (4 β v)", rel_beta),
        Step("= (η_e ‖g̃_k‖)² / 2 with η_e = η'/√v_k, the AdamG angular step: order 2; check (must be 0)", check),
    )
    return DerivationResult(rel, steps, {"check": check, "core": core})


def _derive_sgd_adamg_beta() -> DerivationResult:
    sp, S = _syms()
    core = _sgd_adamg_core()
    return DerivationResult(
        core["beta"],
        (Step("From adam.sgd_adamg.relative_error: the r⁴ coefficient of the SGD recursion", core["beta"]),),
    )


def _derive_sgd_adamg_lr() -> DerivationResult:
    sp, S = _syms()
    core = _sgd_adamg_core()
    eta, lam, G, r, beta, gamma, C, v = core["symbols"]
    g1 = 1 - core["beta"]
    rho = 1 - eta * lam
    expr = sp.sqrt((1 - rho**4) / (2 * rho**4))
    check = sp.simplify(
        (core["lr_prime"].subs(gamma, g1) - expr).subs({eta: sp.Rational(1, 10), lam: sp.Rational(1, 3)})
    )
    assert check == 0, check
    first = sp.simplify(sp.series(expr.subs(lam, S.eps / eta), S.eps, 0, 1).removeO())
    steps = (
        Step("η' = √(γ/(2β)) with γ = 1 − β, β = (1 − ηλ)⁴", expr),
        Step("Leading term in ε = ηλ: η' ≈ √(2ηλ) (the brief's form)", S.from_eps(first)),
    )
    return DerivationResult(expr, steps, {"leading": S.from_eps(first)})


def _derive_sgd_adamg_v0() -> DerivationResult:
    sp, S = _syms()
    core = _sgd_adamg_core()
    eta, lam, G, r, beta, gamma, C, v = core["symbols"]
    expr = sp.simplify(core["C"].subs(gamma, 1 - core["beta"]) * r**4)
    steps = (
        Step(
            "v_0 = C r_0⁴ with C = (1 − β)/(2η²(1 − ηλ)²): the initial norm is the initial second moment",
            expr,
        ),
    )
    return DerivationResult(expr, steps)


def _derive_sgd_adamg_v0_l0() -> DerivationResult:
    sp, S = _syms()
    core = _sgd_adamg_core()
    eta, lam, G, r, beta, gamma, C, v = core["symbols"]
    expr = sp.simplify((core["C"] * r**4).subs({gamma: 1, lam: 0}))
    lr0 = sp.simplify(core["lr_prime"].subs({gamma: 1, lam: 0}))
    rem0 = sp.simplify(core["remainder_v"].subs({gamma: 1, lam: 0}))
    steps = (
        Step("λ = 0: β = 1 and γ = 1 − β = 0 degenerates; keep γ free, set γ = 1 (AdaGrad-norm form)"),
        Step("Then v_{k+1} = v_k + ‖g̃_k‖² + E_k (an AdaGrad-norm sum) and η' = √(γ/2) =", lr0),
        Step("E_k = ‖g̃_k‖⁴/(4 v_k) (order 2 relative to ‖g̃_k‖², as for λ > 0)", rem0),
        Step("v_0 = r_0⁴/(2η²): η enters only through the initial second moment", expr),
    )
    return DerivationResult(expr, steps, {"lr_prime": lr0, "remainder": rem0})


_SGD_ADAMG_NOTE = (
    "AdamG here: v_{k+1} = β v_k + (1 − β)‖g̃_k‖², u_{k+1} = N(u_k − η' g̃_k/√v_k) — the step uses the second\n"
    "moment *before* the current gradient (the one SGD's norm carries). The brief's β = (1 − ηλ)⁴ is exact;\n"
    "η' = √((1−β)/(2β)) ≈ √(2ηλ) to leading order (derived). With the remainder E_k added to the v-update\n"
    "the two schemes coincide exactly (spheretheory.adaptive.adamg_step(exact_sgd=True))."
)

register(
    Derivation(
        name="adam.sgd_adamg.relative_error",
        title="Relative per-step error of SGD+L2 ≡ AdamG: E_k/((1−β)‖g̃_k‖²)",
        source=f"{ROBURIN}, Sec. 3 (SGD ≡ AdamG at order 2) — mapping derived here",
        assumptions=(A_SCALE_INV,),
        parameters=("lr", "weight_decay", "unit_grad_sq", "second_moment"),
        derive=_derive_sgd_adamg_error,
        numeric=generated("adam.sgd_adamg.relative_error"),
        notes=_SGD_ADAMG_NOTE,
    )
)
register(
    Derivation(
        name="adam.sgd_adamg.beta",
        title="AdamG second-moment decay β equivalent to SGD + L2",
        source=f"{ROBURIN}, Sec. 3; brief Sec. 3 (β = (1 − ηλ)⁴)",
        assumptions=(A_SCALE_INV,),
        parameters=("lr", "weight_decay"),
        derive=_derive_sgd_adamg_beta,
        numeric=generated("adam.sgd_adamg.beta"),
        notes=_SGD_ADAMG_NOTE,
    )
)
register(
    Derivation(
        name="adam.sgd_adamg.lr",
        title="AdamG learning rate η' equivalent to SGD + L2 (exact; ≈ √(2ηλ))",
        source=f"{ROBURIN}, Sec. 3; brief Sec. 3 (η' ≈ √(2ηλ))",
        assumptions=(A_SCALE_INV,),
        parameters=("lr", "weight_decay"),
        derive=_derive_sgd_adamg_lr,
        numeric=generated("adam.sgd_adamg.lr"),
        notes=_SGD_ADAMG_NOTE,
    )
)
register(
    Derivation(
        name="adam.sgd_adamg.v0",
        title="AdamG initial second moment v_0 from SGD's initial norm r_0",
        source=f"{ROBURIN}, Sec. 3 (r_0 plays the part of the initial second moment)",
        assumptions=(A_SCALE_INV,),
        parameters=("lr", "weight_decay", "norm"),
        derive=_derive_sgd_adamg_v0,
        numeric=generated("adam.sgd_adamg.v0"),
        notes=_SGD_ADAMG_NOTE,
    )
)
register(
    Derivation(
        name="adam.sgd_adamg.v0_lambda0",
        title="λ = 0: SGD ≡ AdaGrad-norm on the sphere with η' = 1/√2 and v_0 = r_0⁴/(2η²)",
        source="derived here (the λ = 0 special case)",
        assumptions=(A_SCALE_INV,),
        parameters=("lr", "norm"),
        derive=_derive_sgd_adamg_v0_l0,
        numeric=generated("adam.sgd_adamg.v0_lambda0"),
    )
)


# ----------------------------------------------------------------------------------------------------
# 9. Finite β₂: E‖ĝ‖²/d = κ < 1
# ----------------------------------------------------------------------------------------------------


def _derive_kappa() -> DerivationResult:
    sp, S = _syms()
    b2, K = _sym("beta2", nonnegative=True), _sym("kurtosis")
    h, b, dl, y = sp.symbols("h b delta y", real=True)
    # v_{t−1} = σ²(1 + hδ) with E δ = 0; 1 − β₂ = h² b; y = g_t²/σ² independent of v_{t−1}
    ratio = y / ((1 - h**2 * b) * (1 + h * dl) + h**2 * b * y)
    ser = sp.expand(sp.series(ratio, h, 0, 3).removeO())
    moments_d = {0: 1, 1: 0, 2: b * (K - 1) / 2}  # Var v/σ⁴ = (1−β₂)(K−1)/(1+β₂) → h² b (K−1)/2
    moments_y = {0: 1, 1: 1, 2: K}
    poly = sp.Poly(ser, dl, y)
    expect = sum(c * moments_d[pd] * moments_y[py] for (pd, py), c in poly.terms())
    expr = sp.expand(sp.simplify(expect.subs(h, 1)).subs(b, 1 - b2))
    steps = (
        Step("ĝ² = g_t²/v_t with v_t = β₂ v_{t−1} + (1 − β₂) g_t²; write v_{t−1} = σ²(1 + δ), y = g_t²/σ²", ratio),
        Step("Expand to order (1 − β₂) (δ = O(√(1 − β₂)), bookkeeping h)", ser),
        Step("E y = 1, E y² = K (kurtosis; 3 for Gaussian noise), E δ = 0, E δ² = (1 − β₂)(K − 1)/2, δ ⟂ y"),
        Step("κ = E[g²/v] = 1 − (1 − β₂)(K − 1)/2: E‖x‖² of AdamW/Adam scales by κ (Gaussian: 1 − (1 − β₂))", expr),
    )
    return DerivationResult(expr, steps)


register(
    Derivation(
        name="adam.second_moment_kappa",
        title="κ = E‖ĝ‖²/d for a finite β₂ (first order in 1 − β₂): the factor on Adam/AdamW's E‖x‖²",
        source="derived here",
        assumptions=(
            "stationary gradient noise, independent in time, kurtosis K = E g⁴/(E g²)²",
            "first order in 1 − β₂; the second moment includes the current gradient (PyTorch convention)",
        ),
        parameters=("beta2", "kurtosis"),
        derive=_derive_kappa,
        numeric=generated("adam.second_moment_kappa"),
    )
)
