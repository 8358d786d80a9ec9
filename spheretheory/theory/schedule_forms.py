"""Closed forms for scheduled runs: the freeze of the norm at the end of a decay, the late rise of ‖g‖/‖w‖,
the warmup overshoot and the equilibration after the warmup.

All of them come from one continuous-time *slow mode*, derived here from the exact mean-field maps by adiabatic
elimination of the fast variables (the momentum moments; Adam's second moment) and the leading order in ηλ:

* SGD / SGDM (``schedule_forms.slow_mode_sgdm``): y = ‖w‖⁴ obeys dy/dt = −κ_t(y − y*_t) with
  κ = 4ηλ/(1 − α) and y* = ηL/(2λ(1 − α)) — linear in y, whatever the schedule;
* AdamW (``schedule_forms.slow_mode_adamw``): y = ‖x‖² with κ = 2ηλ and y* = ηd/(2λ).

With λ fixed (coupled or decoupled convention) κ ∝ η_t and κ_t·y*_t ∝ η_t², so the solution of the linear ODE
y(T) = ∫ κ_s y*_s e^{−∫_s^T κ} ds depends on the schedule only through its shape. Near the end of a decay the
schedule is a power law of the remaining fraction u = (steps left)/D of its decay phase of D steps,
η = η_max·c·u^p(1 + e₁u^q + e₂u^{2q} + …); the shapes (p, c, e₁, e₂, q) are series of the schedule formulas
of :mod:`spheretheory.schedules` (cosine, linear, WSD's 1 − √):

* ``schedule_forms.<shape>_freeze_steps``: the *freeze point*, the number of steps left s_f at which the remaining
  relaxation ∫_{T−s_f}^T κ falls to 1;
* ``schedule_forms.<shape>_frozen_ratio``: y(T)/y*(T − s_f) = Γ((2p+1)/(p+1)) + (first correction in φ^q),
  φ = s_f/D — the final norm is a fixed fraction of the instantaneous equilibrium at the freeze point;
* ``schedule_forms.<shape>_grad_norm_rise``: the rise of ‖g‖/‖w‖ = √L/‖w‖² from the start of the decay to the
  end: (y*(start)/y(T))^{1/ν}, ν = 2 for SGD/SGDM (‖w‖² = √y), ν = 1 for AdamW (‖x‖² = y);
* ``schedule_forms.warmup_sq_norm_ratio`` and ``schedule_forms.post_warmup_steps``: the linear warmup from a given
  norm solved exactly in the slow mode (a Dawson function), the overshoot Δ/Δ* = (y/y*)^{−1/2}, and the steps after
  the warmup until Δ is within rtol of Δ* (constant LR after the warmup).

No sympy at module level.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import register
from ._numeric import generated
from .base import Derivation, DerivationResult, Step

A_SLOW = (
    "slow mode: the fast variables (⟨w, v⟩, ‖v‖²; Adam's q) sit at their quasi-static values for the current norm "
    "(adiabatic elimination), leading order in ηλ — neglected: O(ηλ) and O(κ/(1 − α)) relative (SGDM), "
    "O(κ/(1 − β₂)·|y*/y − 1|) (AdamW's lagging second moment)"
)
A_CONTINUOUS = "continuous time: Σ_t → ∫dt (the schedule changes little per step)"
A_LAMBDA_FIXED = "λ fixed during the decay (coupled or decoupled convention), so κ ∝ η_t and κ·y* ∝ η_t²"
A_POWER = (
    "the freeze happens inside the decay phase (s_f < D) and long after its start (e^{−∫κ over the decay} ≪ 1): "
    "the state at the start of the decay is forgotten"
)


def _slow_mode(kind: str) -> DerivationResult:
    import sympy as sp

    from . import get

    if kind == "sgdm":
        F = get("sgdm.moment_recursion").expr
        sym = {s.name: s for s in F.free_symbols}
        sub: dict[Any, Any] = {}
        lam = sym["weight_decay"]
        power = 2  # y = ‖w‖⁴ = a²
    else:
        F = get("trajectory.adam_map").expr
        sym = {s.name: s for s in F.free_symbols}
        a_, L_, d_ = sym["sq_norm"], sym["unit_grad_sq"], sym["dim"]
        # AdamW: no coupled decay, ε = 0, no bias correction, q at its quasi-static value L/(a d)
        sub = {sym["weight_decay"]: 0, sym["eps"]: 0, sym["bias1"]: 1, sym["bias2"]: 1}
        sub[sym["second_moment"]] = L_ / (a_ * d_)
        lam = sym["decoupled_weight_decay"]
        power = 1  # y = ‖x‖² = a
    a, b, c, eta = sym["sq_norm"], sym["w_dot_v"], sym["v_sq_norm"], sym["lr"]
    Fs = [f.subs(sub) for f in F[:3]]
    bc = sp.solve([sp.Eq(Fs[1], b), sp.Eq(Fs[2], c)], [b, c], dict=True)[0]
    drift = (Fs[0] - a).subs(bc)
    e = sp.Symbol("e", positive=True)
    scaled = drift.subs({eta: e * eta, lam: e * lam})  # η, λ = O(e): ηλ = O(e²) with the norm O(1)
    lead = sp.simplify(sp.series(scaled, e, 0, 3).removeO().coeff(e, 2))
    ydot = sp.expand(power * a ** (power - 1) * lead)  # dy/dt for y = a^power
    y = sp.Symbol("y", positive=True)
    lin = sp.expand(ydot.subs(a, y ** sp.Rational(1, power)))
    poly = sp.Poly(lin, y)
    if sorted(poly.monoms()) != [(0,), (1,)]:  # pragma: no cover - a derivation bug
        raise AssertionError(f"the slow mode is not linear in y: {lin}")
    from . import _sym as S

    canon = {lam: S.weight_decay}  # AdamW's decoupled λ is the weight_decay parameter here
    kappa = sp.factor(-poly.coeff_monomial(y)).xreplace(canon)
    y_star = sp.factor(poly.coeff_monomial(1) / poly.coeff_monomial(y) * -1).xreplace(canon)
    name = "sgdm.moment_recursion" if kind == "sgdm" else "trajectory.adam_map (λ_c = 0, ε = 0, c₁ = c₂ = 1)"
    steps = [
        Step(f"Quasi-static fast variables: solve the ⟨w, v⟩ and ‖v‖² rows of {name} for (b, c) at fixed a"
             + ("" if kind == "sgdm" else ", with q = L/(a d) (its fixed point at fixed a)"), sp.Tuple(*bc.values())),
        Step("Drift of a = ‖w‖² per step, leading order with η, λ → eη, eλ (coefficient of e²)", lead),
        Step(f"y = a^{power}: dy/dt = {power}a^{power - 1}·da/dt is linear in y: −κ(y − y*) with (κ, y*) =",
             sp.Tuple(kappa, y_star)),
    ]  # fmt: skip
    return DerivationResult(sp.Tuple(kappa, y_star), tuple(steps), {"power": power})


def _derive_slow_sgdm() -> DerivationResult:
    return _slow_mode("sgdm")


def _derive_slow_adamw() -> DerivationResult:
    return _slow_mode("adamw")


register(
    Derivation(
        name="schedule_forms.slow_mode_sgdm",
        title="SGD/SGDM slow mode: y = ‖w‖⁴ relaxes as dy/dt = −κ_t(y − y*_t); returns (κ, y*)",
        source="derived here (adiabatic elimination of sgdm.moment_recursion; SGD is α = 0)",
        assumptions=(A_SLOW, A_CONTINUOUS),
        parameters=("lr", "weight_decay", "momentum", "unit_grad_sq"),
        derive=_derive_slow_sgdm,
        numeric=generated("schedule_forms.slow_mode_sgdm"),
        notes="κ = 4ηλ/(1 − α) is sgdm.contraction's first-order gap; √y* is sgdm.equilibrium_sq_norm_first_order.",
    )
)
register(
    Derivation(
        name="schedule_forms.slow_mode_adamw",
        title="AdamW slow mode: y = ‖x‖² relaxes as dy/dt = −κ_t(y − y*_t); returns (κ, y*)",
        source="derived here (adiabatic elimination of trajectory.adam_map)",
        assumptions=(A_SLOW, A_CONTINUOUS, "ε = 0; κ ≪ 1 − β₂ (the second moment follows the norm)"),
        parameters=("lr", "weight_decay", "dim"),
        derive=_derive_slow_adamw,
        numeric=generated("schedule_forms.slow_mode_adamw"),
        notes="β₁ drops out at leading order (the radial part of the momentum compensates its smaller norm).\n"
        "Under AdamC (λ_t = λη_t/η_max) y* = η_max d/(2λ) is constant: the norm does not move at leading order.",
    )
)


# ----------------------------------------------------------------------------------------------------------
# End of a decay: the freeze point and the frozen value
# ----------------------------------------------------------------------------------------------------------
def _shape_formula(shape: str):
    """The multiplier f(u) of a decay as a function of the remaining fraction u (sympy), as in spheretheory.schedules.

    cosine: Cosine(T, 0) and WSD(kind="cosine"): f = (1 + cos(π(1 − u)))/2; linear: Linear and WSD("linear"): f = u;
    sqrt: WSD("sqrt"): f = 1 − √(1 − u).
    """
    import sympy as sp

    u = sp.Symbol("u", positive=True)
    f = {
        "cosine": (1 + sp.cos(sp.pi * (1 - u))) / 2,
        "linear": u,
        "sqrt": 1 - sp.sqrt(1 - u),
    }[shape]
    return u, f


def end_shape(shape: str) -> dict[str, Any]:
    """(p, c, q, e₁, e₂) of f(u) = c u^p (1 + e₁u^q + e₂u^{2q} + …) near the end of the decay (sympy numbers)."""
    import sympy as sp

    u, f = _shape_formula(shape)
    ser = sp.expand(sp.series(f, u, 0, 8).removeO())
    terms = sorted(sp.Poly(ser, u).terms(), key=lambda t: t[0][0])
    (p,), c = terms[0]
    rel = sp.expand(ser / (c * u**p))
    powers = sorted({m[0] for m, _ in sp.Poly(rel, u).terms() if m[0] > 0})
    q = powers[0] if powers else 1
    return {"p": p, "c": c, "q": q, "e1": rel.coeff(u, q), "e2": rel.coeff(u, 2 * q), "u": u, "f": f}


def _frozen(shape: str):
    """Series in s = φ^q of y(T)/y*(T − s_f) to second order (sympy), and the freeze point."""
    import sympy as sp

    sh = end_shape(shape)
    p, q, e1, e2 = sh["p"], sh["q"], sh["e1"], sh["e2"]
    v, w, s = sp.symbols("v w s", positive=True)
    g = 1 + e1 * s * v**q + e2 * s**2 * v ** (2 * q)  # η(u_f v)/(η_max c (u_f v)^p), with s = u_f^q
    # the remaining relaxation ∫κ, in units where k u_f^{p+1} = 1
    K = (p + 1) * sp.integrate(sp.expand(w**p * g.subs(v, w)), (w, 0, v))
    lead_K = v ** (p + 1)
    integrand = (p + 1) * v ** (2 * p) * g**2 * sp.exp(-lead_K) * sp.exp(-(sp.expand(K) - lead_K))
    ser = sp.expand(sp.series(integrand, s, 0, 3).removeO())
    coeffs = []
    for n in range(3):
        term = sp.expand(ser.coeff(s, n) * sp.exp(lead_K))
        coeffs.append(sp.nsimplify(sp.integrate(term * sp.exp(-lead_K), (v, 0, sp.oo))))
    num = coeffs[0] + coeffs[1] * s + coeffs[2] * s**2
    den = 1 + e1 * s + e2 * s**2  # y*(u_f) against the leading power law
    ratio = sp.expand(sp.series(num / den, s, 0, 3).removeO())
    return sh, [sp.simplify(ratio.coeff(s, n)) for n in range(3)]


def _derive_freeze(shape: str) -> DerivationResult:
    import sympy as sp

    sh = end_shape(shape)
    p, c = sh["p"], sh["c"]
    rate, D, sf = sp.symbols("rate decay_steps s_f", positive=True)
    u = sp.Symbol("u", positive=True)
    remaining = sp.integrate(rate * D * c * u**p, (u, 0, sf / D))  # ∫ κ over the last s_f steps, κ = rate·f
    sol = sp.solve(sp.Eq(remaining, 1), sf)[0]
    steps = (
        Step(f"Decay multiplier near its end ({shape}), u = steps left/D: f(u) =", sh["f"]),
        Step("Leading power law f ≈ c u^p with (p, c) =", sp.Tuple(p, c)),
        Step("κ_t = rate·f (κ ∝ η at fixed λ; rate = κ at η_max); remaining relaxation over the last s_f steps",
             remaining),
        Step("Freeze point: remaining relaxation = 1 ⇒ s_f =", sol),
    )  # fmt: skip
    return DerivationResult(sol, steps)


def _derive_frozen_ratio(shape: str) -> DerivationResult:
    import sympy as sp

    sh, (r0, r1, r2) = _frozen(shape)
    phi = sp.Symbol("freeze_fraction", positive=True)
    q = sh["q"]
    expr = sp.N(r0, 20) + sp.N(r1, 20) * phi**q
    steps = (
        Step("y(T) = ∫₀^∞ κ y* e^{−∫κ over the rest} D du (λ fixed: κy* ∝ η²); u = u_f v with the remaining relaxation "
             "k u_f^{p+1} = 1; expanded in s = u_f^q: coefficients of s⁰, s¹, s²", sp.Tuple(r0, r1, r2)),
        Step("Leading term minus Γ((2p+1)/(p+1)) (must be 0)",
             sp.simplify(r0 - sp.gamma(sp.Rational(2 * sh["p"] + 1, sh["p"] + 1)))),
        Step("Frozen ratio y(T)/y*(T − s_f) to first order in φ^q, φ = s_f/D (numbers to 20 digits)", expr),
    )  # fmt: skip
    return DerivationResult(
        expr,
        steps,
        {
            "next_order": sp.N(r2, 20) * phi ** (2 * q),
            "next_order_coefficient": float(sp.N(r2, 20)),
            "next_order_power": int(2 * q),
            "leading": float(sp.N(r0, 20)),
            "coefficients": (r0, r1, r2),
        },
    )


def _derive_rise(shape: str) -> DerivationResult:
    import sympy as sp

    from . import get

    sh = end_shape(shape)
    phi = sp.Symbol("freeze_fraction", positive=True)
    nu = sp.Symbol("norm_power", positive=True)
    ratio = get(f"schedule_forms.{shape}_frozen_ratio").expr
    f_phi = sh["f"].subs(sh["u"], phi)  # y*(T − s_f)/y*(start of the decay) = η(T − s_f)/η_max at fixed λ
    expr = (ratio * f_phi) ** (-1 / nu)
    steps = (
        Step("‖g‖/‖w‖ = √L/‖w‖² with ‖w‖² = y^{1/ν} (ν = 2: SGD/SGDM, y = ‖w‖⁴; ν = 1: AdamW, y = ‖x‖²)"),
        Step("Before the freeze y ≈ y* ∝ η/λ: ‖g‖/‖w‖ ∝ (λ/η_t)^{1/ν} (AdamW: Defazio's ‖g‖ ∝ 1/‖w‖, ‖w‖ ∝ √(η/λ))"),
        Step("After it y stays near y(T) = frozen_ratio·y*(T − s_f): rise from the start of the decay to the end "
             "= (y*(start)/y(T))^{1/ν}", expr),
    )  # fmt: skip
    return DerivationResult(expr, steps)


SHAPES = ("cosine", "linear", "sqrt")
_SHAPE_TEXT = {
    "cosine": "cosine decay (Cosine to 0; WSD kind='cosine')",
    "linear": "linear decay (Linear to 0; WSD kind='linear')",
    "sqrt": "1 − √ decay (WSD kind='sqrt')",
}
for _shape in SHAPES:
    register(
        Derivation(
            name=f"schedule_forms.{_shape}_freeze_steps",
            title=f"Freeze point of the norm at the end of a {_SHAPE_TEXT[_shape]}: steps left when ∫κ (rest) = 1",
            source="derived here",
            assumptions=(A_SLOW, A_CONTINUOUS, A_LAMBDA_FIXED, "the leading power law of the decay's end"),
            parameters=("rate", "decay_steps"),
            derive=lambda s=_shape: _derive_freeze(s),
            numeric=generated(f"schedule_forms.{_shape}_freeze_steps"),
            notes="rate = κ at η_max (schedule_forms.slow_mode_*), decay_steps = D (the whole run for Cosine/Linear).",
        )
    )
    register(
        Derivation(
            name=f"schedule_forms.{_shape}_frozen_ratio",
            title=f"Final slow variable over the equilibrium at the freeze point, {_SHAPE_TEXT[_shape]}",
            source="derived here",
            assumptions=(A_SLOW, A_CONTINUOUS, A_LAMBDA_FIXED, A_POWER),
            parameters=("freeze_fraction",),
            derive=lambda s=_shape: _derive_frozen_ratio(s),
            numeric=generated(f"schedule_forms.{_shape}_frozen_ratio"),
            notes="freeze_fraction φ = s_f/D. Neglected: the next order (result.extra['next_order'], ∝ φ^{2q}), "
            "O(κ at the freeze) from discreteness\nand the fast modes, e^{−∫κ over the decay}.",
        )
    )
    register(
        Derivation(
            name=f"schedule_forms.{_shape}_grad_norm_rise",
            title=f"Late-run rise of ‖g‖/‖w‖ from the start to the end of a {_SHAPE_TEXT[_shape]}",
            source="derived here; the tracking phase is Defazio (2025)'s ‖g‖ ∝ 1/‖w‖ with ‖w‖ ∝ √(η_t/λ) (AdamW)",
            assumptions=(A_SLOW, A_CONTINUOUS, A_LAMBDA_FIXED, A_POWER, "L constant",
                         "the run is at equilibrium when the decay starts"),
            parameters=("freeze_fraction", "norm_power"),
            derive=lambda s=_shape: _derive_rise(s),
            numeric=generated(f"schedule_forms.{_shape}_grad_norm_rise"),
            notes="norm_power ν = 2 for SGD/SGDM, 1 for AdamW. The error is that of the frozen ratio, times 1/ν.",
        )
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------------------
# Warmup
# ----------------------------------------------------------------------------------------------------------
def _derive_warmup() -> DerivationResult:
    import sympy as sp

    z = sp.Symbol("warmup_relaxation", positive=True)
    r0 = sp.Symbol("start_ratio", nonnegative=True)
    v = sp.Symbol("warmup_progress", positive=True)
    x = sp.Symbol("x", positive=True)
    # linear warmup η_t = η_max t/W, λ fixed: κ = κ_max v, y* = y*_max v, ∫₀^v κ W dv' = z v² with z = κ_max W/2
    y0 = r0  # in units of y*_max
    forced = sp.integrate(2 * z * x**2 * sp.exp(-z * (v**2 - x**2)), (x, 0, v))
    y = sp.exp(-z * v**2) * y0 + forced
    ratio = sp.expand(sp.simplify(sp.expand(y / v)).rewrite(sp.erfi))
    check = sp.simplify(sp.diff(y, v) - (2 * z * v) * (v - y))  # dy/dv = κW(y* − y) with y* = v (must be 0)
    steps = (
        Step("Linear warmup η = η_max v, v = t/W ≤ 1, λ fixed: in units of y*(η_max), dy/dv = 2zv(v − y), "
             "z = κ(η_max)W/2 (the warmup's total relaxation), y(0) = start_ratio r₀"),
        Step("Solution y(v) = e^{−zv²}r₀ + ∫₀^v 2z x² e^{−z(v² − x²)} dx =", y),
        Step("Check: dy/dv − 2zv(v − y) (must be 0)", check),
        Step("Ratio to the instantaneous equilibrium y/y*(v) = y/v; with Dawson's F(x) = (√π/2)e^{−x²}erfi(x): "
             "1 − F(√z v)/(√z v) + r₀e^{−zv²}/v", ratio),
    )  # fmt: skip
    return DerivationResult(ratio, steps, {"check": check})


def warmup_sq_norm_ratio(warmup_relaxation: Any, start_ratio: Any, warmup_progress: Any = 1.0) -> np.ndarray:
    """y/y* during a linear warmup, ``schedule_forms.warmup_sq_norm_ratio``: 1 − F(√z v)/(√z v) + r₀e^{−zv²}/v.

    z = κ(η_max)·W/2, r₀ = y₀/y*(η_max), v = t/W; F is Dawson's integral. The angular update overshoots its
    equilibrium by Δ/Δ* = (y/y*)^{−1/2}.
    """
    from scipy.special import dawsn

    z, r0, v = (np.asarray(x, dtype=float) for x in (warmup_relaxation, start_ratio, warmup_progress))
    xx = np.sqrt(z) * v
    with np.errstate(divide="ignore", invalid="ignore"):
        lag = np.where(xx > 1e-8, dawsn(xx) / np.where(xx > 0, xx, 1.0), 1.0 - 2.0 * xx**2 / 3.0)
    return 1.0 - lag + np.exp(-z * v**2) * r0 / v


def _derive_post_warmup() -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    rate = sp.Symbol("rate", positive=True)
    r_w = sp.Symbol("R_W", positive=True)
    t = sp.Symbol("t", positive=True)
    r = S.rtol
    delta = 1 - r_w  # y/y* = 1 − δ e^{−κt} after the warmup (constant η_max)
    below = sp.solve(sp.Eq((1 - delta * sp.exp(-rate * t)) ** sp.Rational(-1, 2), 1 + r), t)
    above = sp.solve(sp.Eq((1 - delta * sp.exp(-rate * t)) ** sp.Rational(-1, 2), 1 - r), t)
    expr = sp.Piecewise((sp.Max(0, below[0]), r_w < 1), (sp.Max(0, above[0]), r_w > 1), (0, True))
    from . import get

    ratio = get("schedule_forms.warmup_sq_norm_ratio").expr
    full = expr.subs(r_w, ratio.subs(sp.Symbol("warmup_progress", positive=True), 1))
    steps = (
        Step("After the warmup η = η_max: y/y* = 1 − (1 − R_W)e^{−κt}, R_W = warmup_sq_norm_ratio at v = 1, "
             "κ = rate (κ at η_max); Δ/Δ* = (y/y*)^{−1/2}"),
        Step("Steps until |Δ/Δ* − 1| ≤ rtol (R_W < 1: Δ above Δ*; R_W > 1: below)", expr),
        Step("With R_W from the warmup", full),
    )  # fmt: skip
    return DerivationResult(full, steps, {"in_R_W": expr})


def post_warmup_steps(rate: Any, warmup_relaxation: Any, start_ratio: Any, rtol: Any) -> np.ndarray:
    """Steps after a linear warmup until |Δ/Δ* − 1| ≤ rtol, ``schedule_forms.post_warmup_steps``.

    t = ln(|1 − R_W|/h)/κ with R_W = :func:`warmup_sq_norm_ratio` at the warmup's end, h = 1 − (1 + rtol)^{−2}
    (R_W < 1) or (1 − rtol)^{−2} − 1 (R_W > 1), κ = rate (the slow mode's κ at η_max); 0 when already within rtol.
    """
    rate, rtol = np.asarray(rate, dtype=float), np.asarray(rtol, dtype=float)
    rw = warmup_sq_norm_ratio(warmup_relaxation, start_ratio, 1.0)
    h = np.where(rw < 1, 1.0 - (1.0 + rtol) ** -2, (1.0 - rtol) ** -2 - 1.0)
    with np.errstate(divide="ignore"):
        t = np.log(np.abs(1.0 - rw) / h) / rate
    return np.maximum(t, 0.0)


register(
    Derivation(
        name="schedule_forms.warmup_sq_norm_ratio",
        title="Linear warmup from y₀: slow variable over its instantaneous equilibrium, y/y*(v) (Dawson function)",
        source="derived here",
        assumptions=(A_SLOW, A_CONTINUOUS, "λ fixed during the warmup", "linear warmup η_t = η_max·t/W from t = 0"),
        parameters=("warmup_relaxation", "start_ratio", "warmup_progress"),
        derive=_derive_warmup,
        numeric=warmup_sq_norm_ratio,
        codegen=False,
        notes="z = κ(η_max)W/2 (SGDM: 2η_maxλW/(1 − α); AdamW: η_maxλW), r₀ = y₀/y*(η_max) (SGD family: "
        "(‖w₀‖²/‖w*‖²)²; AdamW: ‖x₀‖²/‖x*‖²).\nThe overshoot of the angular update is (y/y*)^{−1/2}. Neglected "
        "besides A_SLOW: the discrete steps' O(Δ_t²) when the start norm is tiny.",
    )
)
register(
    Derivation(
        name="schedule_forms.post_warmup_steps",
        title="Steps after a linear warmup until |Δ/Δ* − 1| ≤ rtol (constant LR after the warmup)",
        source="derived here",
        assumptions=(A_SLOW, A_CONTINUOUS, "λ fixed", "η constant after the warmup (a decay that starts later "
                     "changes Δ* and makes this an estimate)"),
        parameters=("rate", "warmup_relaxation", "start_ratio", "rtol"),
        derive=_derive_post_warmup,
        numeric=post_warmup_steps,
        codegen=False,
    )
)  # fmt: skip
