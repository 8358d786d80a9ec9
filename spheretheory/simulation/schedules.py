"""Hyperparameter schedules: piecewise-linear multipliers of a base value, with jumps allowed.

A :class:`Schedule` maps the iteration t to a multiplier f(t) of a base hyperparameter (η_t = η·f(t),
λ_t = λ·f(t), L_t = L·f(t)). It is stored as knots ``(t_k, f_k)`` joined linearly, with repeated knot times
for
jumps, constant before the first knot and after the last; so it is evaluated for a block of iterations at a
time and never materialized for the whole run (memory independent of ``steps``).

* :func:`constant` — f ≡ 1.
* :func:`step_decay` — f(t) = k^(−j) where j = number of milestones ≤ t (divide by k at each milestone).
* :func:`stepped` — f(t) = values[j] (arbitrary piecewise-constant levels, e.g. a stepped L_t).
* :func:`linear_drift` — f goes linearly from ``start`` to ``stop`` between iterations ``t0`` and ``t1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import InputError, InputTypeError, check_int, check_real

__all__ = ["Schedule", "as_schedule", "constant", "linear_drift", "step_decay", "stepped"]


@dataclass(frozen=True)
class Schedule:
    """Piecewise-linear multiplier f(t) with knots ``times`` (non-decreasing) and ``values`` (positive).

    ``drops`` lists ``(t, ratio)`` for each jump at iteration t with ratio = f(t)/f(t⁻) — used by the
    rescale-on-drop rule (Wan et al. Sec. 4.2).
    """

    times: tuple[float, ...] = ()
    values: tuple[float, ...] = ()
    description: str = "constant"

    def __post_init__(self) -> None:
        if len(self.times) != len(self.values):
            raise InputError("schedule times and values must have equal length")
        if any(b < a for a, b in zip(self.times, self.times[1:], strict=False)):
            raise InputError(f"schedule times must be non-decreasing; got {self.times}")
        if any(not (v > 0 and np.isfinite(v)) for v in self.values):
            raise InputError(f"schedule values must be positive and finite; got {self.values}")

    def __call__(self, t: np.ndarray | int) -> np.ndarray:
        """Multiplier at iteration(s) t (right-continuous at jumps: a jump at t applies from iteration t)."""
        t = np.asarray(t, dtype=np.float64)
        if not self.times:
            return np.ones_like(t)
        times = np.asarray(self.times)
        values = np.asarray(self.values)
        # right-continuous: use the last knot with time <= t, interpolate to the next one
        idx = np.searchsorted(times, t, side="right") - 1
        out = np.empty_like(t)
        before = idx < 0
        after = idx >= len(times) - 1
        mid = ~(before | after)
        out[before] = values[0]
        out[after] = values[-1]
        i = idx[mid]
        t0, t1 = times[i], times[i + 1]
        v0, v1 = values[i], values[i + 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            w = np.where(t1 > t0, (t[mid] - t0) / np.where(t1 > t0, t1 - t0, 1.0), 1.0)
        out[mid] = v0 + w * (v1 - v0)
        return out

    def block(self, start: int, stop: int) -> np.ndarray:
        """Multipliers for iterations ``start … stop−1`` (float64)."""
        return self(np.arange(start, stop))

    def drops(self) -> list[tuple[int, float]]:
        """Jumps ``(t, f(t)/f(t⁻))`` at repeated knot times."""
        out = []
        for k in range(1, len(self.times)):
            if self.times[k] == self.times[k - 1] and self.values[k] != self.values[k - 1]:
                out.append((int(self.times[k]), self.values[k] / self.values[k - 1]))
        return out

    @property
    def is_constant(self) -> bool:
        return len(set(self.values)) <= 1 and (not self.values or self.values[0] == 1.0)


def constant() -> Schedule:
    """f(t) ≡ 1."""
    return Schedule()


def step_decay(milestones: Sequence[int], factor: float = 10.0) -> Schedule:
    """Divide by ``factor`` at each milestone: f(t) = factor^(−#{m ≤ t})."""
    factor = float(check_real("factor", factor, low=0.0, low_inclusive=False))
    ms = [check_int("milestones", m, low=1) for m in milestones]
    if any(b <= a for a, b in zip(ms, ms[1:], strict=False)):
        raise InputError(f"milestones must be strictly increasing; got {ms}")
    times: list[float] = [0.0]
    values: list[float] = [1.0]
    for j, m in enumerate(ms):
        times += [m, m]
        values += [factor ** (-j), factor ** (-(j + 1))]
    return Schedule(tuple(times), tuple(values), f"step decay by {factor:g} at {ms}")


def stepped(milestones: Sequence[int], values: Sequence[float]) -> Schedule:
    """Piecewise constant: ``values[0]`` before ``milestones[0]``, ``values[j]`` from ``milestones[j−1]``."""
    ms = [check_int("milestones", m, low=1) for m in milestones]
    vals = [float(check_real("values", v, low=0.0, low_inclusive=False)) for v in values]
    if len(vals) != len(ms) + 1:
        raise InputError(f"values must have len(milestones) + 1 = {len(ms) + 1} entries; got {len(vals)}")
    if any(b <= a for a, b in zip(ms, ms[1:], strict=False)):
        raise InputError(f"milestones must be strictly increasing; got {ms}")
    times: list[float] = [0.0]
    out: list[float] = [vals[0]]
    for j, m in enumerate(ms):
        times += [m, m]
        out += [vals[j], vals[j + 1]]
    return Schedule(tuple(times), tuple(out), f"stepped {vals} at {ms}")


def linear_drift(t0: int, t1: int, start: float = 1.0, stop: float = 2.0) -> Schedule:
    """Constant ``start`` until t0, linear to ``stop`` at t1, constant after (a drifting L_t)."""
    t0 = check_int("t0", t0, low=0)
    t1 = check_int("t1", t1, low=t0 + 1)
    start = float(check_real("start", start, low=0.0, low_inclusive=False))
    stop = float(check_real("stop", stop, low=0.0, low_inclusive=False))
    return Schedule((float(t0), float(t1)), (start, stop), f"linear drift {start:g}->{stop:g} over [{t0}, {t1}]")


def as_schedule(name: str, spec: Any) -> Schedule:
    """Normalize a schedule argument.

    Accepts ``None`` (constant), a :class:`Schedule`, or a dict: ``{"milestones": [...], "factor": k}`` (step
    decay), ``{"milestones": [...], "values": [...]}`` (stepped), ``{"t0":…, "t1":…, "start":…, "stop":…}``
    (linear drift).
    """
    if spec is None:
        return constant()
    if isinstance(spec, Schedule):
        return spec
    if isinstance(spec, dict):
        keys = set(spec)
        try:
            if keys <= {"milestones", "factor"} and "milestones" in keys:
                return step_decay(spec["milestones"], spec.get("factor", 10.0))
            if keys == {"milestones", "values"}:
                return stepped(spec["milestones"], spec["values"])
            if {"t0", "t1"} <= keys <= {"t0", "t1", "start", "stop"}:
                return linear_drift(**spec)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{name}: {exc}") from exc
    raise InputTypeError(
        f"{name} must be None, a Schedule, or a dict with keys milestones+factor, milestones+values or "
        f"t0+t1[+start+stop]; got {spec!r}"
    )
