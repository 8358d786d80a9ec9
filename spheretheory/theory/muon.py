"""Muon (``torch.optim.Muon``) on a scale-invariant m×n matrix: equilibrium norm, angular update, update correlation.

Update rule (PyTorch): B_t = βB_{t−1} + (1−β)G_t; U_t = (1−β)G_t + βB_t (Nesterov) or B_t; O_t = orth(U_t);
W_{t+1} = ρW_t − η'O_t with ρ = 1 − ηλ (the decay uses the base rate η) and η' = s_η·η the adjusted rate
(``adjust_lr_fn``: s_η = √max(1, m/n) for None/"original", 0.2·√max(m, n) for "match_rms_adamw").

Muon's update is scale-free: orth(U) does not depend on ‖U‖, so ‖W‖ and the gradient scale drop out (as for
Lion). The equilibrium is set by the autocorrelation of the orthogonalised updates R(k) = E⟨O_t, O_{t+k}⟩:

* the Nesterov momentum U_t = Σ_j w_j G_{t−j} has weights w_0 = 1 − β², w_j = (1−β)β^{j+1}; for i.i.d. Gaussian
  G its lag-k correlation is c_k = c₁β^{k−1} (``muon.momentum_correlation``);
* orth is a matrix nonlinearity. Bussgang decomposition orth(M) = γM + R (R uncorrelated with M) gives the
  linear gain κ = (E⟨orth M, M⟩)²/(E‖orth M‖²E‖M‖²) ≤ 1; we close the remainder's correlation at its lowest
  odd order, φ(c) = R(k)/R(0) ≈ κc + (1 − κ)c³ (exact at c = 0, 1 and in slope at 0). κ and the update power
  s² = E‖orth M‖²/k (k = min(m, n)) come from the Marchenko–Pastur law of the singular values of a Gaussian
  matrix (``muon.orth_moments``): exact polar factor UVᵀ: s² = 1 (all singular values 1); Newton–Schulz: the
  quintic p(x) = ax + bx³ + cx⁵ iterated 5 times on the Frobenius-normalised singular values maps them into
  roughly [0.7, 1.2] — this spread lowers both s² (≈ 0.71 at 32×64) and κ (≈ 0.82 vs 0.87): the equilibrium
  norm scales with s, the angle only through κ;
* then the AdamW/Lion stationary-sum argument (symmetric noise) gives E‖W‖² = η'²k s²(1 + 2Σ_k ρ^kφ(c_k))/(1−ρ²)
  and tan Δ* = √(S − Q²)/(ρS + Q) with the radial part Q of the update (``adamw.angular_update``'s form).
"""

from __future__ import annotations

import numpy as np

from . import register
from ._adaptive import A_SCALE_INV, A_SYMMETRIC, _sym
from ._numeric import generated
from .base import Derivation, DerivationResult, Step

SOURCE = "torch.optim.Muon (Jordan et al. 2024, 'Muon: an optimizer for hidden layers'); derived here"
A_GAUSS = "gradient noise i.i.d. Gaussian in time and across entries (its m×n matrices are Gaussian)"
A_CLOSURE = (
    "update correlation φ(c) = κc + (1−κ)c³: Bussgang linear gain κ of orth, remainder correlation closed at order c³"
)
A_MP = "large m, n at fixed aspect ratio: singular values follow the Marchenko–Pastur law"


def _c1():
    import sympy as sp

    b = _sym("momentum", nonnegative=True)
    j = sp.Symbol("j", integer=True, positive=True)
    k = sp.Symbol("k", integer=True, positive=True)
    w0, wj = 1 - b**2, (1 - b) * b ** (j + 1)
    # geometric sums over j ≥ 1 (ratio β², |β| < 1): first term / (1 − β²)
    var = sp.simplify(w0**2 + (wj**2).subs(j, 1) / (1 - b**2))
    cov_k = sp.simplify(w0 * wj.subs(j, k) + (wj * wj.subs(j, j + k)).subs(j, 1) / (1 - b**2))
    pt = {b: sp.Rational(9, 10), k: 3}  # check against sympy's summation at a sample point
    direct = sp.summation((wj * wj.subs(j, j + k)).subs(pt), (j, 1, sp.oo))
    assert sp.simplify(direct - (cov_k - w0 * wj.subs(j, k)).subs(pt)) == 0
    return b, k, w0, wj, var, cov_k


