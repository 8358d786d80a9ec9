"""The accuracy atlas: where the exact, first-order (and finite-d) predictions of the equilibrium angular update
hold, for SGD, SGDM, AdamW and Lion, over ηλ, α (β₁) and d. Writes docs/atlas.md and its figures.

One command (resumable: the sweeps live in Zarr stores under --store-dir, so a rerun only computes what is
missing, and an interrupted run loses at most the points in flight)::

    python examples/atlas.py                          # LocalCluster on this machine
    python examples/atlas.py --scheduler tcp://host:8786
    python examples/atlas.py --quick                  # coarser grids, shorter runs (a smoke test)

Every cell is one :func:`spheretheory.sweep` point: the equilibrium mean of Δ over the last half of a run of 16
relaxation times (capped at --max-steps; cells whose run covered fewer than 2 relaxation times are dotted),
compared with ``predict`` (see docs/atlas.md for the verdict rule).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

#: the product ηλ is swept through λ at a fixed η (the equilibrium angle depends on ηλ; see docs/theory.md)
ETA = {"sgd": 0.1, "sgdm": 0.1, "adamw": 1e-3, "lion": 1e-4}
NAMES = {"sgd": "SGD", "sgdm": "SGDM (heavy ball)", "adamw": "AdamW", "lion": "Lion"}
AXIS_NAMES = {"dim": "d", "momentum": "α", "beta1": "β₁"}
CATEGORIES = ("exact", "finite-d", "first order", "within allowance", "fails", "not checkable")
COLORS = ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#d73027", "#bdbdbd")


@dataclass
class Map:
    name: str
    optimizer: str
    x: str  # "ηλ" is swept as weight_decay = ηλ/η
    y: str
    grid: dict[str, Any]
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def maps(quick: bool) -> list[Map]:
    el = np.logspace(-6, -1, 4 if quick else 6)
    dims_r = [3, 16, 256, 4096] if quick else [3, 8, 32, 128, 512, 4096]
    dims_f = [16, 64] if quick else [16, 64, 256]
    alphas = [0.0, 0.9, 0.999] if quick else [0.0, 0.5, 0.9, 0.99, 0.999]
    betas = [0.0, 0.9] if quick else [0.0, 0.5, 0.9, 0.99]
    traj_r, traj_f = (32, 8) if quick else (64, 16)

    def wd(opt: str) -> list[float]:
        return [float(v / ETA[opt]) for v in el]

    return [
        Map("sgd-d", "sgd", "weight_decay", "dim",
            {"optimizer": "sgd", "lr": ETA["sgd"], "weight_decay": wd("sgd"), "dim": dims_r, "trajectories": traj_r}),
        Map("sgdm-alpha", "sgdm", "weight_decay", "momentum",
            {"optimizer": "sgdm", "lr": ETA["sgdm"], "weight_decay": wd("sgdm"), "momentum": alphas, "dim": 256,
             "trajectories": traj_r}),
        Map("sgdm-d", "sgdm", "weight_decay", "dim",
            {"optimizer": "sgdm", "lr": ETA["sgdm"], "weight_decay": wd("sgdm"), "momentum": 0.9, "dim": dims_r,
             "trajectories": traj_r}),
        Map("adamw-d", "adamw", "weight_decay", "dim",
            {"optimizer": "adamw", "lr": ETA["adamw"], "weight_decay": wd("adamw"), "dim": dims_f,
             "trajectories": traj_f}),
        Map("adamw-beta1", "adamw", "weight_decay", "beta1",
            {"optimizer": "adamw", "lr": ETA["adamw"], "weight_decay": wd("adamw"), "beta1": betas, "dim": 64,
             "trajectories": traj_f}),
        Map("lion-d", "lion", "weight_decay", "dim",
            {"optimizer": "lion", "lr": ETA["lion"], "weight_decay": wd("lion"), "dim": dims_f,
             "trajectories": traj_f}),
    ]  # fmt: skip


def categories(ds: Any) -> np.ndarray:
    """Index into CATEGORIES per cell: the best form that holds within z* SE (exact, then finite-d, then first
    order), else whether the miss is within the first-order allowance, else fails."""
    forms = ds.attrs["forms"].split(",")
    out = np.full(ds["done"].shape, 5, dtype=int)
    done = ds["done"].values & np.isfinite(ds["measured"].values)
    out[done & ~ds["fails"].values] = 3
    out[done & ds["fails"].values] = 4
    if "first_order" in forms:
        out[done & ds["holds_first_order"].values] = 2
    if "finite_d" in forms:
        out[done & ds["holds_finite_d"].values] = 1
    out[done & ds["holds_exact"].values] = 0
    return out


def plot_map(ds: Any, m: Map, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    sub = ds.transpose(m.y, m.x)
    cat = categories(sub)
    eta = ETA[m.optimizer]
    fig, ax = plt.subplots(figsize=(7.2, 4.2), constrained_layout=True)
    ax.imshow(cat, cmap=ListedColormap(COLORS), vmin=-0.5, vmax=len(CATEGORIES) - 0.5, origin="lower", aspect="auto")
    rel = sub["rel_error_exact"].values
    short = sub["relaxations"].values < 2
    for i in range(cat.shape[0]):
        for j in range(cat.shape[1]):
            if np.isfinite(rel[i, j]):
                ax.text(j, i, f"{rel[i, j]:+.0e}", ha="center", va="center", fontsize=7)
            if short[i, j]:
                ax.plot(j + 0.3, i - 0.3, "o", color="k", ms=3)
    xs = sub[m.x].values
    ax.set_xticks(range(len(xs)), [f"{eta * v:.0e}" for v in xs])
    ax.set_xlabel(r"$\eta\lambda$ (dimensionless; $\eta$ = " + f"{eta:g})")
    ys = sub[m.y].values
    ax.set_yticks(range(len(ys)), [f"{v:g}" for v in ys])
    ylabels = {"dim": "dimension $d$ (number of weights)", "momentum": r"momentum $\alpha$ (dimensionless)",
               "beta1": r"$\beta_1$ (dimensionless)"}  # fmt: skip
    ax.set_ylabel(ylabels[m.y])
    fixed = ", ".join(f"{k}={ds.coords[k].item()}" for k in ds.coords if k not in ds.sizes and k != "lr")
    ax.set_title(f"{NAMES[m.optimizer]}: equilibrium angular update Δ, simulation vs prediction\n{fixed}", fontsize=9)
    present = sorted(set(cat.ravel()))
    handles = [Patch(color=COLORS[c], label=CATEGORIES[c]) for c in present]
    handles.append(plt.Line2D([], [], marker="o", color="k", ls="", ms=3, label="< 2 relaxation times"))
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, title="verdict",
              title_fontsize=7)  # fmt: skip
    fig.savefig(path, dpi=110)
    plt.close(fig)


def width_table(ds: Any) -> str:
    """Median over ηλ of the exact form's relative error at each d, next to −1/(4(d − 1)) — the leading term of
    E[χ_{d−1}]/√(d−1) − 1, the finite-width shrinkage of the mean step angle (a comparison, not a fit)."""
    rows = ["", "| d | median relative error of the exact form (over ηλ) | −1/(4(d − 1)) |", "|---|---|---|"]
    for d in ds["dim"].values:
        med = float(np.nanmedian(ds["rel_error_exact"].sel(dim=d).values))
        rows.append(f"| {int(d)} | {med:+.2e} | {-1 / (4 * (int(d) - 1)):+.2e} |")
    return "\n".join(rows) + "\n"


def main() -> int:
    import spheretheory as st

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="coarse grids and short runs")
    ap.add_argument("--scheduler", default=None, help="Dask scheduler address (default: a LocalCluster)")
    ap.add_argument("--store-dir", default=".atlas", help="where the Zarr stores live (default .atlas)")
    ap.add_argument("--out", default="docs", help="directory of atlas.md (figures in <out>/atlas/)")
    ap.add_argument("--max-steps", type=int, default=None, help="cap of the run length (default 100000)")
    args = ap.parse_args()
    max_steps = args.max_steps or (10_000 if args.quick else 100_000)
    os.makedirs(args.store_dir, exist_ok=True)
    fig_dir = os.path.join(args.out, "atlas")
    os.makedirs(fig_dir, exist_ok=True)
    command = "python examples/atlas.py" + (" --quick" if args.quick else "")
    sections = []
    versions = ""
    results = []
    with st.sweep.open_client(args.scheduler, n_tasks=1_000) as client:  # one cluster for every map
        for m in maps(args.quick):
            store = os.path.join(args.store_dir, f"{m.name}{'-quick' if args.quick else ''}.zarr")
            t0 = time.time()
            ds = st.sweep(m.grid, quantity="angular_update", client=client, store=store, max_steps=max_steps)
            print(f"{m.name}: {int(ds['done'].sum())}/{ds['done'].size} points in {time.time() - t0:.0f} s", flush=True)
            results.append((m, ds))
    for m, ds in results:
        versions = ds.attrs["versions"]
        png = os.path.join(fig_dir, f"{m.name}.png")
        plot_map(ds, m, png)
        cat = categories(ds)
        counts = ", ".join(
            f"{CATEGORIES[c]} {int((cat == c).sum())}" for c in range(len(CATEGORIES)) if (cat == c).any()
        )
        forms = ds.attrs["forms"].replace(",", ", ")
        sections.append(
            f"### {NAMES[m.optimizer]}: ηλ × {AXIS_NAMES[m.y]}\n\n"
            f"![{m.name}](atlas/{m.name}.png)\n\n"
            f"{ds['done'].size} cells ({counts}); forms compared: {forms}; method {ds.attrs['method']} "
            f"({'exact reduced-state chain' if m.optimizer in ('sgd', 'sgdm') else 'full d-dimensional weights'}); "
            f"{int(ds.coords['trajectories'].item())} trajectories per cell; median run "
            f"{np.nanmedian(ds['relaxations'].values):.3g} relaxation times.\n"
            + (width_table(ds) if m.y == "dim" else "")
        )
    text = HEADER.format(command=command, z=st.sweep.Z_THRESHOLD, max_steps=max_steps, versions=versions)
    text += "\n".join(sections)
    task_s = sum(float(np.nansum(np.unique(ds["wall_s"].values))) for _, ds in results)  # one run per seed
    text += FOOTER.format(minutes=task_s / 60, cells=sum(int(ds["done"].size) for _, ds in results))
    with open(os.path.join(args.out, "atlas.md"), "w") as f:
        f.write(text)
    print(f"wrote {os.path.join(args.out, 'atlas.md')}")
    return 0


HEADER = """# Accuracy atlas: where the equilibrium predictions hold

