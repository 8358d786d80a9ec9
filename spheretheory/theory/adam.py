"""Adaptive optimizers on the sphere: the generic scheme x ← x − η a ⊘ b (Roburin et al. 2020, Sec. 2).

Everything here is derived from an update rule:

* the exact image step on the unit sphere of the generic scheme and its order-2 expansion
  (``adam.image_step_angle``, ``adam.image_step_norm_ratio``);
* the effective learning rate η_e = η/(r ν), ν = ‖r b‖/√d, for SGD, SGD-M, Adam, AdamW and AdamG
  (``adam.effective_lr.*``);
* the SGD (+ L2) ⇔ AdamG equivalence with its exact hyperparameter mapping and error term
  (``adam.sgd_adamg.*``);
* the equilibria of AdamW (decoupled decay), Lion and Adam with coupled L2 (``adamw.*``, ``lion.*``,
  ``adam_l2.*``).

No sympy at module level (see :mod:`spheretheory.theory.base`).
"""

from __future__ import annotations

import math

import numpy as np

from . import register
from ._numeric import generated
from .base import Derivation, DerivationResult, Step

ROBURIN = "Roburin et al. (2020), 'A spherical analysis of Adam with batch normalization'"
KOSSON = "Kosson et al. (2024), 'Rotational equilibrium' (authors' code; theory brief Sec. 4)"

A_SCALE_INV = "scale invariance: ⟨x, ∇L(x)⟩ = 0 and ∇L(x) = ∇L(u)/r with u = x/r, r = ‖x‖"
A_SYMMETRIC = (
    "conditionally symmetric noise: given the past, the normalized gradient ĝ_t = g̃_t ⊘ √ṽ_t has the same "
    "law as −ĝ_t (true for zero-mean symmetric gradient noise, since √ṽ depends on g² only); so all cross "
    "terms vanish"
)
A_STATIONARY_V = (
    "the second moment tracks the gradient scale (β₂ → 1, stationary noise): E‖ĝ_t‖² = d κ, κ = 1 when ε = 0"
)
A_SMALL = "ηλ ≪ 1 (only the leading term of the series in ηλ is kept)"
A_GAUSS = "per-coordinate gradient noise i.i.d. Gaussian in time (arcsine law for E[sign(a) sign(b)])"


def _syms():
    import sympy as sp

    from . import _sym as S

    return sp, S


def _sym(name: str, **kw):
    import sympy as sp

    kw = kw or {"positive": True}
    return sp.Symbol(name, **kw)


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
# 5. Lion
# ----------------------------------------------------------------------------------------------------


def _geo_sum(expr, j, q):
    """Σ_{j≥1} expr where expr = coeff·q^(j−1+shift) is geometric in j with ratio q (|q| < 1)."""
    first = expr.subs(j, 1)
    return first / (1 - q)


def _lion_corr():
    sp, S = _syms()
    b1, b2 = _sym("beta1", nonnegative=True), _sym("beta2", nonnegative=True)
    j = sp.Symbol("j", integer=True, positive=True)
    k = sp.Symbol("k", integer=True, positive=True)
    w0 = 1 - b1
    wj = b1 * (1 - b2) * b2 ** (j - 1)
    V = sp.simplify(w0**2 + _geo_sum(wj**2, j, b2**2))
    cov = sp.simplify(w0 * wj.subs(j, k) + _geo_sum(wj * wj.subs(j, j + k), j, b2**2))
    # check the geometric sums numerically against sympy's summation at a sample point
    pt = {b1: sp.Rational(9, 10), b2: sp.Rational(99, 100), k: 3}
    direct = sp.summation((wj * wj.subs(j, j + k)).subs(pt), (j, 1, sp.oo))
    assert sp.simplify(direct - (cov - w0 * wj.subs(j, k)).subs(pt)) == 0
    return b1, b2, k, V, cov


