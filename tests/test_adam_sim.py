"""Simulation checks of the Adam-family equilibria against the specs of :mod:`spheretheory.optimizers` (numba).

Statistics: every simulation runs n independent trajectories; per-trajectory time averages over the last half
of the run are independent, so the standard error (SE) is their sample standard deviation over √n. Each
tolerance is 4 SE plus the size of the model error named in the comment (a term the derivation neglects,
estimated from the derivation itself).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import spheretheory as st
from spheretheory.adaptive import adam_init, adam_step, decompose_step, gradient, noise_scale_for
from spheretheory.prediction import predict
from spheretheory.theory import get


def _sim(opt, *, steps, dim=256, n=16, seed=0, **kw):
    res = st.simulate(
        opt, dim=dim, steps=steps, trajectories=n, record="summary", seed=seed, summary_fraction=0.5, **kw
    )
    assert not res.diverged.any()
    s = res.summary
    rms_angle = np.sqrt(s["angular_update_mean"] ** 2 + s["angular_update_var"])  # per trajectory
    out = {}
    for key, per in (("angle_rms", rms_angle), ("sq_norm", s["sq_norm_mean"]), ("elr", s["effective_lr_mean"])):
        out[key] = per.mean(axis=1)
        out[key + "_se"] = per.std(axis=1, ddof=1) / math.sqrt(per.shape[1])
    return out


def _steps(pred, factor=16):
    return int(max(2000, factor * float(np.max(pred["relaxation_steps"]))))


def test_adamw_reaches_predicted_equilibrium():
    # β₂ = 0.99: E‖ĝ‖²/d = κ = 1 − (1 − β₂) for Gaussian noise (adam.second_moment_kappa), so ‖x‖² is κ × the
    # κ = 1 value (predict applies it); Δ (an RMS ratio) is unaffected to first order. Model error allowed: 1/d
    # (mean field: the tangent projection removes one of d dimensions) plus (1 − β₂)² (next order of κ).
    wds = np.array([0.2, 0.5, 1.0])
    d, b2 = 256, 0.99
    pred = predict("adamw", lr=0.01, weight_decay=wds, dim=d, beta1=0.9, beta2=b2, eps=0.0)
    m = _sim("adamw", lr=0.01, weight_decay=wds, beta1=0.9, beta2=b2, eps=0.0, steps=_steps(pred.to_dict()))
    p_ang = np.asarray(pred.angular_update)
    assert np.all(np.abs(m["angle_rms"] - p_ang) <= 4 * m["angle_rms_se"] + p_ang / d)
    p_sq = np.asarray(pred.equilibrium_sq_norm)
    np.testing.assert_allclose(pred.second_moment_kappa, 1 - (1 - b2), rtol=1e-12)
    assert np.all(np.abs(m["sq_norm"] - p_sq) <= 4 * m["sq_norm_se"] + (1 / d + (1 - b2) ** 2) * p_sq)
    # κ matters: summed over the three points the κ = 1 norm misses the measurement by more than κ's does
    no_kappa = p_sq / np.asarray(pred.second_moment_kappa)
    assert np.sum(np.abs(m["sq_norm"] - p_sq)) < np.sum(np.abs(m["sq_norm"] - no_kappa))
    # the first-order Kosson et al. form is off by O(ηλ/(1−β₁)): at ηλ = 0.01 it is measurably worse
    first = np.asarray(pred.angular_update_first_order)
    assert abs(m["angle_rms"][-1] - first[-1]) > abs(m["angle_rms"][-1] - p_ang[-1])


def test_lion_reaches_predicted_equilibrium():
    # Arcsine-law prediction; model error 2/d (tangent projection, O(1/d) in the sign correlations).
    wds = np.array([0.2, 0.5, 1.0])
    d = 256
    pred = predict("lion", lr=0.01, weight_decay=wds, dim=d, beta1=0.9, beta2=0.99)
    m = _sim("lion", lr=0.01, weight_decay=wds, beta1=0.9, beta2=0.99, steps=_steps(pred.to_dict()))
    p_ang = np.asarray(pred.angular_update)
    assert np.all(np.abs(m["angle_rms"] - p_ang) <= 4 * m["angle_rms_se"] + 2 * p_ang / d)
    p_sq = np.asarray(pred.equilibrium_sq_norm)
    assert np.all(np.abs(m["sq_norm"] - p_sq) <= 4 * m["sq_norm_se"] + 2 * p_sq / d)
    # where ηλ is not ≪ 1 − β₂ (ηλ ≥ (1 − β₂)/2 here) the linearized (Kosson) form misses by > 10%
    lin = np.asarray(pred.angular_update_linearized)
    assert np.all(np.abs(lin[1:] / m["angle_rms"][1:] - 1) > 0.1)


def test_adam_l2_norm_follows_gradient_norm():
    """No hyperparameter-only equilibrium: ‖x*‖ ∝ ‖g̃‖^{1/3} at fixed hyperparameters."""
    Ls = np.array([0.25, 4.0, 64.0])
    d, lr, wd = 256, 0.01, 0.01
    pred = predict("adam", lr=lr, weight_decay=wd, unit_grad_sq=Ls, dim=d, beta1=0.9, beta2=0.999, eps=0.0)
    assert not pred.norm_hyperparameter_only
    m = _sim(
        "adam",
        lr=lr,
        weight_decay=wd,
        unit_grad_sq=Ls,
        beta1=0.9,
        beta2=0.999,
        eps=0.0,
        steps=_steps(pred.to_dict(), factor=10),
    )
    norm = np.sqrt(m["sq_norm"])
    norm_se = m["sq_norm_se"] / (2 * norm)
    # first-order prediction: neglected relative terms O(ηλ_eff/(1−β₁)) (momentum lag of the coupled decay) and
    # O(λr²/‖g̃‖) (decay in v); allowed: their sum, evaluated from the prediction
    p = np.asarray(pred.equilibrium_norm)
    model = lr * np.asarray(pred.effective_weight_decay) / (1 - 0.9) + np.asarray(pred.l2_to_grad_ratio)
    assert np.all(np.abs(norm - p) <= 4 * norm_se + model * p)
    slope = np.polyfit(np.log(np.sqrt(Ls)), np.log(norm), 1)[0]
    slope_tol = 2 * model.max() / math.log(16.0)  # a relative error ≤ model.max() at each end of a 16× range
    assert abs(slope - 1 / 3) <= slope_tol
    # and unlike AdamW, the norms differ by many SE across the gradient scales
    assert np.all(np.diff(norm) > 10 * norm_se[1:])


def test_adamw_eps_shrinks_norm_not_angle_nor_effective_lr():
    """ε > 0: r*(1 + ε r*/σ) = r₀ — the norm shrinks, Δ* and η_e* = η/(σ r₀) do not change (docs/adam.md)."""
    eps = np.array([0.0, 0.01, 0.1])
    d, lr, wd, b2 = 256, 0.01, 0.5, 0.99
    pred = predict("adamw", lr=lr, weight_decay=wd, eps=eps, dim=d, beta1=0.9, beta2=b2)
    m = _sim("adamw", lr=lr, weight_decay=wd, eps=eps, beta1=0.9, beta2=b2, steps=_steps(pred.to_dict()))
    # ratios to ε = 0 cancel the κ = 1 − (1 − β₂) bias; remaining model error: the ε balance uses √ṽ ≈ σ
    # per coordinate, whose relative fluctuation √(2(1−β₂)/(1+β₂)) enters at second order — allowed 2(1 − β₂)
    r_ratio = np.sqrt(m["sq_norm"] / m["sq_norm"][0])
    r_ratio_pred = np.asarray(pred.equilibrium_norm) / float(np.asarray(pred.equilibrium_norm)[0])
    se = m["sq_norm_se"] / m["sq_norm"]
    assert np.all(np.abs(r_ratio - r_ratio_pred) <= 4 * (se + se[0]) + 2 * (1 - b2))
    assert r_ratio[-1] < 0.6  # the effect is real: ε r*/σ ≈ 1.2 at ε = 0.1
    for key in ("angle_rms", "elr"):
        rel = m[key] / m[key][0] - 1
        assert np.all(np.abs(rel) <= 4 * (m[key + "_se"] / m[key] + m[key + "_se"][0] / m[key][0]) + 2 * (1 - b2))


def test_adamw_relaxation_is_slowed_by_the_second_moment():
    """With 1 − β₂ ≪ ηλ the norm relaxes in ≈ 2/(1 − β₂) steps, not 1/(2ηλ) (adamw.contraction_lagged_v)."""
    d, lr, wd = 128, 0.01, 0.1
    for b2 in (0.99, 0.9995):
        pred = predict("adamw", lr=lr, weight_decay=wd, dim=d, beta1=0.9, beta2=b2, eps=0.0)
        tau = float(pred.relaxation_steps)
        res = st.simulate(
            "adamw",
            lr=lr,
            weight_decay=wd,
            beta1=0.9,
            beta2=b2,
            eps=0.0,
            dim=d,
            steps=int(3 * tau),
            trajectories=16,
            record_every=10,
            seed=2,
            init_norm=0.3 * float(pred.equilibrium_norm),
        )
        sq = np.nanmean(res.sq_norm, axis=(1, 2))
        gap = np.abs(sq - float(pred.equilibrium_sq_norm))
        t = res.steps
        # e-folding of the gap between t = τ and t = 2τ: log ratio ≈ −1 (linearisation; the gap is still
        # large at τ, so allow ±35% for the nonlinear start and the κ offset)
        i1, i2 = np.searchsorted(t, tau), np.searchsorted(t, 2 * tau)
        slope = math.log(gap[i2] / gap[i1])
        assert -1.35 <= slope <= -0.65, (b2, slope)
    assert (
        get("adamw.contraction_lagged_v")(lr=lr, weight_decay=wd, beta2=0.9995, dim=d, unit_grad_sq=1.0, eps=0.0)
        > (1 - lr * wd) ** 2
    )


def test_adamsrt_equilibrium_and_radial_momentum():
    """AdamSRT: transported momentum has no radial part, Δ* = arccos(1 − ηλ) (adamsrt.*); AdamW's effective
    direction has the radial fraction −Q/√(R(0) S) (adamw.angular_update)."""
    d, B, lr, wd, b1 = 128, 16, 0.01, 0.5, 0.9
    rng = np.random.default_rng(0)
    sig = noise_scale_for(1.0, d)
    res = {}
    for variant in ("adams", "adamsrt"):
        x = rng.standard_normal((B, d))
        state = adam_init(x / np.linalg.norm(x, axis=-1, keepdims=True), per_group=True)
        frac, ang, sq = [], [], []
        for k in range(2500):
            g = gradient(state.x, rng.standard_normal((B, d)), sigma=sig)
            o = adam_step(state, g, lr=lr, beta1=b1, beta2=0.99, eps=0.0, weight_decay=wd, variant=variant)
            if k >= 1000:
                dec = decompose_step(state.x, o.state.x, o.a, o.b, lr, o.decay)
                frac.append(dec.c_radial / np.linalg.norm(dec.c, axis=-1))
                ang.append(dec.angle)
                sq.append(np.sum(o.state.x**2, axis=-1))
            state = o.state
        res[variant] = [np.array(a).mean(axis=0) for a in (frac, ang, sq)]  # per-trajectory time means
    frac, ang, sq = res["adamsrt"]
    assert np.max(np.abs(frac)) < 1e-12
    p_ang = float(get("adamsrt.angular_update")(lr=lr, weight_decay=wd))
    p_sq = float(get("adamsrt.equilibrium_sq_norm")(lr=lr, weight_decay=wd, dim=d, beta1=b1))
    se = lambda a: a.std(ddof=1) / math.sqrt(a.size)  # noqa: E731
    # model error: κ ≈ 1 − (1 − β₂) on ‖x‖² (allowed 2(1−β₂)), 1/d on the mean angle (mean vs RMS, projection)
    assert abs(ang.mean() - p_ang) <= 4 * se(ang) + p_ang / d
    assert abs(sq.mean() - p_sq) <= 4 * se(sq) + 2 * 0.01 * p_sq
    # AdamS (no transport): radial fraction of c as derived for AdamW; allowed model error (1 − β₂)
    frac_s = res["adams"][0]
    rho = 1 - lr * wd
    f = (1 - b1) / (1 + b1)
    S = f * (1 + rho * b1) / ((1 - rho * b1) * (1 - rho**2))
    Q = f * b1 / (1 - rho * b1)
    pred = -Q / math.sqrt(f * S)
    assert abs(frac_s.mean() - pred) <= 4 * se(frac_s) + 0.01 * abs(pred)
    # transport changes Δ*: AdamSRT ≈ √(2ηλ) vs AdamS ≈ √(2ηλ(1−β₁)/(1+β₁)), a factor ≈ √((1+β₁)/(1−β₁))
    assert ang.mean() / res["adams"][1].mean() == pytest.approx(math.sqrt((1 + b1) / (1 - b1)), rel=0.05)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("opt", ["adam", "adamw", "lion"])
def test_simulator_matches_reference_steps_on_identical_draws(opt, backend):
    """spheretheory.simulate and the numpy references of spheretheory.adaptive, fed the same w0 and noise draws,
    give the same ‖w‖², angular update and effective LR η/(rν) (Roburin's definition) at every step."""
    from spheretheory.adaptive import lion_step
    from spheretheory.adaptive.measure import angle_between

    d, n, T, lr, wd, b1, b2, eps = 32, 4, 60, 0.01, 0.3, 0.9, 0.99, 1e-3
    rng = np.random.default_rng(8)
    w0 = rng.standard_normal((n, d))
    xi = rng.standard_normal((T, 1, n, d))
    kw = {"beta1": b1, "beta2": b2} if opt == "lion" else {"beta1": b1, "beta2": b2, "eps": eps}
    res = st.simulate(
        opt,
        lr=lr,
        weight_decay=wd,
        dim=d,
        steps=T,
        trajectories=n,
        w0=w0[None],
        noise_draws=xi,
        unit_grad_sq=1.0,
        backend="numpy",
        **kw,
    )
    sig = noise_scale_for(1.0, d)
    state = adam_init(w0)
    sq, ang, elr = [], [], []
    for t in range(T):
        g = gradient(state.x, xi[t, 0], sigma=sig)
        if opt == "lion":
            out = lion_step(state, g, lr=lr, beta1=b1, beta2=b2, weight_decay=wd)
        else:
            out = adam_step(state, g, lr=lr, beta1=b1, beta2=b2, eps=eps, weight_decay=wd, decoupled=opt == "adamw")
        dec = decompose_step(state.x, out.state.x, out.a, out.b, lr, out.decay)
        sq.append(np.sum(state.x**2, axis=-1))
        ang.append(angle_between(state.x, out.state.x))
        elr.append(dec.eta_e)
        state = out.state
    np.testing.assert_allclose(res.sq_norm[:, 0], np.array(sq), rtol=1e-10)
    np.testing.assert_allclose(res.angular_update[:, 0], np.array(ang), rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(res.effective_lr[:, 0], np.array(elr), rtol=1e-10)


def test_adamw_kappa_range_flag():
    """κ is flagged in range for ηλ ≤ 1 − β₂ (where test_adamw_reaches_predicted_equilibrium confirms it) and out
    of range at the wen2025 claim's ηλ = 5(1 − β₂)."""
    p = predict("adamw", lr=0.01, weight_decay=np.array([0.2, 1.0, 5.0]), dim=256, beta2=0.99)
    assert list(np.asarray(p.second_moment_kappa_in_range)) == [True, True, False]
