"""Lion (decoupled weight decay) on a scale-invariant weight: arcsine-law equilibrium (``lion.*``).

No sympy at module level (see :mod:`spheretheory.theory.base`).
"""

from __future__ import annotations

import math

import numpy as np

from . import register
from ._adaptive import A_GAUSS, A_SCALE_INV, A_SMALL, A_SYMMETRIC, KOSSON, _sym, _syms
from ._numeric import generated
from .base import Derivation, DerivationResult, Step

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