def _derive_lion_sq_norm() -> DerivationResult:
    sp, S = _syms()
    eta, lam = S.lr, S.weight_decay
    d = _sym("dim")
    b1, b2, k, V, cov = _lion_corr()
    rho = 1 - eta * lam
    C_k = sp.simplify(cov / V)
    R_k = 2 / sp.pi * sp.asin(C_k)
    expr = eta**2 * d / (1 - rho**2) * (1 + 2 * sp.Sum(rho**k * R_k, (k, 1, sp.oo)))
    steps = (
        Step("Lion: c_t = β₁ m_{t−1} + (1−β₁) g_t, U_t = sign(c_t), m_t = β₂ m_{t−1} + (1−β₂) g_t; x ← ρx − ηU"),
        Step("c_t = Σ_j w_j g_{t−j}, w_0 = 1−β₁, w_j = β₁(1−β₂)β₂^{j−1}; Var c/σ² = V", V),
        Step("Cov(c_t, c_{t+k})/σ² (k ≥ 1)", cov),
        Step("Correlation C_k (geometric in k)", C_k),
        Step("Arcsine law (Gaussian c): E[U_t,i U_{t+k},i] = (2/π) arcsin C_k; ‖U‖² = d exactly", R_k),
        Step("Symmetry: E‖x_t‖² = ρ^{2t}r_0² + η² Σ_{n,n'} ρ^{n+n'} E⟨U_{t−1−n}, U_{t−1−n'}⟩; stationary", expr),
    )
    return DerivationResult(expr, steps, {"V": V, "C_k": C_k})


def _derive_lion_linear() -> DerivationResult:
    sp, S = _syms()
    eta, lam = S.lr, S.weight_decay
    b1, b2, k, V, cov = _lion_corr()
    # Bussgang linearization sign(c) ≈ √(2/π) c/σ_c + (uncorrelated); each gradient's total weight Σ w_j = 1
    total_w = sp.simplify((1 - b1) + _geo_sum(b1 * (1 - b2) * b2 ** (k - 1), k, b2))
    per_step = sp.simplify(2 / (sp.pi * V) * total_w**2)
    expr = sp.simplify(sp.sqrt(2 * eta * lam / per_step))
    steps = (
        Step("Linearize sign(c) ≈ √(2/π) c/√(V σ²) and drop its uncorrelated remainder (Kosson et al.)"),
        Step("Total weight of one gradient in all future c's: Σ_j w_j", total_w),
        Step("Norm growth per step η² d · 2/(πV) ⇒ r*² ≈ η d/(2λ) · 2/(πV)", per_step),
        Step("Δ* = η√d/r* = √(π/2) √(2ηλ) √V (the brief's form)", expr),
        Step("The exact-Gaussian series (lion.angular_update) differs by O(1 − 2/π)·πV/2 and in arcsin"),
    )
    return DerivationResult(expr, steps, {"V": V})


def _lion_series(rho: np.ndarray, beta1: np.ndarray, beta2: np.ndarray) -> np.ndarray:
    """1 + (4/π) Σ_{k≥1} ρ^k arcsin(C_1 β₂^{k−1}) (elementwise; pure numpy)."""
    rho, b1, b2 = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (rho, beta1, beta2)))
    out = np.empty(rho.shape, dtype=float)
    V = (1 - b1) ** 2 + b1**2 * (1 - b2) / (1 + b2)
    K = b1 * (1 - b2) * ((1 - b1) + b1 * b2 / (1 + b2))
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(V > 0, K / V, 0.0)
    for idx in np.ndindex(rho.shape):
        q, p, c1 = b2[idx], rho[idx], min(a[idx], 1.0)
        if c1 == 0.0:
            out[idx] = 1.0
            continue
        decay = max(q * p, 1e-300)
        n_terms = (
            int(min(2_000_000, max(2, math.ceil(math.log(1e-17) / math.log(decay)) + 1))) if decay < 1 else 2_000_000
        )
        kk = np.arange(1, n_terms + 1, dtype=float)
        out[idx] = 1.0 + 4.0 / math.pi * float(np.sum(p**kk * np.arcsin(c1 * q ** (kk - 1))))
    return out


