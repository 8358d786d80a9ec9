"""One schedule vocabulary for :func:`spheretheory.simulate`, :func:`spheretheory.trajectory` and the CLI.

A :class:`Schedule` maps the iteration t = 0, 1, 2, … to a non-negative *multiplier* f(t) of a base
hyperparameter: η_t = η·f(t) (``lr``), λ_t = λ·f(t) (``weight_decay``), L_t = L·f(t) (``unit_grad_sq``).
It is evaluated vectorised for a block of iterations at a time (:meth:`Schedule.values`), so a run never has
to materialise it for all of its steps. Kinds:

* :class:`Constant` — f ≡ c;
* :class:`MultiStep` — f(t) = γ^{#{m ≤ t}} (PyTorch ``MultiStepLR``);
* :class:`Exponential` — f(t) = γ^t (PyTorch ``ExponentialLR``);
* :class:`Cosine` — f(t) = f_T + (1 − f_T)(1 + cos(π t/T))/2 for t ≤ T, f_T after (``CosineAnnealingLR``);
* :class:`Linear` — f goes linearly from 1 at t = 0 to f_T at t = T, f_T after;
* :class:`Warmup` — f(t) = s + (1 − s)(t + 1)/W for t < W (W warmup steps, from s; never 0 at t = 0), then
  any schedule ``after`` evaluated at t − W;
* :class:`WSD` — warmup-stable-decay: 1 until T − D, then a decay over the last D steps to f_T, linear
  (1 − u), cosine ((1 + cos πu)/2) or ``"sqrt"`` (1 − √u), u = (t − T + D)/D (Hägele et al. 2024);
* :class:`Piecewise` — knots (t_k, f_k) joined linearly, repeated knot times for jumps, constant outside;
* :class:`Array` — explicit per-step multipliers (an error, naming the step, beyond its end).

``Schedule`` objects are immutable; invalid ones (a negative or non-finite multiplier, an array shorter than
the run, an unknown grammar token) raise ``ValueError`` naming the step or the token.

Weight-decay conventions (:func:`weight_decay_convention`) say how the weight decay moves when the LR
follows a schedule s(t) = f(t)/f(0), in PyTorch's parametrisation where a step shrinks w by the factor
(1 − η_t λ_t) (directly, or through the gradient): ``"coupled"``/``"decoupled"`` keep λ fixed, so the
per-step shrink η_tλ follows the LR schedule; ``"independent"`` keeps the per-step shrink itself fixed,
η_tλ_t = η_0λ (λ_t = λη_0/η_t); ``"adamc"`` uses λ_t = λη_t/η_max (AdamC), a shrink ∝ η_t².

The CLI grammar (:func:`parse`) is documented there and in ``docs/schedules.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validation import InputError, InputTypeError, check_int, check_real

__all__ = [
    "Array",
    "Constant",
    "Cosine",
    "Exponential",
    "Linear",
    "MultiStep",
    "Piecewise",
    "Product",
    "Schedule",
    "WSD",
    "Warmup",
    "WD_CONVENTIONS",
    "as_schedule",
    "from_torch",
    "parse",
    "weight_decay_convention",
]

#: Evaluate long schedules in blocks of this many steps when validating them (memory independent of steps).
_CHECK_BLOCK = 1 << 12


class Schedule:
    """Base class: a non-negative multiplier f(t) of a base hyperparameter at iteration t = 0, 1, …

    Subclasses implement :meth:`_f` (float64 array of iterations → multipliers). Public methods:
    :meth:`values` (vectorised evaluation, validated), :meth:`block`, :meth:`check`, :meth:`drops`.
    """

    description: str = "schedule"
    #: Kinds whose every multiplier is finite and >= 0 once the constructor has validated the parameters.
    _valid_by_construction: bool = False

    @property
    def _bounded(self) -> bool:
        """Every multiplier is finite and >= 0 by construction and cannot overflow (so :meth:`_eval` need not
        check it): the valid-by-construction kinds except the exponential, and warmups/products of them."""
        return self._valid_by_construction and not isinstance(self, Exponential)

    def _f(self, t: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def values(self, steps: int | Sequence[int] | np.ndarray) -> np.ndarray:
        """Multipliers f(t) (float64): for iterations ``0 … steps−1`` when ``steps`` is an int, else at ``steps``.

        Raises ``ValueError`` naming the first step where the multiplier is negative or not finite.
        """
        t = np.arange(steps, dtype=np.float64) if np.ndim(steps) == 0 else np.asarray(steps, dtype=np.float64)
        return self._eval(t)

    def _eval(self, t: np.ndarray) -> np.ndarray:
        shape = t.shape
        t = t.reshape(-1)
        out = np.asarray(self._f(t), dtype=np.float64)
        out = np.broadcast_to(out, t.shape).copy() if out.shape != t.shape else out
        if self._bounded:  # finite and >= 0 by construction: skip the three passes of the check (speed)
            return out.reshape(shape)
        bad = ~(np.isfinite(out) & (out >= 0.0))
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(
                f"{self.description}: the multiplier at step {int(t[i])} must be finite and >= 0; got {out[i]!r}"
            )
        return out.reshape(shape)

    def __call__(self, t: int | Sequence[int] | np.ndarray) -> np.ndarray:
        """Multiplier at iteration(s) t (an int is one iteration, unlike :meth:`values`)."""
        return self._eval(np.asarray(t, dtype=np.float64))

    def block(self, start: int, stop: int) -> np.ndarray:
        """Multipliers for iterations ``start … stop−1`` (float64)."""
        return self.values(np.arange(start, stop))

    def check(self, steps: int, name: str = "schedule") -> None:
        """Validate the first ``steps`` iterations (``ValueError`` naming ``name`` and the step)."""
        if self._valid_by_construction:
            return
        if isinstance(self, Warmup):
            if steps > self.steps:
                self.after.check(steps - self.steps, name)
            return
        if isinstance(self, Array):
            if self.multipliers.size < steps:
                raise InputError(
                    f"{name}: {self.description}: no value for step {self.multipliers.size} (the array "
                    f"must cover every step of the run, {steps} steps)"
                )
            return
        for t0 in range(0, steps, _CHECK_BLOCK):
            try:
                self.block(t0, min(steps, t0 + _CHECK_BLOCK))
            except ValueError as exc:
                raise InputError(f"{name}: {exc}") from None

    def drops(self) -> list[tuple[int, float]]:
        """Jumps ``(t, f(t)/f(t⁻))`` (used by the rescale-on-drop rule); none unless the kind has jumps."""
        return []

    @property
    def is_constant(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.description}>"


@dataclass(frozen=True, repr=False)
class Constant(Schedule):
    """f(t) ≡ ``value``."""

    _valid_by_construction = True

    value: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", float(check_real("value", self.value, low=0.0)))

    @property
    def description(self) -> str:  # type: ignore[override]
        return "constant" if self.value == 1.0 else f"constant {self.value:g}"

    def _f(self, t: np.ndarray) -> np.ndarray:
        return np.full(t.shape, self.value)

    @property
    def is_constant(self) -> bool:
        return self.value == 1.0


@dataclass(frozen=True, repr=False)
class Piecewise(Schedule):
    """Piecewise-linear multiplier with knots ``times`` (non-decreasing) and ``values`` (≥ 0).

    Right-continuous at repeated knot times (a jump at t applies from iteration t); constant before the first
    knot and after the last. No knots means f ≡ 1.
    """

    _valid_by_construction = True

    times: tuple[float, ...] = ()
    values_: tuple[float, ...] = field(default=())
    label: str = ""

    def __post_init__(self) -> None:
        times = tuple(float(x) for x in self.times)
        vals = tuple(float(x) for x in self.values_)
        if len(times) != len(vals):
            raise InputError(f"schedule times and values must have equal length; got {len(times)} and {len(vals)}")
        for k, (a, b) in enumerate(zip(times, times[1:], strict=False)):
            if b < a:
                raise InputError(f"schedule times must be non-decreasing; knot {k + 1} at {b:g} follows {a:g}")
        for t, v in zip(times, vals, strict=True):
            if not (np.isfinite(v) and v >= 0):
                raise InputError(f"schedule value at step {t:g} must be finite and >= 0; got {v!r}")
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "values_", vals)

    @property
    def description(self) -> str:  # type: ignore[override]
        return self.label or (
            f"piecewise {list(zip(self.times, self.values_, strict=True))}" if self.times else "constant"
        )

    def _f(self, t: np.ndarray) -> np.ndarray:
        if not self.times:
            return np.ones_like(t)
        times = np.asarray(self.times)
        vals = np.asarray(self.values_)
        idx = np.searchsorted(times, t, side="right") - 1
        out = np.empty_like(t)
        before, after = idx < 0, idx >= len(times) - 1
        mid = ~(before | after)
        out[before] = vals[0]
        out[after] = vals[-1]
        i = idx[mid]
        t0, t1, v0, v1 = times[i], times[i + 1], vals[i], vals[i + 1]
        span = np.where(t1 > t0, t1 - t0, 1.0)
        w = np.where(t1 > t0, (t[mid] - t0) / span, 1.0)
        out[mid] = v0 + w * (v1 - v0)
        return out

    def drops(self) -> list[tuple[int, float]]:
        out = []
        for k in range(1, len(self.times)):
            a, b = self.values_[k - 1], self.values_[k]
            if self.times[k] == self.times[k - 1] and b != a and a > 0:
                out.append((int(self.times[k]), b / a))
        return out

    @property
    def is_constant(self) -> bool:
        return len(set(self.values_)) <= 1 and (not self.values_ or self.values_[0] == 1.0)


@dataclass(frozen=True, repr=False)
class MultiStep(Schedule):
    """f(t) = γ^{#{m ∈ milestones : m ≤ t}} (PyTorch ``MultiStepLR``; γ = 0.1 divides by 10)."""

    _valid_by_construction = True

    milestones: tuple[int, ...]
    gamma: float = 0.1

    def __post_init__(self) -> None:
        ms = tuple(check_int("milestones", m, low=1) for m in self.milestones)
        for a, b in zip(ms, ms[1:], strict=False):
            if b <= a:
                raise InputError(f"milestones must be strictly increasing; got {list(ms)}")
        object.__setattr__(self, "milestones", ms)
        object.__setattr__(self, "gamma", float(check_real("gamma", self.gamma, low=0.0, low_inclusive=False)))

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"multistep x{self.gamma:g} at {list(self.milestones)}"

    def _f(self, t: np.ndarray) -> np.ndarray:
        n = np.searchsorted(np.asarray(self.milestones, dtype=np.float64), t, side="right")
        return self.gamma ** n.astype(np.float64)

    def drops(self) -> list[tuple[int, float]]:
        return [(m, self.gamma) for m in self.milestones]


@dataclass(frozen=True, repr=False)
class Exponential(Schedule):
    """f(t) = γ^t (PyTorch ``ExponentialLR``)."""

    _valid_by_construction = True

    gamma: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "gamma", float(check_real("gamma", self.gamma, low=0.0, low_inclusive=False)))

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"exponential x{self.gamma:g} per step"

    def _f(self, t: np.ndarray) -> np.ndarray:
        return np.exp(t * math.log(self.gamma))


