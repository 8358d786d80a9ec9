"""Figures of docs/regimes.md, reproducible from the repository root: ``python -m paper_checks.regimes OUTDIR``
(default ``docs/regimes``; also writes ``OUTDIR/summary.json``).

* ``phase_{nrq,toy,net}.png`` — ELR sweeps (phase diagrams) with the derived boundaries;
* ``toy_density.png`` — the toy's landscape, stationary histograms per regime, the Gibbs check, a trajectory;
* ``gd_periodic.png`` — full-batch GD with weight decay on the batch-norm network (Lobacheva et al.).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

try:
    from . import _common as C
except ImportError:  # run as a script
    sys.path.insert(0, __import__("os").path.dirname(__file__))
    import _common as C  # type: ignore[no-redef]

from spheretheory._io import to_jsonable
from spheretheory.models import BatchNormNet, WellsOnSphere, make_classification
from spheretheory.regimes import plot_phase_diagram, sweep
from spheretheory.theory.toy import derivation
from spheretheory.training import train_sphere
from spheretheory.training.gd import full_batch_gd, periods

SWEEP_ELRS = {
    "nrq": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0],
    "toy": [1e-2, 0.1, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 100.0],
    "net": [3e-4, 1e-3, 1e-2, 0.1, 0.3, 1.0, 2.0, 3.0, 5.0, 10.0],
}


def plot_toy_density(path: str, steps: int = 20000, seed: int = 0) -> dict:
    """Landscape f(c), c = ⟨u, e₁⟩, with stationary histograms at one ELR per regime; the Gibbs-density check
    (additive noise); one chaotic trajectory in (polar, azimuth) coordinates. Returns the numbers drawn."""
    plt = C.plt()
    m = WellsOnSphere()
    cc = np.linspace(-1, 1, 2001)
    pts = np.stack([cc, np.sqrt(1 - cc**2), 0 * cc], axis=1)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    ax.plot(cc, m.loss(pts), "k", lw=1.5, label="f(c)")
    ax.set_xlabel("c = ⟨u, e₁⟩ (−1: flat well, +1: sharp well)")
    ax.set_ylabel("loss")
    axh = ax.twinx()
    info: dict = {}
    for elr, col in ((0.5, "tab:blue"), (3.0, "tab:orange"), (100.0, "tab:red")):
        tr = train_sphere(m, elr, 4000, runs=16, seed=seed, record_every=4, record_weights=True)
        c = tr.meta["weights"][:, 500:, 0].ravel()
        axh.hist(c, bins=60, range=(-1, 1), density=True, histtype="step", color=col, label=f"ELR={elr:g}")
        info[f"toy_mean_c_elr_{elr:g}"] = float(c.mean())
    axh.set_yscale("log")
    axh.set_ylabel("stationary density of c (log scale)")
    axh.legend(fontsize=7, loc="upper center")
    ax.set_title("toy landscape and per-regime stationary densities")
    # Gibbs check
    g = WellsOnSphere(depths=[1.0, 0.6], concentrations=[8.0, 2.0], mult_noise=0.0, add_noise=8.0)
    elr = 0.3 * 2 / 64
    tr = train_sphere(g, elr, steps, runs=32, seed=seed + 3, record_every=20, record_weights=True)
    c = tr.meta["weights"][:, 100:, 0].ravel()
    f = g.loss(pts)
    p = derivation("toy.gibbs_density")(loss_value=f - f.min(), elr=elr, add_noise=8.0)
    p /= np.trapezoid(p, cc)
    ax = axes[1]
    ax.hist(c, bins=50, range=(-1, 1), density=True, alpha=0.5, label="simulated (32 runs)")
    ax.plot(cc, p, "k--", label="derived exp(−2f/(ELR·σ_a²))")
    ax.set_xlabel("c = ⟨u, e₁⟩")
    ax.set_ylabel("density")
    ax.set_title(f"Gibbs density check (additive noise, ELR={elr:.4f}, σ_a=8)")
    ax.legend(fontsize=8)
    # trajectories: polar angle from e₁ against the step, one run per regime
    ax = axes[2]
    for elr, col in ((0.5, "tab:blue"), (3.0, "tab:orange"), (100.0, "tab:red")):
        tr = train_sphere(m, elr, 300, runs=1, seed=seed + 1, record_weights=True)
        theta = np.arccos(np.clip(tr.meta["weights"][0, :, 0], -1, 1))
        ax.plot(tr.steps, theta, ".-", color=col, ms=2, lw=0.5, label=f"ELR={elr:g}")
    ax.axhline(np.pi, color="k", lw=0.5)
    ax.set_xlabel("step")
    ax.set_ylabel("polar angle from e₁ (0: sharp well, π: flat well)")
    ax.legend(fontsize=8)
    ax.set_title("one trajectory per regime")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return info


def gd_periodic_model():
    """The network used for the periodic-GD figure: separable data (separation 4), head scale 20."""
    X, y = make_classification(n=256, features=8, classes=3, separation=4.0, seed=0)
    return BatchNormNet(X=X, y=y, head_scale=20.0, batch_size=32)


def plot_gd_periodic(path: str, lr: float = 0.5, weight_decay: float = 0.005, steps: int = 8000) -> dict:
    """Full-batch GD + weight decay on the batch-norm network: loss, ‖w‖², ELR over time."""
    plt = C.plt()
    m = gd_periodic_model()
    tr = full_batch_gd(m, lr, weight_decay, steps, runs=1, seed=0, record_every=2)
    starts = periods(tr, jump=1.2)[0]
    fig, axes = plt.subplots(3, 1, figsize=(10, 7), sharex=True)
    axes[0].semilogy(tr.steps, tr.loss[0], lw=0.8)
    axes[0].set_ylabel("full loss")
    axes[1].semilogy(tr.steps, tr.sq_norm[0], lw=0.8)
    axes[1].set_ylabel("‖w‖²")
    axes[2].semilogy(tr.steps, tr.meta["effective_lr"][0], lw=0.8)
    axes[2].set_ylabel("ELR = η/‖w‖²")
    axes[2].set_xlabel("step")
    for s in starts:
        for ax in axes:
            ax.axvline(s, color="r", lw=0.4, alpha=0.5)
    axes[0].set_title(f"Full-batch GD, η={lr}, λ={weight_decay}: {len(starts)} norm jumps (red) in {steps} steps")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return {"gd_jumps": [int(s) for s in starts]}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0] if argv else "docs/regimes")
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {}
    for name, elrs in SWEEP_ELRS.items():
        d = sweep(name, elrs, steps=4000, runs=8, seed=0)
        plot_phase_diagram(d, str(out / f"phase_{name}.png"))
        summary[name] = {
            "boundaries": d.boundaries,
            "results": [
                {
                    k: r.get(k)
                    for k in (
                        "elr",
                        "regime",
                        "confidence",
                        "loss",
                        "loss_se",
                        "angular_update",
                        "predicted_stationary_loss",
                    )
                }
                for r in d.results
            ],
        }
    summary["toy_density"] = plot_toy_density(str(out / "toy_density.png"))
    summary["gd_periodic"] = plot_gd_periodic(str(out / "gd_periodic.png"))
    (out / "summary.json").write_text(json.dumps(to_jsonable(summary), indent=1))
    print(json.dumps(to_jsonable(summary), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
