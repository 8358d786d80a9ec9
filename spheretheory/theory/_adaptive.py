"""Shared pieces of the adaptive-optimizer derivations (Adam family, Lion): sources, assumptions, symbols.

No sympy at module level (see :mod:`spheretheory.theory.base`).
"""

from __future__ import annotations

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