@dataclass(frozen=True, repr=False)
class Cosine(Schedule):
    """f(t) = f_T + (1 − f_T)(1 + cos(π t/T))/2 for 0 ≤ t ≤ T, f_T after (``CosineAnnealingLR``, T = ``total``).

    With ``final = 0`` the multiplier reaches 0 at t = T, so a run of T steps (t = 0 … T−1) never uses 0.
    """

    _valid_by_construction = True

    total: int
    final: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", check_int("total", self.total, low=1))
        object.__setattr__(self, "final", float(check_real("final", self.final, low=0.0)))

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"cosine to {self.final:g} over {self.total} steps"

    def _f(self, t: np.ndarray) -> np.ndarray:
        u = np.clip(t / self.total, 0.0, 1.0)
        return self.final + (1.0 - self.final) * 0.5 * (1.0 + np.cos(np.pi * u))


@dataclass(frozen=True, repr=False)
class Linear(Schedule):
    """f goes linearly from 1 (t = 0) to ``final`` (t = ``total``), constant after."""

    _valid_by_construction = True

    total: int
    final: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", check_int("total", self.total, low=1))
        object.__setattr__(self, "final", float(check_real("final", self.final, low=0.0)))

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"linear to {self.final:g} over {self.total} steps"

    def _f(self, t: np.ndarray) -> np.ndarray:
        u = np.clip(t / self.total, 0.0, 1.0)
        return 1.0 + (self.final - 1.0) * u


