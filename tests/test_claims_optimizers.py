"""The claims of issue 10 (spheretheory/claims/nesterov.py, muon.py, wen2025.py): registered, quoted honestly (no
paper text on file), and their quick verdicts reproduce the findings — each can fail, since every check also
reports the nearest wrong form, which must be rejected on the same run."""

from __future__ import annotations

from spheretheory import claims as C
from spheretheory.claims import FAILS, FIRST_ORDER, HOLDS

IDS = (
    "nesterov.angular_update",
    "nesterov.vs_sgdm",
    "nesterov.norm",
    "muon.norm",
    "muon.angular_update",
    "wen2025.adamw_norm",
    "wen2025.muon_norm",
)
TRUE = (HOLDS, FIRST_ORDER)


def test_issue10_claims_are_registered_and_say_no_paper_text_is_on_file():
    ids = {c.id for c in C.claims()}
    assert set(IDS) <= ids
    for cid in IDS:
        assert "no paper text on file" in C.get(cid).quote


def test_nesterov_quick_verdicts():
    """Δ* = √(2ηλ(1+2α−2α³)/(1+α)) holds (SGDM's Δ* is rejected on the same run), the ratio to SGDM is √(1+2α−2α³),
    the norm is SGDM's to first order."""
    r = C.run("nesterov.angular_update", quick=True)
    assert r.verdict in TRUE and r.outcome.numbers["sgdm_verdict"] == FAILS
    assert r.outcome.numbers["exact_verdict"] == HOLDS
    r = C.run("nesterov.vs_sgdm", quick=True)
    assert r.verdict in TRUE and abs(r.outcome.predicted - (1 + 2 * 0.9 - 2 * 0.9**3) ** 0.5) < 1e-12
    assert C.run("nesterov.norm", quick=True).verdict in TRUE


def test_muon_and_published_forms_quick_verdicts():
    """Our Muon forms hold (to their stated 1/k); Wen et al.'s hyperball form fails for Muon (update correlation β^k
    is too high) but holds for AdamW at ηλ/(1 − β₁) = 0.5, where Kosson et al.'s first-order norm fails."""
    assert C.run("muon.norm", quick=True).verdict in TRUE
    assert C.run("muon.angular_update", quick=True).verdict in TRUE
    muon = C.run("wen2025.muon_norm", quick=True)
    assert muon.verdict == FAILS and muon.outcome.deviation < 0 and muon.outcome.counterexample
    assert muon.outcome.numbers["norm_forms"]["ours (muon.equilibrium_sq_norm)"]["verdict"] in TRUE
    adamw = C.run("wen2025.adamw_norm", quick=True)
    assert adamw.verdict == HOLDS
    assert adamw.outcome.numbers["norm_forms"]["Kosson et al. ηd/(2λ)"]["verdict"] == FAILS
