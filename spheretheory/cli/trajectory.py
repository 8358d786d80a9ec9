"""``spheretheory trajectory``: the predicted whole run under a schedule, beside the instantaneous equilibrium."""

from __future__ import annotations

import argparse

from .._validation import InputError
from ._common import format_value, print_json

#: Table columns: (key, header).
COLUMNS = (
    ("step", "step"),
    ("lr", "lr"),
    ("weight_decay", "wd"),
    ("sq_norm", "E|w|^2"),
    ("sq_norm_lag", "/eq"),
    ("angular_update", "RMS Δ (rad)"),
    ("angular_update_equilibrium", "Δ* (rad)"),
    ("angular_update_lag", "Δ/Δ*"),
    ("effective_lr", "eff. LR"),
    ("effective_lr_lag", "/eq"),
    ("grad_norm_ratio", "|g|/|w|"),
)
#: Records kept when --every is not given (the table interpolates nothing: it shows the nearest record).
AUTO_RECORDS = 4000


def _fractions(text: str) -> list[float]:
    try:
        out = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--fractions must be comma-separated numbers in [0, 1]; got {text!r}"
        ) from None
    if not out or any(not 0 <= f <= 1 for f in out):
        raise argparse.ArgumentTypeError(f"--fractions must be comma-separated numbers in [0, 1]; got {text!r}")
    return out


