"""Full-d simulators: backends against each other, invariants, reproducibility, faults, bad input."""

from __future__ import annotations

import importlib.util
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spheretheory.simulation import QUANTITIES, simulate, step_decay
from spheretheory.simulation._numpy import synthetic_unit_gradient
from spheretheory.simulation.schedules import as_schedule, linear_drift, stepped

OPTIMIZERS = [
    ("sgd", {}),
    ("sgdm", {"momentum": 0.9}),
    ("nesterov", {"momentum": 0.8}),
    ("adam", {}),
    ("adamw", {}),
    ("lion", {}),
    ("sgd", {"decoupled": True}),
    ("adam", {"decoupled": True}),
    ("lion", {"decoupled": False}),
]


def _lr(opt: str) -> list[float]:
    return [0.1, 0.03] if opt in ("sgd", "sgdm", "nesterov") else [1e-3, 3e-3]


def _compare(a, b, rtol: float) -> None:
    """Every series and the final weights agree; the tolerance is relative to each quantity's scale."""
    for q in QUANTITIES:
        x, y = a.series(q), b.series(q)
        assert (x is None) == (y is None), q
        if x is None:
            continue
        scale = np.nanmax(np.abs(x))
        np.testing.assert_allclose(y, x, rtol=rtol, atol=rtol * scale, err_msg=q)
    np.testing.assert_allclose(b.w_final, a.w_final, rtol=rtol, atol=rtol * np.abs(a.w_final).max())
    np.testing.assert_array_equal(a.diverged, b.diverged)
    for k in a.summary:
        np.testing.assert_allclose(b.summary[k], a.summary[k], rtol=rtol, atol=rtol * np.nanmax(np.abs(a.summary[k])))


# ------------------------------------------------------------------------------------------------------------
# numpy reference vs numba on identical injected draws
# ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("opt,kw", OPTIMIZERS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", [0, 1])
def test_numba_matches_numpy_on_injected_noise(opt, kw, dtype, seed):
    steps, G, n, d = 120, 2, 3, 12
    draws = np.random.default_rng(seed).standard_normal((steps, G, n, d))
    args = dict(lr=_lr(opt), weight_decay=[1e-2, 1e-3], dim=d, steps=steps, trajectories=n, seed=seed)
    args.update(noise_draws=draws, dtype=dtype, record_every=3, summary_fraction=0.5, **kw)
    a = simulate(opt, backend="numpy", **args)
    b = simulate(opt, backend="numba", **args)
    # float64: the two differ only in the order of float64 sums (≈ 1e-16 relative per step);
    # float32: both compute each step in float64 and round the stored state to float32, so they agree
    # to a few float32 ulps (an FMA may round one product differently); 1e-4 leaves room for that.
    _compare(a, b, rtol=1e-9 if dtype == np.float64 else 1e-4)
    assert b.w_final.dtype == np.dtype(dtype)


