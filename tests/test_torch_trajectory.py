"""The monitor's trajectory prediction and per-unit finite-d rows, on a synthetic scale-invariant torch problem.

The problem: one (or several) weight vectors w_u ∈ R^d, loss Σ_u ⟨ξ_u, w_u/‖w_u‖⟩ with fresh ξ_u ~ N(0, I) at each
step, so the gradient is exactly scale-invariant, isotropic and ⟂ w_u, with ‖g̃‖² ~ χ²_{d−1} — the setting the
mean-field moment map assumes, trained by the real ``torch.optim.SGD`` with a ``MultiStepLR`` drop.

Tolerances. The measured RMS Δ over a window differs from the mean-field prediction by (a) the per-step noise,
whose standard error ``phase_errors`` estimates from the run itself (residual of Δ_t² around its moving average,
integrated autocorrelation time), and (b) the slow wandering of this one run's ‖w_t‖ around the mean field, which
moves Δ ∝ 1/‖w‖² by twice its relative size. (b)'s size is predicted by the finite-d theory, independently of the
trajectory: the relative std of ‖w‖ is half that of ‖w‖², ``predict(..., dim=128).equilibrium_sq_norm_std`` at
the larger LR (the stage with the larger spread), 1.3%. We allow 4·se + 2·(2σ_w) for Δ (a 4σ event of (a) has
probability 6e-5; (b) is not averaged over a window shorter than the norm's autocorrelation time, so 2σ of it),
and 5σ_w for the largest record-by-record deviation of ‖w‖ over a phase (~10 independent stretches of the
norm's autocorrelation time; seeds 0–5 gave at most 3.9σ_w). The map's own approximation is far smaller here
(the mean-field closure is second order in the relative spread of ‖w‖²). A trajectory started from a wrong state
or fed a wrong LR array misses by tens of percent (asserted below, so that the check can fail).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed (CPU build: see docs/pytorch.md)")
from torch import nn  # noqa: E402

from spheretheory.integrations.pytorch import SphereMonitor, rescale_on_lr_drop  # noqa: E402
from spheretheory.integrations.pytorch.compare import phases  # noqa: E402
from spheretheory.integrations.pytorch.detect import ScaleInvariantGroup  # noqa: E402
from spheretheory.integrations.pytorch.trajectory import group_trajectory, phase_errors  # noqa: E402

pytestmark = pytest.mark.torch

D, STEPS, DROP, LR, WD, MOM = 128, 500, 200, 0.1, 1e-2, 0.9
TRANSIENT, WINDOW = 100, 100


class _Units(nn.Module):
    def __init__(self, units: int, d: int, scale: float):
        super().__init__()
        self.w = nn.Parameter(torch.randn(units, d, dtype=torch.float64) * scale)

    def forward(self, xi: torch.Tensor) -> torch.Tensor:
        return (xi * self.w / self.w.norm(dim=1, keepdim=True)).sum()


def _run(units=1, d=D, steps=STEPS, drop=DROP, lr=LR, wd=WD, mom=MOM, scale=0.3, per_unit=False, every=1,
         rescale=False, seed=0):  # fmt: skip
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    model = _Units(units, d, scale)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=mom, weight_decay=wd)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [drop], 0.1)
    if rescale:  # the standalone hook, registered before the monitor: the monitor does not know about it
        rescale_on_lr_drop(opt, [model.w])
    group = ScaleInvariantGroup("w", ("w",), np.arange(units) if units > 1 else np.zeros(1, dtype=int), "manual")
    mon = SphereMonitor(model, opt, [group], per_unit=per_unit, every=every)
    gen = torch.Generator().manual_seed(seed + 1000)  # not the stream of the initial weights
    for _ in range(steps):
        opt.zero_grad()
        model(torch.randn(units, d, generator=gen, dtype=torch.float64)).backward()
        opt.step()
        sched.step()
    return mon


@pytest.fixture(scope="module")
def plain():
    return _run()


def _errors(mon, **override):
    rec = mon.group_records()
    tr = group_trajectory(mon, 0, rec=rec, **override)
    hyper = np.stack([rec[k][:, 0] for k in ("lr", "weight_decay", "momentum")], axis=1)
    out = []
    for a, b in phases(hyper):
        e = phase_errors(
            rec["angular_update"][:, 0], rec["sq_norm"][:, 0], tr, np.arange(a, b),
            window=WINDOW, transient=TRANSIENT, fraction=0.25,
        )  # fmt: skip
        out.append(e)
    return tr, out


def _sigma_w() -> float:
    """Relative std of ‖w‖ at equilibrium (finite-d theory), at the larger LR."""
    from spheretheory import predict

    p = predict("sgdm", lr=LR, weight_decay=WD, momentum=MOM, dim=D, unit_grad_sq=D - 1.0)
    return 0.5 * p.equilibrium_sq_norm_std / p.equilibrium_sq_norm_mean


def _norm_tol() -> float:
    return 5 * _sigma_w()


def _within(errs, norm_tol):
    for e in errs:
        for key in ("delta_transient", "delta_end"):
            assert math.isfinite(e[key]) and abs(e[key]) <= 4 * e[f"{key}_se"] + 4 * _sigma_w(), (key, e)
        assert abs(e["norm_max"]) <= norm_tol, e


def test_trajectory_follows_the_run_through_the_drop(plain):
    tr, errs = _errors(plain)
    assert tr.restarts == [0] and tr.family == "sgdm" and not tr.note
    assert len(errs) == 2  # before and after the drop
    _within(errs, _norm_tol())
    # the run starts far from equilibrium (‖w₀‖ ≈ 0.3·√128 vs w* ≈ 9) and the drop leaves it there: the
    # trajectory is not the instantaneous equilibrium
    rec = plain.group_records()
    assert rec["sq_norm"][0, 0] < 0.3 * tr.sq_norm_equilibrium[0]
    after = rec["step"] == DROP + TRANSIENT
    assert tr.angular_update[after][0] < 0.6 * tr.angular_update_equilibrium[after][0]
    # compare() reports the same errors in its rows and table
    cmp = plain.compare(smooth_steps=WINDOW, transient_steps=TRANSIENT)
    got = [r.trajectory_angular_update_error_transient for r in cmp.rows]
    assert got == pytest.approx([e["delta_transient"] for e in errs])
    assert "trajectory" in cmp.table() and "Δ first 100" in cmp.table()


def test_wrong_initial_state_or_lr_array_fails_the_check(plain):
    rec = plain.group_records()
    w2 = float(rec["w2"][0, 0])
    tol = _norm_tol()
    # started from twice the measured ‖w₀‖² (zero buffer, as measured), or from the equilibrium of the first step
    # (spheretheory.trajectory's default): the norm check of the first stage fails. (Δ relaxes within ~20 steps
    # at η = 0.1, so its 100-step transient window is not where a wrong start shows.)
    for start in ((2 * w2, 0.0, 0.0), None):
        if start is None:
            eq = group_trajectory(plain, 0).sq_norm_equilibrium[0]
            start = (eq, 0.0, 0.0)
        _, errs = _errors(plain, initial_state=start)
        assert abs(errs[0]["norm_max"]) > 4 * tol, errs[0]
        with pytest.raises(AssertionError):
            _within(errs, tol)
    # fed the schedule without the drop, or with the drop 50 steps late: the stage after the drop misses
    lr_true, _ = plain.hyper_per_step(0)
    assert np.flatnonzero(np.diff(lr_true)).tolist() == [DROP - 1]
    for wrong in (np.full(STEPS, LR), np.where(np.arange(STEPS) < DROP + 50, LR, LR / 10)):
        _, errs = _errors(plain, lr=wrong)
        assert abs(errs[1]["delta_transient"]) > 0.5, errs[1]  # Δ right after the drop is missed by > 50%
        with pytest.raises(AssertionError):
            _within(errs, tol)


def test_restart_at_a_rescaling_the_monitor_did_not_do():
    mon = _run(rescale=True)
    tr, errs = _errors(mon)
    assert tr.restarts == [0, DROP]  # found from the jump of ‖w‖² between consecutive records
    _within(errs, _norm_tol())


def test_every_k_uses_the_per_step_lr():
    mon = _run(steps=300, drop=123, every=10)
    lr, wd = mon.hyper_per_step(0)
    assert lr.size == 300 and np.all(lr[:123] == LR) and np.all(lr[123:] == pytest.approx(LR / 10))
    assert np.all(wd == WD)
    tr = group_trajectory(mon, 0)
    assert np.all(np.isfinite(tr.angular_update)) and tr.step.tolist() == list(range(0, 300, 10))


def test_per_unit_rows_use_the_units_own_d():
    """32 units of d = 8 under SGD (η = 0.5, λ = 4e-3, started near equilibrium, 4 relaxation times 1/(2ηλ)):
    the mean per-unit Δ is E[χ_{d−1}]/√(d−1) = 0.965 times the d → ∞ Δ*. The measured mean has a standard error
    across the 32 units ~1e-4, so 4·se separates the finite-d prediction (asserted to hold) from Δ* (asserted not
    to)."""
    from spheretheory import predict

    d = 8
    mon = _run(units=32, d=d, steps=1000, drop=10**6, lr=0.5, wd=4e-3, mom=0.0, scale=1.6, per_unit=True)
    (row,) = mon.compare().rows
    assert row.n_units == 32 and row.unit_dim == d and not row.unit_note
    p = predict("sgd", lr=0.5, weight_decay=4e-3, dim=d)
    assert row.predicted_unit_angular_update_mean == pytest.approx(p.angular_update_mean, rel=1e-12)
    assert row.predicted_unit_angular_update_rms == pytest.approx(p.angular_update_rms, rel=1e-12)
    se = row.measured_unit_angular_update_se
    assert abs(row.measured_unit_angular_update_mean - p.angular_update_mean) <= 4 * se
    assert abs(row.measured_unit_angular_update_mean - p.angular_update) > 4 * se  # d → ∞ would fail
    assert "per unit" in mon.compare().table()
    # the per-layer comparison has no unit rows
    assert _run(steps=20).compare().rows[0].n_units == 0