#: Decay shapes of :class:`WSD`, as functions of u ∈ [0, 1] going from 1 to 0.
_WSD_SHAPES = {
    "linear": lambda u: 1.0 - u,
    "cosine": lambda u: 0.5 * (1.0 + np.cos(np.pi * u)),
    "sqrt": lambda u: 1.0 - np.sqrt(u),
}


@dataclass(frozen=True, repr=False)
class WSD(Schedule):
    """Warmup-stable-decay without the warmup (wrap it in :class:`Warmup`): f = 1 until T − D, then a decay.

    Over the last D = ``decay`` steps of a run of T = ``total`` steps, f = f_T + (1 − f_T)·shape(u) with
    u = (t − T + D)/D and shape ``"linear"`` (1 − u), ``"cosine"`` ((1 + cos πu)/2) or ``"sqrt"`` (1 − √u,
    the "1−sqrt" cooldown of Hägele et al. 2024).
    """

    _valid_by_construction = True

    total: int
    decay: int
    kind: str = "linear"
    final: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", check_int("total", self.total, low=1))
        object.__setattr__(self, "decay", check_int("decay", self.decay, low=1, high=self.total))
        if self.kind not in _WSD_SHAPES:
            raise InputError(f"WSD kind must be one of {', '.join(_WSD_SHAPES)}; got {self.kind!r}")
        object.__setattr__(self, "final", float(check_real("final", self.final, low=0.0)))

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"WSD: {self.kind} decay to {self.final:g} over the last {self.decay} of {self.total} steps"

    def _f(self, t: np.ndarray) -> np.ndarray:
        u = np.clip((t - (self.total - self.decay)) / self.decay, 0.0, 1.0)
        return self.final + (1.0 - self.final) * _WSD_SHAPES[self.kind](u)


