"""``spheretheory regimes``: ELR sweep of sphere training at fixed ELR, classified into the three regimes."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "regimes",
        help="classify sphere training at fixed ELR into convergence / chaotic equilibrium / divergence "
        "(or undetermined: run too short)",
        description="Train a scale-invariant model on the sphere at each ELR (several seeds), classify "
        "each run "
        "from measured statistics, and compare with the derived regime boundaries.",
    )
    p.add_argument("--model", default="nrq", help="nrq (noisy Rayleigh quotient), toy (wells on S²) or net")
    p.add_argument("--elr", type=float, nargs="+", default=[1e-4, 1e-3, 1e-2, 1e-1, 1.0], help="ELR values")
    p.add_argument("--steps", type=int, default=4000, help="steps per run (default 4000)")
    p.add_argument("--runs", type=int, default=8, help="independent seeds per ELR (default 8)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", default="numpy", help="numpy (any model) or numba (compiled kernel; nrq only)")
    p.add_argument("--json", action="store_true", help='print {"results": [...], "boundaries": {...}}')
    p.add_argument("--plot", metavar="PATH", help="write the phase diagram (PNG)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .._validation import check_output_file, figure_extensions
    from ..regimes.phase import plot_phase_diagram, sweep
    from ._common import format_value, print_json

    if args.plot is not None:
        check_output_file("--plot", args.plot, figure_extensions())
    diagram = sweep(
        args.model,
        args.elr,
        steps=args.steps,
        runs=args.runs,
        seed=args.seed,
        backend=args.backend,
        progress_bar=False if args.no_progress else None,
    )
    if args.plot:
        plot_phase_diagram(diagram, args.plot)
    keys = (
        "elr",
        "regime",
        "confidence",
        "loss",
        "loss_se",
        "loss_level",
        "angular_update",
        "angle_fraction",
        "loss_trend_t",
        "angle_shrink",
        "cos_to_start",
        "diverged_runs",
        "votes",
        "path",
        "convergence_steps",
        "predicted_stationary_loss",
    )
    se_missing = any(r.get("loss_se") is None or r.get("loss_se") != r.get("loss_se") for r in diagram.results)
    se_note = "an SE needs at least two runs that did not diverge (--runs)" if se_missing else None
    if args.json:
        print_json(
            {
                "loss_se_note": se_note,
                "model": diagram.model,
                "steps": diagram.steps,
                "runs": diagram.runs,
                "results": [{k: r.get(k) for k in keys} for r in diagram.results],
                "boundaries": diagram.boundaries,
            }
        )
        return 0
    cols = ("elr", "regime", "confidence", "loss", "loss_se", "loss_level", "angular_update", "loss_trend_t")
    table = [[("—" if r.get(k) is None else format_value(r.get(k))) for k in cols] for r in diagram.results]
    widths = [max(len(c), *(len(row[i]) for row in table)) for i, c in enumerate(cols)]
    print(f"Sphere training at fixed ELR: model={diagram.model}, {diagram.runs} seeds x {diagram.steps} steps")
    print("  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True)))
    for row in table:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))
    if se_note:
        print(f"n/a: {se_note}")
    print("derived boundaries (ELR): " + ", ".join(f"{k}={format_value(v)}" for k, v in diagram.boundaries.items()))
    if any(r["regime"] == "undetermined" for r in diagram.results):
        print(
            "undetermined: the run is too short to tell (shorter than its derived convergence time, or it has not "
            "moved); use more --steps"
        )
    if args.plot:
        print(f"phase diagram written to {args.plot}")
    return 0
