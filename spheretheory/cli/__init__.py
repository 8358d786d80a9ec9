"""Command-line interface: ``spheretheory SUBCOMMAND ...`` (also ``python -m spheretheory``).

Each subcommand lives in its own module of this package and exposes ``add_parser(subparsers)`` (which
registers the sub-parser and sets ``func``), is listed in ``SUBCOMMANDS`` and is imported by
:func:`_subcommand_module` with a literal import statement (which lint-imports sees). Modules are imported only
to build the parser; heavy dependencies (sympy, numba, matplotlib) are imported inside the handlers.

Bad input (the package's :class:`~spheretheory._validation.InputError` / ``InputTypeError``, an argparse
error, or an output path the OS refuses) is reported as a single line on stderr with exit code 2, never as a
traceback. Running out of memory or another failure of the environment (disk full, ...) is one line with exit
code 1. Any other exception is a bug: it keeps its traceback (exit code 1).
"""

from __future__ import annotations

import argparse
import errno
import gc
import re
import sys
from collections.abc import Sequence
from types import ModuleType

from .._validation import InputError, InputTypeError

#: Subcommand modules, in the order they appear in ``--help`` (each imported by :func:`_subcommand_module`).
SUBCOMMANDS: tuple[str, ...] = (
    "predict",
    "lr_drop",
    "trajectory",
    "derive",
    "regimes",
    "simulate",
    "check",
    "sweep",
)

EXIT_USAGE = 2
EXIT_ENVIRONMENT = 1

#: Tokens that are numbers, not options: ``-1e-4``, ``-.5``, ``-3``, ``-inf`` (argparse's own pattern misses
#: exponents, so ``--wd -1e-4`` used to fail with "expected one argument" instead of the domain error).
_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE)

#: OSError numbers that mean "the path you gave is wrong" (exit 2) rather than "the machine failed" (exit 1).
_PATH_ERRNOS = {
    errno.ENOENT,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENAMETOOLONG,
    errno.EEXIST,
}


class UsageError(Exception):
    """Raised by the parser on malformed command lines (instead of argparse's exit)."""


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that reports errors as one line (and exit code 2) without the usage block."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: error: {message}")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv`` naming a subcommand first, only that subcommand's module is imported.

    Importing every subcommand module costs about 0.06 s per call (issue 15: the fixed cost of a CLI call); the
    full parser is built for top-level help, ``--version`` and unknown commands (whose error lists them all).
    """
    from .._version import __version__

    parser = OneLineParser(
        prog="spheretheory",
        description="Predict, simulate and check the spherical motion dynamics of scale-invariant weights.",
    )
    parser.add_argument("--version", action="version", version=f"spheretheory {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    first = argv[0] if argv else None
    names = [name for name in SUBCOMMANDS if name.replace("_", "-") == first] or SUBCOMMANDS
    for name in names:
        _subcommand_module(name).add_parser(sub)
    return parser


def _subcommand_module(name: str) -> ModuleType:
    """The module of subcommand ``name``, imported on first use: one literal import per subcommand, so that each
    edge is in the import graph lint-imports checks (a module-name string would hide it)."""
    match name:
        case "predict":
            from . import predict as module
        case "lr_drop":
            from . import lr_drop as module
        case "trajectory":
            from . import trajectory as module
        case "derive":
            from . import derive as module
        case "regimes":
            from . import regimes as module
        case "simulate":
            from . import simulate as module
        case "check":
            from . import check as module
        case "sweep":
            from . import sweep as module
        case _:
            raise KeyError(f"no subcommand module {name!r}")
    return module


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spheretheory`` console script; returns the process exit code."""
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    if getattr(args, "func", None) is None:
        parser.print_help()
        return EXIT_USAGE
    prefix = f"spheretheory {args.command}: error:"
    try:
        return int(args.func(args) or 0)
    except (InputError, InputTypeError) as exc:
        print(f"{prefix} {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except MemoryError as exc:
        detail = _one_line(exc) or "MemoryError"
        print(
            f"{prefix} out of memory ({detail}); use fewer trajectories, a smaller --dim or fewer recorded steps",
            file=sys.stderr,
        )
        return EXIT_ENVIRONMENT
    except BrokenPipeError:  # pragma: no cover - output piped into `head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:  # pragma: no cover - interactive
        print("spheretheory: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        what = f"{exc.strerror or exc}: {exc.filename}" if exc.filename else _one_line(exc)
        print(f"{prefix} {what}", file=sys.stderr)
        return EXIT_USAGE if exc.errno in _PATH_ERRNOS else EXIT_ENVIRONMENT


def console() -> int:
    """The process entry point (the ``spheretheory`` console script and ``python -m spheretheory``): :func:`main`,
    then ``gc.freeze()`` just before the process exits.

    After a compiled call, the interpreter's teardown spends ≈ 0.3 s in the garbage collector, walking the
    objects numba created (its typing and lowering registries), against ≈ 0.04 s after a numpy-only call. Frozen
    objects are skipped by every later collection; the process ends right after, so the memory is the operating
    system's to reclaim either way. :func:`main` itself, which tests and scripts call in-process, does not freeze.
    """
    code = main()
    gc.freeze()
    return code


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())  # one line, whatever the library wrote
