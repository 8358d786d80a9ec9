"""SGD with Nesterov momentum and coupled weight decay, PyTorch convention (``SGD(nesterov=True)``).

Update rule (PyTorch, dampening = 0):

    d_t = g_t + λ w_t ,    v_t = α v_{t−1} + d_t ,    w_{t+1} = w_t − η (d_t + α v_t) ,

with g_t ⟂ w_t and ‖g_t‖ = ‖g̃_t‖/‖w_t‖. The step is (1 + α) d_t + α² v_{t−1}: the gradient enters with weight 1 + α
at once instead of being spread over the following steps. The state (a, b, c) = (‖w_t‖², ⟨w_t, v_{t−1}⟩,
‖v_{t−1}‖²) obeys a closed recursion once ‖g_t‖² is replaced by its mean L/‖w_t‖² and ⟨v_{t−1}, g_t⟩ by its mean 0
(the same mean field as :mod:`spheretheory.theory.sgdm`, where it reproduces Wan et al.'s recursion exactly).

Findings (derived below): the equilibrium norm equals SGDM's to first order in ηλ, but the angular update is
larger, Δ* ≈ √(2ηλ(1 + 2α − 2α³)/(1 + α)) — √(1 + 2α − 2α³) ≈ 1.158 times SGDM's at α = 0.9.
"""

from __future__ import annotations

import numpy as np

from . import register
from ._family import _lead_deriv
from ._numeric import generated
from .base import Derivation, DerivationResult, Step
from .sgdm import PARAMS, STATE, _symbols  # the same state, parameters and sympy symbols as SGDM's recursion

SOURCE = "PyTorch torch.optim.SGD(nesterov=True) (Sutskever et al. 2013 form); derived here"

A_SCALE_INVARIANCE = "scale invariance: ⟨w_t, g_t⟩ = 0 and ‖g_t‖ = ‖g̃_t‖/‖w_t‖ (Wan et al. 2021, Lemma 1)"
A_MEAN_FIELD = (
    "mean field: ‖g_t‖² → L/‖w_t‖² and ⟨v_{t−1}, g_t⟩ → 0 (isotropic noise in the tangent space, independent of the "
    "past; for heavy ball this is Wan et al.'s h̃_t → L)"
)
A_MOMENTUM = "0 < α < 1 (PyTorch requires momentum > 0 with nesterov=True)"


def _derive_recursion() -> DerivationResult:
    """The coupled-decay part of ``trajectory.nesterov_map``: the one derivation of the Nesterov one-step map."""
    import sympy as sp

    from . import get

    general = get("trajectory.nesterov_map")
    lam_d = sp.Symbol("decoupled_weight_decay", nonnegative=True)
    F = sp.Tuple(*(sp.expand(e.subs(lam_d, 0)) for e in general.expr[:3]))
    steps = (
        Step(
            "trajectory.nesterov_map (frame e₁ ∥ w_t, v_{t−1} in span(e₁, e₂), g_t ⟂ w_t; update d_t = g_t + λw_t, "
            "v_t = αv_{t−1} + d_t, w_{t+1} = w_t − η(d_t + αv_t); mean field ‖g_t‖² → L/a, terms linear in g_t → 0)"
        ),
        Step("Its first three components at λ_d = 0 (coupled decay only): (‖w_{t+1}‖², ⟨w_{t+1}, v_t⟩, ‖v_t‖²) =", F),
        Step("The same construction with w_{t+1} = w_t − ηv_t gives sgdm.moment_recursion exactly (checked there)"),
    )
    return DerivationResult(F, steps)


def _derive_state() -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    a, b, c = _symbols()
    F = RECURSION.expr
    eq_a, eq_b, eq_c = (sp.Eq(F[i], s) for i, s in enumerate((a, b, c)))
    bc = sp.solve([eq_a, eq_b], [b, c], dict=True)[0]
    b_star, c_star = sp.simplify(bc[b]), sp.simplify(bc[c])
    y = sp.Symbol("y", positive=True)  # y = a²
    third = sp.expand((eq_c.lhs - eq_c.rhs).subs({b: b_star, c: c_star}) * a)
    y_star = S.tidy(sp.solve(third.subs(a**2, y), y)[0])
    a_star = sp.sqrt(y_star)
    state = sp.Tuple(a_star, S.tidy(b_star.subs(a, a_star)), S.tidy(c_star.subs(a, a_star)))
    residual = sp.simplify(sp.Matrix(F.subs({a: state[0], b: state[1], c: state[2]})) - sp.Matrix(state))
    sgdm_y = _sgdm_y_star()
    ratio = S.tidy(y_star / sgdm_y)
    steps = (
        Step("Fixed point of nesterov.moment_recursion: F(a, b, c) = (a, b, c)"),
        Step("‖w‖² and ⟨w, v⟩ equations are linear in (b, c)", sp.Tuple(b_star, c_star)),
        Step("‖v‖² equation, times a, is linear in y = a²", sp.Eq(third, 0)),
        Step("y* = a*² = (‖w*‖²)²", y_star),
        Step("y*/y*_SGDM (sgdm.equilibrium_state): 1 + O(ηλ) — the norm is SGDM's to first order", ratio),
        Step("Fixed point (a*, b*, c*)", state),
        Step("Check F(a*, b*, c*) − (a*, b*, c*) =", residual.T),
    )
    return DerivationResult(state, steps, {"y_star": y_star, "ratio_to_sgdm": ratio})