Generated by `{command}` (do not edit by hand; rerun it — the sweeps are resumable). {versions}.

Each cell is one point of `spheretheory.sweep` (issue 16): the equilibrium **mean angular update** E[Δ] over the
last half of a run of 16 relaxation times (capped at {max_steps} steps; a dot marks cells whose run covered fewer
than 2 relaxation times — these start at the predicted norm, but their verdict is less certain), with its standard
error across independent trajectories, against `spheretheory.predict` at the same hyperparameters. The number in a
cell is the relative error (m − p)/|p| of the exact (d → ∞ mean-field) form. Verdict, best first:

* **exact** — |m − p_exact| ≤ {z:g}·SE;
* **finite-d** — the finite-width mean E[Δ] at d (`predict(..., dim=d).angular_update_mean`, issue 12) within
  {z:g}·SE (shown once that form is available in `predict`);
* **first order** — the first-order form (√(2ηλ/(1+α)) for SGD/SGDM, Kosson et al.'s forms for AdamW/Lion)
  within {z:g}·SE;
* **within allowance** — none of these within noise, but |m − p_exact| ≤ {z:g}·SE + |p_exact − p_first_order|
  (the size of the terms the first-order form neglects);
* **fails** — beyond that (the heatmaps of `spheretheory sweep --plot` mark these cells ×);
* **not checkable** — no finite measurement (every trajectory diverged).

With 64 (SGD/SGDM) or 16 (AdamW/Lion) trajectories per cell, SE is small: a cell that is not "exact" means the
form misses by more than the sampling noise of that many trajectories, not that it is a poor approximation —
read the relative error printed in the cell. The tables under the ηλ × d maps compare the median relative error
at each d with −1/(4(d − 1)), the leading finite-width shrinkage of the mean step angle: where they agree, the
miss of the d → ∞ forms is the finite-d effect that the finite-d form (issue 12) is meant to remove.

"""

FOOTER = """
{cells} cells, {minutes:.1f} worker-minutes of task time in all (on 2 shared cores). A rerun with the same grids
reads the stores and computes nothing. On a cluster: `python examples/atlas.py --scheduler tcp://host:8786`.
"""


if __name__ == "__main__":
    raise SystemExit(main())
