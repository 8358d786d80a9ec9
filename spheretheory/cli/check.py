"""``spheretheory check``: run the claim registry and print verdicts (docs/claims.md)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._validation import InputError

EXIT_BROKEN = 1


def _parse_set(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise InputError(f"--set must be NAME=VALUE; got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = float(v) if any(ch in v for ch in ".eE") or not v.strip().lstrip("-").isdigit() else int(v)
        except ValueError as exc:
            raise InputError(f"--set {k}: value must be a number; got {v!r}") from exc
    return out


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "check",
        help="check the papers' claims against simulation (verdict table, report)",
        description="Run the registered claims: prediction vs simulated value with its uncertainty and a verdict "
        "(holds / holds to first order / fails / not checkable). Exit 0 when every claim reached a verdict, 1 when "
        "a check broke, 2 on bad input.",
    )
    p.add_argument("--paper", help="only this paper's claims (e.g. wan2021)")
    p.add_argument("--claim", action="append", nargs="+", metavar="ID", help="only these claim ids (repeatable)")
    p.add_argument("--quick", action="store_true", help="smaller runs (the whole registry in under two minutes)")
    p.add_argument("--report", metavar="DIR", help="write DIR/report.md and its PNG figures")
    p.add_argument(
        "--json", action="store_true", help='print {"claims": [...]} instead of the table (also with --list)'
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="re-run at other hyperparameters (validated against each claim's domain; with --paper or "
        "no selection a value applies to the claims that take it)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--list", action="store_true", help="list the claims and their domains, run nothing")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .._validation import check_choice, check_int, check_output_dir
    from ..claims import PAPERS, claims, get, run_many
    from ..claims.report import print_table, write_report
    from ._common import print_json

    check_int("--seed", args.seed, low=0)
    if args.paper is not None:
        args.paper = check_choice("--paper", args.paper, PAPERS)
    if args.report is not None:
        check_output_dir("--report", args.report)
    args.claim = [cid for group in args.claim or [] for cid in group] or None
    if args.claim:
        selected = [get(cid) for cid in args.claim]
        if args.paper:
            selected = [c for c in selected if c.paper_key == args.paper]
    else:
        selected = claims(args.paper)
    if not selected:
        raise InputError(
            f"no claim selected: --claim {' '.join(args.claim or [])} and --paper {args.paper} have none in common"
        )
    if args.list:
        if args.json:
            print_json(
                {
                    "claims": [
                        {
                            "id": c.id,
                            "where": c.where,
                            "statement": c.statement,
                            "domain": {
                                k: {"interval": p.interval(), "default": p.default} for k, p in c.domain.items()
                            },
                        }
                        for c in selected
                    ]
                }
            )
            return 0
        for c in selected:
            dom = ", ".join(f"{k} ∈ {p.interval()} (default {p.default:g})" for k, p in c.domain.items())
            print(f"{c.id}  [{c.where}]  {c.statement}\n    {dom}")
        return 0
    overrides = _parse_set(args.set)
    if overrides:
        unknown = [k for k in overrides if not any(k in c.domain for c in selected)]
        if unknown:
            raise InputError(f"no selected claim takes {', '.join(unknown)}")
        if args.claim:  # explicitly named claims must all accept every override
            for c in selected:
                c.params(overrides)
    results = run_many(
        selected,
        overrides,
        quick=args.quick,
        seed=args.seed,
        progress=False if args.no_progress else None,
        strict=bool(args.claim),  # named claims must accept the overrides; a paper run marks refusals
    )
    if args.json:
        print_json({"claims": [r.to_dict() for r in results]})
    else:
        print_table(results)
    if args.report:
        path = write_report(results, args.report, command="spheretheory " + " ".join(sys.argv[1:]))
        print(f"report: {path}", file=sys.stderr)
    return EXIT_BROKEN if any(r.outcome is None for r in results) else 0
