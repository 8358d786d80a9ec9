"""The SGD/SGDM theory engine: sympy ⇔ numpy, first-order limits, fixed points, rates, invariances."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spheretheory import theory
from spheretheory.theory import _generated as G
from spheretheory.theory.iterate import steps_to_equilibrium, steps_to_equilibrium_numpy

FAMILIES = ("sgd", "sgdm")

# ---------------------------------------------------------------------------------------- parameter strategies
# ε = ηλ spans the practical range; η and λ separately over decades, with ηλ < 1 as the domain requires.
eps_st = st.floats(1e-6, 0.2)
lr_st = st.floats(1e-3, 10.0)
momentum_st = st.floats(0.0, 0.99)


@st.composite
def family_params(draw, names):
    eps, lr = draw(eps_st), draw(lr_st)
    values = {"lr": lr, "weight_decay": eps / lr}
    pool = {
        "momentum": momentum_st,
        "unit_grad_sq": st.floats(1e-3, 1e3),
        "factor": st.floats(1.5, 100.0),
        "rtol": st.floats(1e-4, 0.5),
        "sq_norm": st.floats(1e-2, 1e2),
        "w_dot_v": st.floats(-1.0, 1.0),
        "v_sq_norm": st.floats(1e-2, 1e2),
    }
    for n in names:
        if n not in values:
            values[n] = draw(pool[n])
    return values


OUR_CODEGEN = [d for d in theory.all_derivations() if d.name.split(".")[0] in FAMILIES and d.codegen]


def _close(a: float, b: float, expr) -> bool:
    if "ceiling" in str(expr):  # an integer-valued bound: float round-off may move it by one at a boundary
        return abs(a - b) <= 1.0
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("d", OUR_CODEGEN, ids=lambda d: d.name)
@given(data=st.data())
def test_numeric_equals_sympy(d, data):
    """Every generated numpy function equals its sympy expression (30-digit evalf) on drawn parameters."""
    drawn = data.draw(family_params(d.parameters))  # always draws lr and weight_decay (as a pair with ηλ < 1)
    params = {n: v for n, v in drawn.items() if n in d.parameters}
    num = d(**params)
    if isinstance(num, tuple):
        import sympy as sp

        sym = [float(sp.N(e.subs({s: sp.Float(params[s.name], 30) for s in e.free_symbols}), 30)) for e in d.expr]
        for a, b, e in zip((float(x) for x in num), sym, d.expr, strict=True):
            assert _close(a, b, e), (d.name, params, a, b)
    else:
        assert _close(float(num), d.evaluate_symbolic(**params), d.expr), (d.name, params)


def test_generated_file_is_in_sync():
    """_generated.py is exactly what the codegen prints for the current derivations (no hand edits, no drift)."""
    from spheretheory.theory import codegen

    assert codegen.render() == codegen.GENERATED.read_text(), "run: python -m spheretheory.theory.codegen"
    if codegen.DOCS.parent.is_dir():
        assert codegen.render_docs() == codegen.DOCS.read_text(), "run: python -m spheretheory.theory.codegen"


def test_generated_functions_vectorize_over_grids():
    lr = np.array([0.01, 0.1, 1.0])[:, None]
    wd = np.array([1e-4, 1e-3])[None, :]
    out = theory.get("sgdm.angular_update")(lr=lr, weight_decay=wd, momentum=0.9, unit_grad_sq=1.0)
    assert out.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            assert out[i, j] == pytest.approx(math.acos(1 - lr[i, 0] * wd[0, j] / 1.9), rel=1e-12)


# ----------------------------------------------------------------------------------------- derivation checks
def test_sgd_exact_results_have_the_derived_closed_forms():
    import sympy as sp

    from spheretheory.theory import _sym as S

    eta, lam, L = S.lr, S.weight_decay, S.unit_grad_sq
    # Δ* = arccos(1 − ηλ), in the cancellation-free form 2·asin(√(ηλ/2)): same cosine, both in [0, π]
    ang_expr = theory.get("sgd.angular_update").expr
    assert sp.simplify(sp.cos(ang_expr) - (1 - eta * lam)) == 0
    assert ang_expr.has(sp.asin) and not ang_expr.has(sp.acos)
    x = theory.get("sgd.equilibrium_sq_norm").expr
    assert sp.simplify(x**2 - eta * L / (lam * (2 - eta * lam))) == 0
    assert theory.get("sgd.equilibrium_sq_norm").result.extra["check"] == 0
    # Thm 1: w*^2 = sqrt(L η / (2 λ)) is the first-order form; the next relative term is ηλ/4
    lead = theory.get("sgd.equilibrium_sq_norm_first_order")
    assert sp.simplify(lead.expr - sp.sqrt(L * eta / (2 * lam))) == 0
    assert sp.simplify(lead.result.extra["relative_next_term"] - eta * lam / 4) == 0
    # Thm 3: sqrt(2 λ η), next relative term ηλ/12
    ang = theory.get("sgd.angular_update_first_order")
    assert sp.simplify(ang.expr - sp.sqrt(2 * eta * lam)) == 0
    assert sp.simplify(ang.result.extra["relative_next_term"] - eta * lam / 12) == 0


def test_sgdm_fixed_point_is_thm2_exactly():
    """Thm 2's w*⁴ = Lη/(λ(1−α)(2 − λη/(1+α))) is the exact fixed point of the mean-field recursion."""
    import sympy as sp

    d = theory.get("sgdm.equilibrium_state")
    assert d.result.extra["thm2_difference"] == 0
    assert all(sp.simplify(e) == 0 for e in d.result.steps[-1].expr)  # F(a*, b*, c*) − (a*, b*, c*) = 0


