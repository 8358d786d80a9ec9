"""CuPy backend: against the numpy reference on injected noise, reproducibility, statistics vs numba.

Every test here is marked ``gpu`` and skipped cleanly when CuPy or a CUDA device is missing.
"""

from __future__ import annotations

import numpy as np
import pytest

from spheretheory.simulation import QUANTITIES, simulate


def _have_gpu() -> bool:
    try:
        import cupy as cp

        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - no cupy, no driver, no device
        return False


pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not _have_gpu(), reason="needs CuPy and a CUDA device")]

OPTIMIZERS = [
    ("sgd", {}),
    ("sgdm", {"momentum": 0.9}),
    ("nesterov", {"momentum": 0.8}),
    ("adam", {}),
    ("adamw", {}),
    ("lion", {}),
]


@pytest.mark.parametrize("opt,kw", OPTIMIZERS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cupy_matches_numpy_on_injected_noise(opt, kw, dtype):
    steps, G, n, d = 100, 2, 3, 40  # d = 40 > 32: the block reduction spans two warps
    draws = np.random.default_rng(0).standard_normal((steps, G, n, d))
    lr = [0.1, 0.03] if opt in ("sgd", "sgdm", "nesterov") else [1e-3, 3e-3]
    args = dict(lr=lr, weight_decay=[1e-2, 1e-3], dim=d, steps=steps, trajectories=n, seed=0, **kw)
    args.update(noise_draws=draws, dtype=dtype, record_every=2, summary_fraction=0.5)
    a = simulate(opt, backend="numpy", **args)
    b = simulate(opt, backend="cupy", **args)
    # float64: only the order of the float64 sums differs; float32: a few float32 ulps (as numpy vs numba)
    rtol = 1e-9 if dtype == np.float64 else 1e-4
    for q in QUANTITIES:
        x, y = a.series(q), b.series(q)
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_allclose(y, x, rtol=rtol, atol=rtol * np.nanmax(np.abs(x)), err_msg=q)
    np.testing.assert_allclose(b.w_final, a.w_final, rtol=rtol, atol=rtol * np.abs(a.w_final).max())
    for k in a.summary:
        np.testing.assert_allclose(b.summary[k], a.summary[k], rtol=rtol, atol=rtol * np.nanmax(np.abs(a.summary[k])))


def test_cupy_seeded_runs_repeat_exactly():
    args = dict(lr=0.1, weight_decay=1e-3, momentum=0.9, dim=64, steps=50, trajectories=16, backend="cupy")
    a = simulate("sgdm", seed=3, **args)
    b = simulate("sgdm", seed=3, **args)
    c = simulate("sgdm", seed=4, **args)
    np.testing.assert_array_equal(a.w_final, b.w_final)
    assert not np.array_equal(a.w_final, c.w_final)


def test_cupy_divergence_flagged():
    r = simulate("sgd", 1.0, np.array([1e-3, 3.0]), dim=8, steps=2000, trajectories=4, seed=0, backend="cupy")
    assert not r.diverged[0].any() and r.diverged[1].all()
    assert np.isfinite(r.equilibrium_stats()["sq_norm"].mean[0])


def test_cupy_statistics_match_numba():
    """Independent noise: equilibrium means agree within 4 combined standard errors (across trajectories)."""
    args = dict(lr=0.1, weight_decay=1e-3, momentum=0.9, dim=256, steps=6000, trajectories=256, record="summary")
    a = simulate("sgdm", backend="cupy", seed=1, **args).equilibrium_stats()
    b = simulate("sgdm", backend="numba", seed=2, **args).equilibrium_stats()
    for q in ("sq_norm", "angular_update", "unit_grad_sq", "h_tilde"):
        assert abs(a[q].mean[0] - b[q].mean[0]) < 4 * np.hypot(a[q].se[0], b[q].se[0]), q
