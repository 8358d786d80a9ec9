"""Issue 11 item 7: Li & Arora (2020) exponential-LR equivalence and Kunin et al. (2021) continuous-time norm
dynamics — the derivations against independent numerics, and the claims' verdict rules (they can fail)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spheretheory import claims as C
from spheretheory import theory
from spheretheory.claims import FAILS, HOLDS


# ---------------------------------------------------------------------------------------------- Li & Arora
@given(lr=st.floats(1e-3, 1.0), el=st.floats(1e-6, 1e-2), gam=st.floats(0.0, 0.95))
def test_growth_root_solves_the_quadratic_and_is_the_larger_root(lr, el, gam):
    if el > (1 - math.sqrt(gam)) ** 2:
        return
    r = float(theory.get("li_arora.growth_root")(lr=lr, weight_decay=el / lr, momentum=gam))
    roots = np.roots([1.0, -(1 + gam - el), gam])
    assert r == pytest.approx(roots.real.max(), rel=1e-7, abs=1e-12)  # numpy's companion-matrix roots
    assert abs(r * r - (1 + gam - el) * r + gam) <= 1e-12


def test_growth_root_reduces_to_sgd_and_derivation_residual_vanishes():
    d = theory.get("li_arora.growth_root")
    assert all(e == 0 for e in d.result.extra["residual"][1:])  # w_{t−1} and gradient terms match identically
    assert float(d(lr=0.1, weight_decay=0.02, momentum=0.0)) == pytest.approx(1 - 0.002, rel=1e-14)
    lrs = theory.get("li_arora.lr_schedule")(lr=0.1, weight_decay=0.02, momentum=0.0, step=np.arange(3.0))
    np.testing.assert_allclose(lrs, 0.1 * 0.998 ** (-2 * np.arange(3.0) - 1), rtol=1e-13)


def test_exp_lr_equivalence_claim_holds_and_the_rule_can_fail():
    from spheretheory.claims.liarora2020 import outcome, runs

    p = C.get("liarora2020.exp_lr_equivalence").params(quick=True)
    p["steps"] = 200
    m = runs(p, seed=3)
    o = outcome(p, m)
    assert o.verdict == HOLDS and o.measured <= 4 * o.se, o.detail
    # the other root of the quadratic (product γ) also gives an exact equivalence, with its own buffer
    r = float(theory.get("li_arora.growth_root")(lr=p["lr"], weight_decay=p["weight_decay"], momentum=p["momentum"]))
    assert outcome(p, runs(p, seed=3, root=p["momentum"] / r)).verdict == HOLDS
    # the SGD root 1 − ηλ with momentum 0.9 is not the equivalent schedule: the rule must say so
    bad = outcome(p, runs(p, seed=3, root=1 - p["lr"] * p["weight_decay"]))
    assert bad.verdict == FAILS, bad.detail
    # a zero WD-free buffer breaks the exact equivalence when γ > 0 (the derivation's stated assumption)
    assert m["zero_buffer"].max() > 1e3 * o.tolerance


def test_exp_lr_equivalence_rejects_complex_roots():
    with pytest.raises(ValueError, match="momentum"):
        C.run("liarora2020.exp_lr_equivalence", {"lr": 0.5, "weight_decay": 0.1}, quick=True)