@given(
    case=st.sampled_from(OPTIMIZERS),
    dtype=st.sampled_from([np.float64, np.float32]),
    d=st.integers(2, 20),
    n=st.integers(1, 4),
    G=st.integers(1, 3),
    steps=st.integers(1, 30),
    every=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_numba_matches_numpy_over_random_configurations(case, dtype, d, n, G, steps, every, seed):
    opt, kw = case
    rng = np.random.default_rng(seed)
    base = 0.1 if opt in ("sgd", "sgdm", "nesterov") else 1e-3
    args = dict(lr=base * rng.uniform(0.1, 2.0, G), weight_decay=rng.uniform(0.0, 0.05, G), dim=d, steps=steps)
    args.update(trajectories=n, seed=seed % 1000, noise_draws=rng.standard_normal((steps, G, n, d)), dtype=dtype)
    args.update(record_every=every, **kw)
    a = simulate(opt, backend="numpy", **args)
    b = simulate(opt, backend="numba", **args)
    _compare(a, b, rtol=1e-9 if dtype == np.float64 else 1e-4)  # tolerances as in the test above


@pytest.mark.parametrize("noise", ["anisotropic", "drift"])
def test_noise_models_numba_matches_numpy(noise):
    steps, n, d = 80, 4, 10
    rng = np.random.default_rng(5)
    extra = {"spectrum": rng.uniform(0.1, 3.0, d)} if noise == "anisotropic" else {"drift": rng.normal(size=d)}
    draws = rng.standard_normal((steps, 1, n, d))
    args = dict(lr=0.05, weight_decay=1e-2, momentum=0.5, dim=d, steps=steps, trajectories=n, noise=noise, seed=1)
    a = simulate("sgdm", backend="numpy", noise_draws=draws, **args, **extra)
    b = simulate("sgdm", backend="numba", noise_draws=draws, **args, **extra)
    _compare(a, b, rtol=1e-9)


def test_schedules_and_rescale_numba_matches_numpy():
    steps, n, d = 150, 3, 8
    draws = np.random.default_rng(2).standard_normal((steps, 1, n, d))
    args = dict(lr=0.1, weight_decay=1e-2, momentum=0.9, dim=d, steps=steps, trajectories=n, noise_draws=draws, seed=2)
    args.update(
        lr_schedule=step_decay([50, 100], 4.0),
        rescale_on_drop=True,
        wd_schedule=stepped([70], [1.0, 0.5]),
        grad_schedule=linear_drift(10, 120, 1.0, 3.0),
    )
    _compare(simulate("sgdm", backend="numpy", **args), simulate("sgdm", backend="numba", **args), rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_angle_is_accurate_when_the_step_is_along_w(dtype):
    """ηλ = 1.9: w flips through the origin each step (Δ ≈ π, δ almost parallel to w), where
    ‖δ‖² − ⟨δ,w⟩²/‖w‖² cancels; the kernel then sums the perpendicular part directly."""
    steps, n, d = 40, 3, 10
    draws = np.random.default_rng(0).standard_normal((steps, 1, n, d))
    args = dict(lr=1.0, weight_decay=1.9, dim=d, steps=steps, trajectories=n, noise_draws=draws, seed=0, dtype=dtype)
    a = simulate("sgd", backend="numpy", **args)
    b = simulate("sgd", backend="numba", **args)
    assert np.all(a.angular_update > np.pi / 2)
    # π − Δ is the small quantity that matters; float32 storage limits it to ~1e-7 relative of ‖w‖
    tol = 1e-9 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(np.pi - b.angular_update, np.pi - a.angular_update, rtol=tol, atol=1e-12)


def test_grid_layout_matches_separate_runs():
    """Grid point g with trajectories j uses draws[:, g, j]: the same as a separate run with that lr."""
    steps, n, d = 60, 2, 6
    draws = np.random.default_rng(3).standard_normal((steps, 3, n, d))
    w0 = np.random.default_rng(4).standard_normal((3, n, d))
    lrs = np.array([0.01, 0.1, 0.3])
    grid = simulate("sgdm", lrs, 1e-3, 0.9, dim=d, steps=steps, trajectories=n, noise_draws=draws, w0=w0)
    assert grid.sq_norm.shape == (steps, 3, n)
    for g in range(3):
        one = simulate(
            "sgdm",
            lrs[g],
            1e-3,
            0.9,
            dim=d,
            steps=steps,
            trajectories=n,
            noise_draws=draws[:, g : g + 1],
            w0=w0[g],
        )
        np.testing.assert_allclose(grid.sq_norm[:, g], one.sq_norm[:, 0], rtol=1e-12)
        np.testing.assert_allclose(grid.angular_update[:, g], one.angular_update[:, 0], rtol=1e-10)


# ------------------------------------------------------------------------------------------------------------
# Reproducibility
# ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_seeded_runs_repeat_exactly(backend):
    args = dict(lr=0.1, weight_decay=1e-3, momentum=0.9, dim=16, steps=50, trajectories=5, backend=backend)
    a = simulate("sgdm", seed=7, **args)
    b = simulate("sgdm", seed=7, **args)
    c = simulate("sgdm", seed=8, **args)
    np.testing.assert_array_equal(a.sq_norm, b.sq_norm)
    np.testing.assert_array_equal(a.w_final, b.w_final)
    assert not np.array_equal(a.sq_norm, c.sq_norm)


def test_numba_result_does_not_depend_on_thread_count():
    import numba

    args = dict(lr=0.1, weight_decay=1e-3, momentum=0.9, dim=16, steps=40, trajectories=300, seed=11)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = simulate("sgdm", **args)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = simulate("sgdm", **args)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one.w_final, many.w_final)
    np.testing.assert_array_equal(one.angular_update, many.angular_update)


def test_backends_start_from_the_same_weights():
    args = dict(lr=0.1, weight_decay=1e-3, dim=16, steps=3, trajectories=4, seed=3)
    a = simulate("sgd", backend="numpy", **args)
    b = simulate("sgd", backend="numba", **args)
    np.testing.assert_allclose(a.sq_norm[0], b.sq_norm[0], rtol=1e-14)
    np.testing.assert_allclose(a.cos_to_start[0], 1.0, rtol=1e-14)


# ------------------------------------------------------------------------------------------------------------
# Invariants
# ------------------------------------------------------------------------------------------------------------
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(2, 40), n=st.integers(1, 5))
def test_synthetic_gradient_is_tangent(seed, d, n):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(n, d)) * rng.uniform(0.01, 100.0, size=(n, 1))
    g = synthetic_unit_gradient(w, rng.normal(size=(n, d)), np.full(n, 2.0), np.zeros(0), np.zeros(0))
    cos = np.sum(g * w, axis=1) / (np.linalg.norm(g, axis=1) * np.linalg.norm(w, axis=1))
    assert np.all(np.abs(cos) < 1e-12)


