"""Access to the numeric functions generated from the sympy derivations (pure numpy; no sympy import)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def function_name(derivation_name: str) -> str:
    """Python identifier of the generated function for ``derivation_name`` (dots become double underscores)."""
    return derivation_name.replace(".", "__")


def generated(derivation_name: str) -> Callable[..., Any]:
    """A callable that evaluates the generated numpy function of ``derivation_name``.

    The lookup is lazy so that a derivation can be registered before its function has been generated (the codegen
    needs the registry); calling it before ``python -m spheretheory.theory.codegen`` has been run raises a clear
    error.
    """
    fname = function_name(derivation_name)

    def numeric(**kwargs: Any) -> Any:
        from . import _generated

        try:
            fn = getattr(_generated, fname)
        except AttributeError:
            raise RuntimeError(
                f"no generated numeric function for {derivation_name!r}: run "
                "`python -m spheretheory.theory.codegen` to regenerate spheretheory/theory/_generated.py"
            ) from None
        return fn(**kwargs)

    numeric.__name__ = fname
    numeric.__doc__ = f"Generated numpy evaluation of derivation {derivation_name!r}."
    return numeric