def _sgdm_y_star():
    from . import get

    return get("sgdm.equilibrium_sq_norm").expr ** 2


def _derive_sq_norm() -> DerivationResult:
    st = STATE_DERIV.result
    return DerivationResult(st.expr[0], (*st.steps, Step("‖w*‖² = a*", st.expr[0])), dict(st.extra))


def _derive_angular() -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    a, b, c = _symbols()
    a_s, b_s, _ = STATE_DERIV.expr
    lam, al, eta = S.weight_decay, S.momentum, S.lr
    # ⟨w_t, w_{t+1}⟩ = a − η⟨w_t, (1+α)d_t + α²v_{t−1}⟩ = a − η((1+α)λa + α²b): g_t ⟂ w_t, exact
    w_dot_next = a - eta * ((1 + al) * lam * a + al**2 * b)
    gap = S.tidy(sp.factor(1 - (w_dot_next / a).subs({a: a_s, b: b_s})))
    expr = S.acos_one_minus(gap)
    lead, _ = S.leading_and_next(gap)
    steps = (
        Step("⟨w_t, w_{t+1}⟩ = a − η((1+α)λa + α²b) (g_t ⟂ w_t: exact, no noise enters)", w_dot_next),
        Step("At the fixed point ‖w_{t+1}‖ = ‖w_t‖: 1 − cos Δ* = ⟨w_t, w_t − w_{t+1}⟩/a* =", gap),
        Step("To first order 1 − cos Δ* ≈ ηλ(1 + 2α − 2α³)/(1 + α) — SGDM's is ηλ/(1 + α)", lead),
        Step("Δ* = arccos(1 − gap) = 2 asin(√(gap/2)) (cancellation-free); depends on ηλ and α only", expr),
    )
    return DerivationResult(expr, steps, {"one_minus_cos": gap})


def _derive_jacobian() -> DerivationResult:
    import sympy as sp

    a, b, c = _symbols()
    F = sp.Matrix(list(RECURSION.expr))
    st = STATE_DERIV.expr
    J = F.jacobian([a, b, c]).subs({a: st[0], b: st[1], c: st[2]}).applyfunc(sp.simplify)
    steps = (Step("Jacobian of nesterov.moment_recursion at the fixed point (nesterov.equilibrium_state)", J),)
    return DerivationResult(J, steps)


def _derive_contraction() -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    J = JACOBIAN.expr
    mu, kappa = sp.Symbol("mu"), sp.Symbol("kappa")
    charpoly = sp.numer(sp.together((J - mu * sp.eye(3)).det()))
    # first-order gap: μ = 1 − κε with λ = ε/η; the O(ε⁰) term vanishes (μ = 1 is a root at λ = 0)
    on_slow = sp.expand(charpoly.subs({mu: 1 - kappa * S.eps, S.weight_decay: S.eps / S.lr}))
    series = sp.expand(sp.series(on_slow, S.eps, 0, 2).removeO())
    kappa0 = sp.solve(series.coeff(S.eps, 1), kappa)[0]
    lead = S.tidy(kappa0 * S.lr * S.weight_decay)
    steps = (
        Step("Characteristic polynomial of the Jacobian (nesterov.jacobian), numerator: a cubic in μ", charpoly),
        Step("μ = 1 is a root at ηλ = 0; put μ = 1 − κηλ and keep O(ηλ)", series),
        Step("Leading order 1 − μ ≈", lead),
        Step("Numeric: μ = the eigenvalue of the (generated) Jacobian of largest modulus"),
    )
    return DerivationResult(mu, steps, {"characteristic_polynomial": charpoly, "first_order_gap": lead})


