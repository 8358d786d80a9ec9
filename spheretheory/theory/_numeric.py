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


def jitable(*fns: Callable[..., Any]) -> tuple[tuple[Callable[..., Any], ...], int]:
    """The generated scalar functions ``fns`` made callable from numba-compiled code, and a cache tag.

    A compiled loop should close over these (plain functions, pickled by reference), not over numba dispatchers:
    numba pickles a dispatcher with a per-process id, so a loop closing over one gets a new cache key in every
    process and is compiled again each time (numba/numba#6264). The tag, a CRC of the functions' bytecode and
    constants, is meant to be a closure constant of the loop: regenerating the theory changes it, and with it the
    loop's cache key (numba's key covers the loop's own source file only). Imports numba.
    """
    import zlib

    from numba.extending import register_jitable

    tag = 0
    for f in fns:
        tag = zlib.crc32(f.__code__.co_code + repr(f.__code__.co_consts).encode(), tag)
    return tuple(register_jitable(f) for f in fns), int(tag)
