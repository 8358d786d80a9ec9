"""README.md and docs/user_guide.md show what the commands print: every marked sample is re-run and compared
(``python docs/samples.py`` regenerates them). predict/lr-drop are deterministic and compared exactly; the
simulations (slow) with digits masked, since the last digits of a simulated float may differ between machines."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("doc_samples", ROOT / "docs" / "samples.py")
samples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(samples)


def _mask(text: str) -> str:
    return re.sub(r"[+-]?\d[\d.e+-]*", "#", text)


@pytest.mark.parametrize("path", samples.FILES, ids=lambda p: p.name)
def test_fast_samples_match_the_commands(path, tmp_path):
    text = path.read_text()
    assert "<!-- sample" in text, f"{path.name} has no samples"
    fresh = samples.render(text, slow=False, plot_dir=str(tmp_path))
    assert fresh == text, f"{path.name} is out of date: run python docs/samples.py"


@pytest.mark.slow
@pytest.mark.parametrize("path", samples.FILES, ids=lambda p: p.name)
def test_slow_samples_match_the_commands(path, tmp_path):
    text = path.read_text()
    fresh = samples.render(text, slow=True, plot_dir=str(tmp_path))
    assert _mask(fresh) == _mask(text), f"{path.name} is out of date: run python docs/samples.py"


def test_abridged_output_is_marked():
    out = samples._abridge("  a  1\n  b  2\n  c  3\n", "a;c")
    assert out == ["  a  1", "  c  3", samples.ABRIDGED]
    assert samples._abridge("x\ny\n", None) == ["x", "y"]