@dataclass(frozen=True, repr=False)
class Warmup(Schedule):
    """Linear warmup over ``steps`` iterations, then ``after`` (evaluated at t − ``steps``).

    f(t) = s + (1 − s)(t + 1)/W for t < W (s = ``start``; f(0) = s + (1 − s)/W > 0, f(W − 1) = 1), then
    f(t) = after(t − W)·1.
    """

    steps: int
    after: Schedule = field(default_factory=Constant)
    start: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", check_int("warmup steps", self.steps, low=1))
        object.__setattr__(self, "start", float(check_real("start", self.start, low=0.0)))
        if not isinstance(self.after, Schedule):
            raise InputTypeError(f"Warmup.after must be a Schedule; got {self.after!r}")

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"linear warmup over {self.steps} steps, then {self.after.description}"

    @property
    def _bounded(self) -> bool:
        return self.after._bounded

    def _f(self, t: np.ndarray) -> np.ndarray:
        if t.size and t.min() >= self.steps:  # a block after the warmup (validated by the caller's _eval)
            return self.after._f(t - self.steps)
        out = np.empty_like(t)
        warm = t < self.steps
        out[warm] = self.start + (1.0 - self.start) * (t[warm] + 1.0) / self.steps
        if (~warm).any():
            out[~warm] = self.after.values(t[~warm] - self.steps)
        return out

    def drops(self) -> list[tuple[int, float]]:
        return [(t + self.steps, r) for t, r in self.after.drops()]


