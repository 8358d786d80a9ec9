"""docs/papers/*.md are generated from the claim registry (python -m spheretheory.claims.docs): fail when they
are out of date. Digits are masked in the comparison — the last digits of a simulated float may differ between
machines (thread scheduling of reductions), while the text, the claims and the verdicts may not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spheretheory.claims import PAPERS
from spheretheory.claims.docs import DEFAULT_DIR, render


def _mask(text: str) -> str:
    return re.sub(r"[+-]?\d[\d.e+-]*", "#", text)


@pytest.mark.parametrize("paper", list(PAPERS))
def test_paper_page_is_up_to_date(paper):
    path = Path(DEFAULT_DIR) / f"{paper}.md"
    assert path.exists(), f"{path} missing: run python -m spheretheory.claims.docs"
    fresh = render(paper)
    assert "the check broke" not in fresh  # every claim of the quick run reached a verdict
    assert _mask(path.read_text()) == _mask(fresh), f"{path} is out of date: run python -m spheretheory.claims.docs"
