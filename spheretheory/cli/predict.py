"""``spheretheory predict``: equilibrium predictions from hyperparameters."""

from __future__ import annotations

import argparse

from ._common import DESCRIBED_ORDER, print_json, print_table


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="predicted equilibrium norm, angular update, effective LR and relaxation time",
        description=(
            "Predict the equilibrium of a scale-invariant weight from hyperparameters alone "
            "(Wan et al. 2021 Thm 1-3; exact discrete values next to the paper's first-order forms)."
        ),
    )
    p.add_argument("--optimizer", default="sgd", help="optimizer name (sgd, sgdm, ...; default sgd)")
    p.add_argument("--lr", type=float, required=True, help="learning rate η > 0")
    p.add_argument("--wd", "--weight-decay", dest="weight_decay", type=float, required=True,
                   help="weight decay λ in [0, 1/lr)")
    p.add_argument("--momentum", type=float, default=None, help="heavy-ball momentum α in [0, 1) (sgdm)")
    p.add_argument("--unit-grad-sq", type=float, default=1.0, help="L = E‖g̃‖², unit-gradient power (default 1)")
    p.add_argument("--dim", type=int, default=None,
                   help="number of weights in the group (Adam family; sgd/sgdm: adds the finite-width keys)")
    p.add_argument("--quantiles", type=float, nargs="+", default=None, metavar="P",
                   help="with --dim: quantile levels in (0, 1) of the angular update Δ_t")
    p.add_argument("--beta1", type=float, default=None, help="first-moment coefficient (Adam family, Lion)")
    p.add_argument("--beta2", type=float, default=None, help="second-moment coefficient (Adam family, Lion)")
    p.add_argument("--eps", type=float, default=None, help="Adam's ε")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..prediction import DESCRIPTIONS, predict

    extra = {k: getattr(args, k) for k in ("beta1", "beta2", "eps") if getattr(args, k) is not None}
    result = predict(
        optimizer=args.optimizer,
        lr=args.lr,
        weight_decay=args.weight_decay,
        momentum=args.momentum,
        unit_grad_sq=args.unit_grad_sq,
        dim=args.dim,
        quantiles=args.quantiles,
        **extra,
    )
    if args.json:
        print_json(result.to_dict())
        return 0
    inputs = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in result.inputs.items())
    keys = [k for k in DESCRIBED_ORDER if k in result.values] + [k for k in result.values if k not in DESCRIBED_ORDER]
    rows = [(k, _shown(result.values[k]), DESCRIPTIONS.get(k, "")) for k in keys]
    print_table(rows, title=f"spheretheory predict: {result.optimizer} ({inputs})")
    if args.dim is None and result.optimizer in ("sgd", "sgdm"):
        print("note: finite-width keys (angular_update_mean/rms/std, equilibrium_sq_norm_mean/std) need --dim")
    if result.values.get("finite_d_in_range") is False:
        print("note: ηλ > (1 − √α)²: the finite-width values are outside their validity range (indicative only; "
              "n/a where the closure has no value)")
    if result.values.get("norm_needs_dim"):
        print("note: n/a norms scale with the number of weights in the group: pass --dim to get them")
    elif any(result.values.get(f) is False for f in ("norm_hyperparameter_only", "angular_update_hyperparameter_only")):
        print("note: no hyperparameter-only value exists for some quantities here; see --json for the flags")
    return 0


def _shown(value):
    """NaN means "not available from hyperparameters alone" (a flag says why): show it as n/a."""
    import math

    return "n/a" if isinstance(value, float) and math.isnan(value) else value
