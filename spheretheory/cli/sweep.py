"""``spheretheory sweep``: predict, simulate and compare over a grid, on Dask, into a resumable Zarr store.

Each grid flag takes ``a,b,c``, ``lo:hi:n`` (linear) or ``lo:hi:nlog`` (log-spaced); one value is a fixed setting,
several an axis. Needs the ``sweep`` extra (dask[distributed], xarray, zarr).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._validation import InputError

#: flag -> grid parameter (the flags a user types; the library takes the parameter names)
GRID_FLAGS: dict[str, str] = {
    "optimizer": "optimizer",
    "lr": "lr",
    "wd": "weight_decay",
    "momentum": "momentum",
    "unit_grad_sq": "unit_grad_sq",
    "beta1": "beta1",
    "beta2": "beta2",
    "eps": "eps",
    "dim": "dim",
    "steps": "steps",
    "trajectories": "trajectories",
    "init_norm": "init_norm",
    "dtype": "dtype",
}
#: the largest grid printed point by point (bigger ones get the summary only; --json has every point)
TABLE_MAX = 60


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="predict, simulate and compare over a hyperparameter grid (Dask; resumable Zarr store)",
        description=(
            "Run predict, simulate and the comparison at every point of a grid, on a Dask LocalCluster (one "
            "worker process per core) or an existing cluster (--scheduler / --scheduler-file). Grid flags take "
            "a,b,c or lo:hi:n or lo:hi:nlog (e.g. --lr 1e-3:1:9log --wd 1e-4,1e-3 --momentum 0,0.9,0.99 "
            "--dim 16,256); a single value is a fixed setting. With --store, each point is saved as it finishes "
            "and a rerun computes only the missing points."
        ),
    )
    g = p.add_argument_group("grid (a,b,c | lo:hi:n | lo:hi:nlog)")
    g.add_argument("--optimizer", default="sgdm", help="sgd, sgdm, adam, adamw, lion (list: an axis; default sgdm)")
    g.add_argument("--lr", default="0.1", help="learning rate eta (default 0.1)")
    g.add_argument("--wd", default="1e-3", help="weight decay lambda (default 1e-3)")
    g.add_argument("--momentum", default=None, help="heavy-ball alpha (sgdm; default 0.9 for sgdm alone)")
    g.add_argument("--unit-grad-sq", default=None, help="L = E||g~||^2 (default 1)")
    g.add_argument("--beta1", default=None, help="Adam/Lion beta1")
    g.add_argument("--beta2", default=None, help="Adam/Lion beta2")
    g.add_argument("--eps", default=None, help="Adam epsilon")
    g.add_argument("--dim", default=None, help="dimension d (default 256)")
    g.add_argument("--steps", default=None, help="iterations (default: 16 relaxation times, in [2000, 200000])")
    g.add_argument("--trajectories", default=None, help="trajectories per point (default 256)")
    g.add_argument("--init-norm", default=None, help="initial ||w|| (default: the predicted equilibrium norm)")
    g.add_argument("--dtype", default=None, help="float64 (default) or float32")
    p.add_argument("--quantity", default="angular_update", help="angular_update (default), sq_norm, effective_lr")
    p.add_argument("--method", default="auto", help="auto (reduced for SGD/SGDM, else full), full or reduced")
    p.add_argument("--backend", default="numba", help="numba (default), numpy or cupy (a GPU per worker)")
    p.add_argument("--max-steps", type=int, default=200_000, help="cap of the automatic run length (default 200000)")
    p.add_argument("--seed", type=int, default=0, help="base seed (each point's seed is derived from it; default 0)")
    p.add_argument("--store", metavar="PATH", help="Zarr store: save points as they finish, resume on rerun")
    p.add_argument("--scheduler", metavar="ADDRESS", help="existing Dask scheduler (tcp://host:8786) or 'inline'")
    p.add_argument("--scheduler-file", metavar="PATH", help="Dask scheduler file (dask scheduler --scheduler-file)")
    p.add_argument("--workers", type=int, default=None, help="LocalCluster worker processes (default: the cores)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="PATH", help="heatmaps of relative error and |z| (PNG)")
    p.add_argument("--plot-axes", metavar="X,Y", help="the two grid axes of the heatmaps (default: the first two)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def grid_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The grid mapping of the command line (one value: a fixed setting; several: an axis)."""
    from ..sweep import parse_axis

    grid: dict[str, Any] = {}
    for flag, name in GRID_FLAGS.items():
        text = getattr(args, flag)
        if text is None:
            continue
        values = parse_axis(name, text)
        if not values:
            raise InputError(f"--{flag.replace('_', '-')}: no values in {text!r}")
        grid[name] = values if len(values) > 1 or ("," in text or ":" in text) else values[0]
    if args.momentum is None and grid.get("optimizer") == "sgdm":
        grid["momentum"] = 0.9
    return grid


