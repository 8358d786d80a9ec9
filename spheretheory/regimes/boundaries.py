"""Derived regime boundaries shared by the models (see docs/regimes.md for the definitions)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: The classifier calls a run divergent when its mean angular update exceeds this angle (0.8 of the mean angle
#: π/2 between two independent uniform points on the sphere).
DIVERGENCE_ANGLE = 0.8 * np.pi / 2

#: The convergence boundary: a run of T steps is still converging when its slowest relaxation rate r has
# r·T < K.
RELAXATION_BUDGET = 8.0


def random_walk_elr(grad_rms: float, angle: float = DIVERGENCE_ANGLE) -> float:
    """ELR with atan(ELR·g_rms) = ``angle`` (``toy.random_walk_elr``)."""
    from ..theory.toy import derivation as get

    return float(get("toy.random_walk_elr")(grad_rms=grad_rms, angle=angle))


def convergence_elr(rate: Callable[[float], float], steps: int, budget: float = RELAXATION_BUDGET) -> float:
    """The ELR at which ``rate(ELR)·steps = budget`` (first crossing on a log grid, then bisection to 1e-10 in
    log ELR: no scipy import for one root)."""

    def gap(log_e: float) -> float:
        return float(rate(np.exp(log_e))) * steps - budget

    lo, hi = np.log(1e-12), np.log(1e2)
    if gap(lo) > 0 or gap(hi) < 0:
        return float("nan")
    # rate may be non-monotone at large ELR; take the first crossing by scanning
    grid = np.linspace(lo, hi, 400)
    vals = np.array([gap(x) for x in grid])
    i = int(np.argmax(vals > 0))
    a, b = float(grid[i - 1]), float(grid[i])  # gap(a) ≤ 0 < gap(b)
    while b - a > 1e-10:
        mid = 0.5 * (a + b)
        if gap(mid) > 0:
            b = mid
        else:
            a = mid
    return float(np.exp(0.5 * (a + b)))
