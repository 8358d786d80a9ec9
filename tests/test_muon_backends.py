"""simulate("muon"): the numba kernel (spheretheory/simulation/_muon_numba.py) against the numpy reference path on
identical injected draws, and the backend dispatch.

The two paths do the same float64 arithmetic in a different order (numpy's pairwise sums and batched matmul vs the
kernel's loops and per-matrix BLAS calls), so they differ by round-off: ~1e-16 per operation, amplified at most by
the Newton–Schulz quintic's slope at small singular values (a ≈ 3.44 per iteration, 5 iterations: ≲ 500×) and by a
few hundred steps of accumulation; 1e-12 relative leaves a margin of ~10× over that and is still 10⁹ times smaller
than any difference in the update rule (e.g. Nesterov vs heavy ball, checked below to be far apart).
"""

from __future__ import annotations

import numpy as np
import pytest

from spheretheory import simulate
from spheretheory.schedules import MultiStep
from spheretheory.simulation import QUANTITIES

RTOL = 1e-12


def _run(backend, **kw):
    rows, cols, n, steps = kw.pop("shape", (5, 8)) + (3, kw.pop("steps", 120))
    G = np.size(kw.get("momentum", 0.9))
    draws = np.random.default_rng(7).standard_normal((steps, G, n, rows * cols))
    args = dict(lr=0.03, weight_decay=0.4, momentum=0.9, dim=(rows, cols), steps=steps, trajectories=n, seed=4)
    args.update(kw)
    return simulate("muon", backend=backend, noise_draws=draws, **args)


def _compare(a, b):
    assert a.config["backend"] == "numpy" and b.config["backend"] == "numba"
    np.testing.assert_allclose(b.w_final, a.w_final, rtol=RTOL, atol=RTOL)
    for q in QUANTITIES:
        x, y = getattr(a, q), getattr(b, q)
        if x is None:  # h_tilde is not defined for Muon
            assert y is None, q
            continue
        np.testing.assert_array_equal(np.isnan(x), np.isnan(y), err_msg=q)
        np.testing.assert_allclose(y, x, rtol=RTOL, atol=RTOL * np.nanmax(np.abs(x), initial=0.0), err_msg=q)
    np.testing.assert_array_equal(a.diverged_step, b.diverged_step)
    for key in ("update_correlation_mean", "update_correlation_var"):
        np.testing.assert_allclose(b.extra[key], a.extra[key], rtol=1e-10, atol=1e-13, err_msg=key)


@pytest.mark.parametrize(
    "kw",
    [
        dict(),  # Nesterov, 5 Newton–Schulz steps, adjust_lr_fn None
        dict(options={"ns_steps": 0}),  # the exact polar factor (SVD)
        dict(options={"nesterov": 0}),  # heavy-ball momentum (torch.optim.Muon(nesterov=False))
        dict(options={"adjust_lr_fn": "match_rms_adamw", "ns_steps": 3}, shape=(9, 4)),  # tall matrix
        dict(lr_schedule=MultiStep((40, 80), 0.25), rescale_on_drop=True, momentum=[0.5, 0.95]),  # drops, G = 2
    ],
)
def test_muon_numba_matches_numpy_on_identical_draws(kw):
    a = _run("numpy", **dict(kw))
    b = _run("numba", **dict(kw))
    _compare(a, b)
    assert np.all(np.isfinite(a.w_final)) and not a.diverged.any()


def test_muon_numba_flags_divergence_like_numpy():
    """ηλ = 5 gives |1 − ηλ| = 4: ‖W‖² grows 16× per step and leaves the box (‖W‖² > √(float max) ≈ 1e154,
    ~130 steps) at the same step on both paths."""
    a = _run("numpy", lr=1.0, weight_decay=5.0, steps=150)
    b = _run("numba", lr=1.0, weight_decay=5.0, steps=150)
    assert a.diverged.all() and (a.diverged_step > 0).all()
    _compare(a, b)


def test_muon_backend_auto_is_numba_and_the_paths_differ_from_a_wrong_rule():
    """auto dispatches to the kernel; the comparison above can fail: a different momentum changes the weights by
    far more than the tolerance."""
    auto = _run("auto", steps=20)
    assert auto.config["backend"] == "numba"
    other = _run("numpy", steps=20, momentum=0.89)
    assert np.abs(other.w_final - auto.w_final).max() > 1e6 * RTOL
