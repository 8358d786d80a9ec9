"""Tests of spheretheory.analysis: geometry, equilibrium statistics and standard errors, streaming moments."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spheretheory.analysis import (
    RunningMoments,
    angle_between,
    angular_updates,
    cosine_similarity,
    equilibrium_stats,
    integrated_autocorrelation_time,
    relaxation_rate,
    stats_from_trajectory_means,
    time_to_equilibrium,
)


@given(
    angle=st.floats(1e-7, np.pi - 1e-3),
    scale_a=st.floats(1e-3, 1e3),
    scale_b=st.floats(1e-3, 1e3),
    seed=st.integers(0, 2**32 - 1),
)
def test_angle_between_recovers_a_constructed_angle(angle, scale_a, scale_b, seed):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(6, 2)))
    e1, e2 = q[:, 0], q[:, 1]
    a = scale_a * e1
    b = scale_b * (np.cos(angle) * e1 + np.sin(angle) * e2)
    # relative precision even for tiny angles (arccos of the cosine would lose it below ~1e-8)
    assert angle_between(a, b) == pytest.approx(angle, rel=1e-8, abs=1e-15)


def test_angle_between_float32_tiny_angle():
    a = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    b = np.array([1.0, 1e-3, 0.0], dtype=np.float32)
    # the float32 inputs are exact; computed in float64 the angle is atan(1e-3) to ~1e-7 relative
    assert angle_between(a, b) == pytest.approx(np.arctan(np.float32(1e-3)), rel=1e-6)
    assert angle_between(a, -a) == pytest.approx(np.pi)
    assert angle_between(a, np.array([0, 2.0, 0])) == pytest.approx(np.pi / 2)


def test_angular_updates_and_cosine():
    t = np.linspace(0, 1, 11)
    circle = np.stack([np.cos(t), np.sin(t), np.zeros_like(t)], axis=-1)
    w = circle[:, None, :] * np.array([1.0, 5.0])[:, None]
    du = angular_updates(w)
    assert du.shape == (10, 2)
    np.testing.assert_allclose(du, 0.1, rtol=1e-10)
    np.testing.assert_allclose(cosine_similarity(w[0], w[-1]), np.cos(1.0), rtol=1e-12)
    with pytest.raises(ValueError, match="weights"):
        angular_updates(np.ones((1, 3)))


def test_equilibrium_stats_se_is_the_spread_of_trajectory_means():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 1.0, size=(400, 2, 50))
    s = equilibrium_stats(x, 0.25)
    m = x[300:].mean(axis=0)
    np.testing.assert_allclose(s.mean, m.mean(axis=-1))
    np.testing.assert_allclose(s.se, m.std(axis=-1, ddof=1) / np.sqrt(50))
    assert s.n_records == 100 and np.all(s.n_trajectories == 50)
    assert s.method == "across-trajectories"
    np.testing.assert_allclose(s.std, 1.0, rtol=0.05)  # 5000 unit-variance values: SE of σ̂ ≈ 1%


def test_equilibrium_stats_standard_errors_are_calibrated():
    """Over 400 independent AR(1) data sets the z-score (mean − μ)/SE has standard deviation ≈ 1.

    With 400 replicates the sample std of z has relative SE ≈ 1/√800 ≈ 3.5%; the band [0.85, 1.15] is
    4 SE wide on either side. (For n = 16 trajectories the t-distribution inflates it by √(15/13) ≈ 7%.)
    """
    rng = np.random.default_rng(1)
    rho, n, T, reps = 0.9, 16, 400, 400
    z = []
    for _ in range(reps):
        e = rng.normal(size=(T, n))
        x = np.empty_like(e)
        x[0] = e[0] / np.sqrt(1 - rho**2)
        for t in range(1, T):
            x[t] = rho * x[t - 1] + e[t]
        s = equilibrium_stats(x + 5.0, 0.5)
        z.append((s.mean - 5.0) / s.se)
    assert 0.85 < np.std(z) / np.sqrt(15 / 13) < 1.15


def test_equilibrium_stats_masks_and_non_finite_trajectories():
    x = np.ones((10, 4))
    x[:, 1] = 3.0
    x[7, 2] = np.nan
    s = equilibrium_stats(x, 0.5, mask=np.array([True, True, True, False]))
    assert s.n_trajectories == 2  # trajectory 2 has a NaN in the window, 3 is masked
    assert s.mean == pytest.approx(2.0)
    assert np.isfinite(s.se)


def test_single_trajectory_uses_the_autocorrelation_time():
    """AR(1) with ρ: τ_int = (1+ρ)/(1−ρ) = 9 for ρ = 0.8. Sokal's windowed estimator over 2·10⁵ points has
    a relative error of roughly sqrt(2(2M+1)/N) ≈ 2-3%; 15% is a safe band."""
    rng = np.random.default_rng(2)
    rho, T = 0.8, 200_000
    e = rng.normal(size=T)
    x = np.empty(T)
    x[0] = 0.0
    for t in range(1, T):
        x[t] = rho * x[t - 1] + e[t]
    tau = integrated_autocorrelation_time(x)
    assert tau == pytest.approx((1 + rho) / (1 - rho), rel=0.15)
    s = equilibrium_stats(x, 1.0)
    assert s.method == "autocorrelation"
    assert s.se == pytest.approx(np.std(x) * np.sqrt(tau / T), rel=1e-9)
    assert integrated_autocorrelation_time(rng.normal(size=20000)) == pytest.approx(1.0, abs=0.1)


def test_stats_from_trajectory_means():
    means = np.array([[1.0, 2.0, 3.0], [np.nan, 4.0, 4.0]])
    s = stats_from_trajectory_means(means, np.ones_like(means), n_records=7)
    np.testing.assert_allclose(s.mean, [2.0, 4.0])
    np.testing.assert_allclose(s.se, [1.0 / np.sqrt(3), 0.0])
    np.testing.assert_array_equal(s.n_trajectories, [3, 2])
    np.testing.assert_allclose(s.std, [np.sqrt(1 + 2 / 3), 1.0])


def test_time_to_equilibrium_and_relaxation_rate():
    t = np.arange(2000)
    x = 1.0 + np.exp(-t / 100.0)
    # inside the 5% band once e^(−t/100) ≤ 0.05, i.e. t ≥ 100·ln 20 = 299.57
    assert time_to_equilibrium(x, 1.0, rtol=0.05) == 300
    assert time_to_equilibrium(x, 1.0, rtol=0.05, steps=10 * t) == 3000
    assert time_to_equilibrium(np.r_[x, 5.0], 1.0) == -1
    two = np.stack([x, 2 * x], axis=1)
    np.testing.assert_array_equal(time_to_equilibrium(two, np.array([1.0, 2.0])), [300, 300])
    assert relaxation_rate(t, x, 1.0) == pytest.approx(0.01, rel=1e-9)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 50))
def test_running_moments_match_numpy(seed, n):
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(n, 3)) * 10 + 100
    mask = rng.random((n, 3)) < 0.7
    rm = RunningMoments((3,))
    for row, m in zip(data, mask, strict=True):
        rm.update(row, where=m)
    for k in range(3):
        sel = data[mask[:, k], k]
        assert rm.count[k] == sel.size
        if sel.size:
            assert rm.mean[k] == pytest.approx(sel.mean(), rel=1e-12)
            assert rm.var[k] == pytest.approx(sel.var(), rel=1e-8, abs=1e-9)


def test_welford_update_matches_batch_moments_with_masks_and_shared_counts():
    """The one Welford step (used by RunningMoments and the numpy simulator): leading axes share one count per
    column; masked-out steps are skipped. Exact batch mean/var (ddof=0) of the selected values, to round-off."""
    from spheretheory._stats import welford_update

    rng = np.random.default_rng(3)
    T, Q, N = 200, 3, 5
    xs = rng.normal(2.0, 3.0, size=(T, Q, N))
    masks = rng.random((T, N)) < 0.7
    masks[0] = True
    count, mean, m2 = np.zeros(N, dtype=np.int64), np.zeros((Q, N)), np.zeros((Q, N))
    for x, m in zip(xs, masks, strict=True):
        welford_update(count, mean, m2, x, m)
    for j in range(N):
        sel = xs[masks[:, j], :, j]
        assert count[j] == sel.shape[0]
        np.testing.assert_allclose(mean[:, j], sel.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(m2[:, j] / count[j], sel.var(axis=0), rtol=1e-10)