def test_synthetic_gradient_power_is_L_in_expectation():
    # ‖g̃‖² = L·χ²_{d−1}/(d−1): mean L, variance 2L²/(d−1); over M draws the SE of the mean is
    # L·sqrt(2/((d−1)M)); we allow 5 SE.
    d, M, L = 8, 20000, 3.0
    rng = np.random.default_rng(0)
    w = rng.normal(size=(M, d))
    g = synthetic_unit_gradient(w, rng.normal(size=(M, d)), np.full(M, L), np.zeros(0), np.zeros(0))
    power = np.sum(g * g, axis=1)
    assert abs(power.mean() - L) < 5 * L * np.sqrt(2 / ((d - 1) * M))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sgd_norm_and_angle_follow_the_exact_one_step_identities(dtype):
    """For SGD, g ⟂ w gives ‖w_{t+1}‖² = (1−ηλ)²‖w_t‖² + η²‖g̃_t‖²/‖w_t‖² and
    tan Δ_t = η‖g̃_t‖ / ((1−ηλ)‖w_t‖²) exactly (Wan et al. eq. 7 with Lemma 1)."""
    eta, lam = 0.2, 0.05
    r = simulate("sgd", eta, lam, dim=32, steps=200, trajectories=6, seed=1, dtype=dtype)
    sq, ugs, delta = r.sq_norm, r.unit_grad_sq, r.angular_update
    pred_next = (1 - eta * lam) ** 2 * sq[:-1] + eta**2 * ugs[:-1] / sq[:-1]
    tol = 1e-12 if dtype == np.float64 else 3e-6  # float32 storage: a few ulps of ‖w‖² per step
    np.testing.assert_allclose(sq[1:], pred_next, rtol=tol)
    np.testing.assert_allclose(np.tan(delta), eta * np.sqrt(ugs) / ((1 - eta * lam) * sq), rtol=10 * tol)
    # effective learning rate η/‖w‖² and h̃ = ‖g̃‖² for SGD (α = 0)
    np.testing.assert_allclose(r.effective_lr, eta / sq, rtol=1e-12)
    np.testing.assert_allclose(r.h_tilde, ugs, rtol=1e-12)


