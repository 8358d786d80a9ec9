"""Hyperparameter schedules for the simulators: a thin adapter to :mod:`spheretheory.schedules`.

The schedule vocabulary (constant, multistep, exponential, cosine, warmup, WSD, piecewise, array, weight-decay
conventions, the CLI grammar, conversion from torch) lives in :mod:`spheretheory.schedules`; every
:class:`~spheretheory.schedules.Schedule` there is accepted by ``simulate(lr_schedule=..., wd_schedule=...,
grad_schedule=...)``. This module keeps the simulators' historical helpers:

* :func:`constant` — f ≡ 1.
* :func:`step_decay` — f(t) = k^(−j) where j = number of milestones ≤ t (divide by k at each milestone).
* :func:`stepped` — f(t) = values[j] (arbitrary piecewise-constant levels, e.g. a stepped L_t).
* :func:`linear_drift` — f goes linearly from ``start`` to ``stop`` between iterations ``t0`` and ``t1``.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._validation import check_real
from ..schedules import Constant, MultiStep, Schedule, _linear_drift, _stepped, as_schedule

__all__ = ["Schedule", "as_schedule", "constant", "linear_drift", "step_decay", "stepped"]


def constant() -> Schedule:
    """f(t) ≡ 1."""
    return Constant()


def step_decay(milestones: Sequence[int], factor: float = 10.0) -> Schedule:
    """Divide by ``factor`` at each milestone: f(t) = factor^(−#{m ≤ t})."""
    factor = float(check_real("factor", factor, low=0.0, low_inclusive=False))
    return MultiStep(tuple(milestones), 1.0 / factor)


def stepped(milestones: Sequence[int], values: Sequence[float]) -> Schedule:
    """Piecewise constant: ``values[0]`` before ``milestones[0]``, ``values[j]`` from ``milestones[j−1]``."""
    return _stepped(milestones, values)


def linear_drift(t0: int, t1: int, start: float = 1.0, stop: float = 2.0) -> Schedule:
    """Constant ``start`` until t0, linear to ``stop`` at t1, constant after (a drifting L_t)."""
    return _linear_drift(t0, t1, start, stop)
