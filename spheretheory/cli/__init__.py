"""Command-line interface: ``spheretheory SUBCOMMAND ...`` (also ``python -m spheretheory``).

Each subcommand lives in its own module of this package and exposes ``add_parser(subparsers)`` (which
registers the sub-parser and sets ``func``) and is listed in ``SUBCOMMANDS``. Modules are imported only
to build the parser; heavy dependencies (sympy, numba, matplotlib) are imported inside the handlers.

Bad input (``ValueError``/``TypeError`` raised by the library, or an argparse error) is reported as a single
line on stderr with exit code 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Subcommand modules, in the order they appear in ``--help``.
SUBCOMMANDS: tuple[str, ...] = (
    "predict",
    "lr_drop",
    "derive",
    "regimes",
    "simulate",
    "check",
    "sweep",
)

EXIT_USAGE = 2


class UsageError(Exception):
    """Raised by the parser on malformed command lines (instead of argparse's exit)."""


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that reports errors as one line (and exit code 2) without the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: error: {message}")


def build_parser() -> argparse.ArgumentParser:
    from .._version import __version__

    parser = OneLineParser(
        prog="spheretheory",
        description="Predict, simulate and check the spherical motion dynamics of scale-invariant weights.",
    )
    parser.add_argument("--version", action="version", version=f"spheretheory {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name in SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spheretheory`` console script; returns the process exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    if getattr(args, "func", None) is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError) as exc:
        message = " ".join(str(exc).split())  # one line, whatever the library wrote
        print(f"spheretheory {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # pragma: no cover - output piped into `head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:  # pragma: no cover - interactive
        print("spheretheory: interrupted", file=sys.stderr)
        return 130