def lion_equilibrium_sq_norm(lr, weight_decay, dim, beta1, beta2):
    """Lion's stationary E‖x‖² = η² d (1 + (4/π) Σ_k ρ^k arcsin C_k)/(1 − ρ²) (lion.equilibrium_sq_norm)."""
    el = np.asarray(lr, float) * np.asarray(weight_decay, float)
    # 1 − ρ² = ηλ(2 − ηλ), written without cancellation (ρ = 1 − ηλ rounds to 1 for ηλ < 1e-16)
    return np.asarray(lr, float) ** 2 * np.asarray(dim, float) * _lion_series(1 - el, beta1, beta2) / (el * (2 - el))


def lion_angular_update(lr, weight_decay, beta1, beta2):
    """Lion's Δ* = atan(√(S − Q²)/(ρS + Q)), S = E‖x‖²/(η²d), Q = Σ_k ρ^{k−1} R(k) (lion.angular_update)."""
    el = np.asarray(lr, float) * np.asarray(weight_decay, float)
    rho = 1 - el
    series = _lion_series(rho, beta1, beta2)  # 1 + 2 T, T = Σ_k ρ^k R(k)
    S_ = series / (el * (2 - el))  # 1 − ρ², without cancellation
    Q = (series - 1) / (2 * rho)
    return np.arctan(np.sqrt(S_ - Q**2) / (rho * S_ + Q))


def lion_angular_update_first_order(lr, weight_decay, beta1, beta2):
    """Lion's Δ* to first order in ηλ: √(2ηλ / (1 + (4/π) Σ_k arcsin C_k))."""
    el = np.asarray(lr, float) * np.asarray(weight_decay, float)
    return np.sqrt(2 * el / _lion_series(np.ones_like(el), beta1, beta2))


def _derive_lion_angle() -> DerivationResult:
    sp, S = _syms()
    eta, lam = S.lr, S.weight_decay
    b1, b2, k, V, cov = _lion_corr()
    rho = 1 - eta * lam
    T = sp.Sum(rho**k * 2 / sp.pi * sp.asin(sp.simplify(cov / V)), (k, 1, sp.oo))
    S_ = (1 + 2 * T) / (1 - rho**2)
    Q = T / rho
    expr = sp.atan(sp.sqrt(S_ - Q**2) / (rho * S_ + Q))
    steps = (
        Step("‖U_t‖² = d; radial part ⟨x_t, U_t⟩ = −η d Q with Q = Σ_{k≥1} ρ^{k−1} R(k) = T/ρ", Q),
        Step("E‖x‖² = η² d S (lion.equilibrium_sq_norm)", S_),
        Step("tan Δ* = η‖U⊥‖/(ρ r* − η U_r) = √(S − Q²)/(ρ S + Q) (d cancels)", expr),
    )
    return DerivationResult(expr, steps)


def _derive_lion_angle_first() -> DerivationResult:
    sp, S = _syms()
    eta, lam = S.lr, S.weight_decay
    b1, b2, k, V, cov = _lion_corr()
    expr = sp.sqrt(2 * eta * lam / (1 + 4 / sp.pi * sp.Sum(sp.asin(sp.simplify(cov / V)), (k, 1, sp.oo))))
    return DerivationResult(expr, (Step("Leading term as ηλ → 0 (ρ → 1 inside the sum, 1/(1−ρ²) → 1/(2ηλ))", expr),))


