"""``spheretheory simulate``: run the discrete dynamics and compare the equilibrium with ``predict``.

Prints, per hyperparameter point, the equilibrium statistics over the last quarter of the run (means with
standard errors across independent trajectories) next to the values of :func:`spheretheory.predict`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="simulate many trajectories and compare the equilibrium with the predictions",
        description=(
            "Simulate scale-invariant weights under SGD/SGDM/Nesterov/Adam/AdamW/Lion with weight decay "
            "(synthetic isotropic gradients with E||g~||^2 = L) and print the equilibrium statistics over "
            "the last quarter of the run, mean +- standard error across trajectories, next to "
            "`spheretheory predict`. Several values of --lr/--wd/--momentum/--unit-grad-sq form a grid "
            "(same length, or one value)."
        ),
    )
    p.add_argument("--optimizer", default="sgdm", help="sgd, sgdm, nesterov, adam, adamw or lion (default sgdm)")
    p.add_argument("--lr", type=float, nargs="+", default=[0.1], help="learning rate eta (default 0.1)")
    p.add_argument("--wd", type=float, nargs="+", default=[1e-3], help="weight decay lambda (default 1e-3)")
    p.add_argument("--momentum", type=float, nargs="+", default=None, help="alpha (default 0.9 for sgdm)")
    p.add_argument("--unit-grad-sq", type=float, nargs="+", default=[1.0], help="L = E||g~||^2 (default 1)")
    p.add_argument("--beta1", type=float, default=0.9, help="Adam/Lion beta1 (default 0.9)")
    p.add_argument("--beta2", type=float, default=None, help="Adam/Lion beta2 (default 0.999 / 0.99)")
    p.add_argument("--eps", type=float, default=1e-8, help="Adam epsilon (default 1e-8)")
    p.add_argument("--decoupled", choices=["yes", "no"], default=None, help="decoupled weight decay")
    p.add_argument("--dim", type=int, default=256, help="dimension d (default 256)")
    p.add_argument("--steps", type=int, default=20_000, help="iterations (default 20000)")
    p.add_argument("--trajectories", type=int, default=512, help="trajectories per point (default 512)")
    p.add_argument("--backend", default="auto", help="auto (default; numpy for small runs), numba, numpy, cupy")
    p.add_argument("--method", default="full", help="full (default) or reduced")
    p.add_argument("--dtype", default="float64", help="float64 (default) or float32")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--init-norm", type=float, default=1.0, help="initial ||w|| (default 1)")
    p.add_argument("--lr-drop", type=int, nargs="*", default=None, metavar="STEP", help="divide lr at STEPs")
    p.add_argument("--drop-factor", type=float, default=10.0, help="factor k of each lr drop (default 10)")
    p.add_argument("--rescale-on-drop", action="store_true", help="divide w by k^(1/4) at each drop (Wan 4.2)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="PATH", help="write ||w||^2 and Delta_t against the predictions (PNG)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _predictions(opt: str, params: dict[str, np.ndarray], dim: int) -> list[dict[str, float] | None]:
    """``predict`` at each grid point (None where predict is unavailable or does not cover the case).

    Passes ``dim`` and the optimizer's own hyperparameters (momentum, beta1, beta2, eps) where ``predict``'s
    optimizer registry declares them.
    """
    import importlib

    try:
        # the module, not the package's lazy ``predict`` attribute (which is the function)
        predict_module = importlib.import_module("spheretheory.prediction")
    except ImportError:
        print("spheretheory simulate: note: spheretheory.predict is not available", file=sys.stderr)
        return [None] * len(params["lr"])
    spec = None
    if hasattr(predict_module, "optimizers"):
        spec = predict_module.optimizers().get(opt)
    declared = set(getattr(spec, "hyperparameters", {}) or {})
    if spec is None:
        declared = {"momentum"} if opt in ("sgdm", "nesterov") else set()
    out: list[dict[str, float] | None] = []
    for g in range(len(params["lr"])):
        kw: dict[str, Any] = dict(
            optimizer=opt,
            lr=float(params["lr"][g]),
            weight_decay=float(params["weight_decay"][g]),
            unit_grad_sq=float(params["unit_grad_sq"][g]),
        )
        for name in ("momentum", "beta1", "beta2", "eps"):
            if name in declared:
                kw[name] = float(params[name][g])
        kw["dim"] = dim  # some optimizers' norm needs it (AdamW, Lion); the SGD family ignores it
        try:
            try:
                p = predict_module.predict(**kw)
            except TypeError:
                kw.pop("dim")
                p = predict_module.predict(**kw)
        except (ValueError, TypeError, NotImplementedError) as exc:
            print(f"spheretheory simulate: note: no prediction for {opt}: {exc}", file=sys.stderr)
            out.append(None)
            continue
        d = {}
        for key in ("equilibrium_sq_norm", "angular_update", "angular_update_first_order", "effective_lr"):
            value = getattr(p, key, None)
            d[key] = None if value is None else float(np.asarray(value).reshape(-1)[0])
        out.append(d)
    return out


def run(args: argparse.Namespace) -> int:
    from ..simulation import simulate, step_decay
    from ._common import format_value, print_json

    momentum = args.momentum
    if momentum is None:
        momentum = [0.9] if args.optimizer.strip().lower() in ("sgdm", "nesterov") else [0.0]
    schedule = None
    if args.lr_drop:
        schedule = step_decay(args.lr_drop, args.drop_factor)
    record_every = max(1, args.steps // 2000)  # at most ~2000 records for the plot; stats use every step
    try:
        res = simulate(
            args.optimizer,
            np.array(args.lr),
            np.array(args.wd),
            np.array(momentum),
            dim=args.dim,
            steps=args.steps,
            trajectories=args.trajectories,
            unit_grad_sq=np.array(args.unit_grad_sq),
            lr_schedule=schedule,
            rescale_on_drop=args.rescale_on_drop,
            beta1=args.beta1,
            beta2=args.beta2,
            eps=args.eps,
            decoupled=None if args.decoupled is None else args.decoupled == "yes",
            init_norm=args.init_norm,
            record_every=record_every,
            record="series" if args.plot else "summary",  # the statistics need only the streaming summaries
            backend=args.backend,
            method=args.method,
            seed=args.seed,
            dtype=args.dtype,
            progress=False if args.no_progress else None,
        )
    except (ImportError, NotImplementedError) as exc:  # cupy missing, reduced simulator missing
        raise ValueError(str(exc)) from exc

    # statistics over the last quarter, from the streaming summaries (every iteration of the window)
    names = ("sq_norm", "angular_update", "unit_grad_sq", "h_tilde", "effective_lr")
    stats = res.equilibrium_stats(quantities=names, source="summary")
    m, v = res.summary["angular_update_mean"], res.summary["angular_update_var"]
    rms_traj = np.sqrt(m**2 + v)
    ok = np.isfinite(rms_traj)
    n_ok = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rms = np.where(ok, rms_traj, 0).sum(axis=1) / n_ok
        rms_se = np.sqrt(np.where(ok, (rms_traj - rms[:, None]) ** 2, 0).sum(axis=1) / (n_ok - 1) / n_ok)
    preds = _predictions(res.config["optimizer"], res.params, res.config["dim"])

    G = res.grid_size
    rows: list[dict[str, Any]] = []
    for g in range(G):
        row: dict[str, Any] = {k: float(res.params[k][g]) for k in ("lr", "weight_decay", "momentum", "unit_grad_sq")}
        for q, s in stats.items():
            row[f"{q}_mean"] = float(s.mean[g])
            row[f"{q}_se"] = float(s.se[g])
        row["angular_update_rms"] = float(rms[g])
        row["angular_update_rms_se"] = float(rms_se[g])
        p = preds[g] or {}
        row["predicted_sq_norm"] = p.get("equilibrium_sq_norm")
        row["predicted_angular_update"] = p.get("angular_update")
        row["predicted_angular_update_first_order"] = p.get("angular_update_first_order")
        row["predicted_effective_lr"] = p.get("effective_lr")
        row["trajectories_used"] = int(stats["sq_norm"].n_trajectories[g])
        row["diverged"] = int(res.diverged[g].sum())
        rows.append(row)

    if args.plot:
        plot_equilibrium(res, preds, args.plot)

    window = f"iterations {res.config['summary_start']}..{res.config['steps'] - 1}"
    if args.json:
        out: dict[str, Any] = dict(rows[0]) if G == 1 else {k: [r[k] for r in rows] for k in rows[0]}
        out["window"] = window
        out["se_method"] = "std (ddof=1) of per-trajectory window means / sqrt(trajectories)"
        out["config"] = res.config
        if args.plot:
            out["plot"] = args.plot
        print_json(out)
        return 0

    c = res.config
    print(
        f"simulate {c['optimizer']}: d={c['dim']}, {c['steps']} steps, {c['trajectories']} trajectories, "
        f"backend={c['backend']}, method={c['method']}, seed={c['seed']}"
    )
    print(f"equilibrium window: {window} (last quarter); mean +- SE across trajectories")
    for g, row in enumerate(rows):
        if G > 1:
            print(
                f"\n[{g}] lr={format_value(row['lr'])} wd={format_value(row['weight_decay'])} "
                f"momentum={format_value(row['momentum'])} L={format_value(row['unit_grad_sq'])}"
            )
        table = [
            ("||w||^2", row["sq_norm_mean"], row["sq_norm_se"], row["predicted_sq_norm"]),
            ("Delta (mean)", row["angular_update_mean"], row["angular_update_se"], None),
            (
                "Delta (rms)",
                row["angular_update_rms"],
                row["angular_update_rms_se"],
                row["predicted_angular_update"],
            ),
            ("Delta first order", None, None, row["predicted_angular_update_first_order"]),
            ("eta/||w||^2", row["effective_lr_mean"], row["effective_lr_se"], row["predicted_effective_lr"]),
            ("||g~||^2", row["unit_grad_sq_mean"], row["unit_grad_sq_se"], row["unit_grad_sq"]),
        ]
        if "h_tilde_mean" in row:
            table.append(("h~ (Thm 2)", row["h_tilde_mean"], row["h_tilde_se"], None))
        print(f"  {'quantity':<18} {'simulated':>14} {'+- SE':>12} {'predicted':>14}")
        for name, mean, se, pred in table:
            fm = "" if mean is None else format_value(mean)
            fs = "" if se is None else format_value(se)
            fp = "—" if pred is None else format_value(pred)
            print(f"  {name:<18} {fm:>14} {fs:>12} {fp:>14}")
        if row["diverged"]:
            print(f"  diverged: {row['diverged']} of {c['trajectories']} trajectories (left out of the statistics)")
    if args.plot:
        print(f"plot written to {args.plot}")
    return 0


def plot_equilibrium(res: Any, preds: list[dict[str, float] | None], path: str) -> None:
    """Wan et al. Fig. 3 form: ‖w_t‖² and Δ_t (one raw trajectory, the trajectory mean) against the predicted
    equilibrium values (dashed), the last-quarter window shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = res.steps
    G = res.grid_size
    fig, axes = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ok = ~res.diverged
    for g in range(G):
        col = colors[g % len(colors)]
        j = int(np.argmax(ok[g])) if ok[g].any() else 0
        pr = res.params
        label = f"lr={pr['lr'][g]:g}, wd={pr['weight_decay'][g]:g}, α={pr['momentum'][g]:g}"
        p = preds[g] or {}
        for ax, q, key in (
            (axes[0], "sq_norm", "equilibrium_sq_norm"),
            (axes[1], "angular_update", "angular_update"),
        ):
            ax.plot(steps, res.series(q)[:, g, j], color=col, alpha=0.3, lw=0.6)
            ax.plot(steps, res.trajectory_mean(q)[:, g], color=col, lw=1.5, label=f"simulated mean ({label})")
            if p.get(key) is not None:
                ax.axhline(p[key], color=col, ls="--", lw=1.2, label=f"predicted ({label})")
    for ax in axes:
        ax.axvspan(res.config["summary_start"], res.config["steps"], color="0.9", zorder=-1)
    axes[0].set_ylabel(r"$\|w_t\|^2$")
    axes[1].set_ylabel(r"angular update $\Delta_t$ (rad)")
    axes[1].set_xlabel("iteration t")
    c = res.config
    axes[0].set_title(
        f"{c['optimizer']}, d={c['dim']}, {c['trajectories']} trajectories, {c['backend']}/{c['method']}\n"
        "faint: one trajectory; solid: mean over trajectories; dashed: predicted; shaded: equilibrium window",
        fontsize=9,
    )
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
