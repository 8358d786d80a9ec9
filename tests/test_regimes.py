"""The regime classifier, the ELR sweep with derived boundaries (every model, every regime), the CLI."""

import json

import numpy as np
import pytest

import spheretheory.cli as cli
from spheretheory.regimes import classify, sweep

# --- classifier on synthetic trajectories -----------------------------------------------------------------


def _traj(loss, angle, **kw):
    return {"loss": loss, "angular_update": angle, "cos_to_start": np.zeros_like(loss), **kw}


def test_classify_synthetic_regimes():
    rng = np.random.default_rng(0)
    t = np.arange(400)
    runs = 6
    falling = 1 + np.exp(-t / 150) + 0.001 * rng.standard_normal((runs, 400))
    r = classify(_traj(falling, np.full((runs, 400), 1e-3), min_loss=1.0, random_loss=3.0))
    assert r.regime == "convergence" and r.confidence > 0.5
    stationary = 1.2 + 0.05 * rng.standard_normal((runs, 400))
    r = classify(_traj(stationary, 0.1 + 0.01 * rng.random((runs, 400)), min_loss=1.0, random_loss=3.0))
    assert r.regime == "chaotic_equilibrium"
    assert r.statistics["loss"] == pytest.approx(1.2, abs=0.01)
    assert r.statistics["loss_level"] == pytest.approx(0.1, abs=0.01)
    walk = 2.9 + 0.05 * rng.standard_normal((runs, 400))
    r = classify(_traj(walk, np.full((runs, 400), 1.5), min_loss=1.0, random_loss=3.0))
    assert r.regime == "divergence" and r.statistics["angle_fraction"] == pytest.approx(1.5 / (np.pi / 2))
    # at chance level but with short steps: divergence by the loss level
    r = classify(_traj(walk, np.full((runs, 400), 0.1), min_loss=1.0, random_loss=3.0))
    assert r.regime == "divergence"
    # angular updates shrinking geometrically (noise vanishing at the minimum) → convergence
    shrink = np.exp(-t / 30.0)[None].repeat(runs, 0)
    r = classify(_traj(np.ones((runs, 400)), shrink))
    assert r.regime == "convergence"


def test_a_run_that_has_not_moved_is_undetermined_not_divergence():
    """At chance level with steps so short that the run cannot have forgotten its start (Σ Δ² ≪ 1 rad²), the
    loss level says nothing about a random walk: undetermined. The same run with steps long enough to mix is
    divergence. A derived convergence time longer than the run makes it undetermined too."""
    rng = np.random.default_rng(3)
    runs, n = 6, 400
    flat = 2.97 + 0.01 * rng.standard_normal((runs, n))  # loss level 0.985: at chance
    r = classify(_traj(flat, np.full((runs, n), 3e-5), min_loss=1.0, random_loss=3.0))
    assert r.regime == "undetermined" and r.statistics["diffusion"] < 1
    r = classify(_traj(flat, np.full((runs, n), 0.1), min_loss=1.0, random_loss=3.0))
    assert r.regime == "divergence"
    stationary = 1.2 + 0.05 * rng.standard_normal((runs, n))
    angle = 0.1 + 0.01 * rng.random((runs, n))
    traj = _traj(stationary, angle, min_loss=1.0, random_loss=3.0, steps=np.arange(1, n + 1))
    assert classify(traj, convergence_steps=n / 2).regime == "chaotic_equilibrium"
    assert classify(traj, convergence_steps=2 * n).regime == "undetermined"
    # a random walk needs no time scale: still divergence when the derived convergence time is longer
    walk = _traj(flat, np.full((runs, n), 1.5), min_loss=1.0, random_loss=3.0)
    assert classify(walk, convergence_steps=10 * n).regime == "divergence"


def test_classify_reports_nan_as_divergence():
    loss = np.ones((3, 100))
    loss[:, 50:] = np.nan
    r = classify(_traj(loss, np.full((3, 100), 0.1)))
    assert r.regime == "divergence" and r.confidence == 1.0 and r.statistics["diverged_runs"] == 3


def test_classify_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        classify(_traj(np.ones((2, 100)), np.ones((2, 99))))
    with pytest.raises(ValueError, match="at least 20"):
        classify(_traj(np.ones((2, 10)), np.ones((2, 10))))


# --- sweeps: every regime for every model, and the derived boundaries -----------------------------------

SWEEPS = {
    # model: (ELRs, steps, runs, expected regimes). The NRQ's noise does not vanish at its minimum: it has no
    # convergence regime, and a small-ELR run shorter than its derived convergence time is undetermined
    "nrq": ([1e-3, 1e-1, 10.0], 3000, 8, ["undetermined", "chaotic_equilibrium", "divergence"]),
    "toy": ([1e-1, 3.0, 100.0], 2000, 8, ["convergence", "chaotic_equilibrium", "divergence"]),
    "net": ([3e-4, 1e-1, 10.0], 1500, 6, ["convergence", "chaotic_equilibrium", "divergence"]),
}


@pytest.mark.parametrize("name", sorted(SWEEPS))
def test_every_model_reaches_every_regime(name):
    elrs, steps, runs, expected = SWEEPS[name]
    d = sweep(name, elrs, steps=steps, runs=runs, seed=0)
    assert d.regimes() == expected
    for row in d.results:
        assert np.isfinite(row["loss"]) and row["confidence"] > 0.5
    assert d.ordered()
    # loss level grows with the ELR across the regimes (chaotic plateau above convergence, random walk
    # above both)
    losses = [r["loss"] for r in d.results]
    if name != "net":  # the net's slow-ELR run is not converged yet, so its loss is still above the plateau
        assert losses[0] < losses[1] < losses[2]
    else:
        assert losses[1] < losses[2]