@dataclass(frozen=True, repr=False)
class Array(Schedule):
    """Explicit per-step multipliers ``f[t]`` for t < len(f); ``ValueError`` naming the step beyond."""

    multipliers: np.ndarray
    label: str = "array"

    def __post_init__(self) -> None:
        arr = np.array(self.multipliers, dtype=np.float64, copy=True).reshape(-1)
        if arr.size == 0:
            raise InputError("an array schedule must not be empty")
        bad = ~(np.isfinite(arr) & (arr >= 0))
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(f"{self.label}: the multiplier at step {i} must be finite and >= 0; got {arr[i]!r}")
        arr.setflags(write=False)
        object.__setattr__(self, "multipliers", arr)

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"{self.label} of {self.multipliers.size} steps"

    def _f(self, t: np.ndarray) -> np.ndarray:
        n = self.multipliers.size
        if t.size and (t.max() >= n or t.min() < 0):
            bad = int(t[t >= n].min()) if t.max() >= n else int(t.min())
            raise InputError(
                f"{self.description}: no value for step {bad} (the array has {n} entries; it must "
                "cover every step of the run)"
            )
        return self.multipliers[t.astype(np.int64)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Array) and np.array_equal(self.multipliers, other.multipliers)

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, repr=False)
class Product(Schedule):
    """f(t) = ``scale``·Π_k factors_k(t)^{powers_k}: the derived weight-decay schedules of the conventions."""

    factors: tuple[Schedule, ...]
    powers: tuple[float, ...]
    scale: float = 1.0
    label: str = ""

    @property
    def description(self) -> str:  # type: ignore[override]
        return self.label or "product of schedules"

    @property
    def _bounded(self) -> bool:
        return bool(np.isfinite(self.scale)) and all(
            f._bounded and p >= 0 for f, p in zip(self.factors, self.powers, strict=True)
        )

    def _f(self, t: np.ndarray) -> np.ndarray:
        out = np.full(t.shape, self.scale)
        for s, p in zip(self.factors, self.powers, strict=True):
            v = s._f(t)  # validated once, on the product
            if p < 0 and np.any(v == 0):
                i = int(np.argmax(v == 0))
                raise InputError(
                    f"{self.description}: the LR multiplier is 0 at step {int(t[i])}, so this "
                    "weight-decay convention (λ_t ∝ 1/η_t) is undefined there"
                )
            out = out * v**p
        return out


# --------------------------------------------------------------------------------------------------------
# Weight-decay conventions
# --------------------------------------------------------------------------------------------------------
#: Weight-decay conventions: name → (decoupled?, description).
WD_CONVENTIONS: dict[str, tuple[bool, str]] = {
    "coupled": (False, "λ fixed, added to the gradient (PyTorch SGD/Adam weight_decay); shrink η_tλ"),
    "decoupled": (True, "λ fixed, applied beside the step w ← w − η_tλw (PyTorch AdamW); shrink η_tλ"),
    "independent": (True, "per-step shrink fixed: η_tλ_t = η_0λ, i.e. λ_t = λη_0/η_t (decoupled)"),
    "adamc": (True, "AdamC: λ_t = λη_t/η_max (decoupled); shrink η_t²λ/η_max"),
}


