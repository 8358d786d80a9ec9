"""``spheretheory trajectory``: table, --json (one array per quantity), --plot, bad input -> one line, exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spheretheory as st
from spheretheory.cli import main

BASE = ["trajectory", "--steps", "2000", "--lr", "0.1", "--wd", "1e-3", "--momentum", "0.9"]


def test_table_shows_the_lag_at_the_chosen_fractions(capsys):
    assert main([*BASE, "--lr-schedule", "cosine", "--fractions", "0,0.5,0.9", "--every", "1"]) == 0
    out = capsys.readouterr().out
    tr = st.trajectory("sgdm", steps=2000, lr=0.1, weight_decay=1e-3, momentum=0.9, lr_schedule="cosine")
    lines = out.splitlines()
    row = next(line for line in lines if line.split()[:2] == ["0.9", "1799"])
    assert f"{tr.angular_update_lag[1799]:.6g}" in row.split()
    assert "nan" not in out and "inf" not in out


def test_json_has_one_array_per_quantity(capsys):
    assert main([*BASE, "--lr-schedule", "warmup:200,cosine:0.1", "--every", "10", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("sq_norm", "angular_update", "angular_update_equilibrium", "effective_lr", "lr", "step"):
        assert len(data[key]) == 200, key
    tr = st.trajectory(
        "sgdm", steps=2000, lr=0.1, weight_decay=1e-3, momentum=0.9, every=10, lr_schedule="warmup:200,cosine:0.1"
    )
    np.testing.assert_allclose(data["sq_norm"], tr.sq_norm, rtol=1e-15)


def test_plot_writes_a_figure(tmp_path, capsys):
    path = tmp_path / "run.png"
    assert main([*BASE, "--lr-schedule", "wsd:0.2:sqrt", "--plot", str(path)]) == 0
    assert path.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--lr-schedule", "warmup:100,bogus"], "bogus"),
        (["--lr-schedule", "cosine:-1"], "cosine:-1"),
        (["--fractions", "0,2"], "fractions"),
        (["--optimizer", "adamw"], "momentum"),
        (["--optimizer", "rmsprop"], "optimizer"),
        (["--wd-convention", "l2"], "wd-convention"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(extra, match, capsys):
    assert main([*BASE, *extra]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and match in err
