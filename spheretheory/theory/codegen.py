"""Generate ``_generated.py``: numpy functions printed from the sympy derivations.

Run after adding or changing a derivation with ``codegen=True``::

    python -m spheretheory.theory.codegen          # rewrite spheretheory/theory/_generated.py
    python -m spheretheory.theory.codegen --check  # exit 1 if the file is out of date (also a test)

The prediction path imports only the generated module (numpy), never sympy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import all_derivations
from ._numeric import function_name

GENERATED = Path(__file__).with_name("_generated.py")

HEADER = '''"""Numeric functions generated from the sympy derivations. DO NOT EDIT.

Regenerate with ``python -m spheretheory.theory.codegen``; ``tests/test_theory.py`` fails when this file is out of
date. Each function is vectorized (numpy broadcasting) and named after its derivation (dots -> double underscores).
"""

# ruff: noqa
import numpy
'''


def render() -> str:
    """The full text of ``_generated.py`` for the current registry."""
    import sympy as sp
    from sympy.printing.numpy import NumPyPrinter

    printer = NumPyPrinter({"fully_qualified_modules": True, "allow_unknown_functions": False})
    chunks = [HEADER]
    for d in all_derivations():
        if not d.codegen:
            continue
        expr = d.expr
        args = ", ".join(d.parameters)
        free = {s.name for s in expr.free_symbols} if hasattr(expr, "free_symbols") else set()
        unknown = free - set(d.parameters)
        if unknown:
            raise ValueError(
                f"derivation {d.name}: expression has symbols {sorted(unknown)} not in parameters"
            )
        if isinstance(expr, (sp.Tuple, tuple, list, sp.MatrixBase)):
            body = "(" + ", ".join(printer.doprint(e) for e in expr) + ",)"
        else:
            body = printer.doprint(expr)
        # broadcast so constant expressions still return arrays of the parameters' shape
        zero = " + ".join(f"0 * numpy.asarray({p}, dtype=float)" for p in d.parameters)
        doc = d.title.replace('"', "'")
        if isinstance(expr, (sp.Tuple, tuple, list, sp.MatrixBase)):
            ret = f"    _z = {zero}\n    return tuple(_e + _z for _e in {body})\n"
        else:
            ret = f"    return ({body}) + ({zero})\n"
        if "numpy.select" in body:
            # numpy.select evaluates every branch: silence the warnings of the branches not taken
            ret = "    with numpy.errstate(invalid='ignore', divide='ignore'):\n" + "\n".join(
                "    " + line for line in ret.splitlines()
            ) + "\n"
        chunks.append(f'\n\ndef {function_name(d.name)}({args}):\n    """{doc}"""\n{ret}')
        if "numpy.select" not in body:
            # scalar twin without broadcasting helpers, compilable by numba (used by the iteration kernels)
            chunks.append(
                f'\n\ndef {function_name(d.name)}__scalar({args}):\n    """{doc} (scalar, numba-compilable)"""\n'
                f"    return {body}\n"
            )
    return "".join(chunks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when _generated.py is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = GENERATED.read_text() if GENERATED.exists() else ""
        if current != text:
            print(
                "spheretheory/theory/_generated.py is out of date; run python -m spheretheory.theory.codegen"
            )
            return 1
        print("up to date")
        return 0
    GENERATED.write_text(text)
    print(f"wrote {GENERATED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
