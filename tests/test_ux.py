"""Issue 14, the new user's battery: every bad input is one line with exit 2, every value shown without a number
carries its reason, and a run that cannot be compared with equilibrium says so. Each test below is one row of
the issue's table and fails if that row regresses."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

import spheretheory as st
from spheretheory._validation import (
    InputError,
    InputTypeError,
    check_output_dir,
    check_output_file,
    memory_budget,
    parse_bytes,
)
from spheretheory.cli import main

SMALL = ["--backend", "numpy", "--dim", "8", "--no-progress"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(code: int, err: str, word: str, expected_code: int = 2) -> None:
    assert code == expected_code, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert word in err, err


# --- bad input: one line, exit 2, before any work -----------------------------------------------------------


@pytest.mark.parametrize(
    "path,word",
    [
        ("/nonexistent/x.png", "does not exist"),
        ("/proc/x.png", "cannot write"),
        ("README.md/x.png", "is not a directory"),
        ("x.txt", "must end in one of"),
    ],
)
def test_simulate_plot_path_refused_before_running(path, word, capsys, monkeypatch):
    import spheretheory.simulation as sim

    def must_not_run(*args, **kwargs):  # the path is checked before the simulation starts
        raise AssertionError("simulate ran before the output path was checked")

    monkeypatch.setattr(sim, "simulate", must_not_run)
    code, _, err = run_cli(capsys, "simulate", "--plot", path, *SMALL)
    assert_one_line(code, err, word)


@pytest.mark.parametrize("path,word", [("/nonexistent/x.png", "does not exist"), ("x.txt", "must end in one of")])
def test_regimes_plot_path_refused_before_running(path, word, capsys, monkeypatch):
    import spheretheory.regimes.phase as phase

    def must_not_run(*args, **kwargs):
        raise AssertionError("the sweep ran before the output path was checked")

    monkeypatch.setattr(phase, "sweep", must_not_run)
    code, _, err = run_cli(capsys, "regimes", "--plot", path, "--no-progress")
    assert_one_line(code, err, word)


def test_regimes_one_run_shows_na_with_reason(capsys):
    code, out, _ = run_cli(capsys, "regimes", "--runs", "1", "--steps", "100", "--elr", "0.01", "--no-progress")
    assert code == 0 and "nan" not in out and "n/a: an SE needs at least two runs" in out
    code, out, _ = run_cli(
        capsys, "regimes", "--runs", "1", "--steps", "100", "--elr", "0.01", "--no-progress", "--json"
    )
    data = json.loads(out)
    assert data["results"][0]["loss_se"] is None and "two runs" in data["loss_se_note"]


def test_check_report_under_proc_refused(capsys):
    code, _, err = run_cli(capsys, "check", "--claim", "wan2021.thm3", "--report", "/proc/spheretheory-report")
    assert_one_line(code, err, "--report")


def test_check_report_on_an_existing_file_refused_before_running(capsys, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    code, _, err = run_cli(capsys, "check", "--claim", "wan2021.thm3", "--report", str(f))
    assert_one_line(code, err, "not a directory")


def test_output_helpers(tmp_path):
    assert check_output_file("--plot", str(tmp_path / "a.png"), ("png",)).endswith("a.png")
    assert check_output_dir("--report", str(tmp_path / "new" / "deeper"))
    with pytest.raises(InputError, match="is a directory"):
        check_output_file("--plot", str(tmp_path), ("",))
    with pytest.raises(InputTypeError):
        check_output_file("--plot", 3, ("png",))


@pytest.mark.parametrize(
    "argv,word",
    [
        (["--trajectories", "100000000"], "memory"),
        (["--steps", "300", "--trajectories", "16", "--max-memory", "1K"], "--max-memory"),
        (["--max-memory", "abc"], "--max-memory"),
        (["--optimizer", "sgd", "--beta1", "0.5"], "--beta1 does not apply"),
        (["--optimizer", "sgdm", "--eps", "1e-6"], "--eps does not apply"),
        (["--optimizer", "adam", "--momentum", "0.9"], "--momentum does not apply"),
        (["--lr-drop"], "--lr-drop needs"),
        (["--lr-drop", "1000", "--steps", "200"], "--lr-drop steps must be in [1, steps)"),
        (["--drop-factor", "3"], "--drop-factor applies only"),
        (["--rescale-on-drop"], "--rescale-on-drop applies only"),
        (["--wd", "-1e-4"], "weight_decay"),
    ],
)
def test_simulate_bad_flags_one_line(argv, word, capsys):
    code, _, err = run_cli(capsys, "simulate", *argv, *SMALL)
    assert_one_line(code, err, word)


def test_api_memory_refused_before_allocating():
    with pytest.raises(InputError, match="record='summary'"):
        st.simulate(steps=10**9, trajectories=64, record="series")  # would need ~3 TiB
    with memory_budget(parse_bytes("m", "1K")), pytest.raises(InputError, match="memory"):
        st.simulate(steps=10, trajectories=4, dim=8, backend="numpy")


def test_parse_bytes():
    assert (
        parse_bytes("m", "2K") == 2048 and parse_bytes("m", "1.5GiB") == int(1.5 * 2**30) and parse_bytes("m", 10) == 10
    )
    for bad in ("-1G", "0", "1X", "nan"):
        with pytest.raises(InputError):
            parse_bytes("m", bad)


@pytest.mark.parametrize("token", ["-1e-4", "-1E-4", "-.5", "-3", "-inf"])
def test_negative_numbers_reach_the_domain_check(token, capsys):
    code, _, err = run_cli(capsys, "predict", "--lr", "0.1", "--wd", token)
    assert_one_line(code, err, "weight_decay")
    assert "expected one argument" not in err


def test_genuine_bug_keeps_its_traceback(monkeypatch):
    """A plain ValueError is a bug, not bad input: the CLI must not turn it into a usage message."""
    import spheretheory.prediction as P

    def broken(**kwargs):
        raise ValueError("internal bug")

    monkeypatch.setattr(P, "predict", broken)
    with pytest.raises(ValueError, match="internal bug"):
        main(["predict", "--lr", "0.1", "--wd", "1e-3"])


def test_leftover_oserror_and_memoryerror_are_one_line(monkeypatch, capsys):
    import spheretheory.prediction as P

    def no_memory(**kwargs):
        raise MemoryError("Unable to allocate 5 GiB")

    monkeypatch.setattr(P, "predict", no_memory)
    code, _, err = run_cli(capsys, "predict", "--lr", "0.1", "--wd", "1e-3")
    assert_one_line(code, err, "out of memory", expected_code=1)

    def disk_full(**kwargs):
        raise OSError(28, "No space left on device", "/tmp/x")

    monkeypatch.setattr(P, "predict", disk_full)
    code, _, err = run_cli(capsys, "predict", "--lr", "0.1", "--wd", "1e-3")
    assert_one_line(code, err, "No space left", expected_code=1)

    def missing(**kwargs):
        raise FileNotFoundError(2, "No such file or directory", "/nope/x")

    monkeypatch.setattr(P, "predict", missing)
    code, _, err = run_cli(capsys, "predict", "--lr", "0.1", "--wd", "1e-3")
    assert_one_line(code, err, "/nope/x", expected_code=2)


# --- no bare nan: n/a with its reason, and exit codes that say the run failed -------------------------------


def test_one_trajectory_se_is_na_with_note(capsys):
    code, out, err = run_cli(capsys, "simulate", "--trajectories", "1", "--steps", "100", *SMALL)
    assert code == 0 and "nan" not in out
    assert "n/a: one trajectory" in out
    code, out, _ = run_cli(capsys, "simulate", "--trajectories", "1", "--steps", "100", "--json", *SMALL)
    data = json.loads(out)
    assert data["sq_norm_se"] is None and "one trajectory" in data["se_note"]


def test_steps_1_reports_no_se_and_warns(capsys):
    code, out, err = run_cli(capsys, "simulate", "--steps", "1", "--trajectories", "4", *SMALL)
    assert code == 0 and "e-17" not in out and "nan" not in out
    assert "one step" in err and "not at equilibrium" in out


def test_every_trajectory_diverged_exits_nonzero(capsys):
    code, out, err = run_cli(capsys, "simulate", "--init-norm", "1e300", "--steps", "50", "--trajectories", "4", *SMALL)
    assert code == 1 and "nan" not in out
    assert "every trajectory diverged" in err and "n/a: every trajectory diverged" in out
    code, out, _ = run_cli(
        capsys, "simulate", "--init-norm", "1e300", "--steps", "50", "--trajectories", "4", "--json", *SMALL
    )
    assert code == 1 and json.loads(out)["sq_norm_mean"] is None


def test_short_run_is_marked_not_at_equilibrium(capsys):
    # adamw at lr=1e-3, wd=0.1: predicted relaxation time ~6e3 steps, so 3000 steps is far short
    code, out, err = run_cli(
        capsys,
        "simulate",
        "--optimizer",
        "adamw",
        "--lr",
        "1e-3",
        "--wd",
        "0.1",
        "--steps",
        "3000",
        "--trajectories",
        "4",
        "--json",
        *SMALL,
    )
    data = json.loads(out)
    assert code == 0 and data["at_equilibrium"] is False
    assert any("relaxation time" in w for w in data["warnings"]) and "relaxation time" in err
    # a long enough run is not marked (sgd at lr=0.1, wd=1e-2: relaxation ~ 1/(4 eta lambda) = 250 steps, and the
    # integrated autocorrelation time of ||w||^2 ~ 1/(2 eta lambda) = 500 steps, so the last-quarter window of a
    # 12,000-step run spans 3000 > 5 x 500 steps; at 4000 steps the window check rightly warns)
    code, out, err = run_cli(
        capsys,
        "simulate",
        "--optimizer",
        "sgd",
        "--lr",
        "0.1",
        "--wd",
        "1e-2",
        "--steps",
        "12000",
        "--trajectories",
        "8",
        "--json",
        *SMALL,
    )
    data = json.loads(out)
    assert code == 0 and data["at_equilibrium"] is True and data["warnings"] == [] and "warning" not in err


# --- predict over the whole float range: every non-finite value carries its note, and nothing leaks -------

POSITIVE = hst.floats(min_value=5e-324, max_value=1.7976931348623157e308, allow_nan=False, allow_infinity=False)


def _assert_flagged(result) -> None:
    d = result.to_dict()
    notes = d["notes"]
    for key, value in d.items():
        if isinstance(value, float) and not np.isfinite(value):
            assert key in notes and notes[key], (key, d)


@settings(max_examples=300, deadline=None)
@given(
    optimizer=hst.sampled_from(["sgd", "sgdm", "adam", "adamw", "lion"]),
    lr=POSITIVE,
    wd=hst.one_of(hst.just(0.0), POSITIVE),
    momentum=hst.floats(min_value=0.0, max_value=1.0, exclude_max=True),
    grad=POSITIVE,
    dim=hst.one_of(hst.none(), hst.integers(min_value=2, max_value=2**40)),
)
def test_predict_fuzz_every_nonfinite_value_is_flagged(optimizer, lr, wd, momentum, grad, dim):
    import warnings

    kw = dict(optimizer=optimizer, lr=lr, weight_decay=wd, unit_grad_sq=grad, dim=dim)
    if optimizer == "sgdm":
        kw["momentum"] = momentum
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning leaking from generated code fails the test
        try:
            result = st.predict(**kw)
        except (InputError, InputTypeError):
            return  # refused with a message naming the parameter: fine
    _assert_flagged(result)


def test_predict_extreme_input_flagged_in_table(capsys):
    code, out, err = run_cli(capsys, "predict", "--lr", "1e308", "--wd", "1e-308")
    assert code == 0 and err == "" and "nan" not in out and "inf" not in out
    assert "note (relaxation_steps" in out


@pytest.mark.parametrize(
    "argv",
    [["--rtol", "1e-15"], ["--lr", "1e-6", "--wd", "1e-6"], ["--factor", "1e300"]],
)
def test_lr_drop_answers_from_the_closed_form(argv, capsys, monkeypatch):
    """These used to iterate 1e9 steps for 18-42 s and print ``steps inf`` beside ``paper_bound_valid True``."""
    import spheretheory.theory.iterate as it
    from spheretheory.prediction import LR_DROP_ITERATION_CAP

    caps = []
    real = it.steps_to_equilibrium

    def spy(*args, max_steps, **kwargs):
        caps.append(max_steps)
        return real(*args, max_steps=max_steps, **kwargs)

    monkeypatch.setattr(it, "steps_to_equilibrium", spy)
    base = {"--lr": "0.1", "--wd": "1e-3"}
    base.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    flat = [x for kv in base.items() for x in kv]
    code, out, err = run_cli(capsys, "lr-drop", *flat, "--json")
    data = json.loads(out)
    assert code == 0 and err == ""
    assert data["steps"] is None and "not reached within" in data["notes"]["steps"]
    assert "closed form" in data["notes"]["steps"]
    assert caps and max(caps) <= LR_DROP_ITERATION_CAP <= 10**7  # 1e7 numba steps: well under a second
    code, out, _ = run_cli(capsys, "lr-drop", *flat)
    assert "inf" not in out and "nan" not in out and "not reached within" in out


def test_lr_drop_normal_case_unchanged(capsys):
    code, out, _ = run_cli(capsys, "lr-drop", "--lr", "0.1", "--wd", "1e-3", "--json")
    data = json.loads(out)
    # the exact count agrees with the continuous closed form to first order in eta*lambda
    assert data["steps"] == pytest.approx(data["steps_continuous"], rel=1e-4) and data["notes"] == {}


@pytest.mark.parametrize("case", ["adam_l2", "no_weight_decay"])
def test_monitor_compare_table_has_no_nan(case):
    """SphereMonitor.compare() for uncovered optimizers used to print nan, +nan and -1."""
    torch = pytest.importorskip("torch")
    from torch import nn

    from spheretheory.integrations.pytorch import SphereMonitor

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8, bias=False), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    if case == "adam_l2":
        opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-2)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(16, 4, generator=g), torch.randint(0, 3, (16,), generator=g)
    mon = SphereMonitor.attach(model, opt, x)
    for _ in range(6):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    text = mon.compare().table()
    assert "nan" not in text.lower() and "inf" not in text.split("\n", 1)[1].replace("info", "")
    assert not any(tok == "-1" for line in text.splitlines()[2:] for tok in line.split()), text
    assert "n/a" in text and "note: n/a" in text


# --- say what is happening ------------------------------------------------------------------------------------


def test_cold_numba_cache_is_announced(monkeypatch, capsys):
    import types

    import spheretheory.simulation._numba as nb
    from spheretheory.cli.simulate import _compiling_note

    cold = types.SimpleNamespace(
        signatures=[], _cache=types.SimpleNamespace(_cache_file=types.SimpleNamespace(_load_index=lambda: {}))
    )
    monkeypatch.setattr(nb, "_kernel", cold)
    _compiling_note("numba", "full")
    assert "compiling kernels (first run, about" in capsys.readouterr().err
    warm = types.SimpleNamespace(signatures=["sig"], _cache=cold._cache)
    monkeypatch.setattr(nb, "_kernel", warm)
    _compiling_note("numba", "full")
    _compiling_note("numpy", "full")
    assert capsys.readouterr().err == ""


def test_derive_json(capsys):
    code, out, _ = run_cli(capsys, "derive", "--list", "--json")
    names = [d["name"] for d in json.loads(out)["derivations"]]
    assert code == 0 and "sgd.angular_update" in names
    code, out, _ = run_cli(capsys, "derive", "sgd.angular_update", "--json")
    d = json.loads(out)
    assert code == 0 and d["steps"] and "Wan et al." in d["source"]
    assert {"lr", "weight_decay"} <= set(d["parameters"]) and "lr" in d["result"] and "weight_decay" in d["result"]


def test_check_list_json_several_claims_and_empty_selection(capsys):
    code, out, _ = run_cli(capsys, "check", "--list", "--json", "--claim", "wan2021.thm3", "wan2021.cor31")
    assert code == 0 and [c["id"] for c in json.loads(out)["claims"]] == ["wan2021.thm3", "wan2021.cor31"]
    code, _, err = run_cli(capsys, "check", "--claim", "wan2021.thm3", "--paper", "kosson2024")
    assert_one_line(code, err, "no claim selected")


@pytest.mark.parametrize("seed,word", [("-1", "--seed"), ("a", "--seed")])
def test_check_seed_validated(seed, word, capsys):
    code, _, err = run_cli(capsys, "check", "--claim", "wan2021.thm3", "--seed", seed)
    assert_one_line(code, err, word)


def test_claims_run_seed_validated():
    from spheretheory import claims

    with pytest.raises(InputTypeError, match="seed"):
        claims.run("wan2021.thm3", seed="a")
    with pytest.raises(InputError, match="seed"):
        claims.run("wan2021.thm3", seed=-1)


def test_simulate_warns_when_the_window_is_short_against_the_predicted_autocorrelation_time(capsys):
    """Without --plot the CLI records summaries only, so the window check falls back on the finite-width theory's
    autocorrelation time of ‖w‖² (SGD, ηλ = 2e-3, d = 8: about 250 steps, above 500/5)."""
    args = ("simulate", "--optimizer", "sgd", "--lr", "0.5", "--wd", "4e-3", "--dim", "8", "--trajectories", "8")
    args += ("--method", "reduced", "--no-progress")
    code, _, err = run_cli(capsys, *args, "--steps", "2000")
    assert code == 0 and "predicted autocorrelation time" in err, err
    code, _, err = run_cli(capsys, *args, "--steps", "40000")  # window 10,000 steps: no warning
    assert code == 0 and "autocorrelation time" not in err, err