def test_paper_rates_are_half_the_linearised_gap():
    """The printed (1 − 2ηλ/(1−α)) contraction has half the first-order gap of the exact linearisation."""
    for fam in FAMILIES:
        assert theory.get(f"{fam}.contraction_paper").result.extra["rate_ratio"] == 2


def test_sgdm_with_zero_momentum_is_sgd():
    kw = {"lr": 0.3, "weight_decay": 2e-3, "unit_grad_sq": 2.5}
    for key in (
        "equilibrium_sq_norm",
        "angular_update",
        "effective_lr",
        "equilibrium_sq_norm_first_order",
        "angular_update_first_order",
        "effective_lr_first_order",
    ):
        assert theory.get(f"sgdm.{key}")(momentum=0.0, **kw) == pytest.approx(theory.get(f"sgd.{key}")(**kw), rel=1e-13)
    kw.pop("unit_grad_sq")
    for key in ("contraction", "relaxation_steps"):
        assert theory.get(f"sgdm.{key}")(momentum=0.0, **kw) == pytest.approx(theory.get(f"sgd.{key}")(**kw), rel=1e-12)


@pytest.mark.parametrize("fam", FAMILIES)
@pytest.mark.parametrize("key", ["equilibrium_sq_norm", "angular_update", "effective_lr"])
def test_exact_converges_to_first_order_at_the_claimed_order(fam, key):
    """exact/first_order − 1 = r(ε) + O(ε²) with r the derived next term, r = O(ε): check both as ε → 0."""

    lead = theory.get(f"{fam}.{key}_first_order")
    rel = lead.result.extra["relative_next_term"]
    errs, resid = [], []
    for eps in (1e-2, 1e-3, 1e-4):
        kw = {"lr": 0.5, "weight_decay": eps / 0.5, "unit_grad_sq": 1.7}
        if fam == "sgdm":
            kw["momentum"] = 0.9
        err = theory.get(f"{fam}.{key}")(**kw) / lead(**kw) - 1.0
        r = float(rel.subs({s: kw[s.name] for s in rel.free_symbols}))
        errs.append(abs(err))
        resid.append(abs(err - r))
    # first-order error shrinks ×10 per decade of ε (order 1), the residual ×100 (order 2)
    for a, b in zip(errs, errs[1:], strict=False):
        assert 8 < a / b < 12
    for a, b in zip(resid, resid[1:], strict=False):
        assert a / b > 80


