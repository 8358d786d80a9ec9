"""Detection of scale-invariant groups in torch modules (spheretheory.integrations.pytorch.detect)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch", reason="PyTorch not installed (CPU build: see docs/pytorch.md)")
from torch import nn  # noqa: E402

from spheretheory.integrations.pytorch import (  # noqa: E402
    SphereMonitor,
    find_scale_invariant_groups,
    verify_scale_invariance,
)

pytestmark = pytest.mark.torch


def _cnn(bias: bool = False) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=bias),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Conv2d(8, 6, 3, padding=1, bias=True),
        nn.ReLU(),  # BN after ReLU: the bias must be scaled with the weight
        nn.BatchNorm2d(6),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6, 12),
        nn.LayerNorm(12),
        nn.Linear(12, 4),
    )


def _by_name(report):
    return {g.name: g for g in report.groups}


def _x(seed: int = 0, n: int = 6, s: int = 8) -> torch.Tensor:
    return torch.randn(n, 3, s, s, generator=torch.Generator().manual_seed(seed))


def test_structural_detection_and_granularity():
    torch.manual_seed(0)
    rep = find_scale_invariant_groups(_cnn(), _x())
    g = _by_name(rep)
    assert set(g) == {"0", "3", "8"}, str(rep)
    assert g["0"].param_names == ("0.weight",) and g["0"].kind == "batchnorm"
    np.testing.assert_array_equal(g["0"].units, np.arange(8))  # one unit per BN channel
    assert g["3"].param_names == ("3.weight", "3.bias")  # through ReLU: bias joins the group
    assert g["8"].param_names == ("8.weight", "8.bias") and g["8"].kind == "layernorm"
    assert g["8"].n_units == 1  # LayerNorm: whole tensor
    assert not rep.not_invariant
    assert all(grp.max_rel_change < 1e-9 for grp in rep.groups)
    assert "10" not in g  # the classifier is not scale-invariant


def test_groupnorm_and_weight_norm():
    torch.manual_seed(1)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, bias=True),
        nn.GroupNorm(4, 8),
        nn.ReLU(),
        nn.Flatten(),
        nn.utils.parametrizations.weight_norm(nn.Linear(8 * 6 * 6, 5)),
    )
    rep = find_scale_invariant_groups(model, _x(1))
    g = _by_name(rep)
    assert g["0"].kind == "groupnorm" and g["0"].param_names == ("0.weight", "0.bias")
    np.testing.assert_array_equal(g["0"].units, np.repeat(np.arange(4), 2))
    wn = g["4.weight"]
    assert wn.kind == "weight_norm" and wn.param_names == ("4.parametrizations.weight.original1",)
    assert wn.n_units == 5


def test_old_style_weight_norm():
    with pytest.warns(FutureWarning):
        lin = nn.utils.weight_norm(nn.Linear(7, 3), dim=None)
    rep = find_scale_invariant_groups(nn.Sequential(lin), torch.randn(4, 7))
    (g,) = rep.groups
    assert g.param_names == ("0.weight_v",) and g.n_units == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_detected_groups_are_invariant_on_the_float32_model(seed):
    """Independent check on the user's own float32 model (not the float64 copy the detector uses).

    Tolerance: BatchNorm's eps = 1e-5 breaks invariance by ~eps/σ² relative and float32 rounding adds ~1e-6;
    the
    activations here have σ² ≳ 1e-2, so 1e-2 relative is a safe bound, far below the O(1) change a wrong
    group gives.
    """
    torch.manual_seed(seed)
    model = _cnn(bias=True).train()
    x = _x(seed, n=16)
    rep = find_scale_invariant_groups(model, x)
    params = dict(model.named_parameters())
    with torch.no_grad():
        y0 = model(x)
        for g in rep.groups:
            saved = {n: params[n].clone() for n in g.param_names}
            for n in g.param_names:
                params[n].mul_(3.0)
            y1 = model(x)
            for n, v in saved.items():
                params[n].copy_(v)
            assert float((y1 - y0).abs().max() / y0.abs().max()) < 1e-2, g.name
        # a non-invariant parameter does move the output
        params["10.weight"].mul_(3.0)
        assert float((model(x) - y0).abs().max() / y0.abs().max()) > 0.1


def test_model_is_left_untouched():
    torch.manual_seed(0)
    model = _cnn()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    find_scale_invariant_groups(model, _x())
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert next(model.parameters()).dtype == torch.float32


def test_manual_include_is_verified_and_non_invariant_reported():
    torch.manual_seed(0)
    model = _cnn()
    rep = find_scale_invariant_groups(model, _x(), auto=False, include=["10.weight", (("0.weight",), "channel")])
    assert [g.name for g in rep.groups] == ["0.weight"]
    assert rep.groups[0].n_units == 8
    (bad,) = rep.not_invariant
    assert bad.name == "10.weight" and bad.max_rel_change > 1e-2
    assert "NOT invariant" in str(rep)


def test_exclude_and_frozen():
    torch.manual_seed(0)
    model = _cnn()
    model[0].weight.requires_grad_(False)
    rep = find_scale_invariant_groups(model, _x(), exclude=["8"])
    names = {g.name for g in rep.groups}
    assert names == {"3"}
    reasons = dict(rep.skipped)
    assert "frozen" in reasons["0"] and "excluded" in reasons["8"]


def test_no_invariant_groups_message_and_monitor():
    model = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 2))
    rep = find_scale_invariant_groups(model, torch.randn(3, 5))
    assert not rep.groups
    assert "no scale-invariant parameter groups found" in rep.message
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.warns(UserWarning, match="records nothing"):
        mon = SphereMonitor.attach(model, opt, torch.randn(3, 5))
    model(torch.randn(3, 5)).sum().backward()
    opt.step()  # no hooks registered: the loop is unaffected
    assert mon.n_records == 0
    assert mon.compare().rows == []
    with pytest.raises(ValueError, match="no scale-invariant parameter groups found"):
        SphereMonitor.attach(model, opt, torch.randn(3, 5), on_empty="raise")


def test_bad_input():
    model = _cnn()
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        find_scale_invariant_groups("not a model", _x())
    with pytest.raises(ValueError, match="rtol must be in"):
        find_scale_invariant_groups(model, _x(), rtol=2.0)
    with pytest.raises(ValueError, match="include: 'nope' is not a parameter"):
        find_scale_invariant_groups(model, _x(), include=["nope"])
    with pytest.raises(TypeError, match="include entries"):
        find_scale_invariant_groups(model, _x(), include=[3])


def test_verify_returns_large_change_for_wrong_group():
    torch.manual_seed(0)
    model = _cnn()
    rep = find_scale_invariant_groups(model, _x(), auto=False, include=["10.bias"], verify=False)
    (change,) = verify_scale_invariance(model, rep.groups, _x())
    assert change > 1e-2


_NORM_KINDS = ("batch", "group", "layer", "instance")


@settings(max_examples=12)
@given(
    kind=st.sampled_from(_NORM_KINDS),
    bias=st.booleans(),
    relu_between=st.booleans(),
    channels=st.sampled_from([4, 6, 8]),
    seed=st.integers(0, 2**16),
)
def test_detection_rule_on_random_blocks(kind, bias, relu_between, channels, seed):
    """Conv → [ReLU] → Norm blocks: the detector finds exactly the group the rule of the module docstring
    names, and the group passes the rescaling check; the classifier head never does."""
    torch.manual_seed(seed)
    c = channels
    norm = {
        "batch": nn.BatchNorm2d(c),
        "group": nn.GroupNorm(2, c),
        "layer": nn.LayerNorm([c, 5, 5]),
        "instance": nn.InstanceNorm2d(c, affine=True),
    }[kind]
    layers = [nn.Conv2d(2, c, 3, bias=bias)] + ([nn.ReLU()] if relu_between else []) + [norm]
    model = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * 25, 3))
    x = torch.randn(8, 2, 7, 7, generator=torch.Generator().manual_seed(seed))
    rep = find_scale_invariant_groups(model, x)
    assert not rep.not_invariant, str(rep)
    (g,) = rep.groups
    cancels = kind in ("batch", "instance")  # mean over the channel's own values removes its bias
    want = ("0.weight", "0.bias") if bias and (relu_between or not cancels) else ("0.weight",)
    assert g.param_names == want
    per_unit = {"batch": c, "instance": c, "group": 2, "layer": 1}[kind]
    assert g.n_units == per_unit
