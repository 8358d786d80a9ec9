"""Issue 11 item 8: ``spheretheory predict --solve PARAM --target QUANTITY=VALUE`` (inverse questions, constant
runs). The solved value fed back into ``predict`` (or ``ema.timescale`` for tau_iter) must reproduce the target to
1e-8 relative; bad flags exit 2 with one line."""

from __future__ import annotations

import json

import pytest

import spheretheory as st
from spheretheory import theory
from spheretheory.cli import main

CASES = [
    ("sgd", [], "weight_decay", "angular_update", 0.01),
    ("sgd", [], "lr", "angular_update", 0.003),
    ("sgdm", ["--momentum", "0.9"], "weight_decay", "angular_update", 0.01),
    ("sgdm", ["--momentum", "0.9"], "lr", "effective_lr", 0.02),
    ("sgd", [], "weight_decay", "effective_lr", 1e-3),
    ("sgdm", ["--momentum", "0.9"], "weight_decay", "tau_iter", 1e4),
    ("sgd", [], "lr", "tau_iter", 500.0),
    ("adamw", ["--beta1", "0.9"], "weight_decay", "angular_update", 0.005),
]


def _json(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize(("optimizer", "flags", "unknown", "key", "value"), CASES)
def test_solved_value_reproduces_the_target(capsys, optimizer, flags, unknown, key, value):
    given = {"lr": 0.1, "weight_decay": 5e-4}
    other = "weight_decay" if unknown == "lr" else "lr"
    flag = "--wd" if other == "weight_decay" else "--lr"
    out = _json(
        capsys, "predict", "--optimizer", optimizer, *flags, "--solve", unknown, "--target", f"{key}={value}",
        flag, str(given[other]), "--json",
    )  # fmt: skip
    x = out[unknown]
    assert out["solve"] == unknown and out["target"] == {key: value}
    at = {other: given[other], unknown: x}
    hyper = {flags[0].lstrip("-"): float(flags[1])} if flags else {}
    if key == "tau_iter":
        back = float(theory.get("ema.timescale")(**at))
    else:
        back = float(st.predict(optimizer, **at, **hyper).values[key])  # an independent call of the API
    assert back == pytest.approx(value, rel=1e-8)
    assert out["achieved"] == pytest.approx(value, rel=1e-8)
    assert out["inputs"][unknown] == pytest.approx(x, rel=1e-15)  # the table is the prediction at the solution


def test_solve_table_names_the_solution(capsys):
    code = main(["predict", "--solve", "weight_decay", "--target", "angular_update=0.01", "--lr", "0.1"])
    out, _ = capsys.readouterr()
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("solved weight_decay = ") and "angular_update = 0.01" in first


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["--solve", "momentum", "--target", "angular_update=0.01", "--lr", "0.1"], "--solve"),
        (["--solve", "lr", "--target", "speed=1", "--wd", "1e-3"], "--target quantity"),
        (["--solve", "lr", "--target", "angular_update", "--wd", "1e-3"], "QUANTITY=VALUE"),
        (["--solve", "lr", "--target", "angular_update=abc", "--wd", "1e-3"], "number"),
        (["--solve", "lr", "--target", "angular_update=-1", "--wd", "1e-3"], "> 0"),
        (["--solve", "lr", "--target", "angular_update=nan", "--wd", "1e-3"], "finite"),
        (["--target", "angular_update=0.01", "--lr", "0.1"], "go together"),
        (["--solve", "lr", "--wd", "1e-3"], "go together"),
        (["--solve", "lr", "--lr", "0.1", "--wd", "1e-3", "--target", "angular_update=0.01"], "drop it"),
        (["--solve", "lr", "--target", "angular_update=0.01"], "needs --wd"),
        (["--solve", "lr", "--target", "angular_update=5", "--wd", "1e-3"], "reachable"),
        (["--lr", "0.1"], "needs --wd"),
        (["--wd", "1e-3"], "needs --lr"),
    ],
)
def test_bad_solve_flags_exit_2_with_one_line(capsys, argv, word):
    code = main(["predict", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], err
