"""``spheretheory simulate``: run the discrete dynamics and compare the equilibrium with ``predict``.

Prints, per hyperparameter point, the equilibrium statistics over the last quarter of the run (means with
standard errors across independent trajectories) next to the values of :func:`spheretheory.predict`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from .._validation import InputError
from ..optimizers import add_cli_flags, cli_hyperparameters, collect_cli_flags
from ..simulation._spec import MATRIX_OPTIMIZERS, OPTIMIZERS

#: Flags generated from the matrix optimizers' specs (Muon: --rows, --cols, --ns-steps, ...); momentum is this
#: command's own (a grid) flag.
_SPEC_SKIP = ("momentum",)


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="simulate many trajectories and compare the equilibrium with the predictions",
        description=(
            "Simulate scale-invariant weights under SGD/SGDM/Nesterov/Adam/AdamW/Lion/Muon with weight decay "
            "(synthetic isotropic gradients with E||g~||^2 = L) and print the equilibrium statistics over "
            "the last quarter of the run, mean +- standard error across trajectories, next to "
            "`spheretheory predict`. Several values of --lr/--wd/--momentum/--unit-grad-sq form a grid "
            "(same length, or one value)."
        ),
    )
    p.add_argument("--optimizer", default="sgdm", help="sgd, sgdm, nesterov, adam, adamw, lion or muon (default sgdm)")
    p.add_argument("--lr", type=float, nargs="+", default=[0.1], help="learning rate eta (default 0.1)")
    p.add_argument("--wd", type=float, nargs="+", default=[1e-3], help="weight decay lambda (default 1e-3)")
    p.add_argument(
        "--momentum", type=float, nargs="+", default=None, help="alpha (default 0.9 for sgdm), beta (muon 0.95)"
    )
    p.add_argument("--unit-grad-sq", type=float, nargs="+", default=[1.0], help="L = E||g~||^2 (default 1)")
    p.add_argument("--beta1", type=float, default=None, help="Adam/Lion beta1 (default 0.9)")
    p.add_argument("--beta2", type=float, default=None, help="Adam/Lion beta2 (default 0.999 / 0.99)")
    p.add_argument("--eps", type=float, default=None, help="Adam epsilon (default 1e-8)")
    p.add_argument("--decoupled", choices=["yes", "no"], default=None, help="decoupled weight decay")
    p.add_argument("--dim", type=int, default=None, help="dimension d (default 256; muon: --rows, --cols)")
    add_cli_flags(p, MATRIX_OPTIMIZERS, skip=_SPEC_SKIP)  # Muon's --rows, --cols, --ns-steps, ... from its spec
    p.add_argument("--steps", type=int, default=20_000, help="iterations (default 20000)")
    p.add_argument("--trajectories", type=int, default=512, help="trajectories per point (default 512)")
    p.add_argument("--backend", default="auto", help="auto (default; numpy for small runs), numba, numpy, cupy")
    p.add_argument("--method", default="full", help="full (default) or reduced")
    p.add_argument("--dtype", default="float64", help="float64 (default) or float32")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--init-norm", type=float, default=1.0, help="initial ||w|| (default 1)")
    p.add_argument("--lr-drop", type=int, nargs="*", default=None, metavar="STEP", help="divide lr at STEPs")
    p.add_argument("--drop-factor", type=float, default=None, help="factor k of each lr drop (default 10)")
    p.add_argument("--rescale-on-drop", action="store_true", help="divide w by k^(1/4) at each drop (Wan 4.2)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="PATH", help="write ||w||^2 and Delta_t against the predictions (PNG, PDF, SVG)")
    p.add_argument(
        "--max-memory",
        metavar="SIZE",
        default=None,
        help="refuse runs estimated above SIZE (e.g. 8G; default half of the available memory)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _predictions(
    opt: str, params: dict[str, np.ndarray], dim: int, matrix: dict[str, Any] | None = None
) -> list[dict[str, float] | None]:
    """``predict`` at each grid point (None where predict is unavailable or does not cover the case).

    Passes ``dim`` and the optimizer's own hyperparameters (momentum, beta1, beta2, eps) where ``predict``'s
    optimizer registry declares them.
    """
    from ..prediction import optimizers, predict

    spec = optimizers().get(opt)
    declared = set(spec.hyperparameters) if spec is not None else set()
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
        if matrix is not None:  # a matrix optimizer: its shape and options (Muon's rows, cols, ns_steps, ...)
            kw.update(rows=matrix["shape"][0], cols=matrix["shape"][1], **matrix["options"])
        try:
            p = predict(**kw)
        except (ValueError, TypeError, NotImplementedError) as exc:
            print(f"spheretheory simulate: note: no prediction for {opt}: {exc}", file=sys.stderr)
            out.append(None)
            continue
        d = {}
        for key in (
            "equilibrium_sq_norm",
            "angular_update",
            "angular_update_first_order",
            "effective_lr",
            "relaxation_steps",
            "equilibrium_sq_norm_autocorr_time",  # finite-width theory (sgd, sgdm): the window check without series
            # finite-width predictions at this d (issue 12): derived (SGD family) or fitted (AdamW, Lion)
            "angular_update_mean",
            "angular_update_rms",
            "angular_update_std",
            "equilibrium_sq_norm_mean",
            "equilibrium_sq_norm_std",
            "update_correlation",  # muon
        ):
            value = getattr(p, key, None)
            d[key] = None if value is None else float(np.asarray(value).reshape(-1)[0])
        d["finite_d_basis"] = p.values.get("finite_d_basis")
        d["finite_d_note"] = p.notes.get("angular_update_mean")
        out.append(d)
    return out


#: Hyperparameter flags and the optimizers they apply to (the rest of the flags apply to every optimizer).
_OPTIMIZER_FLAGS: dict[str, tuple[str, ...]] = {
    "momentum": ("sgdm", "nesterov", *MATRIX_OPTIMIZERS),
    "beta1": ("adam", "adamw", "lion"),
    "beta2": ("adam", "adamw", "lion"),
    "eps": ("adam", "adamw"),
    **{k: tuple(users) for k, (_, users) in cli_hyperparameters(MATRIX_OPTIMIZERS, _SPEC_SKIP).items()},
}

#: A run is compared with equilibrium only when it lasts this many predicted relaxation times ...
MIN_RELAXATION_TIMES = 5.0
#: ... and its equilibrium window spans this many integrated autocorrelation times of ||w||^2.
MIN_AUTOCORRELATION_TIMES = 5.0


def _validate(args: argparse.Namespace) -> dict[str, Any]:
    """Check everything that can be checked before the run (flags, output path, schedule, memory budget)."""
    from .._validation import (
        InputError,
        check_choice,
        check_int,
        check_output_file,
        figure_extensions,
        parse_bytes,
    )

    opt = check_choice("optimizer", args.optimizer, OPTIMIZERS + MATRIX_OPTIMIZERS)
    steps = check_int("steps", args.steps, low=1)
    for flag, owners in _OPTIMIZER_FLAGS.items():
        if getattr(args, flag) is not None and opt not in owners:
            raise InputError(
                f"--{flag.replace('_', '-')} does not apply to optimizer {opt!r} (it is used by {', '.join(owners)})"
            )
    if args.plot is not None:
        check_output_file("--plot", args.plot, figure_extensions())
    schedule = None
    if args.lr_drop is not None:
        if not args.lr_drop:
            raise InputError("--lr-drop needs at least one STEP (the iterations at which the lr is divided)")
        bad = [t for t in args.lr_drop if not 1 <= t < steps]
        if bad:
            raise InputError(f"--lr-drop steps must be in [1, steps) = [1, {steps}); got {bad[0]}")
        from ..simulation import step_decay

        schedule = step_decay(args.lr_drop, 10.0 if args.drop_factor is None else args.drop_factor)
    elif args.drop_factor is not None:
        raise InputError("--drop-factor applies only with --lr-drop STEP ...")
    elif args.rescale_on_drop:
        raise InputError("--rescale-on-drop applies only with --lr-drop STEP ...")
    momentum = args.momentum
    if momentum is None:
        momentum = [0.9] if opt in ("sgdm", "nesterov") else [0.0]
    dim: Any = 256 if args.dim is None else args.dim
    options = None
    if opt in MATRIX_OPTIMIZERS:
        from ..optimizers import get

        if args.momentum is None:
            momentum = [get(opt).hyperparameters["momentum"].default]
        if args.dim is not None:
            raise InputError(f"--dim does not apply to optimizer {opt!r}: give the matrix shape with --rows and --cols")
        if args.rows is None or args.cols is None:
            raise InputError(f"optimizer {opt!r} needs the matrix shape: --rows M --cols N")
        dim = (args.rows, args.cols)
        flags = cli_hyperparameters(MATRIX_OPTIMIZERS, _SPEC_SKIP)
        options = {k: v for k, v in collect_cli_flags(args, flags).items() if k not in ("rows", "cols")}
    return dict(
        optimizer=opt,
        momentum=momentum,
        dim=dim,
        options=options,
        schedule=schedule,
        max_memory=None if args.max_memory is None else parse_bytes("--max-memory", args.max_memory),
    )


def _compiling_note(backend: str, method: str, args: argparse.Namespace | None = None) -> None:
    """Say so on stderr when numba will compile the kernel first (an empty or stale cache)."""
    if backend not in ("numba", "auto"):
        return
    sizes = None if args is None else (args.trajectories, args.dim, args.steps)
    if backend == "auto" and sizes is not None and None not in sizes:  # small runs take numpy: no numba import
        from ..simulation._api import auto_uses_numba

        points = max(len(v) for v in (args.lr, args.wd, args.momentum or [0.0], args.unit_grad_sq))
        if not auto_uses_numba(method, points * args.trajectories, args.dim, args.steps):
            return
    try:
        if method == "reduced":
            from ..simulation._reduced_numba import kernel as _kernel
        else:
            from ..simulation._numba import _kernel
        cold = not _kernel.signatures and not _kernel._cache._cache_file._load_index()
    except (ImportError, AttributeError):  # another numba version: say nothing rather than guess
        return
    if cold:
        print(
            f"spheretheory simulate: compiling kernels (first run, about {COLD_COMPILE_S} s; cached afterwards)",
            file=sys.stderr,
            flush=True,
        )


#: Measured cold numba compilation of the full kernel (2-core shared machine); see docs/user-guide.md.
COLD_COMPILE_S = 20


def _row_notes(res: Any, g: int, pred: dict[str, float] | None) -> tuple[str | None, list[str]]:
    """(SE note, warnings) for grid point g: why its SE is not shown, and why it is not at equilibrium."""
    from ..analysis import integrated_autocorrelation_time

    c = res.config
    n_ok = int((~res.diverged[g]).sum())
    steps, window = int(c["steps"]), int(c["steps"]) - int(c["summary_start"])
    se_note = None
    if n_ok == 0:
        se_note = "every trajectory diverged"
    elif n_ok == 1:
        se_note = "one trajectory (an SE needs at least two)"
    elif window < 2:
        se_note = f"an equilibrium window of {window} iteration"
    warnings: list[str] = []
    if steps == 1:
        warnings.append("one step: the run never left its initial condition")
    tau = (pred or {}).get("relaxation_steps")
    if tau is not None and np.isfinite(tau) and steps < MIN_RELAXATION_TIMES * tau:
        warnings.append(
            f"not at equilibrium: {steps} steps < {MIN_RELAXATION_TIMES:g} x the predicted relaxation time "
            f"{tau:.4g} steps; run at least {int(np.ceil(MIN_RELAXATION_TIMES * tau))} steps"
        )
    s = res.series("sq_norm")
    every = int(c["record_every"])
    tau_pred = (pred or {}).get("equilibrium_sq_norm_autocorr_time")
    if (
        s is None
        and n_ok
        and tau_pred is not None
        and np.isfinite(tau_pred)
        and window < MIN_AUTOCORRELATION_TIMES * tau_pred
    ):
        warnings.append(
            f"equilibrium window of {window} steps < {MIN_AUTOCORRELATION_TIMES:g} x the predicted autocorrelation "
            f"time of ||w||^2 ({tau_pred:.4g} steps): the window mean is not an equilibrium average"
        )
    if s is not None and n_ok:
        win = s[s.shape[0] - max(1, window // every) :, g][:, ~res.diverged[g]][:, :64]
        if win.shape[0] >= 4 and np.all(np.isfinite(win)):
            tau_int = float(np.median(integrated_autocorrelation_time(win, axis=0))) * every
            if window < MIN_AUTOCORRELATION_TIMES * tau_int:
                warnings.append(
                    f"equilibrium window of {window} steps < {MIN_AUTOCORRELATION_TIMES:g} x the autocorrelation "
                    f"time of ||w||^2 ({tau_int:.4g} steps): the window mean is not an equilibrium average"
                )
    return se_note, warnings


def run(args: argparse.Namespace) -> int:
    from .._validation import memory_budget
    from ..simulation import simulate
    from ..simulation._api import problem_from_call
    from ._common import format_value, print_json

    v = _validate(args)
    record_every = max(1, args.steps // 2000)  # at most ~2000 records for the plot; stats use every step
    call = dict(
        optimizer=v["optimizer"],
        lr=np.array(args.lr),
        weight_decay=np.array(args.wd),
        momentum=np.array(v["momentum"]),
        dim=v["dim"],
        options=v["options"],
        steps=args.steps,
        trajectories=args.trajectories,
        unit_grad_sq=np.array(args.unit_grad_sq),
        lr_schedule=v["schedule"],
        rescale_on_drop=args.rescale_on_drop,
        beta1=0.9 if args.beta1 is None else args.beta1,
        beta2=args.beta2,
        eps=1e-8 if args.eps is None else args.eps,
        decoupled=None if args.decoupled is None else args.decoupled == "yes",
        init_norm=args.init_norm,
        record_every=record_every,
        # the statistics need only the streaming summaries; series only for the plot (and its checks)
        record="series" if args.plot else "summary",
        backend=args.backend,
        method=args.method,
        seed=args.seed,
        dtype=args.dtype,
        progress=False if args.no_progress else None,
    )
    try:
        with memory_budget(v["max_memory"]):
            if not args.json and v["optimizer"] not in MATRIX_OPTIMIZERS:
                problem_from_call(**call)  # bad input first (one line, exit 2), then the note on compiling
                _compiling_note(args.backend.strip().lower(), args.method.strip().lower(), args)
            res = simulate(**call)
    except (ImportError, NotImplementedError) as exc:  # cupy missing, reduced simulator missing
        raise InputError(str(exc)) from exc

    # statistics over the last quarter, from the streaming summaries (every iteration of the window)
    names = ("sq_norm", "angular_update", "unit_grad_sq", "h_tilde", "effective_lr")
    stats = res.equilibrium_stats(quantities=names, source="summary")
    m, var = res.summary["angular_update_mean"], res.summary["angular_update_var"]
    rms_traj = np.sqrt(m**2 + var)
    ok = np.isfinite(rms_traj)
    n_ok = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rms = np.where(ok, rms_traj, 0).sum(axis=1) / n_ok
        rms_se = np.sqrt(np.where(ok, (rms_traj - rms[:, None]) ** 2, 0).sum(axis=1) / (n_ok - 1) / n_ok)
    matrix = {"shape": res.config["shape"], "options": res.config["options"]} if "shape" in res.config else None
    preds = _predictions(res.config["optimizer"], res.params, res.config["dim"], matrix)

    G = res.grid_size
    rows: list[dict[str, Any]] = []
    for g in range(G):
        se_note, warns = _row_notes(res, g, preds[g])
        row: dict[str, Any] = {k: float(res.params[k][g]) for k in ("lr", "weight_decay", "momentum", "unit_grad_sq")}
        for q, s in stats.items():
            row[f"{q}_mean"] = _finite_or_none(s.mean[g])
            row[f"{q}_se"] = None if se_note else _finite_or_none(s.se[g])
        row["angular_update_rms"] = _finite_or_none(rms[g])
        row["angular_update_rms_se"] = None if se_note else _finite_or_none(rms_se[g])
        row["se_note"] = se_note
        row["at_equilibrium"] = not warns
        row["warnings"] = warns
        p = preds[g] or {}
        row["predicted_sq_norm"] = p.get("equilibrium_sq_norm")
        row["predicted_angular_update"] = p.get("angular_update")
        row["predicted_angular_update_first_order"] = p.get("angular_update_first_order")
        row["predicted_effective_lr"] = p.get("effective_lr")
        row["predicted_relaxation_steps"] = p.get("relaxation_steps")
        for key in FINITE_D_ROWS:
            row[f"predicted_finite_d_{key}"] = _finite_or_none(p.get(key))
        row["finite_d_basis"] = p.get("finite_d_basis")
        row["finite_d_note"] = p.get("finite_d_note")
        row["sq_norm_std"] = _finite_or_none(stats["sq_norm"].std[g])
        row["angular_update_std"] = _finite_or_none(stats["angular_update"].std[g])
        if "update_correlation_mean" in res.extra:  # muon: <O_{t-1}, O_t>/||O_t||^2, SE across trajectories
            corr = res.extra["update_correlation_mean"][g]
            corr = corr[np.isfinite(corr)]
            row["update_correlation_mean"] = _finite_or_none(corr.mean()) if corr.size else None
            row["update_correlation_se"] = (
                None if se_note or corr.size < 2 else _finite_or_none(corr.std(ddof=1) / np.sqrt(corr.size))
            )
            row["predicted_update_correlation"] = p.get("update_correlation")
        row["trajectories_used"] = int(stats["sq_norm"].n_trajectories[g])
        row["diverged"] = int(res.diverged[g].sum())
        rows.append(row)
    all_diverged = all(r["trajectories_used"] == 0 for r in rows)

    if args.plot:
        plot_equilibrium(res, preds, args.plot)

    window = f"iterations {res.config['summary_start']}..{res.config['steps'] - 1}"
    for g, row in enumerate(rows):
        where = f"[{g}] " if G > 1 else ""
        for w in row["warnings"]:
            print(f"spheretheory simulate: warning: {where}{w}", file=sys.stderr)
    if all_diverged:
        print(
            "spheretheory simulate: error: every trajectory diverged (‖w‖² left the representable range); "
            "no equilibrium statistics",
            file=sys.stderr,
        )
    code = EXIT_ALL_DIVERGED if all_diverged else 0
    if args.json:
        out: dict[str, Any] = dict(rows[0]) if G == 1 else {k: [r[k] for r in rows] for k in rows[0]}
        out["window"] = window
        out["se_method"] = "std (ddof=1) of per-trajectory window means / sqrt(trajectories)"
        out["config"] = res.config
        if args.plot:
            out["plot"] = args.plot
        print_json(out)
        return code

    c = res.config
    shape = f"{c['shape'][0]}x{c['shape'][1]} matrices" if "shape" in c else f"d={c['dim']}"
    print(
        f"simulate {c['optimizer']}: {shape}, {c['steps']} steps, {c['trajectories']} trajectories, "
        f"backend={c['backend']}, method={c['method']}, seed={c['seed']}"
    )
    print(f"equilibrium window: {window} (last quarter); mean +- SE across trajectories")
    for g, row in enumerate(rows):
        if G > 1:
            print(
                f"\n[{g}] lr={format_value(row['lr'])} wd={format_value(row['weight_decay'])} "
                f"momentum={format_value(row['momentum'])} L={format_value(row['unit_grad_sq'])}"
            )
        fd = {k: row[f"predicted_finite_d_{k}"] for k in FINITE_D_ROWS}
        table = [
            (
                "||w||^2",
                row["sq_norm_mean"],
                row["sq_norm_se"],
                row["predicted_sq_norm"],
                fd["equilibrium_sq_norm_mean"],
            ),
            ("sd ||w||^2", row["sq_norm_std"], "", None, fd["equilibrium_sq_norm_std"]),
            ("Delta (mean)", row["angular_update_mean"], row["angular_update_se"], None, fd["angular_update_mean"]),
            (
                "Delta (rms)",
                row["angular_update_rms"],
                row["angular_update_rms_se"],
                row["predicted_angular_update"],
                fd["angular_update_rms"],
            ),
            ("sd Delta", row["angular_update_std"], "", None, fd["angular_update_std"]),
            ("Delta first order", "", "", row["predicted_angular_update_first_order"], None),
            ("eta/||w||^2", row["effective_lr_mean"], row["effective_lr_se"], row["predicted_effective_lr"], None),
            ("||g~||^2", row["unit_grad_sq_mean"], row["unit_grad_sq_se"], row["unit_grad_sq"], None),
        ]
        if "h_tilde_mean" in row:
            table.append(("h~ (Thm 2)", row["h_tilde_mean"], row["h_tilde_se"], None, None))
        if "update_correlation_mean" in row:
            corr = (row["update_correlation_mean"], row["update_correlation_se"], row["predicted_update_correlation"])
            table.append(("<O_t-1,O_t>/|O|^2", *corr, None))
        mark = "" if row["at_equilibrium"] else "  (not at equilibrium: see the warning)"
        basis = row["finite_d_basis"]
        fd_head = f"d={c['dim']}" + (" (fit)" if basis == "fitted" else "")
        print(f"  {'quantity':<18} {'simulated':>14} {'+- SE':>12} {'d->inf':>14} {fd_head:>14}{mark}")
        for name, mean, se, pred, pred_d in table:
            fm = "n/a" if mean is None else format_value(mean)
            fs = "n/a" if se is None else format_value(se)
            fp = "—" if pred is None else format_value(pred)
            fpd = "—" if pred_d is None else format_value(pred_d)
            print(f"  {name:<18} {fm:>14} {fs:>12} {fp:>14} {fpd:>14}")
        if all(v is None for v in fd.values()) and row["finite_d_note"]:
            print(f"  d={c['dim']}: {row['finite_d_note']}")
        if row["se_note"]:
            print(f"  n/a: {row['se_note']}")
        if row["diverged"]:
            print(f"  diverged: {row['diverged']} of {c['trajectories']} trajectories (left out of the statistics)")
    if args.plot:
        print(f"plot written to {args.plot}")
    return code


#: finite-width predictions shown beside the measurement (predict(..., dim=d), issue 12)
FINITE_D_ROWS = (
    "equilibrium_sq_norm_mean",
    "equilibrium_sq_norm_std",
    "angular_update_mean",
    "angular_update_rms",
    "angular_update_std",
)

#: Exit code when every trajectory diverged (the run produced no statistics).
EXIT_ALL_DIVERGED = 1


def _finite_or_none(x: Any) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


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
