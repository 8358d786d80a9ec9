"""The claim registry: data types, the verdict rule, and the runner.

A :class:`Claim` states what a paper asserts, where (equation), in which hyperparameter domain, which
derivations of :mod:`spheretheory.theory` it uses, and how it is measured. Its ``check`` function runs the
simulation at the given hyperparameters and returns an :class:`Outcome` whose verdict is *computed from the
measurement* with :func:`compare` (or an explicit rule documented in the claim) — never typed in.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import InputError, check_int
from ..optimizers.base import HyperParameter

HOLDS = "holds"
FIRST_ORDER = "holds to first order"
FAILS = "fails"
NOT_CHECKABLE = "not checkable"
#: The check ran, but its standard error is larger than the effect it tests: no verdict at this size.
UNDERPOWERED = "not checkable at this size"
VERDICTS: tuple[str, ...] = (HOLDS, FIRST_ORDER, FAILS, NOT_CHECKABLE, UNDERPOWERED)

#: How the measured value must relate to the predicted one for the claim to hold (the table's relation column).
RELATIONS: tuple[str, ...] = ("≈", "≥", "≤", ">", "ordered", "increasing", "dip then rise")

#: Default number of standard errors for "agrees within noise" (two-sided; P(|z| > 4) ≈ 6e-5 per comparison).
Z = 4.0


@dataclass(frozen=True)
class Param(HyperParameter):
    """A hyperparameter of a claim: the optimizers' :class:`HyperParameter` (default and domain the paper asserts
    the claim in; closed above by default) plus a quick-mode value. ``validate`` returns a Python scalar."""

    high_inclusive: bool = True
    quick: float | None = None

    def validate(self, name: str, value: Any) -> float | int:
        out = super().validate(name, value)
        return out if self.integer else float(out)


@dataclass
class Outcome:
    """What a check measured and the verdict computed from it.

    ``predicted`` and ``measured`` are the headline numbers (floats, or dicts of floats for multi-point
    checks); ``se`` the standard error of ``measured``; ``tolerance`` the allowed |measured − predicted| that
    decided the verdict; ``deviation`` the relative size of the disagreement; ``counterexample`` the
    hyperparameters and numbers that falsify the claim (for ``fails``); ``detail`` one or two sentences.
    """

    verdict: str
    predicted: Any = None
    measured: Any = None
    se: Any = None
    tolerance: Any = None
    deviation: Any = None
    detail: str = ""
    counterexample: dict[str, Any] | None = None
    numbers: dict[str, Any] = field(default_factory=dict)
    figure: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:  # pragma: no cover - a registry bug
            raise ValueError(f"verdict must be one of {VERDICTS}; got {self.verdict!r}")


@dataclass(frozen=True)
class Claim:
    """A published claim and how we check it."""

    id: str
    paper: str
    where: str
    statement: str
    domain: Mapping[str, Param]
    derivations: tuple[str, ...]
    method: str
    tolerance: str
    check: Callable[..., Outcome]
    #: measured ``relation`` predicted is what the claim asserts (≈ equality within tolerance, ≥/≤ a bound, …)
    relation: str = "≈"
    #: the paper's own sentence (quoted from the text in /work/shared/papers, or a note that none is on file);
    #: ``statement`` is the project's reading of it
    quote: str = ""

    def __post_init__(self) -> None:
        if self.relation not in RELATIONS:  # pragma: no cover - a registry bug
            raise ValueError(f"relation must be one of {RELATIONS}; got {self.relation!r}")

    @property
    def paper_key(self) -> str:
        return self.id.split(".", 1)[0]

    def params(self, overrides: Mapping[str, Any] | None = None, *, quick: bool = False) -> dict[str, Any]:
        """The hyperparameters of a run: defaults (or quick values), overridden and validated."""
        out: dict[str, Any] = {}
        for name, p in self.domain.items():
            value = p.quick if (quick and p.quick is not None) else p.default
            out[name] = int(value) if p.integer else float(value)
        for name, value in (overrides or {}).items():
            if name not in self.domain:
                raise InputError(
                    f"claim {self.id!r} has no parameter {name!r}; it takes {', '.join(self.domain) or 'none'}"
                )
            out[name] = self.domain[name].validate(f"{self.id}: {name}", value)
        return out


@dataclass
class ClaimResult:
    """The result of running one claim: the claim, its parameters, the outcome or the error, the run time."""

    claim: Claim
    params: dict[str, Any]
    outcome: Outcome | None
    seconds: float
    quick: bool
    error: str | None = None

    @property
    def verdict(self) -> str:
        return "error" if self.outcome is None else self.outcome.verdict

    def to_dict(self) -> dict[str, Any]:
        o = self.outcome
        d: dict[str, Any] = {
            "id": self.claim.id,
            "paper": self.claim.paper,
            "where": self.claim.where,
            "statement": self.claim.statement,
            "quote": self.claim.quote,
            "relation": self.claim.relation,
            "verdict": self.verdict,
            "params": self.params,
            "quick": self.quick,
            "seconds": round(self.seconds, 3),
        }
        if o is not None:
            d.update(
                predicted=o.predicted,
                measured=o.measured,
                se=o.se,
                tolerance=o.tolerance,
                deviation=o.deviation,
                detail=o.detail,
                counterexample=o.counterexample,
                numbers=o.numbers,
            )
        else:
            d.update(predicted=None, measured=None, se=None, error=self.error)
        return d


_REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    """Add a claim to the registry (ids are unique)."""
    if claim.id in _REGISTRY:
        raise ValueError(f"claim {claim.id!r} is already registered")
    _REGISTRY[claim.id] = claim
    return claim


def compare(
    predicted: float,
    measured: float,
    se: float,
    *,
    first_order: float | None = None,
    z: float = Z,
    floor: float = 0.0,
    cap: float | None = 0.5,
    effect: float | None = None,
) -> tuple[str, float, float]:
    """The verdict rule for "measured equals predicted".

    * ``holds`` when |m − p| ≤ z·se + floor (agreement within the sampling noise; ``floor`` covers a known
      numerical error, e.g. a record-spacing discretisation);
    * ``holds to first order`` when it does not, but |m − p| ≤ z·se + floor + first_order·|p| — the relative
      size of the terms the claim neglects (e.g. O(ηλ)), given by the claim;
    * ``fails`` otherwise;
    * ``not checkable`` when the prediction or the measurement is not finite (nothing to compare);
    * ``not checkable at this size`` when 2·z·se exceeds ``effect`` — the smallest deviation the check must be
      able to resolve (default |p|: a check that cannot tell the prediction from zero has no power; see
      :func:`underpowered`). More trajectories or steps give a verdict.

    A first-order allowance of ``cap`` (50 %) or more means the neglected terms are not small at these
    hyperparameters (the claim's expansion is outside its range): no first-order credit is given then. Pass
    ``cap=None`` when the allowance is the paper's own stated error bound (e.g. Thm 3's O(∛(V/(Ll)))).

    Returns ``(verdict, relative deviation (m − p)/|p|, tolerance used for "holds")``.
    """
    p, m, s = float(predicted), float(measured), float(se)
    if not (math.isfinite(p) and math.isfinite(m)):  # no measurement (e.g. every run diverged, or too short)
        return NOT_CHECKABLE, float("nan"), float("nan")
    tol = z * (s if math.isfinite(s) else 0.0) + floor
    dev = (m - p) / abs(p) if p != 0 else float("inf") if m != p else 0.0
    if underpowered(s, abs(p) if effect is None else effect, z=z):
        return UNDERPOWERED, dev, tol
    if abs(m - p) <= tol:
        return HOLDS, dev, tol
    usable = first_order is not None and (cap is None or first_order < cap)
    if usable and abs(m - p) <= tol + first_order * abs(p):
        return FIRST_ORDER, dev, tol
    return FAILS, dev, tol


def compared(
    predicted: float,
    measured: float,
    se: float,
    params: Mapping[str, Any],
    detail: str,
    numbers: Mapping[str, Any] | None = None,
    **rule: Any,
) -> Outcome:
    """The :class:`Outcome` of "measured equals predicted" under :func:`compare` (``rule``: its keyword arguments,
    e.g. ``first_order=``): the verdict, relative deviation and tolerance, and for ``fails`` the counter-example
    (``params`` with the measured and printed values). ``detail`` may name ``{verdict}`` and ``{dev}``."""
    verdict, dev, tol = compare(predicted, measured, se, **rule)
    return Outcome(
        verdict,
        predicted=float(predicted),
        measured=float(measured),
        se=float(se),
        tolerance=tol,
        deviation=dev,
        detail=detail.format(verdict=verdict, dev=dev),
        counterexample=None if verdict != FAILS else {**params, "measured": measured, "printed": predicted},
        numbers=dict(numbers or {}),
    )


def underpowered(se: float, effect: float, *, z: float = Z) -> bool:
    """True when the check cannot tell 0 from ``effect``: their ±z·se intervals overlap, 2·z·se > |effect|
    (a value inside one interval would then also be inside the other)."""
    return bool(math.isfinite(float(se)) and 2 * z * float(se) > abs(float(effect)))


def bound_holds(value: float, bound: float, se: float, *, z: float = Z) -> bool:
    """``value ≤ bound`` within z standard errors of ``value`` (a one-sided check of a printed bound)."""
    return float(value) <= float(bound) + z * float(se if np.isfinite(se) else 0.0)


def bound_verdict(value: float, bound: float, se: float, *, z: float = Z) -> str:
    """The verdict for "``value`` ≤ ``bound``" (pass −value, −bound for ≥): ``holds`` within z SE,
    ``fails`` beyond, and ``not checkable at this size`` when the value is within z SE of the bound *and* the
    check cannot tell the bound from zero (:func:`underpowered`)."""
    v, b, s = float(value), float(bound), float(se if np.isfinite(se) else 0.0)
    if abs(v - b) <= z * s and underpowered(s, b, z=z):
        return UNDERPOWERED
    return HOLDS if bound_holds(v, b, s, z=z) else FAILS


def run_claim(
    claim: Claim,
    overrides: Mapping[str, Any] | None = None,
    *,
    quick: bool = False,
    seed: int = 0,
) -> ClaimResult:
    """Run one claim; a bug or numerical breakdown in the check becomes ``error`` (not a verdict)."""
    seed = check_int("seed", seed, low=0)
    params = claim.params(overrides, quick=quick)  # bad overrides raise ValueError to the caller
    t0 = time.perf_counter()
    try:
        outcome = claim.check(params, quick=quick, seed=seed)
        error = None
    except (ValueError, TypeError) as exc:
        if overrides:  # the hyperparameters the user asked for were rejected by the simulator/theory
            raise InputError(f"claim {claim.id}: {exc}") from exc
        outcome, error = None, "".join(traceback.format_exception_only(type(exc), exc)).strip()
    except Exception as exc:  # noqa: BLE001 - a broken check is reported, not raised
        outcome, error = None, "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return ClaimResult(claim, params, outcome, time.perf_counter() - t0, quick, error)