def add_schedule_flags(p: argparse.ArgumentParser, where: str = "grammar below") -> None:
    """``--lr-schedule``, ``--wd-schedule``, ``--wd-convention`` (strings in :data:`spheretheory.schedules.GRAMMAR`,
    parsed by :func:`spheretheory.schedules.as_schedule` inside :func:`spheretheory.trajectory`); shared with
    ``predict --solve`` for scheduled runs."""
    p.add_argument("--lr-schedule", default=None, help=f'LR multiplier, e.g. "warmup:2000,cosine:0" ({where})')
    p.add_argument("--wd-schedule", default=None, help="weight-decay multiplier (same grammar)")
    p.add_argument(
        "--wd-convention",
        default=None,
        choices=("coupled", "decoupled", "independent", "adamc"),
        help="how λ follows the LR schedule (default: λ fixed, the optimizer's usual placement)",
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ..schedules import GRAMMAR

    p = sub.add_parser(
        "trajectory",
        help="predict ‖w‖², Δ_t and the effective LR over a whole run under an LR / weight-decay schedule",
        description=(
            "Iterate the derived mean-field map of the optimizer with each step's hyperparameters and print the "
            "predicted E‖w_t‖², RMS angular update Δ_t and effective LR at chosen fractions of the run, beside the "
            "instantaneous equilibrium (Δ*) of that step's hyperparameters and the ratio (lag)."
        ),
        epilog="Schedule grammar (--lr-schedule, --wd-schedule):\n" + GRAMMAR,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--optimizer", default="sgdm", help="sgd, sgdm, nesterov, adam, adamw or lion (default sgdm)")
    p.add_argument("--steps", type=int, required=True, help="number of iterations T >= 1")
    p.add_argument("--lr", type=float, required=True, help="base learning rate η > 0")
    p.add_argument(
        "--wd",
        "--weight-decay",
        dest="weight_decay",
        type=float,
        required=True,
        help="base weight decay λ > 0 (PyTorch's weight_decay)",
    )
    p.add_argument("--unit-grad-sq", type=float, default=1.0, help="L = E‖g̃‖² (default 1)")
    p.add_argument("--momentum", type=float, default=None, help="α in [0, 1) (sgdm, nesterov)")
    p.add_argument("--beta1", type=float, default=None, help="β₁ (adam, adamw, lion)")
    p.add_argument("--beta2", type=float, default=None, help="β₂ (adam, adamw, lion)")
    p.add_argument("--eps", type=float, default=None, help="ε (adam, adamw)")
    p.add_argument("--dim", type=int, default=None, help="weights in the group (needed by adam, adamw, lion)")
    p.add_argument(
        "--sq-norm0",
        type=float,
        default=None,
        help="start at ‖w₀‖² with zero momentum (default: the first step's equilibrium)",
    )
    add_schedule_flags(p)
    p.add_argument(
        "--fractions",
        type=_fractions,
        default=_fractions("0,0.25,0.5,0.75,0.9,0.95,1"),
        help="fractions of the run for the table (default 0,0.25,0.5,0.75,0.9,0.95,1)",
    )
    p.add_argument(
        "--every", type=int, default=None, help=f"record every k-th step (default: about {AUTO_RECORDS} records)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object with one array per quantity")
    p.add_argument("--plot", metavar="PATH", default=None, help="save a figure (PNG/PDF/SVG) of the predicted run")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..trajectory_prediction import trajectory

    if args.steps is not None and args.steps < 1:
        raise InputError(f"--steps must be an integer >= 1; got {args.steps}")
    every = args.every if args.every is not None else max(1, args.steps // AUTO_RECORDS)
    tr = trajectory(
        args.optimizer,
        steps=args.steps,
        lr=args.lr,
        weight_decay=args.weight_decay,
        unit_grad_sq=args.unit_grad_sq,
        momentum=args.momentum,
        beta1=args.beta1,
        beta2=args.beta2,
        eps=args.eps,
        dim=args.dim,
        sq_norm0=args.sq_norm0,
        every=every,
        lr_schedule=args.lr_schedule,
        wd_schedule=args.wd_schedule,
        wd_convention=args.wd_convention,
    )
    if args.plot:
        plot(tr, args.plot)
    if args.json:
        print_json(tr.to_dict())
        return 0
    _print_table(tr, args.fractions)
    if args.plot:
        print(f"figure written to {args.plot}")
    return 0


def _print_table(tr, fractions: list[float]) -> None:
    inp = tr.inputs
    print(
        f"spheretheory trajectory: {tr.optimizer}, {inp['steps']} steps, lr schedule: {inp['lr_schedule']}, "
        f"wd: {inp['wd_schedule']} ({'decoupled' if inp['decoupled'] else 'coupled'}), start: "
        f"{inp['initial_state']}"
    )
    rows = tr.at_fraction(fractions)
    header = ["frac", *(h for _, h in COLUMNS)]
    cells = [[f"{f:g}", *(format_value(rows[k][i]) for k, _ in COLUMNS)] for i, f in enumerate(fractions)]
    widths = [max(len(h), *(len(c[j]) for c in cells)) for j, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    for c in cells:
        print("  ".join(v.rjust(w) for v, w in zip(c, widths, strict=True)))
    print(
        "Δ* and the /eq columns: the fixed point of the same map at that step's hyperparameters (the instantaneous "
        "equilibrium); Δ/Δ* < 1 means the norm lags behind a falling LR."
    )


def plot(tr, path: str) -> None:
    """Predicted E‖w_t‖², RMS Δ_t and effective LR (solid) with the instantaneous equilibrium (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (
        ("sq_norm", r"$\mathbb{E}\|w_t\|^2$ (norm²)", "linear"),
        ("angular_update", r"RMS $\Delta_t$ (rad/step)", "log"),
        ("effective_lr", r"$\eta_t/\|w_t\|^2$ (1/step)", "log"),
        ("grad_norm_ratio", r"$\|g_t\|/\|w_t\|$", "log"),
    )
    fig, axes = plt.subplots(len(panels), 1, figsize=(7.5, 9.0), sharex=True, constrained_layout=True)
    for ax, (key, label, scale) in zip(axes, panels, strict=True):
        ax.plot(tr.step, tr.values[key], color="C0", lw=1.6, label="predicted (mean-field map)")
        ax.plot(
            tr.step, tr.values[f"{key}_equilibrium"], color="C1", lw=1.2, ls="--", label="instantaneous equilibrium"
        )
        ax.set_ylabel(label, fontsize=10)
        ax.set_yscale(scale)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="best", fontsize=9)
    axes[-1].set_xlabel("iteration $t$ (steps)")
    inp = tr.inputs
    axes[0].set_title(f"{tr.optimizer}: {inp['lr_schedule']}", fontsize=10)
    fig.savefig(path, dpi=130)
    plt.close(fig)
