"""The CLI: every subcommand has --help; bad input gives one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spheretheory.cli import SUBCOMMANDS, main

COMMANDS = [name.replace("_", "-") for name in SUBCOMMANDS]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "usage" in capsys.readouterr().out


def test_predict_json_has_the_api_keys(capsys):
    code, out, _ = run_cli(capsys, "predict", "--optimizer", "sgdm", "--lr", "0.1", "--wd", "5e-4", "--momentum", "0.9",
                           "--json")
    assert code == 0
    data = json.loads(out)
    for key in ("angular_update", "angular_update_first_order", "equilibrium_norm", "equilibrium_norm_first_order",
                "effective_lr", "relaxation_steps"):
        assert isinstance(data[key], float)
    assert data["angular_update_first_order"] == pytest.approx((2 * 0.1 * 5e-4 / 1.9) ** 0.5)


def test_predict_table(capsys):
    code, out, _ = run_cli(capsys, "predict", "--optimizer", "sgd", "--lr", "0.1", "--wd", "5e-4")
    assert code == 0 and "angular_update" in out and "relaxation_steps" in out


def test_lr_drop_json(capsys):
    code, out, _ = run_cli(capsys, "lr-drop", "--optimizer", "sgd", "--lr", "0.1", "--wd", "1e-3", "--factor", "10",
                           "--rtol", "0.01", "--json")
    data = json.loads(out)
    assert code == 0
    assert {"steps", "steps_continuous", "paper_bound", "rescale_factor"} <= set(data)
    assert data["rescale_factor"] == pytest.approx(10**-0.25)


def test_lr_drop_dampened_flags(capsys):
    """--dampening reaches lr_drop for sgdm_dampened (SGDM at η(1 − τ)) and is refused, exit 2, for sgd."""
    from spheretheory.prediction import lr_drop

    args = ["lr-drop", "--lr", "0.1", "--wd", "1e-3", "--momentum", "0.9", "--dampening", "0.5", "--json"]
    code, out, _ = run_cli(capsys, *args, "--optimizer", "sgdm_dampened")
    assert code == 0
    assert json.loads(out)["steps"] == lr_drop("sgdm", 0.05, 1e-3, 10, momentum=0.9).values["steps"]
    code, _, err = run_cli(capsys, *args, "--optimizer", "sgdm")
    assert code == 2 and "dampening" in err and "Traceback" not in err


def test_derive_list_and_show(capsys):
    code, out, _ = run_cli(capsys, "derive", "--list")
    assert code == 0 and "sgd.angular_update" in out and "sgdm.equilibrium_sq_norm" in out
    code, out, _ = run_cli(capsys, "derive", "sgd.angular_update")
    assert code == 0 and "asin" in out and "Wan et al." in out and "assumptions" in out
    code, out, _ = run_cli(capsys, "derive", "sgd.angular_update", "--latex")
    assert code == 0 and "\\eta" in out and "\\lambda" in out


@pytest.mark.parametrize(
    "argv,word",
    [
        (["predict", "--lr", "-0.1", "--wd", "1e-4"], "lr"),
        (["predict", "--lr", "0.1", "--wd", "20"], "weight_decay"),
        (["predict", "--optimizer", "sgdm", "--lr", "0.1", "--wd", "1e-4", "--momentum", "1"], "momentum"),
        (["predict", "--optimizer", "nadam", "--lr", "0.1", "--wd", "1e-4"], "optimizer"),
        (["predict", "--lr", "nan", "--wd", "1e-4"], "lr"),
        (["predict", "--lr", "abc", "--wd", "1e-4"], "--lr"),
        (["lr-drop", "--lr", "0.1", "--wd", "1e-3", "--factor", "0.5"], "factor"),
        (["derive", "no.such.thing"], "unknown derivation"),
        (["no-such-command"], "invalid choice"),
    ],
)
def test_bad_input_one_line_exit_2(argv, word, capsys):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and word in err and "Traceback" not in err


TOKENS = st.sampled_from(["predict", "lr-drop", "derive", "--lr", "--wd", "--momentum", "--factor", "--rtol",
                          "--optimizer", "--json", "--unit-grad-sq", "sgd", "sgdm", "adamw", "0", "-1", "0.1", "1e9",
                          "nan", "inf", "x", "--list", ""])


# capsys is drained by readouterr() at the end of every example, so sharing it across examples is safe
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=st.lists(TOKENS, max_size=8))
def test_fuzz_cli_never_tracebacks(argv, capsys):
    """Random command lines: exit 0 or 2, and on 2 exactly one line of error."""
    if argv and argv[0] in ("simulate", "regimes"):  # long-running subcommands are fuzzed in their own tests
        return
    try:
        code = main(argv)
    except SystemExit as exc:  # --help / --version
        code = exc.code
    _, err = capsys.readouterr()
    assert code in (0, 2)
    if code == 2 and err:
        assert err.count("\n") == 1 and "Traceback" not in err


def test_python_dash_m_entry_point():
    r = subprocess.run([sys.executable, "-m", "spheretheory", "predict", "--lr", "0.1", "--wd", "1e-3", "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and json.loads(r.stdout)["optimizer"] == "sgd"
    r = subprocess.run([sys.executable, "-m", "spheretheory", "predict", "--lr", "0", "--wd", "1e-3"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
