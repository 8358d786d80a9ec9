"""Every figure-producing function: each panel with data has a y label and an x label (its own or that of an axis
it shares x with), and a legend entry is never an internal name. Figures are caught at ``savefig`` so that the
functions run unchanged. The fast ones run by default; the paper reproductions (minutes) are marked slow."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

INTERNAL = re.compile(r"^[a-z]+_[a-z0-9_]+$")  # e.g. stability_0, sq_norm: a code name, not a reader's


def _has_data(ax) -> bool:
    return bool(ax.lines or ax.collections or ax.images or ax.patches or ax.containers)


def assert_labelled(fig: Figure, where: str = "") -> None:
    axes = [a for a in fig.axes if a.get_visible() and _has_data(a) and a.get_label() != "<colorbar>"]
    assert axes, f"{where}: a figure without data"
    for ax in axes:
        name = f"{where}: panel {ax.get_title()!r}"
        assert ax.get_ylabel().strip(), f"{name} has no y label"
        shared = [o for o in fig.axes if ax.get_shared_x_axes().joined(ax, o)] or [ax]
        assert any(o.get_xlabel().strip() for o in shared), f"{name} has no x label"
        legend = ax.get_legend()
        if legend is not None:
            for text in legend.get_texts():
                assert not INTERNAL.match(text.get_text()), f"{name}: legend entry {text.get_text()!r}"


@pytest.fixture
def saved(monkeypatch):
    """Collect every figure saved during the test (and still save it)."""
    figures: list[tuple[str, Figure]] = []
    original = Figure.savefig

    def spy(self, fname, *args, **kwargs):
        figures.append((str(fname), self))
        assert_labelled(self, str(fname))
        return original(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", spy)
    return figures


def test_checker_fails_on_an_unlabelled_figure():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="stability_0")
    with pytest.raises(AssertionError, match="no y label"):
        assert_labelled(fig)
    ax.set_ylabel("y")
    with pytest.raises(AssertionError, match="no x label"):
        assert_labelled(fig)
    ax.set_xlabel("x")
    ax.legend()
    with pytest.raises(AssertionError, match="legend entry"):
        assert_labelled(fig)
    plt.close(fig)


def test_simulate_plot(saved, tmp_path):
    from spheretheory.cli import main

    path = tmp_path / "sim.png"
    code = main(
        [
            "simulate",
            "--backend",
            "numpy",
            "--dim",
            "8",
            "--steps",
            "200",
            "--trajectories",
            "4",
            "--no-progress",
            "--plot",
            str(path),
        ]
    )
    assert code == 0 and path.exists() and len(saved) == 1


def test_phase_diagram(saved, tmp_path):
    from spheretheory.regimes.phase import plot_phase_diagram, sweep

    d = sweep("nrq", [0.01, 0.1], steps=200, runs=2, seed=0, backend="numpy", progress_bar=False)
    plot_phase_diagram(d, str(tmp_path / "phase.png"))
    assert len(saved) == 1


def test_monitor_plot(saved, tmp_path):
    torch = pytest.importorskip("torch")
    from torch import nn

    from spheretheory.integrations.pytorch import SphereMonitor

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8, bias=False), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[6], gamma=0.1)
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    mon = SphereMonitor.attach(model, opt, x)
    for _ in range(10):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        sched.step()
    fig = mon.plot(str(tmp_path / "mon.png"), smooth_steps=3)
    assert len(saved) == 1
    assert "Linear" in fig.axes[0].get_title()  # the layer's type beside its module path
    assert "LR changes at step 6" in fig._suptitle.get_text()
    assert fig.axes[-1].get_legend() is not None  # the effective-LR panel has a legend


@pytest.mark.parametrize("claim", ["wan2021.thm2.rate", "wan2021.cor31"])
def test_claim_figures(saved, tmp_path, claim):
    from spheretheory import claims

    r = claims.run(claim, quick=True)
    assert r.outcome is not None and r.outcome.figure is not None
    r.outcome.figure(str(tmp_path / "claim.png"))
    assert len(saved) == 1


@pytest.mark.slow
@pytest.mark.parametrize("module", ["paper_checks.wan2021", "paper_checks.li2020", "paper_checks.nrq2023"])
def test_paper_checks_figures(saved, tmp_path, module):
    import importlib

    importlib.import_module(module).main([str(tmp_path), "--quick"])
    assert saved and all(Path(p).exists() for p, _ in saved)


@pytest.mark.slow
def test_adam_figures(saved, tmp_path):
    from paper_checks import adam as E

    E.exp_radial_momentum(tmp_path)
    E.exp_equilibria(tmp_path, dim=64, trajectories=4)
    E.exp_sgd_adamg(tmp_path)
    assert len(saved) == 3


def test_error_bars_are_two_se_everywhere():
    """One error-bar convention (±2 SE), stated where the bars are drawn."""
    root = Path(__file__).resolve().parents[1]
    files = [*root.glob("paper_checks/*.py"), *root.glob("spheretheory/**/*.py"), *root.glob("examples/*.py")]
    for f in files:
        text = f.read_text()
        for m in re.finditer(r"yerr=\[?(\d+(?:\.\d+)?) \*", text):
            assert m.group(1) == "2", f"{f.name}: error bars of ±{m.group(1)} SE (use ±2 SE)"
        assert not re.search(r"±\s?[13-9] SE", text), f"{f.name} states another error-bar convention"


def test_labels_use_no_code_names():
    assert np.all([not INTERNAL.match(s) for s in ("stability of minimum 0", "random walk")])
