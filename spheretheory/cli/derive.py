"""``spheretheory derive``: list the derivations, or print one (steps, assumptions, source, LaTeX)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "derive",
        help="list or show the sympy derivations behind every prediction",
        description="Show a derivation: the sympy result, its steps, assumptions, the paper and equation, LaTeX.",
    )
    p.add_argument("name", nargs="?", help="derivation name (see --list)")
    p.add_argument("--list", action="store_true", help="list all derivations with their titles")
    p.add_argument("--latex", action="store_true", help="print only the LaTeX of the result")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import theory

    if args.list or not args.name:
        derivations = theory.all_derivations()
        width = max(len(d.name) for d in derivations)
        for d in derivations:
            print(f"{d.name:<{width}}  {d.title}")
        return 0
    d = theory.get(args.name)
    print(d.latex if args.latex else d.describe())
    return 0
