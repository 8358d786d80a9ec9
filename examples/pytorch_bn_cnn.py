"""Worked example: the spherical motion dynamics of a small BatchNorm CNN, measured and held against theory.

Trains the network of :mod:`spheretheory.integrations.pytorch.example` on generated images (nothing is
downloaded) with SGD + heavy-ball momentum + weight decay and a step learning-rate decay, twice: as is, and
with the k^(−1/4) rescaling of the scale-invariant weights at each drop (Wan et al. 2021, Sec. 4.2). For each
run it prints the per-layer comparison (measured vs predicted angular update and norm, time to equilibrium)
and writes into ``--out``: ``summary.json``, the records as CSV, and one figure per run in the style of the
paper's Fig. 3/5.

    python examples/pytorch_bn_cnn.py                  # full configuration (a few minutes on one CPU core)
    python examples/pytorch_bn_cnn.py --steps 600 --drop 400 --out /tmp/smd   # quick look
    python examples/pytorch_bn_cnn.py --docs docs/pytorch_figures   # the figures and tables of docs/pytorch.md

With ``--docs DIR`` it writes only what docs/pytorch.md shows: the two figures, ``numbers.json`` (the summary) and
``tables.md`` (the markdown tables pasted into docs/pytorch.md), no CSV.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np

from spheretheory.integrations.pytorch.example import ExampleConfig, run_example

TRANSIENT = 300  # steps after each drop summarised in the transient table (compare(transient_steps=...))


def _window_mean(monitor, start: int, stop: int) -> np.ndarray:
    rec = monitor.records()
    sel = (rec["step"] >= start) & (rec["step"] < stop)
    return rec["angular_update"][sel].mean(axis=0)


def _transients(monitor, cmp, drops) -> list[dict]:
    """Per drop and layer: measured and trajectory-predicted RMS Δ over the first TRANSIENT steps, as fractions of
    the new Δ*, with compare()'s relative error ± se of that window."""
    rec = monitor.group_records()
    out = []
    for drop in drops:
        sel = (rec["step"] >= drop) & (rec["step"] < drop + TRANSIENT)
        for gi, tr in enumerate(cmp.trajectories):
            row = next(r for r in cmp.rows if r.group == tr.group and r.start_step == drop)
            meas = float(np.sqrt(np.mean(rec["angular_update"][sel, gi] ** 2)))
            pred = float(np.sqrt(np.mean(tr.angular_update[sel] ** 2)))
            out.append(
                {
                    "drop": drop,
                    "layer": tr.group,
                    "lr": row.lr,
                    "delta_star": row.predicted_angular_update,
                    "measured_rms": meas,
                    "trajectory_rms": pred,
                    "error": row.trajectory_angular_update_error_transient,
                    "error_se": row.trajectory_angular_update_error_transient_se,
                }
            )
    return out


def _shrink_png(path: str) -> None:
    """Store a figure for the docs with a 256-colour palette (a third of the size; line plots lose nothing)."""
    from PIL import Image

    Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)


def _pct(x: float, se: float | None = None) -> str:
    s = f"{x:+.1%}".replace("-", "−")
    return s if se is None else f"{s} ± {se:.1%}"


