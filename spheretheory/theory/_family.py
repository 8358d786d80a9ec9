"""Derivations that follow from an optimizer's exact equilibrium and contraction, the same for SGD and SGDM.

Given, for an optimizer family with prefix ``P``, the registered exact derivations

* ``P.equilibrium_sq_norm``  x* — fixed point of the (mean-field) norm recursion,
* ``P.angular_update``       Δ* — exact equilibrium angular update,
* ``P.contraction``          μ — slowest eigenvalue of the linearised recursion at x*,

this module registers the derived results: first-order forms in ε = ηλ (with the size of the next term),
effective learning rate, relaxation time, and the learning-rate-drop transition (Wan et al. Corollary 3.1).
No sympy at module level.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import register
from ._numeric import generated
from .base import Derivation, DerivationResult, Step


def _lead_deriv(base: Derivation, name: str, title: str, source: str, paper_form_note: str) -> Derivation:
    def derive() -> DerivationResult:
        from . import _sym as S

        exact = base.expr
        lead, rel = S.leading_and_next(exact)
        steps = (
            Step(f"Exact result ({base.name})", exact),
            Step("Substitute λ = ε/η (ε = ηλ, the intrinsic learning rate) and expand in ε → 0"),
            Step("Leading term", lead),
            Step("Relative size of the next term: exact = leading · (1 + r + o(r)), r =", rel),
        )
        return DerivationResult(lead, steps, {"relative_next_term": rel, "exact": exact})

    return register(
        Derivation(
            name=name,
            title=title,
            source=source,
            assumptions=(*base.assumptions, "ηλ ≪ 1: only the leading term of the series in ε = ηλ is kept"),
            parameters=tuple(base.parameters),
            derive=derive,
            numeric=generated(name),
            notes=paper_form_note,
        )
    )


def register_family(
    prefix: str,
    *,
    parameters: Sequence[str],
    paper: str,
    paper_sq_norm: str,
    paper_angular: str,
    paper_rate_text: str,
    paper_bound_text: str,
    paper_rate,
    paper_bound,
) -> None:
    """Register the derived results of family ``prefix`` (see the module docstring).

    ``paper_rate`` and ``paper_bound`` are zero-argument functions returning the *printed* sympy forms (the
    claims under test), used for the comparison derivations.
    """
    from . import get

    eq = get(f"{prefix}.equilibrium_sq_norm")
    ang = get(f"{prefix}.angular_update")
    con = get(f"{prefix}.contraction")
    params = tuple(parameters)

    _lead_deriv(
        eq,
        f"{prefix}.equilibrium_sq_norm_first_order",
        "First-order equilibrium squared norm ‖w*‖² (leading term in ηλ)",
        paper_sq_norm,
        "Compare with the paper's w*² (the theorem's w* is a norm, so its square is this quantity).",
    )
    _lead_deriv(
        ang,
        f"{prefix}.angular_update_first_order",
        "First-order equilibrium angular update (leading term in ηλ)",
        paper_angular,
        "The paper's Thm 3 value √(2λη/(1+α)); the exact value is larger by the relative amount shown.",
    )

    def derive_elr() -> DerivationResult:
        from . import _sym as S

        expr = S.tidy(S.lr / eq.expr)
        return DerivationResult(
            expr,
            (
                Step("Effective learning rate on the unit sphere: η_eff = η/‖w‖² (van Laarhoven 2017)"),
                Step(f"At the equilibrium ‖w‖² = x* ({eq.name})", expr),
            ),
        )

    elr = register(
        Derivation(
            name=f"{prefix}.effective_lr",
            title="Equilibrium effective learning rate η/‖w*‖²",
            source="van Laarhoven (2017); Wan et al. (2021) Sec. 1",
            assumptions=tuple(eq.assumptions),
            parameters=params,
            derive=derive_elr,
            numeric=generated(f"{prefix}.effective_lr"),
        )
    )
    _lead_deriv(
        elr,
        f"{prefix}.effective_lr_first_order",
        "First-order equilibrium effective learning rate",
        "derived here from the first-order equilibrium norm",
        "",
    )

    def derive_relax() -> DerivationResult:

        from sympy.codegen.cfunctions import log1p

        from . import _sym as S

        mu = con.expr
        gap = con.result.extra["gap"]
        expr = -1 / log1p(-gap)
        lead = S.tidy(1 / con.result.extra["first_order_gap"])
        return DerivationResult(
            expr,
            (
                Step(f"Linearised contraction per step of the deviation of ‖w‖² from x* ({con.name})", mu),
                Step("Deviation ∝ μ^t = exp(−t/τ): e-folding time τ = −1/ln μ = −1/log1p(−(1 − μ)) (steps)", expr),
                Step("Leading term in ηλ", lead),
            ),
            {"first_order": lead},
        )

    register(
        Derivation(
            name=f"{prefix}.relaxation_steps",
            title="Relaxation time τ (steps) of ‖w‖² towards equilibrium: deviation ∝ exp(−t/τ)",
            source="derived here (linearisation of the norm recursion)",
            assumptions=tuple(con.assumptions),
            parameters=tuple(p for p in params if p != "unit_grad_sq"),
            derive=derive_relax,
            numeric=generated(f"{prefix}.relaxation_steps"),
            notes="Independent of the unit-gradient power L: the recursion is homogeneous in (‖w‖², L^{1/2}).",
        )
    )

    def derive_paper_rate() -> DerivationResult:
        import sympy as sp

        from . import _sym as S

        printed = paper_rate()
        lead_mu = con.result.extra["first_order_gap"]
        lead_printed, _ = S.leading_and_next(1 - printed)
        ratio = sp.simplify(lead_mu / lead_printed)
        return DerivationResult(
            printed,
            (
                Step(f"Printed rate of E[(‖w_t‖² − w*²)²] ({paper})", printed),
                Step("Exact linearised contraction of the deviation itself", con.expr),
                Step("Its gap 1 − μ to first order in ηλ", lead_mu),
                Step("Squared deviation contracts as μ², i.e. 1 − 2(1 − μ) to first order"),
                Step("(1 − μ) / (1 − printed rate), both to leading order in ηλ", ratio),
            ),
            {"rate_ratio": ratio},
        )

    register(
        Derivation(
            name=f"{prefix}.contraction_paper",
            title="The paper's printed contraction rate (a claim, compared with the linearisation)",
            source=paper_rate_text,
            assumptions=tuple(con.assumptions),
            parameters=tuple(p for p in params if p != "unit_grad_sq"),
            derive=derive_paper_rate,
            numeric=generated(f"{prefix}.contraction_paper"),
            notes=(
                "The deviation of ‖w‖² contracts with 1 − μ ≈ 4ηλ/(1−α) per step, so the squared deviation that\n"
                "the theorem bounds contracts with ≈ 8ηλ/(1−α): the printed (1 − 2ηλ/(1−α))^t is a valid but\n"
                "loose bound (4× too slow in the exponent)."
            ),
        )
    )

    def derive_drop_continuous() -> DerivationResult:
        import sympy as sp

        from . import _sym as S

        k, r = S.factor, S.rtol
        x_old = eq.expr
        x_new = eq.expr.subs(S.lr, S.lr / k)
        rho = S.tidy((x_old / x_new) ** 2)
        rate = con.result.extra["gap"].subs(S.lr, S.lr / k)  # 1 − μ(η/k), cancellation-free form
        t = sp.Symbol("t", nonnegative=True)
        y = sp.Function("y")
        ystar = sp.Symbol("y_star", positive=True)
        kappa = sp.Symbol("kappa", positive=True)
        ode = sp.Eq(y(t).diff(t), -kappa * (y(t) - ystar))
        rho_s = sp.Symbol("rho", positive=True)
        sol = sp.dsolve(ode, y(t), ics={y(0): rho_s * ystar}).rhs
        # relative tolerance on x = ‖w‖² = sqrt(y): x/x* ≤ 1 + r  ⇔  y/y* ≤ (1 + r)²
        t_hit = sp.solve(sp.Eq(sol / ystar, (1 + r) ** 2), t)[0]
        t_new = t_hit.subs({kappa: rate, rho_s: rho})
        # κ > 0, so t > 0 exactly when the start lies outside the tolerance band: (ρ − 1) > (1 + r)² − 1
        expr = sp.Piecewise((t_new, rho - 1 > r * (r + 2)), (0, True))
        steps = (
            Step("y = ‖w‖⁴ relaxes linearly in continuous time: dy/dt = −κ (y − y*)", ode),
            Step(
                "Start at the old equilibrium: y(0) = ρ y*, ρ = (x*_old / x*_new)², L unchanged",
                sp.Eq(rho_s, rho),
            ),
            Step("Solution", sp.Eq(y(t), sol)),
            Step("‖w‖² within relative tolerance r of x*_new  ⇔  y/y* ≤ (1 + r)²; first such t", t_hit),
            Step(f"κ = 1 − μ(η/k), the exact per-step contraction at the new rate ({con.name})", rate),
        )
        extra = {"rho": rho, "rho_symbol": rho_s, "kappa": rate, "kappa_symbol": kappa, "t_of_kappa": t_hit}
        return DerivationResult(expr, steps, extra)

    register(
        Derivation(
            name=f"{prefix}.lr_drop_steps_continuous",
            title="Steps from the old to the new equilibrium after dividing the LR by k (continuous time)",
            source="derived here; compare with Wan et al. (2021) Corollary 3.1",
            assumptions=(
                *con.assumptions,
                "continuous-time approximation of the slow mode: y = ‖w‖⁴ relaxes as exp(−(1−μ)t) "
                "(exact for the SGD drift, where dy/dt = −2ηλ(2−ηλ)(y − y*) holds identically)",
                "the unit-gradient power L is the same before and after the drop",
            ),
            parameters=(*(p for p in params if p != "unit_grad_sq"), "factor", "rtol"),
            derive=derive_drop_continuous,
            numeric=generated(f"{prefix}.lr_drop_steps_continuous"),
        )
    )

    def derive_bound() -> DerivationResult:
        import sympy as sp

        from . import _sym as S

        printed = paper_bound()
        extra = get(f"{prefix}.lr_drop_steps_continuous").result.extra
        k, r = S.factor, S.rtol
        # Both sides to first order in ηλ, with η → η/k in the printed bound and ρ → its ε → 0 limit.
        lead_bound, _ = S.leading_and_next(printed.args[0].subs(S.lr, S.lr / k))
        rho0 = sp.limit(S.in_eps(extra["rho"]), S.eps, 0)
        kappa0 = get(f"{prefix}.contraction").result.extra["first_order_gap"].subs(S.lr, S.lr / k)
        t_c = S.tidy(extra["t_of_kappa"].subs({extra["kappa_symbol"]: kappa0, extra["rho_symbol"]: rho0}))
        # the physically meaningful root is the positive one (checked at k = 10, α = 0)
        probe = {k: 10, S.momentum: 0}
        critical = [sol for sol in sp.solve(sp.Eq(lead_bound, t_c), r) if sol.subs(probe).evalf() > 0]
        return DerivationResult(
            printed,
            (
                Step(f"Printed bound ({paper})", printed),
                Step(
                    "Read with η = the new rate η/k (the rate that drives the transition), first order",
                    lead_bound,
                ),
                Step("Continuous-time steps to relative tolerance r, first order (ρ → its ηλ → 0 limit)", t_c),
                Step("Tolerance r at which the two agree: a valid lower bound iff rtol is below it", critical),
            ),
            {"critical_rtol": critical[0] if critical else None},
        )

    register(
        Derivation(
            name=f"{prefix}.lr_drop_paper_bound",
            title="Wan et al. Corollary 3.1 as printed: ⌈log(k)(1−α)/(2λη)⌉ iterations after dividing the LR by k",
            source=paper_bound_text,
            assumptions=("η in the formula: pass the rate you want to test (new rate η/k or old rate η)",),
            parameters=(*(p for p in params if p != "unit_grad_sq"), "factor"),
            derive=derive_bound,
            numeric=generated(f"{prefix}.lr_drop_paper_bound"),
            notes=(
                "The corollary's η is the rate before the drop ('with learning rate η … if learning rate is\n"
                "divided by k'): so read, the count is valid for any practical r, but loose by a factor of about\n"
                "k. Read with the new rate η/k it is k times larger and a valid lower bound on the steps to reach\n"
                "relative tolerance r only for r below √(1 + (k−1)/k²) − 1 (≈ (k−1)/(2k²); the last step).\n"
                "`spheretheory lr-drop` prints both next to the exact iteration."
            ),
        )
    )

    def derive_critical() -> DerivationResult:
        import sympy as sp

        from . import _sym as S

        k = S.factor
        solved = get(f"{prefix}.lr_drop_paper_bound").result.extra["critical_rtol"]
        x = (1 - 1 / k) / k  # (k − 1)/k² without forming k² (finite for any float k ≥ 1)
        stable = x / (1 + sp.sqrt(1 + x))  # √(1 + x) − 1 without the cancellation at large k
        if solved is None or sp.simplify(sp.radsimp(stable - solved)) != 0:
            raise AssertionError(f"{prefix}: the critical tolerance is not √(1 + (k−1)/k²) − 1: {solved}")
        return DerivationResult(
            stable,
            (
                Step(f"The root of the last step of {prefix}.lr_drop_paper_bound", solved),
                Step(
                    "= x/(1 + √(1 + x)) with x = (1 − 1/k)/k: the same value, without cancellation at large k and "
                    "without k² (overflow at k ≳ 1e154); difference, simplified",
                    sp.simplify(sp.radsimp(stable - solved)),
                ),
            ),
        )

    register(
        Derivation(
            name=f"{prefix}.lr_drop_critical_rtol",
            title="Tolerance below which Wan et al. Corollary 3.1, read with the new rate η/k, is a valid lower "
            "bound (first order in ηλ)",
            source=f"derived here from {prefix}.lr_drop_paper_bound",
            assumptions=("ηλ ≪ 1: both counts to first order",),
            parameters=("factor",),
            derive=derive_critical,
            numeric=generated(f"{prefix}.lr_drop_critical_rtol"),
        )
    )