def weight_decay_convention(convention: str, lr_schedule: Schedule, steps: int | None = None) -> tuple[Schedule, bool]:
    """The weight-decay multiplier schedule and the decoupled flag of a convention, given the LR schedule s(t).

    Parameters
    ----------
    convention:
        ``"coupled"`` — λ_t = λ, added to the gradient (it passes through momentum / Adam's normalisation);
        ``"decoupled"`` — λ_t = λ, w ← w − η_tλw beside the step; ``"independent"`` — the per-step shrink
        is independent of the LR schedule, η_tλ_t = η_0λ, so λ_t = λ·s(0)/s(t) (decoupled); ``"adamc"`` —
        λ_t = λ·s(t)/max_t s (Defazio's AdamC correction, decoupled).
    lr_schedule:
        The LR multiplier s(t).
    steps:
        Needed by ``"adamc"`` (the maximum is over t < steps).

    Returns
    -------
    (Schedule, bool)
        The multiplier of ``weight_decay`` and whether the decay is decoupled.
    """
    if convention not in WD_CONVENTIONS:
        raise InputError(f"weight-decay convention must be one of {', '.join(WD_CONVENTIONS)}; got {convention!r}")
    decoupled, text = WD_CONVENTIONS[convention]
    if convention in ("coupled", "decoupled"):
        return Constant(), decoupled
    if convention == "independent":
        s0 = float(lr_schedule.values([0])[0])
        if s0 == 0:
            raise InputError("the 'independent' weight-decay convention needs a non-zero LR multiplier at step 0")
        return Product((lr_schedule,), (-1.0,), scale=s0, label=f"independent decay (1/LR) of {text}"), True
    if steps is None:
        raise InputError("the 'adamc' weight-decay convention needs the number of steps (for max η_t)")
    smax = max(
        float(lr_schedule.block(t0, min(steps, t0 + _CHECK_BLOCK)).max()) for t0 in range(0, steps, _CHECK_BLOCK)
    )
    if smax == 0:
        raise InputError("the 'adamc' weight-decay convention needs a non-zero learning rate somewhere")
    return Product((lr_schedule,), (1.0,), scale=1.0 / smax, label="AdamC decay λ·η_t/η_max"), True


# --------------------------------------------------------------------------------------------------------
# The CLI grammar
# --------------------------------------------------------------------------------------------------------
GRAMMAR = """\
A schedule is one phase, optionally preceded by a warmup, separated by a comma:
  [warmup:W,]PHASE
W is a number of steps (an integer >= 1) or a fraction of the run (0 < W < 1).
PHASE (multipliers of the base value; T = the steps left after the warmup) is one of
  constant                 f = 1
  cosine[:F]               cosine from 1 to F (default 0) at the end of the run
  linear[:F]               linear from 1 to F (default 0) at the end of the run
  multistep:M1/M2/...[:G]  multiply by G (default 0.1) at each milestone Mi (steps, or fractions < 1)
  exp:G                    multiply by G every step
  wsd:D[:KIND[:F]]         constant, then the last D steps (or fraction) decay to F (default 0);
                           KIND = linear (default), cosine or sqrt (1 - sqrt)
  piecewise:T0=V0/T1=V1/.. linear between knots (Ti steps or fractions < 1; repeat a Ti for a jump)
Examples: "warmup:2000,cosine:0", "warmup:0.05,wsd:0.2:sqrt", "multistep:0.5/0.75:0.1"."""


def _num(token: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"schedule token {token!r}: {text!r} is not a number") from None
    if not np.isfinite(value):
        raise InputError(f"schedule token {token!r}: {text!r} must be finite")
    return value


def _steps(token: str, text: str, total: int) -> int:
    """An iteration count: an integer, or a fraction 0 < x < 1 of ``total``."""
    x = _num(token, text)
    if 0 < x < 1:
        return max(1, int(round(x * total)))
    if x < 1 or not float(x).is_integer():
        raise InputError(f"schedule token {token!r}: {text!r} must be an integer >= 1 or a fraction in (0, 1)")
    return int(x)


