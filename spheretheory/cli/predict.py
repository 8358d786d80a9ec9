"""``spheretheory predict``: equilibrium predictions from hyperparameters."""

from __future__ import annotations

import argparse

from ..optimizers import SPECS, add_cli_flags, cli_hyperparameters, collect_cli_flags
from ._common import DESCRIBED_ORDER, print_json, print_notes, print_table
from .trajectory import add_schedule_flags


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="predicted equilibrium norm, angular update, effective LR and relaxation time",
        description=(
            "Predict the equilibrium of a scale-invariant weight from hyperparameters alone "
            "(Wan et al. 2021 Thm 1-3; exact discrete values next to the paper's first-order forms)."
        ),
    )
    p.add_argument("--optimizer", default="sgd", help=f"optimizer name ({', '.join(SPECS)}; default sgd)")
    p.add_argument("--lr", type=float, default=None, help="learning rate η > 0 (required unless --solve lr)")
    p.add_argument(
        "--wd", "--weight-decay", dest="weight_decay", type=float, default=None,
        help="weight decay λ in [0, 1/lr) (required unless --solve weight_decay)",
    )  # fmt: skip
    p.add_argument("--unit-grad-sq", type=float, default=1.0, help="L = E‖g̃‖², unit-gradient power (default 1)")
    p.add_argument(
        "--dim",
        type=int,
        default=None,
        help="number of weights in the group (Adam family; sgd/sgdm: adds the finite-width keys)",
    )
    p.add_argument(
        "--quantiles",
        type=float,
        nargs="+",
        default=None,
        metavar="P",
        help="with --dim: quantile levels in (0, 1) of the angular update Δ_t",
    )
    add_cli_flags(p)  # one flag per optimizer hyperparameter, generated from the specs
    p.add_argument(
        "--solve", default=None, metavar="PARAM",
        help="inverse question: solve for lr or weight_decay (constant run) so that --target is met",
    )  # fmt: skip
    p.add_argument(
        "--target", default=None, metavar="QUANTITY=VALUE",
        help=f"with --solve: the equilibrium value to reach, QUANTITY one of {', '.join(SOLVE_TARGETS)} "
        "(tau_iter = 1/(ηλ), the EMA timescale of Wang & Aitchison 2024), e.g. angular_update=0.01; with --steps "
        f"(a scheduled run): the trajectory's value at --at, QUANTITY one of {', '.join(SCHEDULED_TARGETS)}",
    )  # fmt: skip
    # Scheduled inverse question: the same schedule flags (and grammar) as `spheretheory trajectory`.
    p.add_argument("--steps", type=int, default=None, help="with --solve: length T of a scheduled run")
    p.add_argument(
        "--at", default=None,
        help="with --steps: the step of the target, an integer step index in [0, T-1] or a fraction of the run "
        "in (0, 1] written with a decimal point (0.5, 1.0); default the last step",
    )  # fmt: skip
    add_schedule_flags(p, where="grammar: spheretheory trajectory --help")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


#: What ``--target`` may name: the monotone equilibrium outputs ``spheretheory.solve`` inverts, and tau_iter.
SOLVE_TARGETS = (
    "angular_update",
    "angular_update_first_order",
    "effective_lr",
    "equilibrium_sq_norm",
    "relaxation_steps",
    "tau_iter",
)
SOLVE_PARAMETERS = {"lr": "lr", "weight_decay": "weight_decay", "wd": "weight_decay"}
#: What ``--target`` may name for a scheduled run (``--steps``): the trajectory's values at step ``--at``.
SCHEDULED_TARGETS = ("angular_update", "effective_lr", "sq_norm")
#: The flags that make ``--solve`` a scheduled question.
SCHEDULE_FLAGS = ("steps", "at", "lr_schedule", "wd_schedule", "wd_convention")


