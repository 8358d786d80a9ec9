"""Defazio (2025) claims: AdamW's late rise of ‖g‖ and AdamC's flat ‖g‖ (issue 10's AdamC, issue 11's schedules)."""

from __future__ import annotations

from spheretheory import claims as C
from spheretheory.claims._core import FAILS, FIRST_ORDER, HOLDS, compare
from spheretheory.claims.defazio2025 import DOMAIN, _rise


def _params():
    return {k: (p.quick if p.quick is not None else p.default) for k, p in DOMAIN.items()}


def test_quick_verdicts():
    assert C.run("defazio2025.adamw_rise", quick=True).verdict == HOLDS
    assert C.run("defazio2025.adamc_flat", quick=True).verdict in (HOLDS, FIRST_ORDER)


def test_the_flat_check_rejects_adamws_rise_and_the_trajectory_follows_both():
    """Can fail: the flat-norm rule applied to plain AdamW's run must say 'fails' (its rise, 1.2× here, is far
    outside 4 SE + the AdamC trajectory's allowance); the whole-run prediction matches each measured rise within
    4 SE + 1/d (the mean-field closure's order)."""
    p = _params()
    plain = _rise(p, quick=True, seed=0, adamc=False)
    flat = _rise(p, quick=True, seed=0, adamc=True)
    lag = abs(flat["trajectory"] - 1.0)
    assert compare(1.0, plain["rise"], plain["se"], first_order=lag + 1.0 / p["dim"])[0] == FAILS
    for r in (plain, flat):
        assert abs(r["rise"] - r["trajectory"]) <= 4 * r["se"] + r["trajectory"] / p["dim"]
