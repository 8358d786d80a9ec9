"""Sympy symbols and series helpers shared by the derivation modules (imports sympy: import lazily)."""

from __future__ import annotations

import sympy as sp

#: The canonical symbols. Their names are the numeric functions' argument names.
lr = sp.Symbol("lr", positive=True)
weight_decay = sp.Symbol("weight_decay", positive=True)
momentum = sp.Symbol("momentum", nonnegative=True)
unit_grad_sq = sp.Symbol("unit_grad_sq", positive=True)
sq_norm = sp.Symbol("sq_norm", positive=True)
factor = sp.Symbol("factor", positive=True)
rtol = sp.Symbol("rtol", positive=True)
#: The intrinsic learning rate ε = ηλ (Li, Lyu & Arora 2020), used as the series variable.
eps = sp.Symbol("epsilon", positive=True)


def in_eps(expr: sp.Expr) -> sp.Expr:
    """Rewrite ``expr`` with λ = ε/η, so that the series in ηλ is a series in ε at fixed η."""
    return sp.simplify(expr.subs(weight_decay, eps / lr))


def from_eps(expr: sp.Expr) -> sp.Expr:
    """Undo :func:`in_eps`: substitute ε = ηλ."""
    return sp.simplify(expr.subs(eps, lr * weight_decay))


def leading_and_next(expr: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """Leading term of ``expr`` as ε = ηλ → 0, and the next term of ``expr / leading`` (relative correction).

    Returns ``(leading, relative_next)`` both in terms of (η, λ, ...), with
    ``expr = leading * (1 + relative_next + o(relative_next))``.
    """
    e = in_eps(expr)
    lead = sp.simplify(sp.series(e, eps, 0, 1).removeO().as_leading_term(eps))
    if lead == 0:
        lead = e.as_leading_term(eps)
    ratio = sp.simplify(e / lead)
    ser = sp.series(ratio, eps, 0, 2).removeO()
    rel = sp.simplify(sp.expand(ser) - 1)
    # keep only the lowest non-vanishing power of ε in the relative correction
    rel = sp.simplify(rel.as_leading_term(eps)) if rel != 0 else rel
    return tidy(from_eps(lead)), tidy(from_eps(rel))


def tidy(expr: sp.Expr) -> sp.Expr:
    """Simplify, factoring inside radicals first (so that sqrt((1+α)²) becomes 1+α).

    Also rewrites in q = 1 − α (positive) when the momentum appears, so that sympy can pull (1 − α) out of
    radicals instead of printing sqrt(−1/(α − 1)).
    """
    expr = sp.simplify(sp.factor(expr, deep=True))
    if momentum in getattr(expr, "free_symbols", ()):
        q = sp.Symbol("q", positive=True)
        alt = sp.simplify(sp.factor(expr.subs(momentum, 1 - q), deep=True)).subs(q, 1 - momentum)
        if sp.count_ops(alt) < sp.count_ops(expr):
            expr = alt
    return expr


def acos_one_minus(x: sp.Expr) -> sp.Expr:
    """arccos(1 − x) written as 2·asin(√(x/2)): the same angle for 0 ≤ x ≤ 2, without the cancellation of
    1 − x in floating point when x ≪ 1 (the generated numpy twin keeps full relative precision)."""
    return 2 * sp.asin(sp.sqrt(x / 2))
