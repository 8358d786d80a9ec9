"""Adam family on the sphere: derivations, exact step identities, SGD ≡ AdamG, reference steps.

Statistical tolerances are stated next to each assertion; exact identities are checked to rounding error.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spheretheory.adaptive import (
    adam_effective_lr_formula,
    adam_init,
    adam_step,
    adamg_step,
    decompose_step,
    gradient,
    lion_step,
    sgd_adamg_mapping,
    sgd_step,
    unit_gradient,
)
from spheretheory.theory import get


def _unit(rng, shape):
    x = rng.standard_normal(shape)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


# ----------------------------------------------------------------------------------------------------------
# Derivations: the sympy checks inside each derivation must come out exactly zero
# ----------------------------------------------------------------------------------------------------------


def test_generic_identity_is_exact_symbolically():
    d = get("adam.image_step_angle")
    assert d.result.extra["identity"] == 0
    # order-2 expansion of the angle: η c_t + η² c_r c_t
    import sympy as sp

    t, cr, ct = (d.symbols[n] for n in ("eta_e", "c_radial", "c_tangential"))
    assert sp.simplify(d.result.extra["series"] - (t * ct + t**2 * cr * ct + t**3 * ct * (cr**2 - ct**2 / 3))) == 0


def test_sgd_adamg_remainder_is_order_two():
    d = get("adam.sgd_adamg.relative_error")
    assert d.result.extra["check"] == 0  # E_k/((1−β)‖g̃‖²) − (η_e‖g̃‖)²/2 simplifies to 0


def test_adamw_sum_forms_agree():
    d = get("adamw.equilibrium_sq_norm")
    checks = [s.expr for s in d.steps if s.description.startswith("Check")]
    assert checks and all(c == 0 for c in checks)


@pytest.mark.parametrize(
    "name,kw",
    [
        ("adam.image_step_angle", {"eta_e": 0.03, "c_radial": -0.7, "c_tangential": 2.0}),
        ("adam.image_step_norm_ratio", {"eta_e": 0.03, "c_radial": 0.4, "c_tangential": 2.0}),
        ("adam.effective_lr.adam", {"lr": 1e-3, "norm": 3.0, "unit_v_mean": 0.2, "unit_sqrt_v_mean": 0.4, "eps": 1e-3}),
        ("adam.sgd_adamg.lr", {"lr": 0.1, "weight_decay": 0.05}),
        ("adam.second_moment_kappa", {"beta2": 0.99, "kurtosis": 3.0}),
        ("adam.sgd_adamg.v0", {"lr": 0.1, "weight_decay": 0.05, "norm": 2.0}),
        ("adamw.equilibrium_sq_norm", {"lr": 0.01, "weight_decay": 0.5, "dim": 64, "beta1": 0.9}),
        ("adamw.angular_update", {"lr": 0.01, "weight_decay": 0.5, "beta1": 0.9}),
        ("adamw.equilibrium_norm_eps", {"lr": 0.01, "weight_decay": 0.5, "dim": 64, "unit_grad_sq": 2.0, "eps": 0.3}),
        ("adamw.contraction", {"lr": 0.01, "weight_decay": 0.5, "dim": 64, "unit_grad_sq": 2.0, "eps": 0.3}),
        ("lion.angular_update_linearized", {"lr": 0.01, "weight_decay": 0.5, "beta1": 0.9, "beta2": 0.99}),
        ("adam_l2.equilibrium_norm_first_order", {"lr": 0.01, "weight_decay": 0.01, "dim": 64, "unit_grad_sq": 3.0}),
    ],
)
def test_generated_numeric_matches_sympy(name, kw):
    d = get(name)
    assert float(d(**kw)) == pytest.approx(d.evaluate_symbolic(**kw), rel=1e-12)


def test_first_order_forms_are_the_leading_terms():
    # exact/first-order → 1 as ηλ → 0, with a gap that shrinks linearly in ηλ
    ratios = []
    for el in (1e-2, 1e-3):
        kw = {"lr": 0.01, "weight_decay": el / 0.01, "beta1": 0.9}
        ratios.append(get("adamw.angular_update")(**kw) / get("adamw.angular_update_first_order")(**kw) - 1)
    assert abs(ratios[1]) < abs(ratios[0]) / 5


def test_lion_series_matches_brute_force_correlations():
    """The closed-form C_k of the derivation against correlations computed from the raw weights w_j."""
    from spheretheory.theory.lion import lion_equilibrium_sq_norm

    lr, wd, d, b1, b2 = 0.01, 0.5, 16, 0.8, 0.9
    J = 2000
    w = np.concatenate([[1 - b1], b1 * (1 - b2) * b2 ** np.arange(J)])
    var = np.sum(w * w)
    rho = 1 - lr * wd
    k = np.arange(1, J)
    cov = np.array([np.sum(w[:-kk] * w[kk:]) for kk in k])
    R = 2 / np.pi * np.arcsin(cov / var)
    S = (1 + 2 * np.sum(rho**k * R)) / (1 - rho**2)
    assert lion_equilibrium_sq_norm(lr, wd, d, b1, b2) == pytest.approx(lr**2 * d * S, rel=1e-10)


def test_lion_linearized_is_the_small_correlation_limit():
    # β₁ = 0: c = g, no correlation: exact series = 1, Kosson's V = 1 → √(π ηλ) vs √(2ηλ): ratio √(π/2)
    from spheretheory.theory.lion import lion_angular_update_first_order

    lin = get("lion.angular_update_linearized")(lr=0.01, weight_decay=0.1, beta1=0.0, beta2=0.9)
    ex = lion_angular_update_first_order(0.01, 0.1, 0.0, 0.9)
    assert lin / ex == pytest.approx(math.sqrt(math.pi / 2), rel=1e-12)


# ----------------------------------------------------------------------------------------------------------
# Step-by-step identities (exact)
# ----------------------------------------------------------------------------------------------------------


@given(
    seed=st.integers(0, 2**31 - 1),
    eps=st.sampled_from([0.0, 1e-8, 1e-3, 0.1]),
    decoupled=st.booleans(),
    variant=st.sampled_from(["adam", "adams", "adamsrt"]),
)
def test_effective_lr_identity_is_exact(seed, eps, decoupled, variant):
    """x_{k+1}/r_k = δu_k − η_e c_k and the exact angle hold to rounding at every step of a run."""
    rng = np.random.default_rng(seed)
    B, d, lr, wd = 4, 12, 0.05, 0.3
    x = 3.0 * _unit(rng, (B, d))
    state = adam_init(x, per_group=variant != "adam")
    sigma = 0.5
    for _ in range(15):
        g = gradient(state.x, rng.standard_normal((B, d)), sigma=sigma, spectrum=np.linspace(0, 1, d))
        out = adam_step(
            state, g, lr=lr, beta1=0.9, beta2=0.95, eps=eps, weight_decay=wd, decoupled=decoupled, variant=variant
        )
        dec = decompose_step(state.x, out.state.x, out.a, out.b, lr, out.decay)
        assert dec.identity_residual < 1e-13 * max(1.0, float(np.max(np.abs(out.state.x))))
        np.testing.assert_allclose(dec.angle, dec.angle_exact, rtol=1e-9, atol=1e-14)
        if variant == "adam":
            # formula of adam.effective_lr.adam(w), from the state's v̂ (before the transport of adamsrt)
            v_hat = out.state.v / (1 - 0.95**out.state.t)
            formula = adam_effective_lr_formula(lr, dec.norm, v_hat, eps, weight_decay=0.0)
            np.testing.assert_allclose(dec.eta_e, formula, rtol=1e-12)
        state = out.state


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_first_order_angle_error_is_order_two(dtype):
    """Δ − η_e‖c⊥‖ = η_e² c_r ‖c⊥‖ + O(η_e³): the ratio of the two tends to 1 linearly in η_e."""
    rng = np.random.default_rng(3)
    B, d = 64, 32
    x = _unit(rng, (B, d)).astype(dtype)
    state = adam_init(x)
    errs = []
    for lr in (4e-3, 2e-3, 1e-3):
        st_ = state
        for _ in range(20):  # build up momentum with a radial part
            g = gradient(st_.x, rng.standard_normal((B, d)), sigma=1.0)
            st_ = adam_step(st_, g, lr=0.05, beta1=0.9, beta2=0.99, eps=0.0).state
        g = gradient(st_.x, rng.standard_normal((B, d)), sigma=1.0)
        out = adam_step(st_, g, lr=lr, beta1=0.9, beta2=0.99, eps=0.0)
        dec = decompose_step(st_.x.astype(np.float64), out.state.x.astype(np.float64), out.a, out.b, lr)
        second = dec.eta_image**2 * dec.c_radial * dec.c_tangential
        errs.append(np.median((dec.angle_exact - dec.angle_order1) / second - 1))
    # the relative O(η_e) remainder halves with η (factor 2 per halving, checked loosely as ≥ 1.6)
    assert abs(errs[1]) < abs(errs[0]) / 1.6 and abs(errs[2]) < abs(errs[1]) / 1.6


def test_adamsrt_transport_removes_radial_momentum_and_rescales_v():
    rng = np.random.default_rng(0)
    x = _unit(rng, (8, 10)) * 2
    state = adam_init(x, per_group=True)
    for _ in range(5):
        g = gradient(state.x, rng.standard_normal((8, 10)), sigma=1.0)
        out = adam_step(state, g, lr=0.1, beta1=0.9, beta2=0.9, eps=0.0, variant="adamsrt")
        ref = adam_step(state, g, lr=0.1, beta1=0.9, beta2=0.9, eps=0.0, variant="adams")
        np.testing.assert_allclose(np.sum(out.state.m * out.state.x, axis=-1), 0, atol=1e-13)
        ratio = np.sum(state.x**2, -1, keepdims=True) / np.sum(ref.state.x**2, -1, keepdims=True)
        np.testing.assert_allclose(out.state.v, ref.state.v * ratio, rtol=1e-13)
        np.testing.assert_array_equal(out.state.x, ref.state.x)  # same step, only the moments change
        state = out.state


def test_lion_step_has_norm_sqrt_d_per_unit_lr():
    rng = np.random.default_rng(1)
    x = _unit(rng, (4, 9))
    state = adam_init(x)
    g = gradient(x, rng.standard_normal((4, 9)), sigma=1.0)
    out = lion_step(state, g, lr=0.01, beta1=0.9, beta2=0.99)
    np.testing.assert_allclose(np.linalg.norm(out.state.x - x, axis=-1), 0.01 * 3.0)


# ----------------------------------------------------------------------------------------------------------
# SGD + L2 ≡ AdamG on the sphere
# ----------------------------------------------------------------------------------------------------------


def test_mapping_matches_the_derivations():
    m = sgd_adamg_mapping(0.1, 0.05, 2.0)
    assert m["beta"] == pytest.approx(float(get("adam.sgd_adamg.beta")(lr=0.1, weight_decay=0.05)), rel=1e-14)
    assert m["lr"] == pytest.approx(float(get("adam.sgd_adamg.lr")(lr=0.1, weight_decay=0.05)), rel=1e-14)
    assert m["v0"] == pytest.approx(float(get("adam.sgd_adamg.v0")(lr=0.1, weight_decay=0.05, norm=2.0)), rel=1e-14)
    assert m["lr"] == pytest.approx(math.sqrt(2 * 0.1 * 0.05), rel=0.02)  # the brief's √(2ηλ), to O(ηλ)
    m0 = sgd_adamg_mapping(0.1, 0.0, 2.0)
    assert m0["v0"] == pytest.approx(float(get("adam.sgd_adamg.v0_lambda0")(lr=0.1, norm=2.0)), rel=1e-14)


def _run_pair(lr, wd, r0, steps, seed, exact, d=16, B=8, sigma=0.1, h=0.2):
    """SGD + L2 from r0·u0 and mapped AdamG from u0, driven by the same draws ξ_k; records the error bound.

    Rigorous bound on the chordal gap e_k = ‖u^S_k − u^A_k‖ (derived in docs/adam.md, "SGD ≡ AdamG"):
      δ_{k+1} ≤ β δ_k + (1−β)(‖g^S_k‖ + ‖g^A_k‖) L_k e_k + E_k          (δ_k ≥ |v^S_k − v^A_k|, v^S = C r⁴)
      |η^S_k − η^A_k| ≤ η' δ_k / (√v^S √v^A (√v^S + √v^A))
      e_{k+1} ≤ (1 + η^A_k L_k) e_k + |η^S_k − η^A_k| ‖g^S_k‖
    with L_k = 8h + 2σ‖ξ_k‖ the Lipschitz constant of u ↦ P_u(2Hu + σξ_k) on the sphere (h = max|H|), and the
    radial projection onto the sphere 1-Lipschitz outside the unit ball (‖u − ηg‖ ≥ 1 since g ⟂ u).
    """
    rng = np.random.default_rng(seed)
    spectrum = np.linspace(0.0, h, d)
    u0 = _unit(rng, (B, d))
    m = sgd_adamg_mapping(lr, wd, r0)
    beta, gamma, lrp = m["beta"], m["gamma"], m["lr"]
    C = m["v0"] / r0**4
    x = r0 * u0
    u, v = u0.copy(), np.full((B, 1), m["v0"])
    delta = np.zeros(B)
    bound = np.zeros(B)
    rec = {"gap": [], "bound": [], "eta_s": [], "eta_a": [], "deta_bound": []}
    for _ in range(steps):
        xi = rng.standard_normal((B, d))  # the same draw for both
        r = np.linalg.norm(x, axis=-1, keepdims=True)
        gs = unit_gradient(x / r, xi, sigma=sigma, spectrum=spectrum)
        ga = unit_gradient(u, xi, sigma=sigma, spectrum=spectrum)
        vs = (C * r**4)[..., 0]
        eta_s = (lr / ((1 - lr * wd) * r**2))[..., 0]
        x = sgd_step(x, gs / r, lr=lr, weight_decay=wd)
        va = v[..., 0]
        u, v, eta_a = adamg_step(u, v, ga, lr=lrp, beta=beta, gamma=gamma, exact_sgd=exact)
        eta_a = eta_a[..., 0]
        ns, na = np.linalg.norm(gs, axis=-1), np.linalg.norm(ga, axis=-1)
        L = 8 * h + 2 * sigma * np.linalg.norm(xi, axis=-1)
        deta = lrp * delta / (np.sqrt(vs) * np.sqrt(va) * (np.sqrt(vs) + np.sqrt(va)))
        E = gamma**2 * ns**4 / (4 * beta * vs)
        rec["eta_s"].append(eta_s)
        rec["eta_a"].append(eta_a)
        rec["deta_bound"].append(deta)
        bound_next = (1 + eta_a * L) * bound + deta * ns
        delta = beta * delta + gamma * (ns + na) * L * bound + E
        bound = bound_next
        rec["gap"].append(np.linalg.norm(x / np.linalg.norm(x, axis=-1, keepdims=True) - u, axis=-1))
        rec["bound"].append(bound.copy())
    return {k: np.array(val) for k, val in rec.items()}


@pytest.mark.parametrize("wd", [0.5, 0.0])
def test_sgd_equals_exact_adamg(wd):
    """With the remainder E_k the AdamG scheme *is* SGD + L2 (derivation adam.sgd_adamg.relative_error)."""
    rec = _run_pair(0.05, wd, 1.0, 400, seed=5, exact=True, sigma=1.0, h=1.0)
    assert np.max(rec["gap"]) < 1e-10
    np.testing.assert_allclose(rec["eta_a"], rec["eta_s"], rtol=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sgd_vs_adamg_within_derived_error(seed):
    """Plain AdamG (no remainder E_k) stays within the error propagated from E_k (see _run_pair)."""
    rec = _run_pair(0.003, 1.0, 1.0, 150, seed=seed, exact=False)
    gap, bound = rec["gap"], rec["bound"]
    # rounding floor: each step adds ~1e-16 relative error to both trajectories
    floor = 1e-14 * np.arange(1, gap.shape[0] + 1)[:, None]
    assert np.all(gap <= bound + floor)
    assert np.all(np.abs(rec["eta_s"] - rec["eta_a"]) <= rec["deta_bound"] * (1 + 1e-9) + 1e-15)
    # the bound is informative here (not vacuous) and the gap is real (not rounding): order-2 discrepancy
    assert bound[-1].max() < 1e-5
    assert gap[-1].min() > 1e-3 * bound[-1].min()


def test_sgd_vs_adamg_error_order_at_fixed_beta():
    """Far from equilibrium (v ≫ (1−β)‖g̃‖² K), the relative v error after K steps is Σ E_k/v ∝ K‖g̃‖⁴/v²,
    i.e. ∝ η_e⁴ at fixed β (η_e² = η'²/v). r0 → √2·r0 multiplies v by 4 and halves η_e: the relative
    step-size discrepancy must drop by 2⁴ = 16. The v recursion is not exactly homogeneous (its
    (1−β)‖g̃‖² increments, relative size `drift` computed below, < 1%) and the two runs' gradient norms differ
    slightly, so we accept log₂(ratio) ∈ [3.75, 4.25], which separates order 4 from orders 3 (8×) and 5 (32×)."""
    a = _run_pair(0.003, 1.0, 1.0, 100, seed=7, exact=False)
    b = _run_pair(0.003, 1.0, math.sqrt(2.0), 100, seed=7, exact=False)
    ra = np.abs(a["eta_s"][-1] / a["eta_a"][-1] - 1)
    rb = np.abs(b["eta_s"][-1] / b["eta_a"][-1] - 1)
    # size of the non-homogeneous increments relative to v after K = 100 steps (h = 0.2, σ = 0.1, d = 16;
    # ‖g̃‖ ≤ 2h + σ(√d + 4) except with probability < 1e-3 per draw)
    m = sgd_adamg_mapping(0.003, 1.0, 1.0)
    drift = m["gamma"] * 100 * (0.4 + 0.1 * 8) ** 2 / (m["beta"] ** 100 * m["v0"])
    assert drift < 0.01
    assert 3.75 <= math.log2(np.median(ra / rb)) <= 4.25


def test_sgd_vs_adamg_step_error_at_equilibrium():
    """At equilibrium the order-2 error is a fixed bias of the step size (docs/adam.md):
    v^S = v^A (1 + (1−β) E[G²]/(4β E[G]²)) in mean field, so η^S/η^A − 1 ≈ −(1−β) E[G²]/(8β E[G]²) ≈ −ηλ/2·(1 +
    Var G/E[G]²), with G = ‖g̃‖². Tolerance: 4 standard errors of the across-trajectory mean of the
    per-trajectory time averages (independent trajectories), plus 10% of the prediction for the neglected
    O((1−β)²) and fluctuation terms."""
    lr, wd, d = 0.1, 0.05, 16
    sigma = 1 / math.sqrt(d - 1)  # pure noise, E‖g̃‖² = 1
    r0 = (lr / (wd * (2 - lr * wd))) ** 0.25  # SGD's equilibrium norm (sgd.equilibrium_sq_norm with L = 1)
    rec = _run_pair(lr, wd, r0, 3000, seed=11, exact=False, d=d, B=16, sigma=sigma, h=0.0)
    rel = rec["eta_s"][1000:] / rec["eta_a"][1000:] - 1
    per_traj = rel.mean(axis=0)
    se = per_traj.std(ddof=1) / math.sqrt(per_traj.size)
    beta = (1 - lr * wd) ** 4
    kurt = 1 + 2 / (d - 1)  # E[G²]/E[G]² for G = σ²χ²_{d−1}
    pred = -(1 - beta) * kurt / (8 * beta)
    assert abs(per_traj.mean() - pred) <= 4 * se + 0.1 * abs(pred)


# ----------------------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"beta1": 1.0}, "beta1"),
        ({"beta1": -0.1}, "beta1"),
        ({"beta2": 1.5}, "beta2"),
        ({"eps": -1e-8}, "eps"),
        ({"lr": 0.0}, "lr"),
    ],
)
def test_reference_steps_reject_bad_hyperparameters(kw, match):
    state = adam_init(np.ones((2, 3)))
    base = {"lr": 0.1, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8}
    base.update(kw)
    with pytest.raises(ValueError, match=match):
        adam_step(state, np.zeros((2, 3)), **base)


def test_variant_and_mapping_errors():
    state = adam_init(np.ones((2, 3)))
    with pytest.raises(ValueError, match="variant"):
        adam_step(state, np.zeros((2, 3)), lr=0.1, variant="adagrad")
    with pytest.raises(ValueError, match="weight_decay"):
        sgd_adamg_mapping(0.1, -1.0, 1.0)
    with pytest.raises(ValueError, match="lr \\* weight_decay"):
        sgd_adamg_mapping(1.0, 2.0, 1.0)


# ----------------------------------------------------------------------------------------------------------
# predict entries and the CLI
# ----------------------------------------------------------------------------------------------------------


def test_predict_entries_have_the_standard_keys_and_flags():
    from spheretheory.prediction import STANDARD_KEYS, predict

    for name, hyper in (("adamw", {"eps": 0.0}), ("lion", {}), ("adam", {"eps": 0.0})):
        p = predict(name, lr=1e-3, weight_decay=0.05, dim=64, beta1=0.9, beta2=0.99, **hyper).to_dict()
        assert all(k in p for k in STANDARD_KEYS)
        assert all(np.isfinite(p[k]) for k in STANDARD_KEYS)
    assert predict("adamw", lr=1e-3, weight_decay=0.05, dim=64, eps=0.0).norm_hyperparameter_only
    adam = predict("adam", lr=1e-3, weight_decay=0.05, dim=64)
    assert not adam.angular_update_hyperparameter_only and not adam.exact_available
    # AdamW's Δ* needs no dim (hyperparameter-only); its norm does
    p = predict("adamw", lr=1e-3, weight_decay=0.05)
    assert np.isfinite(p.angular_update) and np.isnan(p.equilibrium_norm) and p.norm_needs_dim


def test_predict_adamw_values_come_from_the_derivations():
    from spheretheory.prediction import predict

    p = predict("adamw", lr=1e-3, weight_decay=0.05, dim=64, beta1=0.8, eps=0.0)
    kw = {"lr": 1e-3, "weight_decay": 0.05}
    assert p.angular_update == pytest.approx(get("adamw.angular_update").evaluate_symbolic(**kw, beta1=0.8), rel=1e-12)
    kappa = get("adam.second_moment_kappa").evaluate_symbolic(beta2=0.999, kurtosis=3.0)  # Gaussian noise
    assert p.equilibrium_sq_norm == pytest.approx(
        kappa * get("adamw.equilibrium_sq_norm").evaluate_symbolic(**kw, dim=64, beta1=0.8), rel=1e-12
    )
    assert p.angular_update_first_order == pytest.approx(math.sqrt(2 * 1e-3 * 0.05 * 0.2 / 1.8), rel=1e-12)


def test_predict_without_weight_decay_has_no_equilibrium():
    from spheretheory.prediction import predict

    for name in ("adamw", "lion", "adam"):
        p = predict(name, lr=1e-3, weight_decay=0.0, dim=64)
        assert p.equilibrium_norm == math.inf and p.angular_update == 0.0 and not p.equilibrium_exists


@pytest.mark.parametrize(
    "name,kw,match",
    [
        ("adamw", {"beta1": 1.0}, "beta1"),
        ("adamw", {"beta2": -0.5}, "beta2"),
        ("adam", {"eps": -1e-8}, "eps"),
        ("lion", {"beta1": 1.2}, "beta1"),
        ("lion", {"momentum": 0.9}, "momentum"),
        ("adamw", {"momentum": 0.9}, "momentum"),
        ("lion", {"eps": 1e-8}, "eps"),
        ("adamw", {"nesterov": 1.0}, "nesterov"),
    ],
)
def test_predict_rejects_bad_adam_family_input(name, kw, match):
    from spheretheory.prediction import predict

    with pytest.raises((ValueError, TypeError), match=match):
        predict(name, lr=1e-3, weight_decay=0.05, dim=64, **kw)


def test_cli_predict_adamw_json(capsys):
    import json

    from spheretheory.cli import main

    rc = main(
        [
            "predict",
            "--optimizer",
            "adamw",
            "--lr",
            "1e-3",
            "--wd",
            "0.05",
            "--beta1",
            "0.9",
            "--beta2",
            "0.999",
            "--dim",
            "256",
            "--json",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["angular_update"] == pytest.approx(get("adamw.angular_update")(lr=1e-3, weight_decay=0.05, beta1=0.9))
    rc = main(["predict", "--optimizer", "lion", "--lr", "1e-3", "--wd", "0.05", "--momentum", "0.9"])
    err = capsys.readouterr().err
    assert rc == 2 and "momentum" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("model_name", ["nrq", "wells"])
@pytest.mark.parametrize("decoupled", [True, False])
def test_effective_lr_identity_on_toy_models(model_name, decoupled):
    """The same exact identities with the project's toy models' stochastic gradients (spheretheory.models)."""
    from spheretheory.models import NoisyRayleighQuotient, WellsOnSphere

    model = (
        NoisyRayleighQuotient(eigenvalues=np.linspace(0, 1, 10), noise_std=0.5)
        if model_name == "nrq"
        else (WellsOnSphere(add_noise=0.2))
    )
    rng = np.random.default_rng(4)
    x = 2.0 * _unit(rng, (6, model.dim))
    state = adam_init(x)
    lr = 0.02
    for _ in range(30):
        g = model.grad(state.x, rng)
        np.testing.assert_allclose(np.sum(g * state.x, axis=-1), 0, atol=1e-10)  # scale invariance (Lemma 1)
        out = adam_step(state, g, lr=lr, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.1, decoupled=decoupled)
        dec = decompose_step(state.x, out.state.x, out.a, out.b, lr, out.decay)
        assert dec.identity_residual < 1e-13
        np.testing.assert_allclose(dec.angle, dec.angle_exact, rtol=1e-9, atol=1e-14)
        state = out.state


@given(
    el=st.floats(1e-5, 0.05),
    beta1=st.floats(0.0, 0.99),
    beta2=st.floats(0.5, 0.9999),
    eps=st.floats(0.0, 1.0),
    L=st.floats(0.01, 100.0),
)
def test_adam_family_numerics_match_sympy_over_the_domain(el, beta1, beta2, eps, L):
    """Generated numpy functions against the sympy expressions at random points of the allowed domain."""
    lr = 0.01
    wd = el / lr
    cases = [
        ("adamw.angular_update", {"lr": lr, "weight_decay": wd, "beta1": beta1}),
        ("adamw.equilibrium_sq_norm", {"lr": lr, "weight_decay": wd, "dim": 100, "beta1": beta1}),
        ("adamw.equilibrium_norm_eps", {"lr": lr, "weight_decay": wd, "dim": 100, "unit_grad_sq": L, "eps": eps}),
        (
            "adamw.contraction_lagged_v",
            {"lr": lr, "weight_decay": wd, "beta2": beta2, "dim": 100, "unit_grad_sq": L, "eps": eps},
        ),
        ("adam_l2.contraction_lagged_v", {"lr": lr, "weight_decay": wd, "beta2": beta2, "dim": 100, "unit_grad_sq": L}),
        ("lion.angular_update_linearized", {"lr": lr, "weight_decay": wd, "beta1": beta1, "beta2": beta2}),
    ]
    for name, kw in cases:
        d = get(name)
        assert float(d(**kw)) == pytest.approx(d.evaluate_symbolic(**kw), rel=1e-9), name
    # the finite-ηλ Δ* tends to the first-order form with a relative gap O(ηλ/(1−β₁))
    exact = float(get("adamw.angular_update")(lr=lr, weight_decay=wd, beta1=beta1))
    first = float(get("adamw.angular_update_first_order")(lr=lr, weight_decay=wd, beta1=beta1))
    assert abs(exact / first - 1) <= 2 * el / (1 - beta1)
    # the slow mode is a contraction, slower than both the instantaneous-v mode and the v mode alone
    mu = float(get("adamw.contraction_lagged_v")(**cases[3][1]))
    mu_inst = float(get("adamw.contraction")(lr=lr, weight_decay=wd, dim=100, unit_grad_sq=L, eps=eps))
    assert mu_inst <= mu < 1 and beta2 <= mu + 1e-12
