"""Finite width: mean and RMS angular update and E‖w‖² against the width d, predicted and simulated (issue 12).

Predictions: ``spheretheory.predict(..., dim=d)`` (derivations ``finite_d.*``). Measurements: the exact reduced-state
chain (``simulate(method="reduced")``), 128 independent trajectories per point, started at the predicted E‖w‖² and
averaged over the last 80% of ≥ 60 autocorrelation times. Error bars: ±2 standard errors across trajectories.

    python examples/finite_width.py --out docs/finite_d_figures      # the figure and numbers of docs/theory.md
"""

from __future__ import annotations

import argparse
import json
import math
import os

import numpy as np

import spheretheory as st

DIMS = (3, 4, 6, 8, 12, 16, 32, 64, 128, 256)
CASES = (("sgd", 0.0, "SGD"), ("sgdm", 0.9, r"SGDM, $\alpha = 0.9$"))


def measure(optimizer: str, alpha: float, d: int, lr: float, wd: float, seed: int) -> dict[str, float]:
    p = st.predict(optimizer, lr=lr, weight_decay=wd, momentum=alpha if optimizer == "sgdm" else None, dim=d)
    steps = int(max(60 * p.equilibrium_sq_norm_autocorr_time, 6000))
    r = st.simulate(
        optimizer,
        lr=lr,
        weight_decay=wd,
        momentum=alpha,
        dim=d,
        steps=steps,
        trajectories=128,
        method="reduced",
        record="summary",
        seed=seed,
        init_norm=math.sqrt(p.equilibrium_sq_norm_mean),
        summary_fraction=0.8,
    )
    s = r.summary
    n = s["angular_update_mean"].size
    m = s["angular_update_mean"].ravel()
    sec = (s["angular_update_var"] + s["angular_update_mean"] ** 2).ravel()
    a = s["sq_norm_mean"].ravel()
    a_var = s["sq_norm_var"].ravel().mean() + a.var(ddof=1)  # law of total variance (unbiased for short runs)
    return {
        "d": d,
        "pred_mean": p.angular_update_mean / p.angular_update,
        "pred_rms": p.angular_update_rms / p.angular_update,
        "pred_sq_norm": p.equilibrium_sq_norm_mean / p.equilibrium_sq_norm,
        "pred_sq_norm_rel_std": p.equilibrium_sq_norm_std / p.equilibrium_sq_norm_mean,
        "sim_mean": m.mean() / p.angular_update,
        "sim_mean_se": m.std(ddof=1) / math.sqrt(n) / p.angular_update,
        "sim_rms": math.sqrt(sec.mean()) / p.angular_update,
        "sim_rms_se": sec.std(ddof=1) / math.sqrt(n) / (2 * math.sqrt(sec.mean())) / p.angular_update,
        "sim_sq_norm": a.mean() / p.equilibrium_sq_norm,
        "sim_sq_norm_se": a.std(ddof=1) / math.sqrt(n) / p.equilibrium_sq_norm,
        "sim_sq_norm_rel_std": math.sqrt(a_var) / a.mean(),
        "chi_factor": float(st.theory.get("finite_d.chi_mean_factor")(dim=d)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="finite_d_figures", help="output folder")
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--wd", type=float, default=4e-3)
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(args.out, exist_ok=True)
    rows = {name: [measure(name, al, d, args.lr, args.wd, seed=100 + d) for d in DIMS] for name, al, _ in CASES}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
    colors = {"sgd": "C0", "sgdm": "C3"}
    for name, _, label in CASES:
        r = rows[name]
        d = np.array([x["d"] for x in r])
        c = colors[name]
        for ax, key, mk in ((axes[0], "mean", "o"), (axes[0], "rms", "s")):
            ax.plot(
                d,
                [x[f"pred_{key}"] for x in r],
                "-" if key == "mean" else "--",
                color=c,
                label=f"{label}: predicted {'mean' if key == 'mean' else 'RMS'}",
            )
            ax.errorbar(
                d,
                [x[f"sim_{key}"] for x in r],
                yerr=[2 * x[f"sim_{key}_se"] for x in r],
                fmt=mk,
                color=c,
                mfc="none",
                capsize=2,
                label=f"{label}: simulated {'mean' if key == 'mean' else 'RMS'}",
            )
        axes[1].plot(d, [x["pred_sq_norm"] for x in r], "-", color=c, label=f"{label}: predicted")
        axes[1].errorbar(
            d,
            [x["sim_sq_norm"] for x in r],
            yerr=[2 * x["sim_sq_norm_se"] for x in r],
            fmt="o",
            color=c,
            mfc="none",
            capsize=2,
            label=f"{label}: simulated",
        )
        axes[2].plot(d, [x["pred_sq_norm_rel_std"] for x in r], "-", color=c, label=f"{label}: predicted")
        axes[2].plot(d, [x["sim_sq_norm_rel_std"] for x in r], "o", color=c, mfc="none", label=f"{label}: simulated")
    chi = [x["chi_factor"] for x in rows["sgd"]]
    axes[0].plot(DIMS, chi, ":", color="k", label=r"$E[\chi_{d-1}]/\sqrt{d-1}$")
    axes[0].set_ylabel(r"angular update / $\Delta^*$ (d $\to\infty$)")
    axes[1].set_ylabel(r"$E\|w\|^2 / \|w^*\|^2$ (d $\to\infty$ fixed point)")
    axes[2].set_ylabel(r"sd$(\|w\|^2)$ / $E\|w\|^2$")
    axes[2].set_yscale("log")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("width d (entries in the scale-invariant group)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(
        rf"Finite width at $\eta = {args.lr:g}$, $\lambda = {args.wd:g}$ (error bars: $\pm$2 SE, 128 "
        "trajectories of the exact reduced chain)"
    )
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "finite_width.png"), dpi=110)
    with open(os.path.join(args.out, "numbers.json"), "w") as fh:
        json.dump({"lr": args.lr, "weight_decay": args.wd, "rows": rows}, fh, indent=1)
    for name, r in rows.items():
        for x in r:
            print(
                f"{name} d={x['d']:4d} mean {x['pred_mean']:.4f}/{x['sim_mean']:.4f}  rms {x['pred_rms']:.4f}/"
                f"{x['sim_rms']:.4f}  E|w|^2 {x['pred_sq_norm']:.4f}/{x['sim_sq_norm']:.4f}  rel sd "
                f"{x['pred_sq_norm_rel_std']:.4f}/{x['sim_sq_norm_rel_std']:.4f}"
            )


if __name__ == "__main__":
    main()
