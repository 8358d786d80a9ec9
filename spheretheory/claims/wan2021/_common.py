"""Shared parameters and domain checks of the Wan et al. (2021) claims."""

from __future__ import annotations

import math
from typing import Any

from ..._validation import InputError
from .._core import Param

PAPER = "Wan et al. (2021), Spherical Motion Dynamics"

LR = Param(0.1, 0.0, 1.0, False, False, doc="learning rate η")
DIM = Param(256, 4, 100_000, integer=True, doc="dimension d of the weight")
L_SQ = Param(1.0, 0.0, None, False, doc="L = E‖g̃‖², squared unit-gradient norm")
TRAJ = Param(1024, 16, 1_000_000, integer=True, quick=512, doc="independent trajectories")


def _wd(default: float, quick: float | None = None) -> Param:
    # Thm 1/2 assumption 1/5: λη ≪ 1; we accept λ up to 0.1 (ηλ ≤ 0.1 is enforced by the check)
    return Param(default, 0.0, 0.1, False, True, quick=quick, doc="weight decay λ (λη ≪ 1)")


def _check_small(p: dict[str, Any], limit: float = 0.05) -> float:
    el = p["lr"] * p["weight_decay"]
    if el > limit and not p.get("_outside_domain", False):
        raise InputError(f"lr*weight_decay must be <= {limit} (the theorems assume λη ≪ 1); got {el:g}")
    a = p.get("momentum", 0.0)
    if a > 0 and el >= (1 - math.sqrt(a)) ** 2 and not p.get("_outside_domain", False):
        raise InputError(
            f"lr*weight_decay must be < (1 - sqrt(momentum))^2 = {(1 - math.sqrt(a)) ** 2:.4g} (Thm 2, assumption 5);"
            f" got {el:g}"
        )
    if "start" in p and abs(p["start"] - 1) < 0.05:
        raise InputError(f"start must differ from 1 by at least 0.05 (a deviation to relax); got {p['start']:g}")
    return el