_LION_ASSUME = (A_SCALE_INV, A_SYMMETRIC, A_GAUSS, "no zero coordinates in c_t (‖sign c‖² = d)")
_LION_SQ = register(
    Derivation(
        name="lion.equilibrium_sq_norm",
        title="Lion equilibrium E‖x‖² (arcsine-law series, finite ηλ)",
        source="derived here",
        assumptions=_LION_ASSUME,
        parameters=("lr", "weight_decay", "dim", "beta1", "beta2"),
        derive=_derive_lion_sq_norm,
        numeric=lion_equilibrium_sq_norm,
        codegen=False,
        notes="Hand-written numeric: the series is summed directly (terms below 1e-17 dropped).",
    )
)
register(
    Derivation(
        name="lion.angular_update",
        title="Lion equilibrium angular update (finite ηλ)",
        source="derived here",
        assumptions=_LION_ASSUME,
        parameters=("lr", "weight_decay", "beta1", "beta2"),
        derive=_derive_lion_angle,
        numeric=lion_angular_update,
        codegen=False,
    )
)
register(
    Derivation(
        name="lion.angular_update_first_order",
        title="Lion equilibrium angular update, first order in ηλ (arcsine law)",
        source="derived here",
        assumptions=(*_LION_ASSUME, A_SMALL),
        parameters=("lr", "weight_decay", "beta1", "beta2"),
        derive=_derive_lion_angle_first,
        numeric=lion_angular_update_first_order,
        codegen=False,
    )
)
register(
    Derivation(
        name="lion.angular_update_linearized",
        title="Lion Δ* with sign() linearized (Bussgang): √(π/2)·√(2ηλ)·√V",
        source=f"{KOSSON}",
        assumptions=(*_LION_ASSUME, A_SMALL, "sign(c) replaced by its Gaussian linearization"),
        parameters=("lr", "weight_decay", "beta1", "beta2"),
        derive=_derive_lion_linear,
        numeric=generated("lion.angular_update_linearized"),
    )
)


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
    expr = sp.acos(rho)
    steps = (
        Step("cos Δ_t = ⟨x_t, x_{t+1}⟩/(r_t r_{t+1}) = ρ r_t / r_{t+1} since U_t ⟂ x_t"),
        Step("At r_t = r_{t+1} = r* (mean field): Δ* = arccos(1 − ηλ) ≈ √(2ηλ), independent of β₁ — as SGD", expr),
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


# ----------------------------------------------------------------------------------------------------
# 8. Relaxation with a lagging second moment (AdamW, Adam + L2)
# ----------------------------------------------------------------------------------------------------


def _slow_mode(F, Gq, s, q, K, s_star, q_star):
    """Slowest eigenvalue of the Jacobian of (s, q) ↦ (F, Gq) at the fixed point (s*, q*) — symbolic s*, q*.

    K (the per-step growth constant, linear in F) is eliminated with F(s*, q*) = s*. Returns (μ, J).
    """
    sp, S = _syms()
    K_star = sp.solve(sp.Eq(F.subs({s: s_star, q: q_star}), s_star), K)[0]
    F = F.subs(K, K_star)
    J = sp.Matrix([[sp.diff(F, s), sp.diff(F, q)], [sp.diff(Gq, s), sp.diff(Gq, q)]]).subs({s: s_star, q: q_star})
    J = J.applyfunc(sp.simplify)
    tr, det = sp.simplify(J.trace()), sp.simplify(J.det())
    return tr / 2 + sp.sqrt(tr**2 / 4 - det), J


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
        name="adamw.contraction_lagged_v",
        title="AdamW: slow eigenvalue of the (norm, second moment) mean dynamics (relaxation ≈ −1/ln μ)",
        source="derived here",
        assumptions=(A_SCALE_INV, A_SYMMETRIC, A_SMALL, "momentum memory neglected", "equal per-coordinate scale"),
        parameters=("lr", "weight_decay", "beta2", "dim", "unit_grad_sq", "eps"),
        derive=_derive_adamw_contraction_v,
        numeric=generated("adamw.contraction_lagged_v"),
    )
)
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
