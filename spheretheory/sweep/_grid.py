"""Sweep grids: parameter table, parsing of axis specifications, up-front validation, per-point seeds.

A grid maps parameter names to values. A list (tuple, array) of values is an *axis* (a dimension of the result);
a scalar is a *fixed* setting shared by every point. Everything here is numpy-only: no dask, xarray or zarr.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np

from .._validation import InputError, InputTypeError, check_choice, check_int, check_real


@dataclass(frozen=True)
class Parameter:
    """A parameter a grid may vary: its kind, where it goes, and its label (with unit) for tables and plots."""

    kind: str  # "real", "int" or "choice"
    target: str  # "predict" (predict and simulate), "simulate" (simulate only), "optimizer"
    label: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    low_inclusive: bool = True


#: Parameters a grid may name. predict's own hyperparameters (momentum, beta1, beta2, eps) are validated by
#: :func:`spheretheory.predict` at each point (their ranges live in its optimizer registry, written once there).
PARAMETERS: dict[str, Parameter] = {
    "optimizer": Parameter("choice", "optimizer", "optimizer"),
    "lr": Parameter("real", "predict", r"learning rate $\eta$"),
    "weight_decay": Parameter("real", "predict", r"weight decay $\lambda$"),
    "momentum": Parameter("real", "predict", r"momentum $\alpha$"),
    "unit_grad_sq": Parameter("real", "predict", r"$L = E\|\tilde g\|^2$"),
    "beta1": Parameter("real", "predict", r"$\beta_1$"),
    "beta2": Parameter("real", "predict", r"$\beta_2$"),
    "eps": Parameter("real", "predict", r"$\epsilon$"),
    "dim": Parameter("int", "predict", r"dimension $d$", low=2),
    "steps": Parameter("int", "simulate", "iterations", low=1),
    "trajectories": Parameter("int", "simulate", "trajectories per point", low=2),
    "init_norm": Parameter("real", "simulate", r"initial $\|w_0\|$", low=0.0, low_inclusive=False),
    "dtype": Parameter("choice", "simulate", "dtype", choices=("float64", "float32")),
}

#: Optimizer hyperparameters: a point whose optimizer does not take one ignores it (see :func:`canonical_point`).
OPTIMIZER_HYPERPARAMETERS: tuple[str, ...] = ("momentum", "beta1", "beta2", "eps")

#: Hook for schedules (helper "traj", spheretheory.trajectory): names accepted once sweeps can run schedules.
SCHEDULE_PARAMETERS: tuple[str, ...] = ("lr_schedule", "wd_schedule", "grad_schedule", "schedule")

#: Command-line and shorthand aliases.
ALIASES: dict[str, str] = {"wd": "weight_decay", "alpha": "momentum", "L": "unit_grad_sq", "d": "dim"}


def _optimizers() -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """Optimizers known to both predict and simulate, and the hyperparameters each takes (predict's registry)."""
    from ..prediction import optimizers
    from ..simulation._spec import OPTIMIZERS

    specs = optimizers()
    names = tuple(n for n in specs if n in OPTIMIZERS)
    return names, {n: tuple(specs[n].hyperparameters) for n in names}


def needs_dim(optimizer: str) -> bool:
    """Whether predict needs ``dim`` for this optimizer's d → ∞ values (its registry says)."""
    from ..prediction import optimizers

    return bool(getattr(optimizers()[optimizer], "needs_dim", False))


def parse_axis(name: str, text: str) -> list[Any]:
    """Values of one axis from a command-line specification.

    ``"a,b,c"`` lists values; ``"lo:hi:n"`` is n evenly spaced values from lo to hi (both included) and
    ``"lo:hi:nlog"`` n log-spaced ones. Integer parameters (``dim``, ``steps``...) are rounded (duplicates
    dropped); ``optimizer``/``dtype`` take names.
    """
    name = ALIASES.get(name, name)
    param = PARAMETERS.get(name)
    text = text.strip()
    if param is not None and param.kind == "choice":
        return [v.strip() for v in text.split(",") if v.strip()]
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError
            lo, hi, count = parts
            log = count.endswith("log")
            n = int(count[:-3] if log else count)
            if n < 1:
                raise ValueError
            lo_f, hi_f = float(lo), float(hi)
            if log:
                if lo_f <= 0 or hi_f <= 0:
                    raise InputError(f"{name}: a log-spaced axis needs positive ends; got {text!r}")
                values = list(np.logspace(math.log10(lo_f), math.log10(hi_f), n))
            else:
                values = list(np.linspace(lo_f, hi_f, n))
        else:
            values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        if str(exc):
            raise
        raise InputError(f"{name}: expected a,b,c or lo:hi:n or lo:hi:nlog (e.g. 1e-3:1:9log); got {text!r}") from None
    values = [float(v) for v in values]
    if param is not None and param.kind == "int":
        out: list[Any] = []
        for v in values:
            if not any(int(round(v)) == o for o in out):
                out.append(int(round(v)))
        return out
    return values


def _normalize(name: str, value: Any, optimizers: tuple[str, ...]) -> Any:
    param = PARAMETERS[name]
    if name == "optimizer":
        return check_choice("optimizer", value, optimizers)
    if param.kind == "choice":
        return check_choice(name, value, param.choices)
    if param.kind == "int":
        return check_int(name, value, low=int(param.low) if param.low is not None else None)
    arr = check_real(name, value, low=param.low, low_inclusive=param.low_inclusive)
    return float(arr)


@dataclass(frozen=True)
class Grid:
    """A validated grid: ordered axes (name -> tuple of values) and fixed settings."""

    axes: dict[str, tuple[Any, ...]]
    fixed: dict[str, Any]

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(self.axes)

    @property
    def ndim(self) -> int:
        return len(self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.axes.values())

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def points(self) -> Iterator[tuple[tuple[int, ...], dict[str, Any]]]:
        """``(index, parameters)`` of every cell, in C order (fixed settings included)."""
        names = self.dims
        for index in product(*(range(n) for n in self.shape)):
            point = dict(self.fixed)
            point.update({k: self.axes[k][i] for k, i in zip(names, index, strict=True)})
            yield index, point


def make_grid(grid: Mapping[str, Any], problems: list[str] | None = None) -> Grid:
    """Check names, empty axes and each value's type and range; return a :class:`Grid`.

    Every problem found is reported in one ``ValueError`` (all unknown names, all empty axes, all bad values) —
    or, when a ``problems`` list is given, appended to it and the offending entries left out of the grid.
    """
    collect = problems is not None
    if not isinstance(grid, Mapping):
        raise InputTypeError(f"grid must be a mapping from parameter names to values; got {type(grid).__name__}")
    optimizers, takes = _optimizers()
    problems = [] if problems is None else problems
    axes: dict[str, tuple[Any, ...]] = {}
    fixed: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for raw_name, raw in grid.items():
        name = ALIASES.get(raw_name, raw_name)
        if name in seen:
            problems.append(f"{raw_name!r} and {seen[name]!r} name the same parameter")
            continue
        seen[name] = raw_name
        if name in SCHEDULE_PARAMETERS:
            problems.append(
                f"{raw_name!r}: sweeps over schedules are not supported yet (they need spheretheory.trajectory)"
            )
            continue
        if name not in PARAMETERS:
            problems.append(f"unknown parameter {raw_name!r}")
            continue
        is_axis = isinstance(raw, (list, tuple, range, np.ndarray)) and np.ndim(raw) == 1
        if isinstance(raw, np.ndarray) and raw.ndim > 1:
            problems.append(f"{name}: an axis must be one-dimensional; got shape {raw.shape}")
            continue
        values = list(raw) if is_axis else [raw]
        if not values:
            problems.append(f"{name}: empty axis (give at least one value)")
            continue
        good: list[Any] = []
        for v in values:
            try:
                nv = _normalize(name, v.item() if isinstance(v, np.generic) else v, optimizers)
            except (ValueError, TypeError) as exc:
                problems.append(str(exc))
                continue
            if nv in good:
                problems.append(f"{name}: value {nv!r} appears twice")
                continue
            good.append(nv)
        if len(good) == len(values):
            if is_axis:
                axes[name] = tuple(good)
            else:
                fixed[name] = good[0]
    opts = axes.get("optimizer", (fixed.get("optimizer", "sgd"),))
    for name in OPTIMIZER_HYPERPARAMETERS:
        if (name in axes or name in fixed) and not any(name in takes[o] for o in opts):
            # only momentum = 0 means "none" for an optimizer without it (as predict accepts)
            if not (name == "momentum" and all(v == 0 for v in axes.get(name, (fixed.get(name),)))):
                problems.append(f"{name} is not a hyperparameter of {', '.join(opts)}")
                axes.pop(name, None)
                fixed.pop(name, None)
    if problems and not collect:
        raise InputError("bad grid: " + "; ".join(problems))
    return Grid(axes, fixed)


def canonical_point(point: Mapping[str, Any], takes: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """The parameters that define a point's run: the optimizer's own hyperparameters only.

    A grid mixing optimizers crosses, e.g., ``beta1`` with ``sgd``; SGD ignores it, so those cells share one run
    (and one seed). ``momentum = 0`` for an optimizer without momentum is dropped the same way.
    """
    opt = point.get("optimizer", "sgd")
    return {k: v for k, v in sorted(point.items()) if k not in OPTIMIZER_HYPERPARAMETERS or k in takes.get(opt, ())}


def point_key(point: Mapping[str, Any]) -> str:
    """A stable text key of a canonical point (floats by repr, so equal values give equal keys in any process)."""
    items = [[k, repr(float(v)) if isinstance(v, float) else v] for k, v in sorted(point.items())]
    return json.dumps(items, separators=(",", ":"))


def point_seed(base_seed: int, point: Mapping[str, Any]) -> int:
    """Seed of one point: SHA-256 of (base seed, the point's parameters), 63 bits.

    It depends on the point's values only — not on its index, the grid around it, the worker or the order of
    completion — so an extended grid reproduces the old points and any cluster gives the same numbers.
    """
    digest = hashlib.sha256(f"{int(base_seed)}|{point_key(point)}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def describe_point(point: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in point.items()) + "}"