def _derive_corr() -> DerivationResult:
    import sympy as sp

    b, k, w0, wj, var, cov_k = _c1()
    c_k = sp.simplify(cov_k / var)
    c1 = sp.factor(sp.simplify(c_k.subs(k, 1)))
    ratio = sp.simplify(c_k.subs(k, k + 1) / c_k)
    steps = (
        Step("Nesterov momentum: U_t = (1−β)G_t + βB_t = Σ_j w_j G_{t−j}, w₀ = 1 − β², w_j = (1−β)β^{j+1}", wj),
        Step("Var U/σ² = Σ_j w_j² (|β| < 1)", var),
        Step("Cov(U_t, U_{t+k})/σ², k ≥ 1", cov_k),
        Step("c_{k+1}/c_k = β: the correlation is geometric", ratio),
        Step("Lag-1 correlation c₁ (plain EMA momentum, nesterov=False: c_k = β^k)", c1),
    )
    return DerivationResult(c1, steps, {"c_k": c_k})


def _sums():
    import sympy as sp

    from . import _sym as S

    b = _sym("momentum", nonnegative=True)
    kap = _sym("orth_gain", positive=True)
    rho = 1 - S.lr * S.weight_decay
    c1 = CORR.expr
    # Σ_{k≥1} ρ^k φ(c_k), c_k = c₁β^{k−1}, φ(c) = κc + (1−κ)c³: two geometric sums
    sig = kap * rho * c1 / (1 - rho * b) + (1 - kap) * rho * c1**3 / (1 - rho * b**3)
    S_ = (1 + 2 * sig) / (1 - rho**2)
    Q = sig / rho
    return sp, S, b, kap, rho, c1, sig, S_, Q


def _derive_update_corr() -> DerivationResult:
    b = _sym("momentum", nonnegative=True)
    kap = _sym("orth_gain", positive=True)
    c1 = CORR.expr
    expr = kap * c1 + (1 - kap) * c1**3
    steps = (
        Step("orth(M) = γM + R, γ = E⟨orth M, M⟩/E‖M‖², R uncorrelated with M (Bussgang); κ = γ²E‖M‖²/E‖orth M‖²"),
        Step("Correlation of orth(U_t), orth(U_{t+k}): φ(c) = κc + (1−κ)ψ(c), ψ(0) = ψ′(0) = 0, ψ(1) = 1"),
        Step("Closure ψ(c) = c³ (lowest odd order); lag 1: φ(c₁)", expr),
    )
    return DerivationResult(expr, steps, {"momentum": b, "orth_gain": kap})


def _derive_sq_norm() -> DerivationResult:
    sp, S, b, kap, rho, c1, sig, S_, Q = _sums()
    k, s2, scale = _sym("rank"), _sym("orth_sq_scale"), _sym("lr_scale")
    expr = (scale * S.lr) ** 2 * k * s2 * S_
    steps = (
        Step("W_t = ρ^t W_0 − η' Σ_n ρ^n O_{t−1−n}; symmetric noise ⇒ cross terms with W_0 vanish"),
        Step("R(0) = E‖O‖² = k s²; R(k) = k s² φ(c_k); Σ_{k≥1} ρ^k φ(c_k) (two geometric sums)", sig),
        Step("E‖W‖² → η'² (R(0) + 2Σ_k ρ^k R(k))/(1 − ρ²), η' = s_η η", expr),
        Step("Naive (uncorrelated updates, φ = 0): η'² k s²/(1 − ρ²) ≈ η'²k/(2ηλ) — Muon's norm is larger by 1 + 2Σφ"),
    )
    return DerivationResult(expr, steps, {"sum_phi": sig})