@pytest.mark.parametrize("opt,kw", [("sgd", {}), ("sgdm", {"momentum": 0.9}), ("nesterov", {"momentum": 0.9})])
def test_scale_invariance_of_the_dynamics(opt, kw):
    """With g(kw) = g(w)/k, the run from k·w0 with lr·k² and wd/k² is k times the run from w0."""
    k = 3.0
    steps, n, d = 100, 3, 10
    draws = np.random.default_rng(9).standard_normal((steps, 1, n, d))
    w0 = np.random.default_rng(8).standard_normal((n, d))
    a = simulate(opt, 0.1, 1e-2, dim=d, steps=steps, trajectories=n, noise_draws=draws, w0=w0, **kw)
    b = simulate(opt, 0.1 * k**2, 1e-2 / k**2, dim=d, steps=steps, trajectories=n, noise_draws=draws, w0=k * w0, **kw)
    np.testing.assert_allclose(b.sq_norm, k**2 * a.sq_norm, rtol=1e-10)
    np.testing.assert_allclose(b.angular_update, a.angular_update, rtol=1e-8)
    np.testing.assert_allclose(b.cos_to_start, a.cos_to_start, rtol=1e-8, atol=1e-12)


def test_model_gradients_match_the_equivalent_drift_noise():
    """A model whose gradient is that of ⟨a, w/‖w‖⟩ gives the same run as noise='drift' with L = 0."""

    class Linear:
        def __init__(self, a):
            self.a = a
            self.dim = a.size

        def loss(self, w):
            return w @ self.a / np.linalg.norm(w, axis=-1)

        def grad(self, w, rng=None):
            nw = np.linalg.norm(w, axis=-1, keepdims=True)
            u = w / nw
            return (self.a - (u @ self.a)[..., None] * u) / nw

    a = np.random.default_rng(0).normal(size=7)
    args = dict(lr=0.05, weight_decay=1e-3, momentum=0.5, dim=7, steps=80, trajectories=3, seed=4)
    m = simulate("sgdm", model=Linear(a), **args)
    dr = simulate("sgdm", noise="drift", drift=a, unit_grad_sq=0.0, **args)
    np.testing.assert_allclose(m.sq_norm, dr.sq_norm, rtol=1e-12)
    np.testing.assert_allclose(m.angular_update, dr.angular_update, rtol=1e-9)
    assert m.config["noise"] == "model"


def test_rescale_on_drop_starts_at_the_new_equilibrium():
    """Wan et al. Sec. 4.2: dividing w by k^(1/4) at an LR drop by k puts ‖w‖² at the new equilibrium at once;
    without it ‖w‖² starts √k = 4 times too large (‖w*‖² ∝ √η) and relaxes only at rate ~2λη/(1−α)."""
    args = dict(lr=0.1, weight_decay=1e-2, momentum=0.9, dim=64, steps=3000, trajectories=32, seed=0)
    sched = step_decay([1500], 16.0)
    with_r = simulate("sgdm", lr_schedule=sched, rescale_on_drop=True, **args)
    without = simulate("sgdm", lr_schedule=sched, **args)
    new_eq = with_r.trajectory_mean("sq_norm")[-500:, 0].mean()
    for r, expected in ((with_r, 1.0), (without, 4.0)):
        after = r.trajectory_mean("sq_norm")[1500:1520, 0].mean()
        # trajectory means of 32 runs fluctuate by ~1-2% (stationary std of ‖w‖² over √32); a 10% band
        # still separates 1 from 4 by far
        assert abs(after / new_eq - expected) < 0.1 * expected