def parse_target(text: str, allowed: tuple[str, ...] = SOLVE_TARGETS) -> tuple[str, float]:
    """``QUANTITY=VALUE`` → (quantity, value); ``InputError`` naming ``--target`` when malformed or unknown."""
    import math

    from .._validation import InputError, check_choice

    name, sep, value = str(text).partition("=")
    if not sep or not name.strip() or not value.strip():
        raise InputError(f"--target must be QUANTITY=VALUE (e.g. angular_update=0.01); got {text!r}")
    key = check_choice("--target quantity", name, allowed)
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"--target value must be a number; got {value.strip()!r}") from None
    if not (math.isfinite(number) and number > 0):
        raise InputError(f"--target value must be finite and > 0; got {value.strip()!r}")
    return key, number


def run(args: argparse.Namespace) -> int:
    from .._validation import InputError
    from ..prediction import predict

    extra = collect_cli_flags(args, cli_hyperparameters())
    scheduled = [f for f in SCHEDULE_FLAGS if getattr(args, f) is not None]
    if scheduled and args.solve is None:
        raise InputError(f"--{scheduled[0].replace('_', '-')} goes with --solve (for a whole run use trajectory)")
    if args.solve is not None or args.target is not None:
        return _run_solve(args, extra)
    missing = [flag for flag, v in (("--lr", args.lr), ("--wd", args.weight_decay)) if v is None]
    if missing:
        raise InputError(f"predict needs {' and '.join(missing)} (or --solve PARAM --target QUANTITY=VALUE)")
    result = predict(
        optimizer=args.optimizer,
        lr=args.lr,
        weight_decay=args.weight_decay,
        unit_grad_sq=args.unit_grad_sq,
        dim=args.dim,
        quantiles=args.quantiles,
        **extra,
    )
    if args.json:
        print_json(result.to_dict())
        return 0
    _print_result(result)
    if args.dim is None and result.optimizer in ("sgd", "sgdm"):
        print("note: finite-width keys (angular_update_mean/rms/std, equilibrium_sq_norm_mean/std) need --dim")
    if result.values.get("finite_d_in_range") is False:
        print(
            "note: ηλ > (1 − √α)²: the finite-width values are outside their validity range (indicative only; "
            "n/a where the closure has no value)"
        )
    flags = ("norm_hyperparameter_only", "angular_update_hyperparameter_only")
    if not result.values.get("norm_needs_dim") and any(result.values.get(f) is False for f in flags):
        print("note: no hyperparameter-only value exists for some quantities here; see --json for the flags")
    return 0


def _shown(value):
    """NaN means "not available from hyperparameters alone" (a flag says why): show it as n/a."""
    import math

    return "n/a" if isinstance(value, float) and math.isnan(value) else value


def _run_solve(args: argparse.Namespace, extra: dict) -> int:
    """``--solve PARAM --target QUANTITY=VALUE``: the lr or weight_decay that meets the target (constant run),
    then the equilibrium prediction there (the target is re-evaluated from it: ``achieved``)."""
    from .._validation import InputError, check_choice
    from ..prediction import predict
    from ..trajectory_prediction import solve

    if args.solve is None or args.target is None:
        raise InputError("--solve and --target go together, e.g. --solve weight_decay --target angular_update=0.01")
    unknown = SOLVE_PARAMETERS[check_choice("--solve", args.solve, tuple(SOLVE_PARAMETERS))]
    given = {"lr": args.lr, "weight_decay": args.weight_decay}
    flag = {"lr": "--lr", "weight_decay": "--wd"}
    if given[unknown] is not None:
        raise InputError(f"{flag[unknown]} is what --solve {unknown} solves for: drop it")
    other = "weight_decay" if unknown == "lr" else "lr"
    if given[other] is None:
        raise InputError(f"--solve {unknown} needs {flag[other]}")
    if any(getattr(args, f) is not None for f in SCHEDULE_FLAGS):
        return _run_solve_scheduled(args, extra, unknown, other, given[other])
    key, value = parse_target(args.target)
    hyper = {"unit_grad_sq": args.unit_grad_sq, **extra}
    x = solve(args.optimizer, unknown, {key: value}, **{other: given[other]}, **hyper)
    at = {other: given[other], unknown: x}
    result = predict(optimizer=args.optimizer, **at, dim=args.dim, **hyper)
    if key == "tau_iter":
        from ..theory import get

        achieved = float(get("ema.timescale")(**at))
    else:
        achieved = float(result.values[key])
    if args.json:
        print_json({"solve": unknown, "target": {key: value}, unknown: x, "achieved": achieved, **result.to_dict()})
        return 0
    print(f"solved {unknown} = {x:.10g}  ({key} = {achieved:.10g}, target {value:g}; {other} = {given[other]:g})")
    if key == "tau_iter":
        print("  tau_iter = 1/(ηλ): the EMA timescale of decoupled weight decay in iterations (Wang & Aitchison 2024)")
    _print_result(result)
    return 0


