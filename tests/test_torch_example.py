"""The worked example (small BatchNorm CNN, SGDM + weight decay): measured vs predicted angular update.

Tolerance. Thm 3 of Wan et al. (2021) predicts the equilibrium Δ* = √(2λη/(1+α)) to first order in λη. The
measured window mean of Δ_t differs from it by
  (i)   the statistical error of the window mean: se from the integrated autocorrelation time
        (:func:`spheretheory.analysis.equilibrium_stats`); we allow 3·se;
  (ii)  systematic terms the theorem neglects: the Jensen gap between the mean of Δ_t and √E[Δ_t²] (the
        quantity the norm balance fixes; measured below as mean/RMS, under 1%), the residual transient
        e^{−2λη t/(1−α)} at the start of the window (e^{−3.7} ≈ 2% for the fast configuration: window from
        step 375 at rate 1e-2), and the lag of ‖w_t‖ behind the drifting gradient power L_t while the loss
        falls. Together these stay well inside 10%, the toolkit's own "at equilibrium" band
        (compare(rtol=0.1)), which is the bound asserted: |Δ − Δ*| ≤ 0.1·Δ* + 3·se.
A wrong monitor (e.g. Δ from a stale copy, a missing momentum term, a norm-squared mix-up) or a wrong
prediction (√(2λη) without the 1/(1+α): 38% off at α = 0.9) falls outside it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed (CPU build: see docs/pytorch.md)")

from spheretheory.integrations.pytorch.example import ExampleConfig, run_example  # noqa: E402

pytestmark = pytest.mark.torch


def _require_predict():
    try:
        from spheretheory.prediction import predict
    except ImportError as exc:  # pragma: no cover - only before spheretheory.predict exists
        pytest.skip(f"spheretheory.predict is not available: {exc}")
    predict(optimizer="sgdm", lr=0.1, weight_decay=1e-3, momentum=0.9)


def _check_given_norm(rows, tol=0.10):
    """Δ_t ≈ η√(L/(1−α²))/‖w_t‖² on or off equilibrium (compare's ``predicted_angular_update_given_norm``);
    same error budget as the equilibrium check: the neglected ⟨v, g⟩ and Jensen terms, 3·se for noise."""
    for r in rows:
        want = r.predicted_angular_update_given_norm
        assert math.isfinite(want), r
        assert abs(r.measured_angular_update - want) <= tol * want + 3 * r.measured_angular_update_se, r


def _check_trajectory(rows, tol=0.10, radial=0.05):
    """The predicted trajectory (per-step η, λ, smoothed measured L_t, measured start) against the run, in every
    phase: RMS Δ over the transient at the start of the phase and over its end within tol + 3·se (the same budget
    as the equilibrium check: the map's neglected terms and the residual drift of L_t inside the smoothing window;
    se from the run's per-step noise), and the norm at the end within tol.

    The map assumes ⟨w, g⟩ = 0 (Lemma 1). A BatchNorm eps breaks it when a layer's pre-norm variance gets small
    (layer 7 of the rescaled run at η ≤ 0.01: measured ⟨w,g⟩/(λ‖w‖²) = −0.17 and −1.8, the radial gradient pushing
    the norm out against the decay). Over a stage the norm then drifts from the map by up to that ratio times the
    relaxation, so the check applies where the measured |⟨w,g⟩/(λ‖w‖²)| ≤ ``radial`` (5%, half the budget);
    returns the rows left out, which the caller asserts to be few and explained."""
    left_out = []
    for r in rows:
        if not abs(r.radial_gradient_to_decay) <= radial:
            left_out.append(r)
            continue
        for key in ("transient", "end"):
            err = getattr(r, f"trajectory_angular_update_error_{key}")
            se = getattr(r, f"trajectory_angular_update_error_{key}_se")
            assert math.isfinite(err) and abs(err) <= tol + 3 * se, (key, r)
        assert abs(r.trajectory_norm_error_end) <= tol, r
    return left_out


def _check_equilibrium_phase(rows, tol=0.10):
    for r in rows:
        assert math.isfinite(r.predicted_angular_update), r.prediction_note
        bound = tol * r.predicted_angular_update + 3 * r.measured_angular_update_se
        assert abs(r.measured_angular_update - r.predicted_angular_update) <= bound, r
        # the Jensen gap (ii) is small, as claimed in the module docstring
        assert r.measured_angular_update / r.measured_angular_update_rms > 0.97, r
        assert r.at_equilibrium, r


def test_fast_example_reaches_predicted_angular_update():
    _require_predict()
    cfg = ExampleConfig(steps=500, drops=(), width=8, image_size=12, batch_size=32, n_train=1024, threads=1)
    out = run_example(cfg, progress=False)
    cmp = out["comparison"]
    assert len(cmp.rows) == 3 and {r.phase for r in cmp.rows} == {0}
    _check_equilibrium_phase(cmp.rows)
    _check_given_norm(cmp.rows)
    assert not _check_trajectory(cmp.rows)
    # predicted norm from the measured L: same order as the measured norm (Thm 2; not asserted tighter because
    # L_t drifts while the loss falls and ‖w‖ lags behind it by ~(1−α)/(2λη) = 100 steps)
    for r in cmp.rows:
        assert 0.7 < r.measured_norm / r.predicted_norm < 1.3, r
    assert np.all(np.isfinite(out["losses"]))


@pytest.mark.slow
def test_full_example_with_and_without_rescaling():
    """Full configuration (docs/pytorch.md): equilibrium before the first drop, and the effect of a drop.

    Right after η → η/k the plain run still has the old norm, so Δ ≈ (η/k)‖g̃'‖/‖w‖² = (Δ*_new/√k)·r with
    Δ* ∝ √η and r = ‖g̃'‖/‖g̃‖ the change of the unit-gradient norm (r ≤ 1 here: the loss falls after a drop).
    Over the next 300 steps ‖w‖² shrinks at most by e^{−2λη'·300/(1−α)} = e^{−0.3} (Cor. 3.1's rate with the
    new η'), so Δ/Δ*_new stays below 1.35/√10 ≈ 0.43: we assert < 0.5. With the k^(−1/4) rescaling the norm
    is divided by k^(1/4) too, so Δ starts at Δ*_new·r, √k = 3.2 times the plain run's; the rescaled run then
    relaxes towards its equilibrium, by at most the same factor 1.35 either way, so the ratio of the two
    300-step means must exceed 3.2/1.35² ≈ 1.7: we assert > 1.5 (r cancels in the ratio; it does not in
    Δ/Δ*_new, which is why that is not asserted for the rescaled run).
    """
    _require_predict()
    cfg = ExampleConfig(threads=1)
    res = {}
    for rescale in (False, True):
        out = run_example(cfg, rescale=rescale, progress=False)
        res[rescale] = out
        first = [r for r in out["comparison"].rows if r.phase == 0]
        _check_equilibrium_phase(first)
        # every phase, on or off equilibrium, agrees with the angular update predicted for its own norm
        _check_given_norm(out["comparison"].rows)
        # and the trajectory predicts the transient after each drop and the stage's end (plain and rescaled), where
        # the layer is scale-invariant. The rows left out (at most 2 of 9 per run: layer 7's later rescaled
        # stages in the configuration documented) must be explained: ⟨w, g⟩ < 0 pushes the norm out, so the
        # measured norm ends above the map's
        left_out = _check_trajectory(out["comparison"].rows)
        assert len(left_out) <= 2, left_out
        for r in left_out:
            assert r.radial_gradient_to_decay < -0.05 and r.trajectory_norm_error_end > 0, r
    drop = cfg.drops[0]
    early = {}
    for rescale, out in res.items():
        rec = out["monitor"].records()
        sel = (rec["step"] >= drop) & (rec["step"] < drop + 300)
        early[rescale] = rec["angular_update"][sel].mean(axis=0)
    d_star = np.array([r.predicted_angular_update for r in res[False]["comparison"].rows if r.phase == 1])
    assert np.all(early[False] / d_star < 0.5), early[False] / d_star
    assert np.all(early[True] / early[False] > 1.5), early[True] / early[False]
