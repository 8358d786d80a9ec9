"""Symbolic theory engine: named derivations (sympy) with fast numeric twins (numpy).

Usage::

    from spheretheory import theory
    theory.names()                          # all registered derivations
    d = theory.get("sgd.angular_update")    # a Derivation
    d.expr, d.latex, d.steps, d.assumptions, d.source
    d(lr=0.1, weight_decay=5e-4)            # vectorized numeric evaluation (no sympy import)

Derivation modules are imported by :func:`_load` on first registry access (literal import statements, which
lint-imports sees); each calls :func:`register` at import. Importing this package does not import sympy.
"""

from __future__ import annotations

from .._validation import InputError
from .base import Derivation, DerivationResult, Step

__all__ = ["Derivation", "DerivationResult", "Step", "register", "get", "names", "all_derivations"]

_REGISTRY: dict[str, Derivation] = {}
_loaded = False


def register(derivation: Derivation) -> Derivation:
    """Add ``derivation`` to the registry (names must be unique)."""
    if derivation.name in _REGISTRY:
        raise ValueError(f"derivation {derivation.name!r} is already registered")
    _REGISTRY[derivation.name] = derivation
    return derivation


def _load() -> None:
    """Import the modules that register derivations (once, on first registry access)."""
    global _loaded
    if not _loaded:
        _loaded = True
        from . import (  # noqa: F401 - imported to register their derivations
            adam,
            adam_l2,
            adamsrt,
            adamw,
            ema,
            finite_d,
            kunin,
            li_arora,
            lion,
            muon,
            nesterov,
            nrq,
            schedule_forms,
            sgd,
            sgdm,
            toy,
            trajectory,
        )


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
