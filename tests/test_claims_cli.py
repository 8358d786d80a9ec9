"""``spheretheory check``: JSON schema, report, overrides validated, exit codes."""

from __future__ import annotations

import json

from spheretheory.cli import main


def test_check_json_and_report(tmp_path, capsys):
    rc = main(
        [
            "check",
            "--quick",
            "--claim",
            "wan2021.cor31",
            "--claim",
            "wan2021.thm1.rate",
            "--json",
            "--no-progress",
            "--report",
            str(tmp_path),
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    ids = [c["id"] for c in out["claims"]]
    assert ids == ["wan2021.cor31", "wan2021.thm1.rate"]
    for c in out["claims"]:
        assert c["verdict"] in ("holds", "holds to first order", "fails", "not checkable")
        assert c["predicted"] is not None and c["measured"] is not None
    text = (tmp_path / "report.md").read_text()
    assert "wan2021.cor31" in text and "(wan2021_thm1_rate.png)" in text
    assert (tmp_path / "wan2021_thm1_rate.png").stat().st_size > 1000


def test_check_set_reruns_at_other_hyperparameters(capsys):
    rc = main(
        [
            "check",
            "--claim",
            "wan2021.thm3",
            "--set",
            "lr=0.05",
            "--set",
            "weight_decay=2e-3",
            "--quick",
            "--json",
            "--no-progress",
        ]
    )
    out = json.loads(capsys.readouterr().out)["claims"][0]
    assert rc == 0 and out["params"]["lr"] == 0.05 and out["params"]["weight_decay"] == 0.002


def test_check_bad_input_exit_2(capsys):
    assert main(["check", "--claim", "wan2021.thm3", "--set", "lr=2"]) == 2
    assert "lr" in capsys.readouterr().err
    assert main(["check", "--claim", "nope.x"]) == 2
    assert main(["check", "--paper", "nopaper"]) == 2
    assert main(["check", "--claim", "wan2021.thm3", "--set", "zzz=1"]) == 2


def test_check_broken_check_exit_1(monkeypatch, capsys):
    from spheretheory import claims as C

    claim = C.get("wan2021.thm3")

    def boom(p, *, quick=False, seed=0):
        raise RuntimeError("kaput")

    import dataclasses

    broken = dataclasses.replace(claim, check=boom)
    monkeypatch.setitem(C._REGISTRY, "wan2021.thm3", broken)
    assert main(["check", "--claim", "wan2021.thm3", "--no-progress"]) == 1
    assert "kaput" in capsys.readouterr().out


def test_check_list(capsys):
    assert main(["check", "--list", "--paper", "kosson2024"]) == 0
    assert "kosson2024.lion" in capsys.readouterr().out


def test_check_paper_with_overrides_marks_refusals_not_checkable(capsys):
    """A paper-wide re-run at other hyperparameters: claims whose domain refuses them are 'not checkable' (with
    the reason), the others run; exit 0."""
    rc = main(
        [
            "check",
            "--paper",
            "wan2021",
            "--quick",
            "--json",
            "--no-progress",
            "--set",
            "weight_decay=0.01",
            "--set",
            "momentum=0.95",
        ]
    )
    out = json.loads(capsys.readouterr().out)["claims"]
    assert rc == 0
    by_id = {c["id"]: c for c in out}
    # Thm 2 needs ηλ < (1 − √α)² = 6.4e-4; η = 0.1, λ = 0.01 violates it
    assert by_id["wan2021.thm2.equilibrium"]["verdict"] == "not checkable"
    assert "assumption 5" in by_id["wan2021.thm2.equilibrium"]["detail"]
    assert by_id["wan2021.thm1.equilibrium"]["verdict"] in ("holds", "holds to first order")
