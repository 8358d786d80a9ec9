"""``spheretheory simulate`` command line."""

from __future__ import annotations

import importlib.util
import json

import pytest

import spheretheory.cli as cli

SMALL = ["simulate", "--dim", "32", "--steps", "2000", "--trajectories", "16", "--no-progress"]


@pytest.fixture
def run_cli(monkeypatch, capsys):
    # only this subcommand, so the test does not depend on the other subcommand modules
    monkeypatch.setattr(cli, "SUBCOMMANDS", ("simulate",))

    def run(*argv: str) -> tuple[int, str, str]:
        rc = cli.main(list(argv))
        out, err = capsys.readouterr()
        return rc, out, err

    return run


def test_json_output_has_the_documented_keys(run_cli):
    rc, out, _ = run_cli(*SMALL, "--optimizer", "sgdm", "--lr", "0.1", "--wd", "1e-2", "--momentum", "0.9", "--json")
    assert rc == 0
    d = json.loads(out)
    for key in (
        "sq_norm_mean",
        "sq_norm_se",
        "angular_update_mean",
        "angular_update_se",
        "angular_update_rms",
        "predicted_sq_norm",
        "predicted_angular_update",
        "effective_lr_mean",
        "window",
        "config",
    ):
        assert key in d, key
    assert d["sq_norm_se"] > 0 and d["angular_update_se"] > 0
    assert d["config"]["optimizer"] == "sgdm" and d["config"]["steps"] == 2000
    assert d["window"] == "iterations 1500..1999"
    assert d["diverged"] == 0


@pytest.mark.skipif(importlib.util.find_spec("spheretheory.prediction") is None, reason="predict is missing")
def test_json_predictions_are_filled_when_predict_exists(run_cli):
    rc, out, _ = run_cli(*SMALL, "--optimizer", "sgd", "--lr", "0.1", "--wd", "1e-2", "--json")
    d = json.loads(out)
    assert rc == 0 and d["predicted_sq_norm"] > 0 and d["predicted_angular_update"] > 0


def test_grid_and_table_output(run_cli, tmp_path):
    png = tmp_path / "fig.png"
    rc, out, _ = run_cli(*SMALL, "--optimizer", "sgd", "--lr", "0.1", "0.2", "--wd", "1e-2", "--plot", str(png))
    assert rc == 0
    assert "[0] lr=0.1" in out and "[1] lr=0.2" in out and "||w||^2" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["--dim", "1"], "dim"),
        (["--steps", "0"], "steps"),
        (["--backend", "tpu"], "backend"),
        (["--optimizer", "rmsprop"], "optimizer"),
        (["--lr", "0.1", "0.2", "--wd", "1e-3", "2e-3", "3e-3"], "same length"),
        (["--lr", "-1"], "lr"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_cli, argv, needle):
    rc, out, err = run_cli("simulate", "--no-progress", "--steps", "10", *argv)
    assert rc == 2
    assert err.strip().count("\n") == 0 and needle in err and "Traceback" not in err


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed")
def test_missing_cupy_is_a_clear_error(run_cli):
    rc, _, err = run_cli("simulate", "--steps", "10", "--backend", "cupy")
    assert rc == 2 and "CuPy" in err
