"""Δ* at tiny ηλ: the cancellation-free form 2·asin(√(x/2)) against the series of arccos(1 − x) (issue 12, item 3).

arccos(1 − x) = √(2x)·(1 + x/12 + 3x²/160 + …); at x = ηλ/(1+α) = 1e-12 the series' truncation error is below
1e-24, so the two must agree to round-off (a few ulp; we ask 1e-13 relative). The old arccos(1 − x) form is off by
~1e-5 relative there (1 − 1e-12 keeps only ~4 significant digits of x), so this test fails on it.
"""

from __future__ import annotations

import numpy as np
import pytest

from spheretheory import predict, theory


def _series(x: np.ndarray) -> np.ndarray:
    return np.sqrt(2 * x) * (1 + x / 12 + 3 * x**2 / 160)


@pytest.mark.parametrize("eps", [1e-12, 1e-9, 1e-6])
def test_sgd_angular_update_tiny_eta_lambda(eps: float) -> None:
    got = theory.get("sgd.angular_update")(lr=1.0, weight_decay=eps, unit_grad_sq=1.0)
    assert got == pytest.approx(_series(eps), rel=1e-13, abs=0)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.9, 0.99])
def test_sgdm_angular_update_tiny_eta_lambda(alpha: float) -> None:
    eps = 1e-12
    got = theory.get("sgdm.angular_update")(lr=0.1, weight_decay=eps / 0.1, momentum=alpha, unit_grad_sq=1.0)
    assert got == pytest.approx(_series(eps / (1 + alpha)), rel=1e-12, abs=0)


def test_predict_uses_the_precise_form() -> None:
    p = predict("sgdm", lr=1e-3, weight_decay=1e-9, momentum=0.9)
    assert p.angular_update == pytest.approx(_series(1e-12 / 1.9), rel=1e-12, abs=0)
    # and it still equals arccos(1 − x) where that form is accurate
    q = predict("sgd", lr=0.5, weight_decay=0.2)
    assert q.angular_update == pytest.approx(np.arccos(1 - 0.1), rel=1e-14)