def _derive_angle() -> DerivationResult:
    sp, S, b, kap, rho, c1, sig, S_, Q = _sums()
    tan = sp.sqrt(S_ - Q**2) / (rho * S_ + Q)
    expr = sp.atan(tan)
    steps = (
        Step("Radial part: ⟨W_t, O_t⟩ = −η' Σ_n ρ^n R(n+1) = −η' k s² Q, Q = Σ_{k≥1} ρ^{k−1} φ(c_k)", Q),
        Step("tan Δ* = η'‖O⊥‖/(ρ r* − η'O_r), ‖O⊥‖² = k s² − O_r², r*² = η'²k s² S (k s², η' cancel)", tan),
        Step("Δ*: depends on ηλ, β and κ only (not on η', s², the shape or the gradient scale)", expr),
    )
    return DerivationResult(expr, steps)


def _derive_angle_first() -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    b = _sym("momentum", nonnegative=True)
    kap = _sym("orth_gain", positive=True)
    c1 = CORR.expr
    sig0 = kap * c1 / (1 - b) + (1 - kap) * c1**3 / (1 - b**3)
    expr = sp.sqrt(2 * S.lr * S.weight_decay / (1 + 2 * sig0))
    steps = (
        Step("ηλ → 0: ρ → 1 inside the correlation sums, 1/(1 − ρ²) → 1/(2ηλ)", sig0),
        Step("Δ* ≈ √(2ηλ/(1 + 2Σ_k φ(c_k))): far below the naive √(2ηλ) when the updates are correlated", expr),
    )
    return DerivationResult(expr, steps)


CORR = register(
    Derivation(
        name="muon.momentum_correlation",
        title="Lag-1 correlation c₁ of Muon's Nesterov momentum (c_k = c₁β^{k−1})",
        source=SOURCE,
        assumptions=(A_GAUSS,),
        parameters=("momentum",),
        derive=_derive_corr,
        numeric=generated("muon.momentum_correlation"),
    )
)
_ASSUME = (A_SCALE_INV, A_SYMMETRIC, A_GAUSS, A_CLOSURE)
register(
    Derivation(
        name="muon.update_correlation",
        title="Correlation ⟨O_t, O_{t+1}⟩/‖O‖² of consecutive orthogonalised Nesterov-momentum updates",
        source=SOURCE,
        assumptions=_ASSUME,
        parameters=("momentum", "orth_gain"),
        derive=_derive_update_corr,
        numeric=generated("muon.update_correlation"),
    )
)
SQ_NORM = register(
    Derivation(
        name="muon.equilibrium_sq_norm",
        title="Muon equilibrium E‖W‖² of a scale-invariant matrix (finite ηλ)",
        source=SOURCE,
        assumptions=_ASSUME,
        parameters=("lr", "weight_decay", "momentum", "rank", "lr_scale", "orth_gain", "orth_sq_scale"),
        derive=_derive_sq_norm,
        numeric=generated("muon.equilibrium_sq_norm"),
    )
)
register(
    Derivation(
        name="muon.angular_update",
        title="Muon equilibrium angular update Δ* (finite ηλ, with the radial part of the update)",
        source=SOURCE,
        assumptions=_ASSUME,
        parameters=("lr", "weight_decay", "momentum", "orth_gain"),
        derive=_derive_angle,
        numeric=generated("muon.angular_update"),
    )
)
register(
    Derivation(
        name="muon.angular_update_first_order",
        title="Muon equilibrium angular update to first order in ηλ: √(2ηλ/(1 + 2Σ_k φ(c_k)))",
        source=SOURCE,
        assumptions=(*_ASSUME, "ηλ ≪ 1 − β"),
        parameters=("lr", "weight_decay", "momentum", "orth_gain"),
        derive=_derive_angle_first,
        numeric=generated("muon.angular_update_first_order"),
    )
)