def markdown_tables(summary: dict) -> str:
    """The tables of docs/pytorch.md's worked example, from ``summary`` (what ``main`` returns)."""
    lines = [
        "| run | layer | η | Δ measured | ± se | Δ* | rel. err | ‖w‖ | ‖w*‖ from L | Δ\\|‖w‖ | t_eq (steps) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, run in summary["runs"].items():
        for r in run["comparison"]["rows"]:
            if name == "rescaled" and r["phase"] == 0:
                continue  # identical to the plain run before the first drop
            label = "both" if r["phase"] == 0 else name
            t_eq = r["time_to_equilibrium"]
            lines.append(
                f"| {label} | {r['group']} | {r['lr']:g} | {r['measured_angular_update']:.4g} | "
                f"{r['measured_angular_update_se']:.2g} | {r['predicted_angular_update']:.4g} | "
                f"{_pct(r['relative_error'])} | {r['measured_norm']:.4g} | {r['predicted_norm']:.4g} | "
                f"{r['predicted_angular_update_given_norm']:.4g} | {t_eq if t_eq >= 0 else 'never'} |"
            )
    lines += [
        "",
        f"| run | layer | η | first {TRANSIENT} steps: measured RMS Δ / Δ* | trajectory / Δ* | error ± se "
        "| worst 100-step window | last 25% | ‖w‖ worst | ‖w‖ at the end | ⟨w,g⟩/λ‖w‖² |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, run in summary["runs"].items():
        tran = {(t["drop"], t["layer"]): t for t in run["transients"]}
        for r in run["comparison"]["rows"]:
            if name == "rescaled" and r["phase"] == 0:
                continue
            label = "both" if r["phase"] == 0 else name
            tkey = "trajectory_angular_update_error_transient"
            t = tran.get((r["start_step"], r["group"]))
            first = (
                f"{t['measured_rms'] / t['delta_star']:.3f} | {t['trajectory_rms'] / t['delta_star']:.3f}"
                if t
                else "(start of the run) | "
            )
            lines.append(
                f"| {label} | {r['group']} | {r['lr']:g} | {first} | "
                f"{_pct(r[tkey], r[tkey + '_se'])} | "
                f"{_pct(r['trajectory_angular_update_error_max'])} | "
                f"{_pct(r['trajectory_angular_update_error_end'], r['trajectory_angular_update_error_end_se'])} | "
                f"{_pct(r['trajectory_norm_error_max'])} | {_pct(r['trajectory_norm_error_end'])} | "
                f"{r['radial_gradient_to_decay']:+.3f} |".replace("-", "−")
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    d = ExampleConfig()
    ap.add_argument("--steps", type=int, default=d.steps)
    ap.add_argument("--drop", type=int, nargs="*", default=list(d.drops), help="steps of the LR drops")
    ap.add_argument("--drop-factor", type=float, default=d.drop_factor)
    ap.add_argument("--lr", type=float, default=d.lr)
    ap.add_argument("--momentum", type=float, default=d.momentum)
    ap.add_argument("--weight-decay", type=float, default=d.weight_decay)
    ap.add_argument("--noise", type=float, default=d.noise)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--out", default="pytorch_bn_cnn_out", help="output directory")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument(
        "--docs", default=None, help="write only the figures, numbers.json and tables.md into this directory"
    )
    args = ap.parse_args(argv)
    if args.docs:
        args.out = args.docs
    cfg = ExampleConfig(
        steps=args.steps,
        drops=tuple(args.drop),
        drop_factor=args.drop_factor,
        lr=args.lr,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        noise=args.noise,
        threads=args.threads,
        seed=args.seed,
    )
    os.makedirs(args.out, exist_ok=True)
    summary: dict = {"config": None, "runs": {}}
    for rescale in (False, True):
        name = "rescaled" if rescale else "plain"
        out = run_example(cfg, rescale=rescale)
        mon, cmp = out["monitor"], out["comparison"]
        summary["config"] = out["config"]
        print(f"\n=== {name} run ({out['seconds']:.0f} s) ===")
        print(cmp.table())
        # the early part of each later phase: how far Δ is from the new Δ* right after a drop (Fig. 5 a vs b)
        early = []
        for drop in cfg.drops:
            stop = min(drop + 300, cfg.steps)
            early.append({"start": drop, "stop": stop, "mean_delta": _window_mean(mon, drop, stop).tolist()})
        summary["runs"][name] = {
            "seconds": out["seconds"],
            "final_loss_mean_last_100": float(np.mean(out["losses"][-100:])),
            "comparison": cmp.to_dict(),
            "early_after_drop": early,
            "transients": _transients(mon, cmp, cfg.drops),
            "columns": list(mon.column_names),
        }
        if not args.docs:
            mon.to_csv(os.path.join(args.out, f"records_{name}.csv"))
        if not args.no_plot:
            path = os.path.join(args.out, f"smd_{name}.png")
            mon.plot(path)
            if args.docs:
                _shrink_png(path)
    tables = markdown_tables(summary)
    print("\n" + tables)
    with open(os.path.join(args.out, "tables.md"), "w") as fh:
        fh.write(tables)
    with open(os.path.join(args.out, "numbers.json" if args.docs else "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=2, default=float)
    print(
        f"wrote {args.out}: " + ("numbers.json, tables.md" if args.docs else "summary.json, tables.md, records_*.csv")
    )
    return summary


if __name__ == "__main__":
    main()