def run(args: argparse.Namespace) -> int:
    try:
        import dask  # noqa: F401
        import xarray  # noqa: F401
        import zarr  # noqa: F401
    except ImportError as exc:
        raise InputError(f"sweep needs the sweep extra (pip install 'spheretheory[sweep]'): {exc}") from None
    from ..sweep import sweep
    from ._common import print_json

    grid = grid_from_args(args)
    plot_axes = None
    if args.plot:
        from ._sweep_plot import choose_axes

        plot_axes = choose_axes(grid, args.plot_axes)  # bad axes fail before any computation

    def on_client(client: Any) -> None:
        from ..sweep._execute import dashboard_link

        link = dashboard_link(client)
        if link and not args.json:
            print(f"dask dashboard: {link}", file=sys.stderr)

    ds = sweep(
        grid,
        quantity=args.quantity,
        method=args.method,
        client=args.scheduler,
        store=args.store,
        seed=args.seed,
        scheduler_file=args.scheduler_file,
        backend=args.backend,
        n_workers=args.workers,
        max_steps=args.max_steps,
        progress=False if (args.no_progress or args.json) else None,
        on_client=on_client,
    )
    if args.plot:
        from ._sweep_plot import plot_heatmaps

        plot_heatmaps(ds, args.plot, plot_axes)
    rows = records(ds)
    if args.json:
        out = {"attrs": dict(ds.attrs), "axes": list(ds.sizes), "summary": summary(ds), "points": rows}
        if args.plot:
            out["plot"] = args.plot
        print_json(out)
    else:
        print_text(ds, rows)
        if args.plot:
            print(f"plot written to {args.plot}")
    for line in ds.attrs["failed"]:
        print(f"spheretheory sweep: point failed: {line}", file=sys.stderr)
    return 1 if ds.attrs["failed"] else 0


def records(ds: Any) -> list[dict[str, Any]]:
    """One dict per grid point: the axis values and every variable."""
    flat = ds.stack(point=list(ds.sizes)) if ds.sizes else ds.expand_dims("point")
    out = []
    names = list(ds.data_vars)
    for i in range(flat.sizes["point"]):
        cell = flat.isel(point=i)
        row = {d: cell[d].item() for d in ds.sizes}
        row.update({k: cell[k].item() for k in names})
        out.append(row)
    return out


def summary(ds: Any) -> dict[str, Any]:
    forms = ds.attrs["forms"].split(",")
    done = int(ds["done"].sum())
    out = {"points": int(ds["done"].size), "done": done}
    for f in forms:
        out[f"holds_{f}"] = int(ds[f"holds_{f}"].sum())
    if "fails" in ds:
        out["fails"] = int(ds["fails"].sum())
    return out


def print_text(ds: Any, rows: list[dict[str, Any]]) -> None:
    from ._common import format_value

    a = ds.attrs
    forms = a["forms"].split(",")
    fixed = {k: ds.coords[k].item() for k in ds.coords if k not in ds.sizes}
    print(
        f"sweep of {a['quantity']}: {ds['done'].size} points over ({', '.join(ds.sizes) or 'no axes'}); "
        f"method={a['method']}, backend={a['backend']}, seed={a['seed']}"
        + (f"; fixed: {', '.join(f'{k}={format_value(v)}' for k, v in fixed.items())}" if fixed else "")
    )
    print(f"{a['statistic']}; |z| <= {a['z_threshold']:g} holds, 'fails' = beyond z*SE + first-order allowance")
    if len(rows) <= TABLE_MAX:
        axes = list(ds.sizes)
        head = [*axes, "measured", "+- SE", *(f"pred {f}" for f in forms), "rel err", "z", "verdict"]
        table = []
        for r in rows:
            if not r["done"]:  # its task failed (listed on stderr): nothing measured
                table.append([format_value(r[d]) for d in axes] + ["—"] * (len(head) - len(axes) - 1) + ["failed"])
                continue
            if r["fails"]:
                verdict = "fails"
            elif r.get("holds_exact"):
                verdict = "exact"
            else:
                verdict = "first order"
            table.append(
                [format_value(r[d]) for d in axes]
                + [format_value(r["measured"]), format_value(r["se"])]
                + [format_value(r[f"predicted_{f}"]) for f in forms]
                + [f"{r['rel_error_exact']:+.2e}", f"{r['z_exact']:+.2f}", verdict]
            )
        widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(head)]
        print("  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True)))
        for t in table:
            print("  ".join(c.rjust(w) for c, w in zip(t, widths, strict=True)))
    s = summary(ds)
    parts = [f"{s[f'holds_{f}']} hold the {f.replace('_', '-')} form" for f in forms]
    print(f"{s['done']} of {s['points']} points done: " + ", ".join(parts) + f", {s.get('fails', 0)} fail")
    if a.get("store"):
        print(f"store: {a['store']}")
