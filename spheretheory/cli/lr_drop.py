"""``spheretheory lr-drop``: steps to the new equilibrium after dividing the learning rate by k."""

from __future__ import annotations

import argparse

from ..optimizers import SPECS, add_cli_flags, collect_cli_flags
from ._common import print_json, print_notes, print_table

#: the optimizers with an LR-drop prediction (their spec names a recursion to iterate)
DROPPABLE = tuple(name for name, spec in SPECS.items() if spec.lr_drop)

ROWS = (
    ("steps", "exact iteration of the derived norm recursion (first step within rtol)"),
    ("steps_continuous", "closed-form continuous-time approximation"),
    ("paper_bound", "Wan et al. Cor. 3.1 as printed, η = new rate η/k"),
    ("paper_bound_valid", "is the printed bound (new rate) ≤ steps?"),
    ("paper_bound_old_lr", "Cor. 3.1 as printed, η = old rate"),
    ("paper_bound_old_lr_valid", "is the printed bound (old rate) ≤ steps?"),
    ("critical_rtol", "rtol below which the new-rate reading is a valid lower bound (first order)"),
    ("rescale_factor", "k^(-1/4): rescale w at the drop to skip the transition (Sec. 4.2)"),
    ("rescale_factor_exact", "√(x*_new/x*_old): the exact rescale of w"),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "lr-drop",
        help="steps to the new equilibrium after dividing the LR by k (Wan et al. Corollary 3.1)",
        description=(
            "Start at the old equilibrium, divide the learning rate by FACTOR and count the steps until ‖w‖² is "
            "within RTOL of the new equilibrium; compare with the paper's printed bound."
        ),
    )
    p.add_argument("--optimizer", default="sgd", choices=DROPPABLE, help=f"{', '.join(DROPPABLE)} (default sgd)")
    p.add_argument("--lr", type=float, required=True, help="learning rate η > 0 before the drop")
    p.add_argument(
        "--wd", "--weight-decay", dest="weight_decay", type=float, required=True, help="weight decay λ in (0, 1/lr)"
    )
    flags = add_cli_flags(p, DROPPABLE)  # generated from the specs' hyperparameters
    p.add_argument("--factor", type=float, default=10.0, help="k > 1: the LR is divided by k (default 10)")
    p.add_argument("--rtol", type=float, default=0.01, help="relative tolerance on ‖w‖² (default 0.01)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run, hyperparameter_flags=tuple(flags))


def run(args: argparse.Namespace) -> int:
    from ..prediction import lr_drop

    result = lr_drop(
        optimizer=args.optimizer,
        lr=args.lr,
        weight_decay=args.weight_decay,
        factor=args.factor,
        rtol=args.rtol,
        **collect_cli_flags(args, args.hyperparameter_flags),  # lr_drop refuses those the optimizer does not take
    )
    if args.json:
        print_json(result.to_dict())
        return 0
    inputs = ", ".join(f"{k}={v:g}" for k, v in result.inputs.items())
    title = f"spheretheory lr-drop: {result.optimizer} ({inputs})"
    print_table([(k, result.values[k], d) for k, d in ROWS if k in result.values], title=title)
    print_notes(result.values.get("notes", {}))
    return 0