# ------------------------------------------------------------------------------------------------------------
# Divergence
# ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_divergence_is_flagged_and_the_rest_completes(backend):
    # ηλ = 3 > 2: ‖w‖² grows by (1 − ηλ)² = 4 per step and overflows; ηλ = 1e-3 is healthy
    r = simulate("sgd", 1.0, np.array([1e-3, 3.0]), dim=8, steps=2000, trajectories=4, seed=0, backend=backend)
    assert not r.diverged[0].any() and r.diverged[1].all()
    assert np.all(r.diverged_step[0] == -1)
    assert np.all((r.diverged_step[1] > 0) & (r.diverged_step[1] < 2000))
    assert np.all(np.isfinite(r.sq_norm[:, 0]))
    t_div = r.diverged_step[1, 0]
    assert np.all(np.isnan(r.sq_norm[t_div + 1 :, 1]))
    stats = r.equilibrium_stats()
    assert np.isfinite(stats["sq_norm"].mean[0]) and np.isfinite(stats["sq_norm"].se[0])
    assert stats["sq_norm"].n_trajectories[1] == 0 and np.isnan(stats["sq_norm"].mean[1])
    assert np.all(np.isfinite(r.summary["sq_norm_mean"][0]))
    summary_only = simulate(
        "sgd",
        1.0,
        np.array([1e-3, 3.0]),
        dim=8,
        steps=2000,
        trajectories=4,
        seed=0,
        backend=backend,
        record="summary",
    )
    s = summary_only.equilibrium_stats()
    assert np.isfinite(s["angular_update"].mean[0]) and np.isnan(s["angular_update"].mean[1])


# ------------------------------------------------------------------------------------------------------------
# Summary mode and memory
# ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_summary_mode_memory_does_not_grow_with_steps(backend):
    args = dict(lr=0.1, weight_decay=1e-3, momentum=0.9, dim=16, trajectories=8, seed=0, backend=backend)
    simulate("sgdm", steps=10, record="summary", **args)  # warm-up (compilation, imports)
    peaks = []
    for steps in (2000, 8000):
        tracemalloc.start()
        r = simulate("sgdm", steps=steps, record="summary", **args)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert r.sq_norm is None and r.steps.size == 0
        assert r.summary["count"].max() == steps // 4
    # a series would need 6 quantities × 8 trajectories × 8 bytes = 384 bytes per step (2.3 MB for 6000 steps)
    assert peaks[1] - peaks[0] < 64 * 1024