RECURSION = register(
    Derivation(
        name="nesterov.moment_recursion",
        title="Mean-field one-step map of (‖w‖², ⟨w, v⟩, ‖v‖²) under Nesterov SGD with weight decay (PyTorch)",
        source=SOURCE,
        assumptions=(A_SCALE_INVARIANCE, A_MEAN_FIELD),
        parameters=(*STATE, *PARAMS),
        derive=_derive_recursion,
        numeric=generated("nesterov.moment_recursion"),
        scalar_twin=True,  # compiled by numba in theory.iterate
    )
)
STATE_DERIV = register(
    Derivation(
        name="nesterov.equilibrium_state",
        title="Fixed point (‖w*‖², ⟨w, v⟩*, ‖v‖*²) of the mean-field Nesterov recursion",
        source=SOURCE,
        assumptions=(A_SCALE_INVARIANCE, A_MEAN_FIELD, A_MOMENTUM),
        parameters=PARAMS,
        derive=_derive_state,
        numeric=generated("nesterov.equilibrium_state"),
    )
)
SQ_NORM = register(
    Derivation(
        name="nesterov.equilibrium_sq_norm",
        title="Exact equilibrium squared weight norm ‖w*‖² under Nesterov SGD (mean field)",
        source=SOURCE,
        assumptions=(A_SCALE_INVARIANCE, A_MEAN_FIELD, A_MOMENTUM),
        parameters=PARAMS,
        derive=_derive_sq_norm,
        numeric=generated("nesterov.equilibrium_sq_norm"),
        notes="Equal to SGDM's (Wan et al. Thm 2) to first order in ηλ; differs at O(ηλ).",
    )
)
ANGLE = register(
    Derivation(
        name="nesterov.angular_update",
        title="Exact equilibrium angular update Δ* under Nesterov SGD (mean field)",
        source=SOURCE,
        assumptions=(A_SCALE_INVARIANCE, A_MEAN_FIELD, A_MOMENTUM, "the step starts at the fixed point"),
        parameters=PARAMS,
        derive=_derive_angular,
        numeric=generated("nesterov.angular_update"),
    )
)
JACOBIAN = register(
    Derivation(
        name="nesterov.jacobian",
        title="Jacobian (row-major, 9 entries) of the mean-field Nesterov recursion at its fixed point",
        source="derived here",
        assumptions=(A_SCALE_INVARIANCE, A_MEAN_FIELD, A_MOMENTUM),
        parameters=("lr", "weight_decay", "momentum"),
        derive=_derive_jacobian,
        numeric=generated("nesterov.jacobian"),
        notes="Independent of L: the recursion is homogeneous in (‖w‖², √L).",
    )
)


def contraction(lr, weight_decay, momentum):
    """Largest-modulus eigenvalue μ of ``nesterov.jacobian`` (vectorized; a complex pair gives its modulus)."""
    lr, weight_decay, momentum = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (lr, weight_decay, momentum))
    )
    entries = np.stack(np.broadcast_arrays(*JACOBIAN(lr=lr, weight_decay=weight_decay, momentum=momentum)), axis=-1)
    eig = np.linalg.eigvals(entries.reshape(*lr.shape, 3, 3))
    top = np.take_along_axis(eig, np.argmax(np.abs(eig), axis=-1)[..., None], axis=-1)[..., 0]
    return np.where(np.abs(top.imag) > 0, np.abs(top), top.real)


CONTRACTION = register(
    Derivation(
        name="nesterov.contraction",
        title="Slowest linearised contraction μ of the Nesterov recursion at equilibrium",
        source="derived here",
        assumptions=(A_SCALE_INVARIANCE, A_MEAN_FIELD, A_MOMENTUM, "small deviations (linearisation)"),
        parameters=("lr", "weight_decay", "momentum"),
        derive=_derive_contraction,
        numeric=contraction,
        codegen=False,
        notes="The cubic has no compact closed-form root: numeric = eigenvalues of the generated Jacobian.",
    )
)


def relaxation_steps(lr, weight_decay, momentum):
    """τ = −1/ln μ (steps), μ = :func:`contraction`."""
    mu = contraction(lr, weight_decay, momentum)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((mu > 0) & (mu < 1), -1.0 / np.log(np.where(mu > 0, mu, 1.0)), np.nan)


def _derive_relax() -> DerivationResult:
    from . import _sym as S

    lead = S.tidy(1 / CONTRACTION.result.extra["first_order_gap"])
    steps = (
        Step("Deviation ∝ μ^t = exp(−t/τ): τ = −1/ln μ, μ = nesterov.contraction (numeric)"),
        Step("Leading term in ηλ: τ ≈ 1/(1 − μ) =", lead),
    )
    return DerivationResult(lead, steps)