def _derive_sq_norm_first() -> DerivationResult:
    from . import _sym as S

    b = _sym("momentum", nonnegative=True)
    kap = _sym("orth_gain", positive=True)
    k, s2, scale = _sym("rank"), _sym("orth_sq_scale"), _sym("lr_scale")
    c1 = CORR.expr
    sig0 = kap * c1 / (1 - b) + (1 - kap) * c1**3 / (1 - b**3)
    expr = (scale * S.lr) ** 2 * k * s2 * (1 + 2 * sig0) / (2 * S.lr * S.weight_decay)
    steps = (
        Step("muon.equilibrium_sq_norm with ρ → 1 inside the correlation sums and 1 − ρ² → 2ηλ", expr),
        Step("= naive η'²k s²/(2ηλ) times 1 + 2Σ_k φ(c_k): the momentum correlation enlarges the norm", sig0),
    )
    return DerivationResult(expr, steps)


register(
    Derivation(
        name="muon.equilibrium_sq_norm_first_order",
        title="Muon equilibrium E‖W‖² to first order in ηλ",
        source=SOURCE,
        assumptions=(*_ASSUME, "ηλ ≪ 1 − β"),
        parameters=("lr", "weight_decay", "momentum", "rank", "lr_scale", "orth_gain", "orth_sq_scale"),
        derive=_derive_sq_norm_first,
        numeric=generated("muon.equilibrium_sq_norm_first_order"),
    )
)


def _derive_hyperball() -> DerivationResult:
    from . import _sym as S

    b = _sym("momentum", nonnegative=True)
    k, s2, scale = _sym("rank"), _sym("orth_sq_scale"), _sym("lr_scale")
    a = 1 - S.lr * S.weight_decay
    expr = (scale * S.lr) ** 2 * k * s2 * (1 + a * b) / ((1 - a**2) * (1 - a * b))
    steps = (
        Step("Hyperball form (adamw.equilibrium_sq_norm_hyperball) with η → η', U² = ‖O‖² = k s², β₁ → β", expr),
        Step("It assumes the updates correlate as β^k (an EMA of independent updates); Muon's orthogonalised"),
        Step("Nesterov updates correlate as φ(c₁β^{k−1}) (muon.update_correlation), which is smaller"),
    )
    return DerivationResult(expr, steps)


register(
    Derivation(
        name="muon.equilibrium_sq_norm_hyperball",
        title="Muon E‖W‖² in the exact discrete 'hyperball' form (update correlation β^k), side by side with ours",
        source="Wen et al. (2025) hyperball form applied to Muon, as quoted in issue 10 (paper not in the library)",
        assumptions=(A_SCALE_INV, A_SYMMETRIC, "update autocorrelation β^k"),
        parameters=("lr", "weight_decay", "momentum", "rank", "lr_scale", "orth_sq_scale"),
        derive=_derive_hyperball,
        numeric=generated("muon.equilibrium_sq_norm_hyperball"),
    )
)

#: torch.optim.Muon's quintic Newton–Schulz coefficients (a, b, c) and default number of iterations.
NS_COEFFICIENTS: tuple[float, float, float] = (3.4445, -4.7750, 2.0315)
NS_STEPS = 5


def newton_schulz_scalar(x, steps: int = NS_STEPS, coefficients=NS_COEFFICIENTS):
    """The Newton–Schulz map on one singular value: p(x) = ax + bx³ + cx⁵, iterated ``steps`` times."""
    a, b, c = coefficients
    for _ in range(int(steps)):
        x = a * x + b * x**3 + c * x**5
    return x