def test_summary_matches_the_recorded_series():
    r = simulate("sgdm", 0.1, 1e-2, 0.9, dim=16, steps=400, trajectories=5, seed=2)
    start = r.config["summary_start"]
    assert start == 300
    for q in ("sq_norm", "angular_update", "unit_grad_sq", "h_tilde", "cos_to_start", "effective_lr"):
        s = r.series(q)[start:]
        np.testing.assert_allclose(r.summary[f"{q}_mean"], s.mean(axis=0), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(r.summary[f"{q}_var"], s.var(axis=0), rtol=1e-7, atol=1e-16)
    by_series = r.equilibrium_stats(source="series")
    by_summary = r.equilibrium_stats(source="summary")
    for q in by_series:
        np.testing.assert_allclose(by_summary[q].mean, by_series[q].mean, rtol=1e-10)
        np.testing.assert_allclose(by_summary[q].se, by_series[q].se, rtol=1e-6)
    with pytest.raises(ValueError, match="source"):
        r.equilibrium_stats(source="both")


def test_record_every_keeps_every_kth_iteration():
    a = simulate("sgd", dim=8, steps=100, trajectories=2, seed=1)
    b = simulate("sgd", dim=8, steps=100, trajectories=2, seed=1, record_every=7)
    np.testing.assert_array_equal(b.steps, np.arange(0, 100, 7))
    np.testing.assert_array_equal(b.sq_norm, a.sq_norm[::7])


def test_adam_family_has_no_h_tilde():
    r = simulate("adamw", 1e-3, 1e-2, dim=8, steps=20, trajectories=2, seed=0)
    assert r.h_tilde is None and "h_tilde_mean" not in r.summary
    assert r.angular_update is not None and np.all(r.angular_update > 0)


# ------------------------------------------------------------------------------------------------------------
# Schedules
# ------------------------------------------------------------------------------------------------------------
def test_schedule_values():
    s = step_decay([10, 20], 10.0)
    np.testing.assert_allclose(s(np.array([0, 9, 10, 19, 20, 1000])), [1, 1, 0.1, 0.1, 0.01, 0.01])
    assert s.drops() == [(10, 0.1), (20, pytest.approx(0.1))]
    lin = linear_drift(10, 20, 1.0, 3.0)
    np.testing.assert_allclose(lin(np.array([0, 10, 15, 20, 30])), [1, 1, 2, 3, 3])
    assert as_schedule("x", {"milestones": [5], "values": [1.0, 2.0]})(np.array([4, 5]))[1] == 2.0


# ------------------------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"dim": 1}, ValueError, "dim"),
        ({"steps": 0}, ValueError, "steps"),
        ({"steps": -5}, ValueError, "steps"),
        ({"trajectories": 0}, ValueError, "trajectories"),
        ({"backend": "tpu"}, ValueError, "backend"),
        ({"method": "exact"}, ValueError, "method"),
        ({"optimizer": "rmsprop"}, ValueError, "optimizer"),
        ({"lr": -0.1}, ValueError, "lr"),
        ({"lr": np.ones((2, 2))}, ValueError, "lr"),
        ({"lr": [0.1, 0.2], "weight_decay": [1e-3, 1e-3, 1e-3]}, ValueError, "same length"),
        ({"momentum": 1.0, "optimizer": "sgdm"}, ValueError, "momentum"),
        ({"momentum": 0.9}, ValueError, "momentum must be 0"),
        ({"w0": np.ones(5)}, ValueError, "w0"),
        ({"w0": np.zeros(8)}, ValueError, "w0"),
        ({"noise_draws": np.zeros((3, 1, 2, 8))}, ValueError, "noise_draws"),
        ({"noise": "anisotropic"}, ValueError, "spectrum"),
        ({"noise": "drift", "drift": np.ones(3)}, ValueError, "drift"),
        ({"dtype": np.int32}, ValueError, "dtype"),
        ({"record": "all"}, ValueError, "record"),
        ({"record_every": 0}, ValueError, "record_every"),
        ({"lr": "fast"}, TypeError, "lr"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"rescale_on_drop": True}, ValueError, "rescale_on_drop"),
        ({"lr_schedule": [1, 2]}, ValueError, "lr_schedule"),  # an array shorter than the run
        ({"lr_schedule": "warmup:2,bogus"}, ValueError, "bogus"),
        ({"lr_schedule": object()}, TypeError, "lr_schedule"),
    ],
)
def test_bad_input_is_reported_clearly(kwargs, exc, match):
    args = dict(dim=8, steps=10, trajectories=2)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        simulate(**args)


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed")
def test_cupy_backend_without_cupy_raises_import_error():
    with pytest.raises(ImportError, match="CuPy"):
        simulate(backend="cupy", dim=8, steps=10, trajectories=2)


def test_reduced_method_dispatch():
    if importlib.util.find_spec("spheretheory.simulation.reduced") is None:
        with pytest.raises(NotImplementedError, match="reduced"):
            simulate(method="reduced", dim=8, steps=10, trajectories=2)
    else:
        r = simulate("sgdm", 0.1, 1e-3, 0.9, method="reduced", dim=8, steps=10, trajectories=2, seed=0)
        assert r.config["method"] == "reduced"
        assert r.sq_norm.shape == (10, 1, 2)


def test_importing_the_simulation_package_is_cheap():
    """``import spheretheory.simulation`` (and the CuPy backend module) load neither numba nor cupy."""
    import subprocess
    import sys

    code = (
        "import sys, spheretheory.simulation, spheretheory.analysis, spheretheory.simulation._cupy;"
        "print(sorted(m for m in ('numba', 'cupy', 'scipy', 'sympy', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
