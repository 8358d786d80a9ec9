"""Finite width: mean and RMS angular update and E‖w‖² against the width d, predicted and simulated (issue 12).

Figure 1 (``finite_width.png``), the derived laws (SGD, SGDM, Nesterov): predictions ``spheretheory.predict(...,
dim=d)`` (derivations ``finite_d.*``); measurements from the exact reduced-state chain (``simulate(method=
"reduced")``), 128 independent trajectories per point, started at the predicted E‖w‖² and averaged over the last 80%
of ≥ 60 autocorrelation times.

Figure 2 (``finite_width_fitted.png``), AdamW and Lion: the *fitted* offsets (``predict(..., dim=d)`` with
``finite_d_basis == "fitted"``) against the full-simulator measurements of ``paper_checks/finite_d_fit.py`` (read
from ``OUT/finite_d_fit_numbers.json``; the held-out widths were not used by the fit).

Error bars: ±2 standard errors across independent trajectories.

    python -m paper_checks.finite_d docs/finite_d_figures      # the figures and numbers of docs/theory.md
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np

try:
    from . import _common as C
except ImportError:  # run as a script
    sys.path.insert(0, __import__("os").path.dirname(__file__))
    import _common as C  # type: ignore[no-redef]

import spheretheory as st

DIMS = (3, 4, 6, 8, 12, 16, 32, 64, 128, 256)
CASES = (
    ("sgd", 0.0, "SGD"),
    ("sgdm", 0.9, r"SGDM, $\alpha = 0.9$"),
    ("nesterov", 0.9, r"Nesterov, $\alpha = 0.9$"),
)


def measure(optimizer: str, alpha: float, d: int, lr: float, wd: float, seed: int) -> dict[str, float]:
    p = st.predict(optimizer, lr=lr, weight_decay=wd, momentum=alpha if alpha > 0 else None, dim=d)
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


def _width_axis(ax, ticks) -> None:
    """Log width axis with plain tick labels."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    ax.set_xscale("log")
    ax.set_xticks(list(ticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("width d (entries in the scale-invariant group)")
    ax.grid(alpha=0.3)


def fitted_figure(out, plt) -> dict[str, list[dict[str, float]]]:
    """AdamW and Lion: fitted prediction (lines) against the fit's measurements (points; open: held out)."""
    path = out / "finite_d_fit_numbers.json"
    if not path.exists():
        print(f"no {path}: run python -m paper_checks.finite_d_fit {out} first (figure 2 skipped)")
        return {}
    data = json.loads(path.read_text())
    cfg = data["optimizers"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
    dd = np.unique(np.geomspace(4, 64, 40).astype(int))
    summary: dict[str, list[dict[str, float]]] = {}
    for (name, rows), ls in zip(data["rows"].items(), ("-", "--"), strict=False):
        held = data["held_out"].get(name, [])
        hp = dict(cfg[name])
        lr = hp.pop("lr")
        for j, el in enumerate(sorted({r["eta_lambda"] for r in rows})):
            c = f"C{j}"
            label = f"{name}, $\\eta\\lambda = {el:g}$"
            pred = [st.predict(name, lr=lr, weight_decay=el / lr, dim=int(d), **hp) for d in dd]
            A = np.array([p.angular_update for p in pred])
            X = np.array([p.equilibrium_sq_norm for p in pred])
            axes[0].plot(dd, [p.angular_update_mean for p in pred] / A, ls, color=c, label=f"{label}: fit")
            axes[1].plot(dd, [p.equilibrium_sq_norm_mean for p in pred] / X, ls, color=c, label=f"{label}: fit")
            axes[2].plot(dd, [p.angular_update_std for p in pred] / A, ls, color=c, label=f"{label}: fit")
            for pts, mfc in (
                ([r for r in rows if r["eta_lambda"] == el], c),
                ([r for r in held if r["eta_lambda"] == el], "none"),
            ):
                if not pts:
                    continue
                d = [r["d"] for r in pts]
                mk = "o" if name == "adamw" else "s"
                axes[0].errorbar(
                    d,
                    [r["mean"] for r in pts],
                    yerr=[2 * r["mean_se"] for r in pts],
                    fmt=mk,
                    color=c,
                    mfc=mfc,
                    capsize=2,
                )
                axes[1].errorbar(
                    d,
                    [r["norm"] for r in pts],
                    yerr=[2 * r["norm_se"] for r in pts],
                    fmt=mk,
                    color=c,
                    mfc=mfc,
                    capsize=2,
                )
                axes[2].errorbar(
                    d, [r["sd"] for r in pts], yerr=[2 * r["sd_se"] for r in pts], fmt=mk, color=c, mfc=mfc, capsize=2
                )
        summary[name] = held
    axes[0].set_ylabel(r"mean $\Delta$ / $\Delta^*$ (d $\to\infty$)")
    axes[1].set_ylabel(r"$E\|w\|^2 / \|w^*\|^2$ (d $\to\infty$)")
    axes[2].set_ylabel(r"sd $\Delta$ / $\Delta^*$ (d $\to\infty$)")
    for ax in axes:
        _width_axis(ax, (4, 8, 16, 32, 64))
    axes[0].legend(fontsize=6, ncol=2)
    fig.suptitle(
        "AdamW (circles, solid) and Lion (squares, dashed): fitted finite-d offsets (lines, NOT derived) vs the full "
        "simulator (filled: fitted points, open: held out; ±2 SE)"
    )
    fig.tight_layout()
    fig.savefig(out / "finite_width_fitted.png", dpi=110)
    return summary


def main(argv: list[str] | None = None) -> None:
    args = C.parse(__doc__.splitlines()[0], argv)
    args.lr, args.wd = 0.5, 4e-3
    plt = C.plt()
    dims = DIMS[::3] if args.quick else DIMS
    rows = {name: [measure(name, al, d, args.lr, args.wd, seed=100 + d) for d in dims] for name, al, _ in CASES}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
    colors = {"sgd": "C0", "sgdm": "C3", "nesterov": "C2"}
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
    axes[0].plot(dims, chi, ":", color="k", label=r"$E[\chi_{d-1}]/\sqrt{d-1}$")
    axes[0].set_ylabel(r"angular update / $\Delta^*$ (d $\to\infty$)")
    axes[1].set_ylabel(r"$E\|w\|^2 / \|w^*\|^2$ (d $\to\infty$ fixed point)")
    axes[2].set_ylabel(r"sd$(\|w\|^2)$ / $E\|w\|^2$")
    axes[2].set_yscale("log")
    for ax in axes:
        _width_axis(ax, (3, 8, 16, 32, 64, 128, 256))
        ax.legend(fontsize=7)
    fig.suptitle(
        rf"Finite width at $\eta = {args.lr:g}$, $\lambda = {args.wd:g}$ (error bars: $\pm$2 SE, 128 "
        "trajectories of the exact reduced chain)"
    )
    fig.tight_layout()
    fig.savefig(args.out / "finite_width.png", dpi=110)
    held = fitted_figure(args.out, plt)
    (args.out / "numbers.json").write_text(
        json.dumps({"lr": args.lr, "weight_decay": args.wd, "rows": rows, "fitted_held_out": held}, indent=1)
    )
    for name, r in rows.items():
        for x in r:
            print(
                f"{name} d={x['d']:4d} mean {x['pred_mean']:.4f}/{x['sim_mean']:.4f}  rms {x['pred_rms']:.4f}/"
                f"{x['sim_rms']:.4f}  E|w|^2 {x['pred_sq_norm']:.4f}/{x['sim_sq_norm']:.4f}  rel sd "
                f"{x['pred_sq_norm_rel_std']:.4f}/{x['sim_sq_norm_rel_std']:.4f}"
            )


if __name__ == "__main__":
    main()
