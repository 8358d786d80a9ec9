"""Training loops: sphere training at fixed ELR, full-batch GD with weight decay (Lobacheva et al.'s periods),
free SGD through the simulation engine (SMD conjectures), divergence handling and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spheretheory.models import BatchNormNet, NoisyRayleighQuotient, WellsOnSphere, make_classification
from spheretheory.regimes import classify
from spheretheory.training import full_batch_gd, train_sphere
from spheretheory.training.gd import periods


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sphere_training_stays_on_the_sphere(seed):
    m = NoisyRayleighQuotient()
    tr = train_sphere(m, 0.5, 200, runs=5, seed=seed)
    np.testing.assert_allclose(tr.sq_norm, 1.0, rtol=1e-12)
    assert tr.elr == 0.5 and not tr.diverged.any()
    assert np.all((tr.angular_update > 0) & (tr.angular_update < np.pi / 2))  # atan(ELR‖g‖) < π/2


def test_one_sphere_per_group():
    X, y = make_classification(n=60, features=3, classes=2, seed=0)
    m = BatchNormNet(X=X, y=y, hidden=4, batch_size=20)
    tr = train_sphere(m, 0.3, 50, runs=3, seed=1, groups=m.groups, record_weights=True)
    W = tr.meta["weights"].reshape(3, -1, m.hidden, m.features)
    np.testing.assert_allclose(np.linalg.norm(W, axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(tr.sq_norm, m.hidden, rtol=1e-12)


def test_sphere_training_is_reproducible_and_seeded():
    m = NoisyRayleighQuotient()
    a = train_sphere(m, 0.1, 100, runs=4, seed=7)
    b = train_sphere(m, 0.1, 100, runs=4, seed=7)
    c = train_sphere(m, 0.1, 100, runs=4, seed=8)
    np.testing.assert_array_equal(a.loss, b.loss)
    assert not np.array_equal(a.loss, c.loss)


class _Exploding(NoisyRayleighQuotient):
    """An NRQ whose gradient becomes non-finite after a number of calls (to test divergence handling)."""

    def __init__(self, after, rows=slice(0, 1)):
        super().__init__()
        self.calls, self.after, self.rows = 0, after, rows

    def grad(self, w, rng=None, noise=None):
        self.calls += 1
        g = super().grad(w, rng, noise)
        if self.calls > self.after:
            g[self.rows] = np.inf
        return g


def test_divergent_run_is_reported_as_divergence_not_nan():
    tr = train_sphere(_Exploding(after=100), 0.05, 400, runs=4, seed=0)
    assert tr.diverged[0] and not tr.diverged[1:].any()
    assert tr.diverged_at[0] == 100
    res = classify(tr)
    assert res.statistics["diverged_runs"] == 1
    assert res.per_run[0] == ("divergence", 1.0)
    # the statistics of the table are computed from the finite runs: no NaN
    assert all(np.isfinite(v) for k, v in res.statistics.items() if isinstance(v, float) and not k.endswith("_se"))
    tr_all = train_sphere(_Exploding(after=10, rows=slice(None)), 0.05, 100, runs=2, seed=0)
    res = classify(tr_all)
    assert res.regime == "divergence" and res.confidence == 1.0 and "loss" not in res.statistics


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"elr": 0.0}, "elr"),
        ({"elr": -1e-3}, "elr"),
        ({"elr": float("nan")}, "elr"),
        ({"steps": 0}, "steps"),
        ({"runs": 0}, "runs"),
        ({"w0": np.ones((2, 3))}, "w0"),
        ({"groups": (3, 3)}, "groups"),
    ],
)
def test_sphere_bad_input(kwargs, match):
    args = {"model": NoisyRayleighQuotient(), "elr": 0.1, "steps": 10, "runs": 2} | kwargs
    with pytest.raises(ValueError, match=match):
        train_sphere(**args)


def test_full_batch_gd_norm_recursion_is_exact():
    """‖w_{t+1}‖² = (1 − ηλ)²‖w_t‖² + η²‖∇L(w_t)‖² (∇L ⟂ w), step by step."""
    m = NoisyRayleighQuotient(noise_std=0.0)
    w0 = np.random.default_rng(0).standard_normal((1, m.dim)) * 2.0
    lr, wd = 0.3, 0.02
    tr = full_batch_gd(m, lr, wd, 2, w0=w0)
    g = m.grad(w0[0])
    expected = (1 - lr * wd) ** 2 * np.sum(w0**2) + lr**2 * np.sum(g**2)
    assert tr.sq_norm[0, 0] == pytest.approx(expected, rel=1e-12)


def test_full_batch_gd_is_periodic():
    """Lobacheva et al.: the norm shrinks under weight decay, the ELR = η/‖w‖² grows until ELR·λ_max(tangent
    Hessian) = 2·ELR·(λ_max − λ_min) exceeds 2, training destabilises and the norm jumps — repeatedly."""
    m = NoisyRayleighQuotient(noise_std=0.0)
    lr, wd = 0.1, 0.01
    tr = full_batch_gd(m, lr, wd, 20000, runs=2, seed=0, record_every=10)
    starts = periods(tr)
    for r in range(2):
        assert len(starts[r]) >= 5
        elr = tr.meta["effective_lr"][r]
        idx = np.searchsorted(tr.steps, starts[r])
        # just before every jump, the ELR is past the stability boundary 1/(λ_max − λ_min) = 1
        assert np.all(elr[idx - 1] > 1.0 / m.gaps.max())
        # between jumps the norm shrinks: ELR grows (monotone over the 20 records before the jump)
        for i in idx[1:]:
            assert np.all(np.diff(elr[i - 20 : i - 1]) > 0)
    # the period is roughly constant: relative spread of the periods below 30%
    per = np.diff(starts[0][1:])
    assert per.std() / per.mean() < 0.3


def test_gd_bad_input():
    m = NoisyRayleighQuotient()
    with pytest.raises(ValueError, match="lr"):
        full_batch_gd(m, 0.0, 0.1, 10)
    with pytest.raises(ValueError, match="weight_decay"):
        full_batch_gd(m, 0.1, -0.1, 10)


def _smd(model, pairs, steps, runs, loss_every, seed=0):
    """Free SGD at (η, λ) pairs from the equilibrium norm (ηL/(2λ))^{1/4}; per-run stationary loss, mean Δ."""
    from spheretheory.training.free import train_free

    lr = np.array([p[0] for p in pairs])
    wd = np.array([p[1] for p in pairs])
    L = model.grad_rms() ** 2 if hasattr(model, "grad_rms") else 1.0
    trs = train_free(
        model,
        lr,
        wd,
        steps,
        runs=runs,
        loss_every=loss_every,
        init_norm=(lr * L / (2 * wd)) ** 0.25,
        seed=seed,
    )
    out = []
    for tr in trs:
        half = tr.loss.shape[1] // 2
        out.append((tr.loss[:, half:].mean(axis=1), np.nanmean(tr.angular_update[:, half:])))
    return out


def _z(a, b):
    return abs(a.mean() - b.mean()) / np.hypot(a.std(ddof=1) / np.sqrt(a.size), b.std(ddof=1) / np.sqrt(b.size))


def test_smd_conjectures_on_nrq():
    """Equal ηλ (equal angular update √(2ηλ)) from different (η, λ) → the same stationary loss within its
    SE (two-sample |z| < 4); a larger angular update → a higher loss (z > 4). Runs are independent, so the
    SE of each mean is the spread over runs/√runs."""
    m = NoisyRayleighQuotient()
    pairs = [(0.1, 1e-3), (0.4, 2.5e-4), (0.025, 4e-3), (0.1, 1e-2)]
    res = _smd(m, pairs, steps=6000, runs=16, loss_every=50)
    (l1, d1), (l2, d2), (l3, d3), (l4, d4) = res
    assert _z(l1, l2) < 4 and _z(l1, l3) < 4 and _z(l2, l3) < 4
    np.testing.assert_allclose([d1, d2, d3], np.sqrt(2e-4), rtol=0.1)  # Δ ≈ √(2ηλ) (first order)
    assert l4.mean() > l1.mean() and _z(l4, l1) > 4
    # and each level matches the derived one: sphere stationary excess risk at the effective LR of the norm
    # equilibrium (mean field); tolerance 4 SE + 10 % (first order in the distance to the minimum, as in
    # test_theory_nrq)
    for (lr, wd), (loss, _) in zip(pairs, res, strict=True):
        pred = m.min_loss + float(m.predicted_excess_risk_free(lr, wd))
        assert abs(loss.mean() - pred) < 4 * loss.std(ddof=1) / np.sqrt(loss.size) + 0.1 * pred


@pytest.mark.slow
def test_smd_conjectures_on_the_network():
    """Same conjectures on the batch-norm network with minibatch noise (slow: ~1 min)."""
    m = BatchNormNet()
    pairs = [(0.05, 2e-3), (0.2, 5e-4), (0.1, 0.2), (0.4, 0.05)]  # ηλ = 1e-4, 1e-4, 0.02, 0.02
    (l1, _), (l2, _), (l3, _), (l4, _) = _smd(m, pairs, steps=8000, runs=8, loss_every=100)
    assert _z(l1, l2) < 4 and _z(l3, l4) < 4
    assert l3.mean() > l1.mean() and _z(l3, l1) > 4


@given(seed=st.integers(0, 2**31 - 1), elr=st.floats(1e-3, 2.0))
@settings(max_examples=10)
def test_numba_kernel_matches_numpy_reference(seed, elr):
    """The compiled NRQ sphere kernel and its numpy reference on identical injected draws."""
    from spheretheory.training._kernels import sphere_nrq_numba, sphere_nrq_numpy

    rng = np.random.default_rng(seed)
    d, runs, steps = 6, 3, 50
    evals = rng.uniform(0, 2, d)
    u = rng.standard_normal((runs, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    noise = rng.standard_normal((steps, runs, d))
    outs = []
    for fn in (sphere_nrq_numpy, sphere_nrq_numba):
        uu, o = u.copy(), [np.empty((steps, runs)) for _ in range(3)]
        fn(uu, evals, 0.7, elr, noise, u.copy(), *o)
        outs.append((uu, *o))
    for a, b in zip(*outs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_train_sphere_numba_backend_equals_numpy():
    m = NoisyRayleighQuotient()
    a = train_sphere(m, 0.05, 300, runs=4, seed=3, record_every=7)
    b = train_sphere(m, 0.05, 300, runs=4, seed=3, record_every=7, backend="numba")
    np.testing.assert_array_equal(a.steps, b.steps)
    for k in ("loss", "angular_update", "cos_to_start", "sq_norm"):
        np.testing.assert_allclose(getattr(a, k), getattr(b, k), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="numba"):
        train_sphere(BatchNormNet(), 0.1, 10, backend="numba")
    with pytest.raises(ValueError, match="backend"):
        train_sphere(m, 0.1, 10, backend="cuda")


def test_full_batch_gd_is_periodic_on_the_network():
    """Lobacheva et al. on the batch-norm network (separable data, head scale 20, η = 0.5, λ = 0.005): the
    norm jumps repeatedly, each jump with a loss spike (the loss just after > 10× the loss just before)."""
    # the network of docs/regimes.md's periodic-GD figure (paper_checks/regimes.py: gd_periodic_model)
    X, y = make_classification(n=256, features=8, classes=3, separation=4.0, seed=0)
    m = BatchNormNet(X=X, y=y, head_scale=20.0, batch_size=32)
    tr = full_batch_gd(m, 0.5, 0.005, 4000, runs=1, seed=0, record_every=2)
    starts = periods(tr, jump=1.2)[0]
    assert len(starts) >= 3
    idx = np.searchsorted(tr.steps, starts)
    loss = tr.loss[0]
    spikes = [loss[i - 1 : i + 3].max() > 10 * loss[i - 2] for i in idx]
    assert all(spikes)


@pytest.mark.parametrize("model", [NoisyRayleighQuotient(), WellsOnSphere(), BatchNormNet()], ids=type)
def test_train_sphere_elrs_is_the_loop_over_elrs_bit_for_bit(model):
    """The joint sweep (noise drawn once per step, broadcast over the ELRs) gives exactly the numbers of one
    train_sphere call per ELR from the same seed, from a slow descent (ELR 1e-3) to a random walk (ELR 50)."""
    from spheretheory.training.sphere import train_sphere_elrs

    elrs = [1e-3, 0.1, 50.0]
    kw = dict(runs=3, seed=5, record_every=4, loss_from=0.5)
    joint = train_sphere_elrs(model, elrs, 60, **kw)
    for elr, tr in zip(elrs, joint, strict=True):
        one = train_sphere(model, elr, 60, **kw)
        assert tr.elr == elr
        for f in ("steps", "loss", "angular_update", "cos_to_start", "sq_norm", "diverged", "diverged_at"):
            np.testing.assert_array_equal(getattr(tr, f), getattr(one, f), err_msg=f)
        np.testing.assert_array_equal(tr.final_weights, one.final_weights)