def test_sgd_fixed_point_and_rate_by_iteration():
    """Iterating the deterministic recursion converges to x* with per-step deviation ratio μ = f′(x*)."""
    kw = {"lr": 0.2, "weight_decay": 5e-3, "unit_grad_sq": 3.0}
    x_star = theory.get("sgd.equilibrium_sq_norm")(**kw)
    assert G.sgd__norm_recursion(sq_norm=x_star, **kw) == pytest.approx(x_star, rel=1e-14)
    mu = theory.get("sgd.contraction")(lr=kw["lr"], weight_decay=kw["weight_decay"])
    # start 1e-4 off: after 1500 steps (μ ≈ 0.996) the deviation is ~2.5e-7 of x*, so the nonlinear correction
    # to the step ratio (O(deviation/x*)) and its round-off (O(1e-16/2.5e-7)) are both below the 1e-6 tolerance
    x, ratios = (1 + 1e-4) * x_star, []
    for _ in range(1500):
        x_next = G.sgd__norm_recursion(sq_norm=x, **kw)
        ratios.append((x_next - x_star) / (x - x_star))
        x = x_next
    assert ratios[-1] == pytest.approx(mu, rel=1e-6)
    assert abs(x / x_star - 1) < 1e-6


@given(params=family_params(("momentum", "unit_grad_sq")))
def test_sgdm_fixed_point_and_linearised_rate(params):
    """(a*, b*, c*) is a fixed point of the generated map; its numerical Jacobian's spectral radius is μ."""
    mom = params["momentum"]
    state = np.array(theory.get("sgdm.equilibrium_state")(**params), dtype=float)

    def F(s):
        return np.array(G.sgdm__moment_recursion(sq_norm=s[0], w_dot_v=s[1], v_sq_norm=s[2], **params))

    np.testing.assert_allclose(F(state), state, rtol=1e-9, atol=1e-12 * state[0])
    # central differences, step h relative to each coordinate's scale: truncation O(h²), round-off O(u/h)
    scale = np.maximum(np.abs(state), 1e-3 * state[0])
    h = 1e-5 * scale
    J = np.column_stack([(F(state + h[i] * e) - F(state - h[i] * e)) / (2 * h[i]) for i, e in enumerate(np.eye(3))])
    radius = np.max(np.abs(np.linalg.eigvals(J)))
    mu = theory.get("sgdm.contraction")(lr=params["lr"], weight_decay=params["weight_decay"], momentum=mom)
    assert radius == pytest.approx(mu, rel=1e-6, abs=1e-8)


def test_sgdm_iteration_relaxes_at_the_slow_rate():
    """Iterating the deterministic SGDM map from a perturbed start: late-time step ratio of ‖w‖² deviations = μ."""
    params = {"lr": 0.1, "weight_decay": 1e-3, "momentum": 0.9, "unit_grad_sq": 2.0}  # real slow mode: 4ηλ < (1-√α)²
    state = theory.get("sgdm.equilibrium_state")(**params)
    mu = theory.get("sgdm.contraction")(lr=0.1, weight_decay=1e-3, momentum=0.9)
    a, b, c = state[0] * (1 + 1e-4), state[1], state[2]
    devs = []
    for _ in range(2000):  # μ ≈ 0.996: deviation falls to ~3e-4 of its start, fast modes (≤ 0.9^t) long gone
        a, b, c = G.sgdm__moment_recursion(sq_norm=a, w_dot_v=b, v_sq_norm=c, **params)
        devs.append(a - state[0])
    # nonlinear correction to the ratio is O(deviation/a*) ≤ 1e-4·μ^t; round-off O(1e-16/3e-8)
    assert devs[-1] / devs[-2] == pytest.approx(mu, rel=1e-6)
    assert abs(a / state[0] - 1) < 1e-7


