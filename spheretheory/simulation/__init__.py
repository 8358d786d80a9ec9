"""Discrete simulations of scale-invariant weights under SGD(M)/Nesterov/Adam/AdamW/Lion with weight decay.

One API, interchangeable backends: :func:`simulate` with ``backend="auto"`` (default: numba, parallel over
trajectories, or numpy where that is cheaper), ``"numba"``, ``"numpy"`` (a plain, readable reference) or
``"cupy"`` (GPU), and ``method="full"`` (the d-dimensional weights) or ``"reduced"`` (an exact reduced-state
chain for isotropic noise, :mod:`.reduced`). Every call returns a
:class:`~spheretheory.simulation.result.SimulationResult`. See ``docs/simulation.md``.
"""

from __future__ import annotations

from ._api import simulate
from .result import QUANTITIES, SimulationResult
from .schedules import Schedule, constant, linear_drift, step_decay, stepped

__all__ = [
    "QUANTITIES",
    "Schedule",
    "SimulationResult",
    "constant",
    "linear_drift",
    "simulate",
    "step_decay",
    "stepped",
]
