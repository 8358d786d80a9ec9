"""Symbolic theory engine: named derivations (sympy) with fast numeric twins (numpy).

Usage::

    from spheretheory import theory
    theory.names()                          # all registered derivations
    d = theory.get("sgd.angular_update")    # a Derivation
    d.expr, d.latex, d.steps, d.assumptions, d.source
    d(lr=0.1, weight_decay=5e-4)            # vectorized numeric evaluation (no sympy import)

Derivation modules are listed in ``_MODULES``; each calls :func:`register` at import. Importing this package
does not import sympy.
"""

from __future__ import annotations

import importlib

from .._validation import InputError
from .base import Derivation, DerivationResult, Step

__all__ = ["Derivation", "DerivationResult", "Step", "register", "get", "names", "all_derivations"]

#: Modules that register derivations (imported on first registry access).
_MODULES: tuple[str, ...] = (
    "spheretheory.theory.sgd",
    "spheretheory.theory.sgdm",
    "spheretheory.theory.nesterov",
    "spheretheory.theory.nrq",
    "spheretheory.theory.toy",
    "spheretheory.theory.adam",
    "spheretheory.theory.adamw",
    "spheretheory.theory.lion",
    "spheretheory.theory.adam_l2",
    "spheretheory.theory.adamsrt",
    "spheretheory.theory.muon",
    "spheretheory.theory.finite_d",
    "spheretheory.theory.trajectory",
    "spheretheory.theory.li_arora",
    "spheretheory.theory.kunin",
    "spheretheory.theory.ema",
)

_REGISTRY: dict[str, Derivation] = {}
_loaded = False


def register(derivation: Derivation) -> Derivation:
    """Add ``derivation`` to the registry (names must be unique)."""
    if derivation.name in _REGISTRY:
        raise ValueError(f"derivation {derivation.name!r} is already registered")
    _REGISTRY[derivation.name] = derivation
    return derivation


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in _MODULES:
            importlib.import_module(module)


def names() -> list[str]:
    """Names of all registered derivations, sorted."""
    _load()
    return sorted(_REGISTRY)


def get(name: str) -> Derivation:
    """The derivation called ``name``; ``ValueError`` listing the known names otherwise."""
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InputError(f"unknown derivation {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def all_derivations() -> list[Derivation]:
    _load()
    return [_REGISTRY[n] for n in sorted(_REGISTRY)]