@given(params=family_params(("momentum", "unit_grad_sq")), c=st.floats(0.01, 100.0))
def test_angle_depends_on_lr_and_decay_only_through_their_product(params, c):
    """Δ*, μ and τ are functions of ηλ (and α) exactly; ‖w*‖² scales as η (at fixed ηλ), ELR as 1/... not."""
    scaled = {**params, "lr": params["lr"] * c, "weight_decay": params["weight_decay"] / c}
    for key in ("angular_update", "angular_update_first_order"):
        d = theory.get(f"sgdm.{key}")
        assert d(**scaled) == pytest.approx(d(**params), rel=1e-12)
    rate_kw = {k: v for k, v in params.items() if k != "unit_grad_sq"}
    rate_scaled = {k: v for k, v in scaled.items() if k != "unit_grad_sq"}
    for key in ("contraction", "relaxation_steps"):
        d = theory.get(f"sgdm.{key}")
        assert d(**rate_scaled) == pytest.approx(d(**rate_kw), rel=1e-10)
    # the norm is not invariant: ‖w*‖² ∝ η at fixed ηλ (x*² = ηL/(λ(...)) = η² L/(ηλ(...)))
    d = theory.get("sgdm.equilibrium_sq_norm")
    assert d(**scaled) == pytest.approx(c * d(**params), rel=1e-12)


# ------------------------------------------------------------------------------------------------- LR drop
@pytest.mark.parametrize("fam", FAMILIES)
def test_lr_drop_numba_matches_numpy_reference(fam):
    lr = np.array([0.05, 0.1, 0.5])[:, None]
    rtol = np.array([1e-3, 1e-2, 0.1])[None, :]
    kw = {
        "lr": lr,
        "weight_decay": 4e-3,
        "factor": np.array([[2.0], [10.0], [5.0]]),
        "rtol": rtol,
        "momentum": 0.9 if fam == "sgdm" else 0.0,
    }
    a = steps_to_equilibrium(fam, **kw)
    b = steps_to_equilibrium_numpy(fam, **kw)
    assert a.shape == (3, 3)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fam,mom", [("sgd", 0.0), ("sgdm", 0.5), ("sgdm", 0.9)])
def test_lr_drop_continuous_matches_exact_for_small_eps(fam, mom):
    """The closed-form continuous time agrees with exact iteration to O(ηλ) relative (plus one step)."""
    kw = {"lr": 0.1, "weight_decay": 1e-3, "factor": 10.0}
    if fam == "sgdm":
        kw["momentum"] = mom
    for rtol in (1e-3, 1e-2, 0.1):
        exact = steps_to_equilibrium(fam, rtol=rtol, **kw)
        cont = theory.get(f"{fam}.lr_drop_steps_continuous")(rtol=rtol, **kw)
        # fast modes of SGDM add a transient of order 1/(1−α) steps
        assert abs(exact - cont) <= 1e-3 * exact + 2 + 3 / (1 - mom)


def test_lr_drop_critical_tolerance_is_the_derivation_s():
    import sympy as sp

    from spheretheory.prediction import lr_drop

    crit = theory.get("sgd.lr_drop_paper_bound").result.extra["critical_rtol"]
    for k in (2.0, 10.0, 100.0):
        assert lr_drop("sgd", lr=0.1, weight_decay=1e-3, factor=k).critical_rtol == pytest.approx(
            float(crit.subs(sp.Symbol("factor", positive=True), k)), rel=1e-12
        )


@pytest.mark.parametrize("fam", FAMILIES)
def test_paper_bound_validity_switches_at_the_critical_tolerance(fam):
    """With η = new rate, Cor. 3.1 is a lower bound below the critical rtol and fails above it (ηλ small)."""
    from spheretheory.prediction import lr_drop

    kw = {"lr": 0.1, "weight_decay": 1e-4, "factor": 10.0, "momentum": 0.9 if fam == "sgdm" else None}
    crit = lr_drop(fam, **kw).critical_rtol
    assert lr_drop(fam, rtol=0.5 * crit, **kw).paper_bound_valid
    assert not lr_drop(fam, rtol=2.0 * crit, **kw).paper_bound_valid
    assert lr_drop(fam, rtol=2.0 * crit, **kw).paper_bound_old_lr_valid  # the old-rate reading stays valid