def parse_at(text: str | None) -> int | float | None:
    """``--at``: an integer step index ("10000") or, written with a decimal point or exponent, a fraction of the run
    ("0.5", "1.0"); the range is checked by ``spheretheory.trajectory_prediction.at_step``."""
    from .._validation import InputError

    if text is None:
        return None
    t = str(text).strip()
    try:
        return int(t) if t.lstrip("+-").isdigit() else float(t)
    except ValueError:
        msg = f"--at must be a step index (integer) or a fraction of the run in (0, 1]; got {text!r}"
        raise InputError(msg) from None


def _run_solve_scheduled(args: argparse.Namespace, extra: dict, unknown: str, other: str, other_value: float) -> int:
    """``--solve PARAM --target Q=V --steps T [--at A] [--lr-schedule ...]``: the base value whose trajectory gives
    Q = V at step A, then the trajectory's values at that step (``achieved`` re-evaluated from it)."""
    from .._validation import InputError
    from ..trajectory_prediction import at_step, solve, trajectory

    if args.steps is None:
        raise InputError("a scheduled --solve needs --steps (the length of the run the schedules refer to)")
    key, value = parse_target(args.target, SCHEDULED_TARGETS)
    at = parse_at(args.at)
    t = at_step(args.steps - 1 if at is None else at, args.steps)
    sched = {"lr_schedule": args.lr_schedule, "wd_schedule": args.wd_schedule, "wd_convention": args.wd_convention}
    hyper = {"unit_grad_sq": args.unit_grad_sq, "dim": args.dim, **extra}
    x = solve(args.optimizer, unknown, {key: value}, steps=args.steps, at=t, **{other: other_value}, **sched, **hyper)
    tr = trajectory(args.optimizer, args.steps, every=max(t, 1), **{other: other_value, unknown: x}, **sched, **hyper)
    row = {k: float(v[t // max(t, 1)]) for k, v in tr.values.items() if k != "step"}
    if args.json:
        out = {"solve": unknown, "target": {key: value}, "step": t, unknown: x, "achieved": row[key]}
        print_json({**out, "at_step": row, "inputs": tr.inputs, "optimizer": tr.optimizer})
        return 0
    print(
        f"solved {unknown} = {x:.10g}  ({key} = {row[key]:.10g} at step {t} of {args.steps}, target {value:g}; "
        f"{other} = {other_value:g}; lr schedule: {tr.inputs['lr_schedule']}, start: {tr.inputs['initial_state']})"
    )
    print(
        f"  at step {t}: lr_t = {row['lr']:.4g}, wd_t = {row['weight_decay']:.4g}, E|w|^2 = {row['sq_norm']:.4g} "
        f"(x{row['sq_norm_lag']:.3f} of equilibrium), RMS Δ = {row['angular_update']:.4g} rad "
        f"(Δ* = {row['angular_update_equilibrium']:.4g}), eff. LR = {row['effective_lr']:.4g}"
    )
    return 0


def _print_result(result) -> None:
    """The prediction table (title with the inputs, one row per value, then the notes)."""
    from ..prediction import DESCRIPTIONS

    inputs = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in result.inputs.items())
    values = {k: v for k, v in result.values.items() if k != "notes"}
    keys = [k for k in DESCRIBED_ORDER if k in values] + [k for k in values if k not in DESCRIBED_ORDER]
    rows = [(k, _shown(result.values[k]), DESCRIPTIONS.get(k, "")) for k in keys]
    print_table(rows, title=f"spheretheory predict: {result.optimizer} ({inputs})")
    print_notes(result.values.get("notes", {}))
