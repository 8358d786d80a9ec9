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
    p.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object: {"derivations": [{name, title, source}, ...]} with --list, else the '
        "derivation's name, title, source, parameters, assumptions, steps, result, LaTeX and notes",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .._validation import InputError
    from ..theory import all_derivations, get
    from ._common import print_json

    if args.list or not args.name:
        if args.name:
            raise InputError("give a derivation NAME or --list, not both")
        derivations = all_derivations()
        if args.json:
            print_json({"derivations": [{"name": d.name, "title": d.title, "source": d.source} for d in derivations]})
            return 0
        width = max(len(d.name) for d in derivations)
        for d in derivations:
            print(f"{d.name:<{width}}  {d.title}")
        return 0
    d = get(args.name)
    if args.json:
        print_json(
            {
                "name": d.name,
                "title": d.title,
                "source": d.source,
                "parameters": list(d.parameters),
                "assumptions": list(d.assumptions),
                "steps": [step.render() for step in d.steps],
                "result": str(d.expr),
                "latex": d.latex,
                "numeric": "generated from the expression" if d.codegen else "hand-written",
                "notes": d.notes.strip(),
            }
        )
        return 0
    print(d.latex if args.latex else d.describe())
    return 0
