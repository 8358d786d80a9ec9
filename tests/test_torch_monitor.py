"""The PyTorch monitor: recorded quantities against independent computations, schedulers, param groups,
export,
bad input (spheretheory.integrations.pytorch.monitor / compare)."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch (CPU build, see docs/pytorch.md)")
from torch import nn  # noqa: E402

from spheretheory.integrations.pytorch import SphereMonitor, rescale_on_lr_drop  # noqa: E402
from spheretheory.integrations.pytorch.monitor import optimizer_family  # noqa: E402

pytestmark = pytest.mark.torch


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1, bias=False),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.Conv2d(6, 8, 3, padding=1, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 4),
    )


def _data(seed: int = 0, n: int = 16):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 6, 6, generator=g), torch.randint(0, 4, (n,), generator=g)


def _train(model, opt, steps, *, seed=0, sched=None, on_step=None, x_override=None, dtype=torch.float32):
    x, y = _data(seed)
    x = x.to(dtype)
    for t in range(steps):
        opt.zero_grad()
        xb = x if x_override is None else x_override(t, x)
        nn.functional.cross_entropy(model(xb), y).backward()
        if on_step is not None:
            on_step(t)
        opt.step()
        if sched is not None:
            sched.step()


def _reference_delta(before: list[torch.Tensor], after: list[torch.Tensor]) -> float:
    """Δ = arccos(cos) in float64 from full weight copies: independent of the monitor's planar construction.
    In float64 arccos has absolute error ~ 1e-16/Δ, negligible for Δ ≳ 1e-4."""
    a = torch.cat([b.double().flatten() for b in before])
    b = torch.cat([c.double().flatten() for c in after])
    return float(torch.arccos(torch.clamp(a @ b / (a.norm() * b.norm()), -1.0, 1.0)))


@pytest.mark.parametrize(
    ("momentum", "seed", "dtype"),
    [(0.0, 0, torch.float32), (0.9, 0, torch.float32), (0.9, 1, torch.float32), (0.9, 2, torch.float64)],
)
def test_recorded_quantities_match_independent_computation(momentum, seed, dtype):
    model = _model(seed).to(dtype)
    opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=momentum, weight_decay=1e-2)
    mon = SphereMonitor.attach(model, opt, _data(seed)[0].to(dtype))
    assert [g.name for g in mon.groups] == ["0", "3"]
    names = [("0.weight",), ("3.weight",)]
    params = dict(model.named_parameters())
    ref = {"w2": [], "g2": [], "vg": [], "delta": []}
    snapshots = []

    def on_step(t):
        ws = [[params[n].detach().clone() for n in ns] for ns in names]
        gs = [[params[n].grad.detach().clone() for n in ns] for ns in names]
        vs = []
        for ns in names:
            buf = opt.state.get(params[ns[0]], {}).get("momentum_buffer")
            vs.append(torch.zeros_like(params[ns[0]]) if buf is None else buf.clone())
        snapshots.append(ws)
        ref["w2"].append([float(sum((w.double() ** 2).sum() for w in ww)) for ww in ws])
        ref["g2"].append([float(sum((g.double() ** 2).sum() for g in gg)) for gg in gs])
        ref["vg"].append([float((v.double() * gg[0].double()).sum()) for v, gg in zip(vs, gs, strict=True)])

    _train(model, opt, 12, seed=seed, on_step=on_step, dtype=dtype)
    final = [[params[n].detach().clone() for n in ns] for ns in names]
    for t in range(12):
        nxt = snapshots[t + 1] if t + 1 < 12 else final
        ref["delta"].append([_reference_delta(snapshots[t][i], nxt[i]) for i in range(2)])
    rec = mon.records()
    np.testing.assert_array_equal(rec["step"], np.arange(12))
    # float32 storage, float64 accumulation: relative agreement ~1e-6 (float64: ~1e-15)
    f32 = dtype == torch.float32
    np.testing.assert_allclose(rec["sq_norm"], ref["w2"], rtol=1e-5 if f32 else 1e-12)
    np.testing.assert_allclose(
        rec["unit_grad_sq"], np.array(ref["g2"]) * np.array(ref["w2"]), rtol=1e-5 if f32 else 1e-12
    )
    # Δ: the difference d = w_{t+1} − w_t carries relative error ~ ulp(w)/|d| ~ 6e-8/Δ ≈ 1e-5 in float32
    # (1e-14 in float64, where the float64 arccos reference, error ~1e-16/Δ ≈ 1e-14, is the limit)
    np.testing.assert_allclose(rec["angular_update"], ref["delta"], rtol=2e-4 if f32 else 1e-9)
    h = (np.array(ref["g2"]) + 2 * momentum * np.array(ref["vg"])) * np.array(ref["w2"])
    np.testing.assert_allclose(rec["h_tilde"], h, rtol=1e-4, atol=1e-9 * np.abs(h).max())
    np.testing.assert_allclose(rec["effective_lr"], 0.2 / np.array(ref["w2"]), rtol=1e-5)
    # Lemma 1: <w, g> = 0 for a scale-invariant group (up to BN eps and float32 rounding)
    assert np.all(np.abs(rec["cos_wg"]) < 1e-3)
    assert rec["sq_norm"].dtype == np.float64
    np.testing.assert_allclose(rec["cos_to_start"][0], 1.0, rtol=1e-6)


def test_sgd_update_identities():
    """Plain SGD: w_{t+1} − w_t = −η(g_t + λw_t) exactly, so ‖d‖² = η²(‖g‖² + 2λ⟨w,g⟩ + λ²‖w‖²) and
    ⟨d, w_t⟩ = −η(⟨w,g⟩ + λ‖w‖²): the raw sums must satisfy both to float32 accuracy."""
    model = _model(3)
    lr, wd = 0.3, 0.05
    opt = torch.optim.SGD(model.parameters(), lr=lr, weight_decay=wd)
    mon = SphereMonitor.attach(model, opt, _data(3)[0])
    _train(model, opt, 8, seed=3)
    r = mon.records()
    d2 = lr**2 * (r["g2"] + 2 * wd * r["wg"] + wd**2 * r["w2"])
    dw = -lr * (r["wg"] + wd * r["w2"])
    np.testing.assert_allclose(r["d2"], d2, rtol=1e-4)
    np.testing.assert_allclose(r["dw"], dw, rtol=1e-4)


def test_per_unit_records_pool_to_group_records():
    model = _model(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
    mon = SphereMonitor.attach(model, opt, _data()[0], per_unit=True)
    params = dict(model.named_parameters())
    snaps = []
    _train(model, opt, 5, on_step=lambda t: snaps.append(params["0.weight"].detach().clone()))
    snaps.append(params["0.weight"].detach().clone())
    rec = mon.records()
    assert rec["sq_norm"].shape == (5, 6 + 8)
    assert list(rec["columns"][:2]) == ["0[0]", "0[1]"]
    grp = mon.group_records()
    np.testing.assert_allclose(grp["sq_norm"][:, 0], rec["sq_norm"][:, :6].sum(1), rtol=1e-12)
    # each BN channel's own angular update, against full copies of that channel
    for t in range(5):
        for c in (0, 5):
            want = _reference_delta([snaps[t][c]], [snaps[t + 1][c]])
            assert rec["angular_update"][t, c] == pytest.approx(want, rel=2e-4)
        want = _reference_delta([snaps[t]], [snaps[t + 1]])
        assert grp["angular_update"][t, 0] == pytest.approx(want, rel=2e-4)


def test_every_k_scheduler_and_param_groups():
    model = _model(0)
    opt = torch.optim.SGD(
        [
            {"params": [model[0].weight], "lr": 0.05, "weight_decay": 1e-3},
            {"params": [p for n, p in model.named_parameters() if n != "0.weight"]},
        ],
        lr=0.2,
        momentum=0.9,
        weight_decay=1e-2,
    )
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
    mon = SphereMonitor.attach(model, opt, _data()[0], every=3)
    _train(model, opt, 10, sched=sched)
    rec = mon.records()
    np.testing.assert_array_equal(rec["step"], [0, 3, 6, 9])
    # lr at step t is base·0.5^floor(t/4); group "0" has its own lr and weight decay
    np.testing.assert_allclose(rec["lr"][:, 0], 0.05 * 0.5 ** (rec["step"] // 4))
    np.testing.assert_allclose(rec["lr"][:, 1], 0.2 * 0.5 ** (rec["step"] // 4))
    np.testing.assert_allclose(rec["weight_decay"][0], [1e-3, 1e-2])
    np.testing.assert_allclose(rec["effective_lr"], rec["lr"] / rec["sq_norm"])


def test_callback_and_export(tmp_path):
    model = _model(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
    seen = []
    mon = SphereMonitor.attach(model, opt, _data()[0], callback=lambda step, vals: seen.append((step, vals)))
    _train(model, opt, 4)
    assert [s for s, _ in seen] == [0, 1, 2, 3]
    rec = mon.records()
    assert seen[2][1]["3/angular_update"] == pytest.approx(rec["angular_update"][2, 1], rel=1e-12)
    path = tmp_path / "rec.csv"
    mon.to_csv(str(path))
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 * 2
    assert float(rows[3]["sq_norm"]) == pytest.approx(rec["sq_norm"][1, 1], rel=1e-15)
    mon.save_npz(str(tmp_path / "rec.npz"))
    back = np.load(tmp_path / "rec.npz", allow_pickle=True)
    np.testing.assert_array_equal(back["angular_update"], rec["angular_update"])


def test_rescale_on_lr_change_matches_standalone_hook_and_keeps_function():
    """At a drop η → η/k the scale-invariant weights are divided by k^(1/4) (Wan et al. Sec. 4.2)."""
    out = {}
    for mode in ("monitor", "hook", "none"):
        model = _model(0)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[3], gamma=0.1)
        if mode == "hook":
            rescale_on_lr_drop(opt, _detect(model).parameters(model))
        mon = SphereMonitor.attach(model, opt, _data()[0], rescale_on_lr_change=(mode == "monitor"))
        _train(model, opt, 3, sched=sched)
        x, _ = _data()
        y_before = model.train()(x).detach()
        _train(model, opt, 1, sched=sched)  # step 3: rescale, then update
        out[mode] = (mon.records(), y_before, model)
    r_mon, r_hook, r_none = (out[m][0] for m in ("monitor", "hook", "none"))
    np.testing.assert_allclose(r_mon["sq_norm"][:3], r_none["sq_norm"][:3], rtol=1e-12)
    np.testing.assert_allclose(r_mon["sq_norm"][3], r_none["sq_norm"][3] / math.sqrt(10.0), rtol=1e-5)
    np.testing.assert_allclose(r_hook["sq_norm"], r_mon["sq_norm"], rtol=1e-5)
    # rescaling is invisible to the network: direction and output unchanged
    np.testing.assert_allclose(r_mon["cos_to_start"][3], r_none["cos_to_start"][3], rtol=1e-5)


def test_nan_loss_is_reported_as_divergence():
    model = _model(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
    mon = SphereMonitor.attach(model, opt, _data()[0])

    def poison(t, x):
        return x * float("nan") if t == 5 else x

    _train(model, opt, 8, x_override=poison)
    assert mon.diverged_step == 5
    cmp = mon.compare()
    assert "diverged at step 5" in cmp.message
    for row in cmp.rows:
        assert row.end_step < 5 and math.isfinite(row.measured_angular_update)


def test_missing_gradient_and_frozen_parameter():
    model = _model(0)
    model[3].weight.requires_grad_(False)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1, weight_decay=1e-2)
    mon = SphereMonitor.attach(model, opt, _data()[0])
    assert [g.name for g in mon.groups] == ["0"]
    assert any("frozen" in r for _, r in mon.detection.skipped)
    # a step where group "0" got no gradient: recorded as missing, not as divergence
    x, y = _data()
    opt.zero_grad(set_to_none=True)
    opt.step()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    rec = mon.records()
    assert np.isnan(rec["unit_grad_sq"][0, 0]) and np.isfinite(rec["unit_grad_sq"][1, 0])
    assert mon.diverged_step == -1


def test_param_not_in_optimizer_is_skipped():
    model = _model(0)
    opt = torch.optim.SGD([model[3].weight, model[8].weight], lr=0.1)
    mon = SphereMonitor(model, opt, _detect(model))
    assert [g.name for g in mon.groups] == ["3"]
    assert "not optimized" in dict(mon.skipped)["0"]


def _detect(model):
    from spheretheory.integrations.pytorch import find_scale_invariant_groups

    return find_scale_invariant_groups(model, _data()[0])


def test_uncovered_optimizer_is_measured_and_marked():
    model = _model(0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-2)  # coupled L2: not covered
    assert optimizer_family(opt, opt.param_groups[0])[0] is None
    mon = SphereMonitor.attach(model, opt, _data()[0])
    _train(model, opt, 6)
    rec = mon.records()
    assert np.all(np.isfinite(rec["angular_update"])) and np.all(rec["angular_update"] > 0)
    # Adam's effective LR (Roburin et al.): η·√n / (‖w‖²·‖√v̂ + ε‖), finite and positive
    assert np.all(np.isfinite(rec["effective_lr"])) and np.all(rec["effective_lr"] > 0)
    assert np.all(np.isnan(rec["h_tilde"]))
    cmp = mon.compare()
    assert cmp.rows and all(math.isnan(r.predicted_angular_update) for r in cmp.rows)
    assert all("prediction unavailable" in r.prediction_note for r in cmp.rows)
    assert all(r.reference.startswith("own final mean") for r in cmp.rows)


def test_optimizer_family_mapping():
    p = [nn.Parameter(torch.zeros(2))]
    cases = [
        (torch.optim.SGD(p, lr=0.1), "sgd"),
        (torch.optim.SGD(p, lr=0.1, momentum=0.9), "sgdm"),
        (torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), "nesterov"),  # issue 10: now predicted
        (torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1), "sgdm_dampened"),  # SGDM at lr·(1 − τ)
        (torch.optim.AdamW(p, lr=0.1), "adamw"),
        (torch.optim.Adam(p, lr=0.1, decoupled_weight_decay=True), "adamw"),
        (torch.optim.RMSprop(p, lr=0.1), None),
    ]
    for opt, want in cases:
        fam, extra, reason = optimizer_family(opt, opt.param_groups[0])
        assert fam == want, type(opt).__name__
        assert (reason == "") == (want is not None)
    assert optimizer_family(cases[4][0], cases[4][0].param_groups[0])[1] == {
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
    }


def test_bad_arguments():
    model = _model(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = _data()[0]
    with pytest.raises(ValueError, match="every must be an integer in"):
        SphereMonitor.attach(model, opt, x, every=0)
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
        SphereMonitor.attach(model, "sgd", x)
    with pytest.raises(ValueError, match="example_input must be a batch"):
        SphereMonitor.attach(model, opt)
    with pytest.raises(TypeError, match="callback must be callable"):
        SphereMonitor.attach(model, opt, x, callback=3)
    mon = SphereMonitor.attach(model, opt, x)
    with pytest.raises(ValueError, match="fraction must be in"):
        mon.compare(fraction=0)
    with pytest.raises(ValueError, match="nothing to plot"):
        mon.plot()


def test_detach_stops_recording():
    model = _model(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=1e-2)
    mon = SphereMonitor.attach(model, opt, _data()[0])
    _train(model, opt, 2)
    mon.detach()
    _train(model, opt, 2)
    assert mon.n_records == 2


@pytest.mark.gpu
def test_cuda_records_match_cpu():
    """Same model, same batches on CUDA and on CPU: the records agree to float32 accuracy."""
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    recs = []
    for device in ("cpu", "cuda"):
        model = _model(0).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
        x, y = (t.to(device) for t in _data())
        seen = []
        mon = SphereMonitor.attach(model, opt, x, callback=lambda s, v, seen=seen: seen.append(v))
        for _ in range(5):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        recs.append(mon.records())
        assert len(seen) == 5
    for key in ("sq_norm", "angular_update", "unit_grad_sq", "h_tilde"):
        np.testing.assert_allclose(recs[1][key], recs[0][key], rtol=1e-3)


def test_adamw_is_measured_and_predicted_when_predict_covers_it():
    model = _model(0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    mon = SphereMonitor.attach(model, opt, _data()[0])
    _train(model, opt, 6)
    rec = mon.records()
    assert np.all(np.isfinite(rec["angular_update"])) and np.all(np.isfinite(rec["effective_lr"]))
    cmp = mon.compare()
    assert {r.optimizer for r in cmp.rows} == {"adamw"}
    try:
        from spheretheory.prediction import optimizers

        covered = "adamw" in optimizers()
    except ImportError:
        covered = False
    for r in cmp.rows:
        if covered:
            assert math.isfinite(r.predicted_angular_update), r.prediction_note
        else:
            assert math.isnan(r.predicted_angular_update) and "prediction unavailable" in r.prediction_note


def test_no_weight_decay_has_no_prediction():
    model = _model(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    mon = SphereMonitor.attach(model, opt, _data()[0])
    _train(model, opt, 4)
    for r in mon.compare().rows:
        assert math.isnan(r.predicted_angular_update) and "no weight decay" in r.prediction_note


def test_records_are_the_same_across_consolidation_chunks(monkeypatch):
    import spheretheory.integrations.pytorch.records as records_module

    recs = []
    for chunk in (3, 10_000):
        monkeypatch.setattr(records_module, "CHUNK", chunk)
        model = _model(0)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
        mon = SphereMonitor.attach(model, opt, _data()[0], every=2)
        _train(model, opt, 13)
        assert mon.n_records == 7
        recs.append(mon.records())
    assert len(recs[0]["step"]) == 7
    for key in ("step", "lr", "sq_norm", "angular_update", "h_tilde"):
        np.testing.assert_array_equal(recs[0][key], recs[1][key])


def test_plot_and_table(tmp_path):
    pytest.importorskip("matplotlib")
    model = _model(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[6], gamma=0.1)
    mon = SphereMonitor.attach(model, opt, _data()[0])
    _train(model, opt, 10, sched=sched)
    path = tmp_path / "smd.png"
    fig = mon.plot(str(path), smooth_steps=3)
    assert path.stat().st_size > 10_000
    assert len(fig.axes) == 3 * (len(mon.groups) + 1)  # Fig. 3 row per layer + Fig. 5 overview row
    assert fig.axes[2].get_yscale() == "log"  # the LR changes: Δ on a log axis
    with pytest.raises(ValueError, match="unknown group"):
        mon.plot(layers=["nope"])
    cmp = mon.compare(smooth_steps=3)
    assert [(r.group, r.phase) for r in cmp.rows] == [("0", 0), ("0", 1), ("3", 0), ("3", 1)]
    assert [r.lr for r in cmp.rows] == pytest.approx([0.1, 0.01, 0.1, 0.01])
    assert [r.start_step for r in cmp.rows] == [0, 6, 0, 6]
    text = cmp.table()
    assert "Δ meas" in text and text.count("\n") >= 5
    d = cmp.to_dict()
    assert len(d["rows"]) == 4 and d["rows"][1]["weight_decay"] == pytest.approx(1e-2)
