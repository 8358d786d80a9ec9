"""The optimizer spec: everything the package knows about one optimizer, in one object.

An :class:`OptimizerSpec` holds

* its hyperparameters (:class:`HyperParameter`: default and domain; validated by :func:`spheretheory.predict`,
  turned into CLI flags by :func:`spheretheory.optimizers.add_cli_flags`);
* the names of the theory derivations it uses (``derivations``; each must be registered in
  :mod:`spheretheory.theory`, a test checks it);
* ``compute``: the equilibrium prediction from hyperparameters (called by :func:`spheretheory.predict`);
* ``step``: a reference numpy step of its update rule on arrays of weights (last axis, or the last two for a
  matrix optimizer) and a dict of state arrays;
* ``torch``: how a ``torch.optim`` optimizer and one of its param groups map to it (no torch import here: the
  mapping reads the class name and the param-group dict).

One file per optimizer in this package; :mod:`spheretheory.optimizers` imports them explicitly. No sympy, numba
or torch at import.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_int, check_real

#: Keys every optimizer's ``compute`` must return.
STANDARD_KEYS: tuple[str, ...] = (
    "angular_update",
    "angular_update_first_order",
    "equilibrium_sq_norm",
    "equilibrium_norm",
    "equilibrium_norm_first_order",
    "effective_lr",
    "relaxation_steps",
)


@dataclass(frozen=True)
class HyperParameter:
    """A hyperparameter: default and allowed interval ``low .. high`` (inclusive flags), optionally an integer.

    The one type for an optimizer's hyperparameters (validated by :func:`spheretheory.predict`, CLI flags) and,
    through the subclass :class:`spheretheory.claims.Param`, for a claim's domain.
    """

    default: float | None
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = False
    integer: bool = False
    doc: str = ""

    def validate(self, name: str, value: Any) -> Any:
        """``value`` checked against the domain: an ``int`` for integer parameters, else a float64 array
        (0-d for scalars). Raises ``ValueError``/``TypeError`` naming ``name`` and the allowed interval."""
        if self.integer:
            lo = None if self.low is None else int(math.ceil(self.low))
            hi = None if self.high is None else int(math.floor(self.high))
            return check_int(name, value, low=lo, high=hi)
        return check_real(
            name,
            value,
            low=self.low,
            high=self.high,
            low_inclusive=self.low_inclusive,
            high_inclusive=self.high_inclusive,
        )

    def interval(self) -> str:
        """The domain as text, e.g. ``[0, 1)``."""
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        left = "[" if (self.low is not None and self.low_inclusive) else "("
        right = "]" if (self.high is not None and self.high_inclusive) else ")"
        return f"{left}{lo}, {hi}{right}" + (" (integer)" if self.integer else "")


@dataclass(frozen=True)
class TorchMatch:
    """What :attr:`TorchMapping.match` returns for a param group that belongs to this optimizer's class.

    ``hyperparameters`` are the spec's hyperparameters read from the group (``lr`` and ``weight_decay`` are read
    by :func:`spheretheory.optimizers.from_torch`); ``reason`` is non-empty when the group uses a variant that
    the predictions do not cover (then the optimizer is not mapped).
    """

    hyperparameters: Mapping[str, float] = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class TorchMapping:
    """How a ``torch.optim`` optimizer maps to a spec (no torch import: classes are matched by name).

    ``classes`` are the optimizer class names (``type(opt).__name__``, any class in its MRO) this spec may stand
    for; ``match(param_group, class_name)`` returns a :class:`TorchMatch` when the group is this spec's rule and
    ``None`` when another spec of the same class should be tried (e.g. SGD with and without ``nesterov``).
    """

    classes: tuple[str, ...]
    match: Callable[[Mapping[str, Any], str], TorchMatch | None]
    note: str = ""


#: ``step(w, grad, state, lr, weight_decay, **hyperparameters) -> (w_next, state)``.
StepFn = Callable[..., tuple[np.ndarray, dict[str, np.ndarray]]]


@dataclass(frozen=True)
class OptimizerSpec:
    """A registry entry (see the module docstring).

    ``compute(lr, weight_decay, unit_grad_sq, dim, **hyperparameters) -> dict`` receives validated, broadcast
    float arrays (``dim`` may be None) and returns at least :data:`STANDARD_KEYS` (NaN where no
    hyperparameter-only value exists, with an explanatory key).

    ``weight_decay_convention`` says how the group's weight decay λ enters the update: ``"coupled"`` (added to the
    gradient, SGD's and Adam's), ``"decoupled"`` (w ← (1 − ηλ)w − η·update, AdamW's) or ``"decoupled_lr_ratio"``
    (AdamC, Defazio 2025: decoupled with λ_t = λ·η_t/η_max on normalised layers, so that ηλ_t ∝ η_t²/η_max; at
    constant LR identical to decoupled). ``alias_of`` names the spec whose update rule this one shares at
    constant LR.
    """

    name: str
    description: str
    compute: Callable[..., dict[str, Any]]
    hyperparameters: Mapping[str, HyperParameter] = field(default_factory=dict)
    needs_dim: bool = False
    derivations: tuple[str, ...] = ()
    step: StepFn | None = None
    torch: TorchMapping | None = None
    weight_decay_convention: str = "coupled"
    alias_of: str | None = None
    #: theory prefix whose recursion ``lr_drop`` iterates (``None``: no LR-drop prediction)
    lr_drop: str | None = None
    #: the rate at which ``lr_drop``'s recursion runs, from (lr, **the spec's other hyperparameters) (None: lr)
    lr_drop_rate: Callable[..., Any] | None = None
    #: hint appended when ``momentum`` is passed to an optimizer that does not take it
    momentum_hint: str = ""
    #: the weights are matrices (the step acts on the last two axes)
    matrix: bool = False


# ------------------------------------------------------------------------------------------------ helpers
def relaxation(mu: Any) -> np.ndarray:
    """Steps for a deviation to shrink by e: −1/ln μ (NaN unless 0 < μ < 1)."""
    mu = np.asarray(mu, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((mu > 0) & (mu < 1), -1.0 / np.log(np.where(mu > 0, mu, 1.0)), np.nan)


def no_equilibrium_where(out: dict[str, Any], mask: Any) -> dict[str, Any]:
    """λ = 0: no equilibrium — the norm grows forever. Norm inf, Δ* = 0, η_e = 0, relaxation inf (ratios NaN);
    ``equilibrium_exists`` says where."""
    mask = np.asarray(mask)
    fill = {
        "angular_update": 0.0,
        "angular_update_first_order": 0.0,
        "angular_update_linearized": 0.0,
        "equilibrium_sq_norm": np.inf,
        "equilibrium_norm": np.inf,
        "equilibrium_norm_first_order": np.inf,
        "effective_lr": 0.0,
        "relaxation_steps": np.inf,
        "eps_ratio": np.nan,
        "l2_to_grad_ratio": np.nan,
    }
    for key, value_if_none in fill.items():
        if key in out:
            value, m = np.broadcast_arrays(np.asarray(out[key], dtype=float), mask)
            out[key] = np.where(m, value_if_none, value)
    out["equilibrium_exists"] = bool(not np.any(mask))
    return out


def theory(name: str) -> Callable[..., Any]:
    """The numeric twin of derivation ``name`` (imports the theory registry lazily)."""
    from ..theory import get

    return get(name)


def as_float(x: Any) -> float:
    """A float from a number or a 0-d tensor/array (``.item()``), without importing torch."""
    return float(x.item()) if hasattr(x, "item") else float(x)


def betas(b2_default: float) -> dict[str, HyperParameter]:
    """β₁, β₂ of the Adam family and Lion."""
    return {
        "beta1": HyperParameter(0.9, 0.0, 1.0, True, False, doc="first-moment decay β₁ in [0, 1)"),
        "beta2": HyperParameter(b2_default, 0.0, 1.0, True, False, doc="second-moment decay β₂ in [0, 1)"),
    }


EPS = {"eps": HyperParameter(1e-8, 0.0, None, True, False, doc="ε ≥ 0 added to √v̂")}
MOMENTUM_DOC = "momentum coefficient α in [0, 1)"
