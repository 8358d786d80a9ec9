"""Issue 11 item 8, scheduled runs: ``st.solve(..., steps=, at=, lr_schedule=...)`` inverts the *trajectory* (the
iterated mean-field map from the first step's equilibrium) at one step. The solved base value fed back into
``st.trajectory`` must reproduce the target at that step to 1e-8 relative (the bisection runs to round-off in
log(unknown), so only floating-point error remains); out-of-reach and non-monotone questions raise InputError;
``predict --solve ... --steps --at`` reports bad input as one line with exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spheretheory as st
from spheretheory._validation import InputError
from spheretheory.cli import main

STEPS = 20_000
CASES = [
    # (schedule, unknown, given, target quantity, value, at)
    ("cosine", "lr", {"weight_decay": 1e-3}, "angular_update", 0.005, 0.5),
    ("warmup:2000,cosine", "weight_decay", {"lr": 0.1}, "effective_lr", 0.02, 0.9),
    ("multistep:5000/15000:0.1", "lr", {"weight_decay": 1e-3}, "angular_update", 0.002, 10_000),
    ("multistep:0.25/0.75:0.1", "weight_decay", {"lr": 0.1}, "sq_norm", 3.0, 1.0),
]


@pytest.mark.parametrize(("schedule", "unknown", "given", "key", "value", "at"), CASES)
def test_solved_value_reproduces_target_on_trajectory(schedule, unknown, given, key, value, at):
    x = st.solve("sgdm", unknown, {key: value}, momentum=0.9, steps=STEPS, at=at, lr_schedule=schedule, **given)
    tr = st.trajectory("sgdm", STEPS, momentum=0.9, lr_schedule=schedule, **{unknown: x}, **given)
    t = at if isinstance(at, int) else round(at * (STEPS - 1))
    assert tr.step[t] == t
    assert tr.values[key][t] == pytest.approx(value, rel=1e-8)
    # the scheduled answer differs from the constant-run (equilibrium) one: the schedule matters
    if key != "sq_norm":
        const = st.solve("sgdm", unknown, {key: value}, momentum=0.9, **given)
        assert abs(const / x - 1) > 1e-3


def test_adamw_with_convention():
    kw = {"lr": 1e-3, "dim": 1000, "steps": 10_000, "lr_schedule": "warmup:500,cosine", "wd_convention": "decoupled"}
    x = st.solve("adamw", "weight_decay", {"angular_update": 0.002}, at=0.9, **kw)
    steps = kw.pop("steps")
    tr = st.trajectory("adamw", steps, weight_decay=x, **kw)
    assert tr.values["angular_update"][round(0.9 * (steps - 1))] == pytest.approx(0.002, rel=1e-8)


def test_out_of_reach_names_the_reachable_range():
    with pytest.raises(InputError, match=r"reachable: .* to "):
        st.solve("sgdm", "lr", {"angular_update": 5.0}, weight_decay=1e-3, momentum=0.9, steps=STEPS, at=0.5,
                 lr_schedule="cosine")  # fmt: skip


def test_not_monotone_is_refused():
    # E‖w‖² just after an LR drop rises with the base LR, dips where the faster relaxation wins, then rises again
    with pytest.raises(InputError, match="not monotone"):
        st.solve("sgdm", "lr", {"sq_norm": 3.0}, weight_decay=1e-3, momentum=0.9, steps=STEPS, at=10_000,
                 lr_schedule="multistep:5000/15000:0.1")  # fmt: skip


@pytest.mark.parametrize(("at", "match"), [(1.5, "fraction"), (0.0, "fraction"), (STEPS, "step index"), (-1, "step")])
def test_bad_at(at, match):
    with pytest.raises(InputError, match=match):
        st.solve("sgdm", "lr", {"angular_update": 0.005}, weight_decay=1e-3, momentum=0.9, steps=STEPS, at=at)


def test_scheduled_target_names():
    with pytest.raises(InputError, match="target quantity"):
        st.solve("sgdm", "lr", {"relaxation_steps": 100.0}, weight_decay=1e-3, momentum=0.9, steps=STEPS)


ARGS = ["predict", "--optimizer", "sgdm", "--momentum", "0.9", "--wd", "1e-3", "--solve", "lr",
        "--target", "angular_update=0.005", "--lr-schedule", "cosine", "--steps", str(STEPS)]  # fmt: skip


def test_cli_example(capsys):
    assert main([*ARGS, "--at", "0.5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["step"] == round(0.5 * (STEPS - 1))
    tr = st.trajectory("sgdm", STEPS, lr=out["lr"], weight_decay=1e-3, momentum=0.9, lr_schedule="cosine")
    assert tr.values["angular_update"][out["step"]] == pytest.approx(0.005, rel=1e-8)
    assert out["achieved"] == pytest.approx(0.005, rel=1e-8)
    assert main([*ARGS, "--at", "0.5"]) == 0
    assert "solved lr = " in capsys.readouterr().out


@pytest.mark.parametrize("at", ["1.5", "abc", str(STEPS), "0.0"])
def test_cli_bad_at_is_one_line(capsys, at):
    assert main([*ARGS, "--at", at]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "at" in err


def test_cli_schedule_flags_need_solve(capsys):
    assert main(["predict", "--lr", "0.1", "--wd", "1e-3", "--steps", "100"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_constant_path_unchanged():
    x = st.solve("sgdm", "lr", {"angular_update": 0.005}, weight_decay=1e-3, momentum=0.9)
    assert st.predict("sgdm", lr=x, weight_decay=1e-3, momentum=0.9).values["angular_update"] == pytest.approx(
        0.005, rel=1e-8
    )
    assert np.isfinite(x)