def parse(text: str, steps: int) -> Schedule:
    """Parse the CLI schedule grammar (:data:`GRAMMAR`) for a run of ``steps`` iterations.

    Raises ``ValueError`` naming the offending token.
    """
    steps = check_int("steps", steps, low=1)
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"schedule must be a non-empty string; got {text!r}")
    phases = [p.strip() for p in text.split(",")]
    warm = 0
    if phases[0].split(":")[0].strip().lower() == "warmup":
        parts = phases.pop(0).split(":")
        if len(parts) != 2:
            raise InputError(f"schedule token {':'.join(parts)!r}: write warmup:STEPS")
        warm = _steps("warmup", parts[1], steps)
        if warm >= steps:
            raise InputError(
                f"schedule token 'warmup:{parts[1]}': the warmup ({warm} steps) must be shorter than "
                f"the run ({steps} steps)"
            )
        if not phases:
            phases = ["constant"]
    if len(phases) != 1:
        raise InputError(
            f"schedule {text!r}: expected [warmup:W,]PHASE (one phase after the warmup); got {len(phases)} phases"
        )
    token = phases[0]
    parts = [p.strip() for p in token.split(":")]
    kind, args = parts[0].lower(), parts[1:]
    T = steps - warm

    def nargs(lo: int, hi: int) -> None:
        if not lo <= len(args) <= hi:
            raise InputError(f"schedule token {token!r}: {kind} takes {lo}..{hi} arguments; got {len(args)}")

    if kind == "constant":
        nargs(0, 0)
        phase: Schedule = Constant()
    elif kind in ("cosine", "linear"):
        nargs(0, 1)
        final = _num(token, args[0]) if args else 0.0
        if final < 0:
            raise InputError(f"schedule token {token!r}: the final multiplier must be >= 0")
        phase = Cosine(T, final) if kind == "cosine" else Linear(T, final)
    elif kind == "multistep":
        nargs(1, 2)
        ms = [_steps(token, m, T) for m in args[0].split("/")]
        gamma = _num(token, args[1]) if len(args) > 1 else 0.1
        if gamma <= 0:
            raise InputError(f"schedule token {token!r}: the factor must be > 0")
        phase = MultiStep(tuple(ms), gamma)
    elif kind == "exp":
        nargs(1, 1)
        gamma = _num(token, args[0])
        if gamma <= 0:
            raise InputError(f"schedule token {token!r}: the factor must be > 0")
        phase = Exponential(gamma)
    elif kind == "wsd":
        nargs(1, 3)
        decay = _steps(token, args[0], T)
        if decay > T:
            raise InputError(f"schedule token {token!r}: the decay ({decay} steps) exceeds the run ({T} steps)")
        shape = args[1].lower() if len(args) > 1 else "linear"
        if shape not in _WSD_SHAPES:
            raise InputError(f"schedule token {token!r}: unknown decay {shape!r} (use {', '.join(_WSD_SHAPES)})")
        final = _num(token, args[2]) if len(args) > 2 else 0.0
        if final < 0:
            raise InputError(f"schedule token {token!r}: the final multiplier must be >= 0")
        phase = WSD(T, decay, shape, final)
    elif kind == "piecewise":
        nargs(1, 1)
        times, vals = [], []
        for knot in args[0].split("/"):
            if "=" not in knot:
                raise InputError(f"schedule token {token!r}: knot {knot!r} must be STEP=VALUE")
            t_txt, v_txt = knot.split("=", 1)
            t = _num(token, t_txt)
            times.append(t * T if 0 < t < 1 else t)
            vals.append(_num(token, v_txt))
        phase = Piecewise(tuple(times), tuple(vals), label=f"piecewise {args[0]}")
    else:
        raise InputError(
            f"unknown schedule token {kind!r} in {text!r} (known: constant, cosine, linear, multistep, "
            "exp, wsd, piecewise, after an optional warmup)"
        )
    return Warmup(warm, phase) if warm else phase


# --------------------------------------------------------------------------------------------------------
# Normalisation and conversion
# --------------------------------------------------------------------------------------------------------
def as_schedule(name: str, spec: Any, steps: int | None = None) -> Schedule:
    """Normalise a schedule argument to a :class:`Schedule`.

    Accepts ``None`` (constant), a :class:`Schedule`, a 1-D array of per-step multipliers, a grammar string
    (:func:`parse`, needs ``steps``), a ``torch.optim.lr_scheduler`` instance (:func:`from_torch`, needs
    ``steps``), or a dict: ``{"milestones": [...], "factor": k}`` (divide by k at each milestone),
    ``{"milestones": [...], "values": [...]}`` (piecewise constant), ``{"t0", "t1", "start", "stop"}``
    (linear drift). With ``steps``, the first ``steps`` iterations are validated (:meth:`Schedule.check`).
    """
    if spec is None:
        out: Schedule = Constant()
    elif isinstance(spec, Schedule):
        out = spec
    elif isinstance(spec, str):
        if steps is None:
            raise InputError(f"{name}: a schedule string needs the number of steps")
        try:
            out = parse(spec, steps)
        except ValueError as exc:
            raise InputError(f"{name}: {exc}") from None
    elif isinstance(spec, dict):
        out = _from_dict(name, spec)
    elif isinstance(spec, (list, tuple, np.ndarray)):
        try:
            out = Array(np.asarray(spec, dtype=np.float64), label=f"{name} array")
        except (TypeError, ValueError) as exc:
            raise InputError(f"{name}: {exc}") from None
    elif type(spec).__module__.startswith("torch.optim"):
        if steps is None:
            raise InputError(f"{name}: converting a torch scheduler needs the number of steps")
        out = from_torch(spec, steps)
    else:
        raise InputTypeError(
            f"{name} must be None, a Schedule, an array, a schedule string, a torch LR scheduler, or a dict with "
            f"keys milestones+factor, milestones+values or t0+t1[+start+stop]; got {spec!r}"
        )
    if steps is not None:
        out.check(steps, name)
    return out