ORDERED = {
    # model: (ELRs over decades, steps, runs, backend) — small runs: the order must hold even so
    "nrq": ([1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0], 4000, 8, "numba"),
    "toy": ([1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0], 1000, 6, "numpy"),
    "net": ([1e-5, 1e-3, 1e-1, 10.0, 100.0], 300, 3, "numpy"),
}


@pytest.mark.parametrize("name", sorted(ORDERED))
def test_elr_sweeps_are_ordered_on_every_model(name):
    """The issue's decade sweep (spheretheory regimes --elr 1e-5 … 100): decided regimes never go back in ELR,
    and the slowest ELR — a run that has barely moved — is never called divergence."""
    elrs, steps, runs, backend = ORDERED[name]
    d = sweep(name, elrs, steps=steps, runs=runs, seed=0, backend=backend)
    reg = d.regimes()
    assert d.ordered(), reg
    assert reg[0] != "divergence", reg
    assert reg[-1] == "divergence", reg


def test_nrq_boundaries_agree_with_the_classified_sweep():
    """Decade sweep: the derived convergence boundary lies between the last 'undetermined' (run shorter than
    its convergence time) and the first 'chaotic_equilibrium'; the derived random-walk boundary between the
    last chaotic and first divergent ELR."""
    elrs = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]
    d = sweep("nrq", elrs, steps=3000, runs=8, seed=1)
    reg = d.regimes()
    b = d.boundaries
    last_short = max(e for e, r in zip(elrs, reg, strict=True) if r == "undetermined")
    first_chaos = min(e for e, r in zip(elrs, reg, strict=True) if r == "chaotic_equilibrium")
    last_chaos = max(e for e, r in zip(elrs, reg, strict=True) if r == "chaotic_equilibrium")
    first_div = min(e for e, r in zip(elrs, reg, strict=True) if r == "divergence")
    assert "convergence" not in reg
    assert last_short < b["convergence"] < first_chaos
    assert last_chaos <= b["random_walk"] < first_div
    # derived stationary loss within 10% + 4 SE where the sweep equilibrated and the derivation is valid
    # (first order in the distance to the minimum: predicted excess below half the smallest gap)
    model = d.extra["model"]
    checked = 0
    for row in d.results:
        valid = (
            row["predicted_stationary_loss"] is not None
            and row["predicted_stationary_loss"] - model.min_loss < model.gaps.min() / 2
        )
        if row["regime"] == "chaotic_equilibrium" and valid:
            checked += 1
            tol = 4 * row["loss_se"] + 0.1 * row["predicted_stationary_loss"]
            assert abs(row["loss"] - row["predicted_stationary_loss"]) < tol
    assert checked >= 1


def test_toy_boundaries_agree_with_the_classified_sweep():
    """The derived (Lyapunov) stability boundary of the flattest minimum separates convergence from chaos; no
    run is classified divergent below the derived random-walk ELR (that estimate uses the gradient rms at
    uniform points, an upper bound on the typical gradient along a chaotic run: docs/regimes.md)."""
    elrs = [0.5, 1.0, 2.0, 3.0, 10.0, 30.0, 100.0]
    d = sweep("toy", elrs, steps=2000, runs=8, seed=2)
    reg = d.regimes()
    b = d.boundaries
    last_conv = max(e for e, r in zip(elrs, reg, strict=True) if r == "convergence")
    first_chaos = min(e for e, r in zip(elrs, reg, strict=True) if r == "chaotic_equilibrium")
    assert last_conv < b["stability"] < first_chaos
    assert all(e >= b["random_walk"] for e, r in zip(elrs, reg, strict=True) if r == "divergence")


# --- CLI ----------------------------------------------------------------------------------------------------


@pytest.fixture
def regimes_cli(monkeypatch):
    """The CLI with only this subcommand registered (the others belong to other modules)."""
    monkeypatch.setattr(cli, "SUBCOMMANDS", ("regimes",))
    return cli.main


def test_cli_json(regimes_cli, capsys, tmp_path):
    png = tmp_path / "nrq.png"
    argv = ["regimes", "--model", "nrq", "--elr", "1e-3", "1e-1", "10", "--steps", "1000", "--runs", "4"]
    rc = regimes_cli([*argv, "--json", "--plot", str(png), "--no-progress"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["elr"] for r in out["results"]] == [1e-3, 1e-1, 10.0]
    # ELR 1e-3 over 1000 steps is shorter than the NRQ's derived convergence time: undetermined
    assert [r["regime"] for r in out["results"]] == ["undetermined", "chaotic_equilibrium", "divergence"]
    assert out["results"][0]["convergence_steps"] > 1000
    assert {"loss", "angular_update", "confidence", "loss_level"} <= set(out["results"][0])
    assert set(out["boundaries"]) == {"stability", "convergence", "random_walk"}
    assert png.stat().st_size > 10_000


def test_cli_table(regimes_cli, capsys):
    rc = regimes_cli(["regimes", "--model", "toy", "--elr", "0.1", "100", "--steps", "500", "--runs", "2"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "convergence" in out and "divergence" in out and "nan" not in out.lower()


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--elr", "0"], "elr"),
        (["--elr", "-1e-3"], "elr"),
        (["--model", "resnet"], "model"),
        (["--steps", "5"], "steps"),
    ],
)
def test_cli_bad_input(regimes_cli, capsys, argv, match):
    rc = regimes_cli(["regimes", *argv])
    err = capsys.readouterr().err
    assert rc == 2 and match in err and len(err.strip().splitlines()) == 1
