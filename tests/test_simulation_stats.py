"""Statistical checks: simulated SGD/SGDM equilibria against the theory, and backends against each other.

Tolerances. Each simulated mean comes with a standard error taken across independent trajectories (the sample
standard deviation of the per-trajectory window means over √n), so a 4·SE band has a false-alarm rate of about
6e-5 per comparison. The closed forms being checked drop terms of relative order ηλ/(1−α) (Wan et al. assume
λη ≪ 1, Thm 1-3), so each comparison also allows that much relative deviation: the test fails only when the
simulation disagrees with the formula by more than its noise plus the formula's stated order of accuracy.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from spheretheory.simulation import simulate

CASES = [
    # optimizer, lr, weight decay, momentum: 2ηλ/(1−α) = 2e-3 per step, so 6000 steps relax by e^-12
    ("sgd", 0.1, 1e-2, 0.0),
    ("sgdm", 0.1, 1e-3, 0.9),
]


def _run(opt, lr, wd, mom, backend="numba", **kw):
    args = dict(dim=128, steps=6000, trajectories=48, seed=0, record="summary", backend=backend)
    args.update(kw)
    return simulate(opt, lr, wd, mom, **args)


def _rms_angle(r):
    """Per-trajectory √E[Δ²] over the window (from the streaming mean and variance) and its mean ± SE."""
    m, v = r.summary["angular_update_mean"][0], r.summary["angular_update_var"][0]
    rms = np.sqrt(m**2 + v)
    return rms.mean(), rms.std(ddof=1) / np.sqrt(rms.size)


@pytest.mark.parametrize("opt,lr,wd,mom", CASES)
def test_equilibrium_norm_matches_wan_theorem_2_with_measured_L(opt, lr, wd, mom):
    """Thm 1/2: ‖w*‖² = sqrt(L·η / (λ(1−α)(2 − λη/(1+α)))) with L = E[h̃] (E‖g̃‖² for SGD), measured in the
    same window as the paper does for its Fig. 3."""
    r = _run(opt, lr, wd, mom)
    st = r.equilibrium_stats()
    L, L_se = st["h_tilde"].mean[0], st["h_tilde"].se[0]
    pred = np.sqrt(L * lr / (wd * (1 - mom) * (2 - wd * lr / (1 + mom))))
    pred_se = 0.5 * pred * L_se / L  # propagated uncertainty of the measured L
    sim, sim_se = st["sq_norm"].mean[0], st["sq_norm"].se[0]
    tol = 4 * np.hypot(sim_se, pred_se) + pred * lr * wd / (1 - mom)
    assert abs(sim - pred) < tol, (sim, pred, tol)


@pytest.mark.parametrize("opt,lr,wd,mom", CASES)
def test_rms_angular_update_matches_wan_theorem_3(opt, lr, wd, mom):
    """Thm 3: Δ ≈ sqrt(2λη/(1+α)). The theorem concerns Δ², so the root-mean-square angle is compared
    (the mean angle is lower by Var(Δ)/(2Δ), a 1/d effect the theorem does not describe)."""
    r = _run(opt, lr, wd, mom)
    rms, se = _rms_angle(r)
    pred = np.sqrt(2 * lr * wd / (1 + mom))
    assert abs(rms - pred) < 4 * se + pred * lr * wd / (1 - mom), (rms, pred, se)


@pytest.mark.skipif(importlib.util.find_spec("spheretheory.prediction") is None, reason="spheretheory.predict missing")
@pytest.mark.parametrize("opt,lr,wd,mom", CASES)
def test_equilibrium_matches_predict(opt, lr, wd, mom):
    import spheretheory

    r = _run(opt, lr, wd, mom)
    st = r.equilibrium_stats()
    p = spheretheory.predict(optimizer=opt, lr=lr, weight_decay=wd, momentum=mom, unit_grad_sq=1.0)
    # the isotropic noise has E‖g̃‖² = 1 exactly
    allowance = lr * wd / (1 - mom)
    pred_sq = float(p.equilibrium_sq_norm)
    assert abs(st["sq_norm"].mean[0] - pred_sq) < 4 * st["sq_norm"].se[0] + pred_sq * allowance
    rms, se = _rms_angle(r)
    pred_d = float(p.angular_update)
    assert abs(rms - pred_d) < 4 * se + pred_d * allowance


def test_numpy_and_numba_agree_in_distribution():
    """Independent noise streams: the equilibrium means of the backends differ by less than 4 combined SE."""
    kw = dict(dim=32, steps=3000, trajectories=32)
    a = _run("sgdm", 0.1, 2e-3, 0.8, backend="numpy", seed=1, **kw).equilibrium_stats()
    b = _run("sgdm", 0.1, 2e-3, 0.8, backend="numba", seed=2, **kw).equilibrium_stats()
    for q in ("sq_norm", "angular_update", "unit_grad_sq"):
        diff = abs(a[q].mean[0] - b[q].mean[0])
        assert diff < 4 * np.hypot(a[q].se[0], b[q].se[0]), q


def test_unit_gradient_power_is_L_over_the_run():
    """E‖g̃‖² = L exactly for isotropic noise: the window mean over 48 trajectories × 1500 steps has SE
    ≈ L·sqrt(2/(d−1))/sqrt(48·1500), and the estimator's own SE is reported; 4 SE."""
    r = _run("sgdm", 0.1, 1e-3, 0.9, unit_grad_sq=2.5)
    s = r.equilibrium_stats()["unit_grad_sq"]
    assert abs(s.mean[0] - 2.5) < 4 * s.se[0]