def _from_dict(name: str, spec: dict) -> Schedule:
    keys = set(spec)
    try:
        if keys <= {"milestones", "factor"} and "milestones" in keys:
            factor = float(check_real("factor", spec.get("factor", 10.0), low=0.0, low_inclusive=False))
            return MultiStep(tuple(spec["milestones"]), 1.0 / factor)
        if keys == {"milestones", "values"}:
            return _stepped(spec["milestones"], spec["values"])
        if {"t0", "t1"} <= keys <= {"t0", "t1", "start", "stop"}:
            return _linear_drift(**spec)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name}: {exc}") from exc
    raise InputTypeError(
        f"{name} must be None, a Schedule, or a dict with keys milestones+factor, milestones+values or "
        f"t0+t1[+start+stop]; got {spec!r}"
    )


def _stepped(milestones: Sequence[int], values: Sequence[float]) -> Piecewise:
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
    return Piecewise(tuple(times), tuple(out), label=f"stepped {vals} at {ms}")


def _linear_drift(t0: int, t1: int, start: float = 1.0, stop: float = 2.0) -> Piecewise:
    t0 = check_int("t0", t0, low=0)
    t1 = check_int("t1", t1, low=t0 + 1)
    start = float(check_real("start", start, low=0.0, low_inclusive=False))
    stop = float(check_real("stop", stop, low=0.0, low_inclusive=False))
    return Piecewise((float(t0), float(t1)), (start, stop), label=f"linear drift {start:g}->{stop:g} over [{t0}, {t1}]")


def from_torch(scheduler: Any, steps: int, group: int = 0) -> Array:
    """Per-step LR multipliers of a ``torch.optim.lr_scheduler`` instance for ``steps`` iterations.

    A deep copy of the scheduler (and of its optimizer) is stepped ``steps − 1`` times; the multiplier at step t
    is the learning rate the copy's ``optimizer.step()`` would use at iteration t, divided by the group's
    ``initial_lr`` (the base value). The scheduler passed in is not modified. ``ReduceLROnPlateau`` (which
    needs the loss) is rejected. Torch is imported here only.
    """
    import copy

    import torch  # noqa: F401  (lazy: only this function needs torch)

    steps = check_int("steps", steps, low=1)
    if type(scheduler).__name__ == "ReduceLROnPlateau":
        raise InputTypeError("ReduceLROnPlateau depends on the loss; it has no schedule to convert")
    if not hasattr(scheduler, "optimizer") or not hasattr(scheduler, "step"):
        raise InputTypeError(f"expected a torch.optim.lr_scheduler instance; got {scheduler!r}")
    sched = copy.deepcopy(scheduler)
    groups = sched.optimizer.param_groups
    group = check_int("group", group, low=0, high=len(groups) - 1)
    base = float(groups[group].get("initial_lr", groups[group]["lr"]))
    if base <= 0:
        raise InputError(f"the scheduler's base learning rate must be > 0; got {base}")
    out = np.empty(steps)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "lr_scheduler.step() before optimizer.step()"
        for t in range(steps):
            out[t] = float(groups[group]["lr"]) / base
            if t + 1 < steps:
                sched.step()
    return Array(out, label=f"torch {type(scheduler).__name__}")