register(
    Derivation(
        name="nesterov.relaxation_steps",
        title="Relaxation time τ (steps) of ‖w‖² towards equilibrium under Nesterov SGD",
        source="derived here (linearisation of the norm recursion)",
        assumptions=(A_SCALE_INVARIANCE, A_MEAN_FIELD, A_MOMENTUM, "small deviations (linearisation)"),
        parameters=("lr", "weight_decay", "momentum"),
        derive=_derive_relax,
        numeric=relaxation_steps,
        codegen=False,
        notes="The expression shown is the leading term; the numeric function is −1/ln μ with the exact μ.",
    )
)


def lr_drop_steps_continuous(lr, weight_decay, momentum, factor, rtol):
    """Continuous-time steps after dividing the LR by k: ln((ρ − 1)/((1 + r)² − 1))/(1 − μ(η/k)), 0 inside the band
    (the form of ``sgdm.lr_drop_steps_continuous``, with Nesterov's x* and μ)."""
    args = [np.asarray(v, dtype=float) for v in (lr, weight_decay, momentum, factor, rtol)]
    lr, weight_decay, momentum, factor, rtol = np.broadcast_arrays(*args)
    x_old = SQ_NORM(lr=lr, weight_decay=weight_decay, momentum=momentum, unit_grad_sq=1.0)
    x_new = SQ_NORM(lr=lr / factor, weight_decay=weight_decay, momentum=momentum, unit_grad_sq=1.0)
    rho = (x_old / x_new) ** 2
    kappa = 1.0 - contraction(lr / factor, weight_decay, momentum)
    band = rtol * (rtol + 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.log((rho - 1) / band) / kappa
    return np.where(rho - 1 > band, t, 0.0)


def _derive_drop() -> DerivationResult:
    from . import get

    base = get("sgdm.lr_drop_steps_continuous")
    steps = (
        Step("As sgdm.lr_drop_steps_continuous: y = ‖w‖⁴ relaxes as exp(−κt) from ρy*_new, ρ = (x*_old/x*_new)²"),
        Step("with x* = nesterov.equilibrium_sq_norm and κ = 1 − μ(η/k), μ = nesterov.contraction (numeric)"),
        Step("The SGDM form, for reference", base.expr),
    )
    return DerivationResult(base.expr, steps)


register(
    Derivation(
        name="nesterov.lr_drop_steps_continuous",
        title="Steps from the old to the new equilibrium after dividing the LR by k (Nesterov, continuous time)",
        source="derived here",
        assumptions=(A_SCALE_INVARIANCE, A_MEAN_FIELD, A_MOMENTUM, "continuous-time approximation of the slow mode"),
        parameters=("lr", "weight_decay", "momentum", "factor", "rtol"),
        derive=_derive_drop,
        numeric=lr_drop_steps_continuous,
        codegen=False,
    )
)

_lead_deriv(
    SQ_NORM,
    "nesterov.equilibrium_sq_norm_first_order",
    "First-order equilibrium squared norm ‖w*‖² under Nesterov SGD (leading term in ηλ)",
    "derived here; equals Wan et al.'s SGDM Thm 2 to first order",
    "The same leading term as sgdm.equilibrium_sq_norm_first_order.",
)
_lead_deriv(
    ANGLE,
    "nesterov.angular_update_first_order",
    "First-order equilibrium angular update under Nesterov SGD: √(2ηλ(1 + 2α − 2α³)/(1 + α))",
    "derived here",
    "Larger than SGDM's √(2ηλ/(1+α)) by √(1 + 2α − 2α³) (≈ 1.158 at α = 0.9).",
)


def _derive_elr() -> DerivationResult:
    from . import _sym as S

    expr = S.tidy(S.lr / SQ_NORM.expr)
    return DerivationResult(expr, (Step("η_eff = η/‖w*‖² at x* (nesterov.equilibrium_sq_norm)", expr),))


ELR = register(
    Derivation(
        name="nesterov.effective_lr",
        title="Equilibrium effective learning rate η/‖w*‖² under Nesterov SGD",
        source="van Laarhoven (2017)",
        assumptions=(A_SCALE_INVARIANCE, A_MEAN_FIELD, A_MOMENTUM),
        parameters=PARAMS,
        derive=_derive_elr,
        numeric=generated("nesterov.effective_lr"),
    )
)
_lead_deriv(
    ELR, "nesterov.effective_lr_first_order", "First-order effective learning rate (Nesterov)", "derived here", ""
)
