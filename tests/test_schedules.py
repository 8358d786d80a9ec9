"""The schedule vocabulary (spheretheory.schedules): kinds, grammar, conventions, torch conversion, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spheretheory import schedules as S


def test_kinds_against_their_definitions():
    t = np.arange(0, 101)
    np.testing.assert_allclose(S.Constant(2.0).values(5), 2.0)
    np.testing.assert_allclose(S.MultiStep((10, 20), 0.5).values([0, 9, 10, 19, 20, 99]), [1, 1, 0.5, 0.5, 0.25, 0.25])
    np.testing.assert_allclose(S.Exponential(0.99).values(t), 0.99**t)
    cos = S.Cosine(100, 0.1).values(t)
    np.testing.assert_allclose(cos, [0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * k / 100)) for k in t])
    assert cos[0] == 1.0 and cos[-1] == pytest.approx(0.1)
    np.testing.assert_allclose(S.Linear(100, 0.0).values(t), 1 - t / 100)
    wsd = S.WSD(100, 20, "sqrt", 0.0).values(t)
    assert np.all(wsd[:81] == 1.0)
    np.testing.assert_allclose(wsd[80:], 1 - np.sqrt((t[80:] - 80) / 20))
    np.testing.assert_allclose(S.WSD(100, 20, "cosine").values([90]), [0.5])
    warm = S.Warmup(4, S.Cosine(10)).values(8)
    np.testing.assert_allclose(warm[:4], [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(warm[4:], S.Cosine(10).values(4))
    pw = S.Piecewise((0, 10, 10, 20), (1.0, 1.0, 0.5, 0.0))
    np.testing.assert_allclose(pw.values([0, 9, 10, 15, 20, 30]), [1, 1, 0.5, 0.25, 0, 0])
    assert pw.drops() == [(10, 0.5)]
    np.testing.assert_allclose(S.Array([1.0, 0.5, 0.25]).values(3), [1.0, 0.5, 0.25])


def test_scalar_call_and_block_agree_with_values():
    s = S.Warmup(3, S.Cosine(7, 0.2))
    full = s.values(10)
    assert float(s(4)) == full[4]
    np.testing.assert_array_equal(s.block(2, 8), full[2:8])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("constant", S.Constant()),
        ("cosine:0.1", S.Cosine(1000, 0.1)),
        ("warmup:100,cosine", S.Warmup(100, S.Cosine(900, 0.0))),
        ("warmup:0.1,linear:0.5", S.Warmup(100, S.Linear(900, 0.5))),
        ("multistep:500/750:0.2", S.MultiStep((500, 750), 0.2)),
        ("multistep:0.5/0.75", S.MultiStep((500, 750), 0.1)),
        ("exp:0.999", S.Exponential(0.999)),
        ("warmup:0.05,wsd:0.2:sqrt", S.Warmup(50, S.WSD(950, 190, "sqrt", 0.0))),
        ("wsd:100:cosine:0.01", S.WSD(1000, 100, "cosine", 0.01)),
        ("piecewise:0=1/500=1/500=0.1", S.Piecewise((0, 500, 500), (1, 1, 0.1))),
    ],
)
def test_grammar(text, expected):
    got = S.parse(text, 1000)
    np.testing.assert_allclose(got.values(1000), expected.values(1000))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("warmup:100,bogus", "bogus"),
        ("cosine:abc", "abc"),
        ("cosine:-1", "cosine:-1"),
        ("warmup:2000,cosine", "warmup"),
        ("cosine,linear", "one phase"),
        ("wsd:0.2:quadratic", "quadratic"),
        ("multistep:500/400", "increasing"),
        ("piecewise:0=1/10", "STEP=VALUE"),
        ("piecewise:0=1/10=-1", "step 10"),
        ("exp:0", "factor"),
        ("", "non-empty"),
    ],
)
def test_grammar_errors_name_the_token(text, match):
    with pytest.raises(ValueError, match=match):
        S.parse(text, 1000)


def test_bad_schedules_name_the_step():
    with pytest.raises(ValueError, match="step 2"):
        S.Array([1.0, 0.5, -1.0])
    with pytest.raises(ValueError, match="step 1"):
        S.Array([1.0, np.nan])
    with pytest.raises(ValueError, match="step 3"):
        S.as_schedule("lr_schedule", [1.0, 0.5, 0.25], steps=5)
    with pytest.raises(ValueError, match="lr_schedule"):
        S.as_schedule("lr_schedule", "cosine:x", steps=5)
    with pytest.raises(TypeError, match="lr_schedule"):
        S.as_schedule("lr_schedule", 3.0)


def test_weight_decay_conventions():
    lr = S.Cosine(100, 0.1)
    s = lr.values(100)
    wd, dec = S.weight_decay_convention("coupled", lr, 100)
    assert not dec and np.all(wd.values(100) == 1.0)
    wd, dec = S.weight_decay_convention("decoupled", lr, 100)
    assert dec and np.all(wd.values(100) == 1.0)
    wd, dec = S.weight_decay_convention("independent", lr, 100)  # η_tλ_t = η_0λ
    np.testing.assert_allclose(s * wd.values(100), s[0])
    wd, dec = S.weight_decay_convention("adamc", lr, 100)  # λ_t = λ η_t/η_max
    np.testing.assert_allclose(wd.values(100), s / s.max())
    with pytest.raises(ValueError, match="convention"):
        S.weight_decay_convention("l2", lr, 100)
    zero_start = S.Piecewise((0, 10), (0.0, 1.0))
    with pytest.raises(ValueError, match="step 0"):
        S.weight_decay_convention("independent", zero_start, 100)


def test_from_torch_matches_the_scheduler_and_leaves_it_alone():
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([p], lr=0.1)
    warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=4)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=16, eta_min=0.01)
    sched = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[4])
    got = S.from_torch(sched, 20).values(20)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.025)  # untouched
    expected = []
    for _ in range(20):
        expected.append(opt.param_groups[0]["lr"] / 0.1)
        opt.step()
        sched.step()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    multistep = torch.optim.lr_scheduler.MultiStepLR(torch.optim.SGD([p], lr=1.0), [3, 6], gamma=0.1)
    np.testing.assert_allclose(S.as_schedule("lr", multistep, steps=8).values(8), S.MultiStep((3, 6), 0.1).values(8))


def test_simulate_accepts_the_new_schedules():
    from spheretheory import simulate

    args = dict(lr=0.1, weight_decay=1e-3, momentum=0.9, dim=32, steps=200, trajectories=4, seed=1, method="reduced")
    a = simulate("sgdm", lr_schedule=S.Cosine(200), **args)
    b = simulate("sgdm", lr_schedule="cosine", **args)
    c = simulate("sgdm", lr_schedule=S.Cosine(200).values(200), **args)
    np.testing.assert_array_equal(a.sq_norm, b.sq_norm)
    np.testing.assert_array_equal(a.sq_norm, c.sq_norm)
    d = simulate("sgdm", **args)
    assert not np.array_equal(a.sq_norm[-1], d.sq_norm[-1])