def orth_moments(rows, cols, ns_steps=NS_STEPS):
    """(κ, s²) of orth for a Gaussian rows×cols matrix, from the Marchenko–Pastur law (``muon.orth_moments``).

    ``ns_steps`` = 0 means the exact polar factor (s² = 1). Vectorized over the arguments. The expectations over
    the MP density on [λ₋, λ₊] are integrals in θ with λ = c + r·cos θ (c, r the centre and half-width): the
    density's √((λ₊ − λ)(λ − λ₋)) = r·sin θ cancels the endpoint singularities, leaving a smooth integrand on
    [0, π], even and periodic in θ, for which the midpoint rule converges fast (:data:`MP_NODES` nodes; agrees
    with scipy's adaptive quadrature to 1e-11, and to 3e-8 for square matrices with the polar factor, where
    √λ has a kink at λ₋ = 0 and the rule converges as 1/n²). Needs no scipy (predict stays cheap)."""
    rows, cols, ns_steps = np.broadcast_arrays(*(np.asarray(v) for v in (rows, cols, ns_steps)))
    theta = (np.arange(MP_NODES) + 0.5) * np.pi / MP_NODES  # midpoint rule: spectral for an even periodic integrand
    wq = np.full(MP_NODES, np.pi / MP_NODES)
    kap, s2 = np.empty(rows.shape), np.empty(rows.shape)
    for i in np.ndindex(rows.shape):
        k, big, steps = min(rows[i], cols[i]), max(rows[i], cols[i]), int(ns_steps[i])
        q = k / big
        lo, hi = (1 - np.sqrt(q)) ** 2, (1 + np.sqrt(q)) ** 2
        centre, half = (hi + lo) / 2, (hi - lo) / 2
        lam = centre + half * np.cos(theta)
        # dens(λ)dλ = √((λ₊−λ)(λ−λ₋))/(2πqλ) dλ = (r sin θ)²/(2πqλ) dθ
        measure = wq * (half * np.sin(theta)) ** 2 / (2 * np.pi * q * lam)
        # σ̂ = σ/‖M‖_F ≈ √(λ/k): ‖M‖_F² concentrates at k·big
        p = np.ones_like(lam) if steps == 0 else newton_schulz_scalar(np.sqrt(lam / k), steps)
        e_pl, e_p2, e_l = (float(np.sum(f * measure)) for f in (p * np.sqrt(lam), p**2, lam))
        kap[i], s2[i] = e_pl**2 / (e_p2 * e_l), e_p2
    return kap[()], s2[()]


#: Nodes of :func:`orth_moments`' midpoint rule in θ.
MP_NODES = 4000


def _derive_moments() -> DerivationResult:
    import sympy as sp

    lam, q, x = sp.symbols("lambda q x", positive=True)
    lo, hi = (1 - sp.sqrt(q)) ** 2, (1 + sp.sqrt(q)) ** 2
    dens = sp.sqrt((hi - lam) * (lam - lo)) / (2 * sp.pi * q * lam)
    p = sp.Function("p")
    gain = sp.Integral(p(lam) * sp.sqrt(lam) * dens, (lam, lo, hi)) ** 2 / (
        sp.Integral(p(lam) ** 2 * dens, (lam, lo, hi)) * sp.Integral(lam * dens, (lam, lo, hi))
    )
    s2 = sp.Integral(p(lam) ** 2 * dens, (lam, lo, hi))
    a, b, c = (sp.nsimplify(v) for v in NS_COEFFICIENTS)
    steps = (
        Step(
            "Singular values of a Gaussian m×n matrix (unit entries): σ² = max(m, n)·λ, λ ~ Marchenko–Pastur(q)", dens
        ),
        Step("orth acts on singular values: O = U p(σ̂) Vᵀ, σ̂ = σ/‖M‖_F ≈ √(λ/k); polar: p ≡ 1"),
        Step("Newton–Schulz step (torch.optim.Muon's coefficients), iterated 5 times", a * x + b * x**3 + c * x**5),
        Step("Update power s² = E‖O‖²/k", s2),
        Step("Bussgang gain κ = (E⟨O, M⟩)²/(E‖O‖²E‖M‖²)", gain),
        Step("Numeric: midpoint rule in θ, λ = c + r·cos θ (hand-written; checked against Monte Carlo in the tests)"),
    )
    return DerivationResult(sp.Tuple(gain, s2), steps)


register(
    Derivation(
        name="muon.orth_moments",
        title="Linear gain κ and power s² of Muon's orthogonalisation (polar or Newton–Schulz) of a Gaussian matrix",
        source="derived here (Marchenko–Pastur law; torch.optim.Muon's Newton–Schulz coefficients)",
        assumptions=(A_GAUSS, A_MP),
        parameters=("rows", "cols", "ns_steps"),
        derive=_derive_moments,
        numeric=orth_moments,
        codegen=False,
    )
)
