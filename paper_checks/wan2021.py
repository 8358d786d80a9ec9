"""Wan et al. (2021) in our setting: the forms of Fig. 3 (weight norm, angular update, h̃ vs ‖g̃‖² approaching
their theoretical values, SGD vs SGDM), Fig. 4 (Sec. 3 conjectures: loss vs angular update on the NRQ) and Fig. 5
(a multi-stage LR schedule with and without the rescaling strategy), and a Corollary 3.1 table.

    python -m paper_checks.wan2021 [OUT] [--quick]
"""

from __future__ import annotations

import math
import sys

import numpy as np

try:
    from . import _common as C
except ImportError:  # run as a script
    sys.path.insert(0, __import__("os").path.dirname(__file__))
    import _common as C  # type: ignore[no-redef]


def fig3(out, quick: bool, seed: int) -> dict:
    import spheretheory as st

    n = 128 if quick else 512
    lr, wd = 0.1, 5e-3
    res = {}
    plt = C.plt()
    fig, ax = plt.subplots(1, 3, figsize=(15, 3.8))
    for opt, mom, col in (("sgd", 0.0, "tab:blue"), ("sgdm", 0.9, "tab:orange")):
        p = st.predict(opt, lr=lr, weight_decay=wd, **({"momentum": mom} if mom else {}))
        steps = 6000  # 12 relaxation times of SGD (1/(4ηλ) = 500 steps), 50 of SGDM
        r = st.simulate(
            opt,
            lr=lr,
            weight_decay=wd,
            momentum=mom,
            dim=256,
            steps=steps,
            trajectories=n,
            method="reduced",
            seed=seed,
            init_norm=2.0,
            record_every=5,
        )
        t = r.steps
        ax[0].plot(t, r.trajectory_mean("sq_norm")[:, 0], color=col, label=f"{opt} E‖w‖²")
        ax[0].axhline(p.equilibrium_sq_norm_first_order, color=col, ls="--", lw=0.8)
        ax[1].plot(t, r.trajectory_mean("angular_update")[:, 0], color=col, label=f"{opt} Δ_t")
        ax[1].axhline(p.angular_update_first_order, color=col, ls="--", lw=0.8)
        box = np.ones(40) / 40  # running mean over 40 records (200 steps) to show the level, not the noise
        ax[2].plot(
            t[39:], np.convolve(r.trajectory_mean("h_tilde")[:, 0], box, "valid"), color=col, label=f"{opt} h̃ (mean)"
        )
        ax[2].plot(
            t[39:],
            np.convolve(r.trajectory_mean("unit_grad_sq")[:, 0], box, "valid"),
            color=col,
            ls=":",
            label=f"{opt} ‖g̃‖² (mean)",
        )
        s = r.equilibrium_stats()
        res[opt] = {
            "sq_norm": float(s["sq_norm"].mean[0]),
            "sq_norm_se": float(s["sq_norm"].se[0]),
            "printed_sq_norm": float(p.equilibrium_sq_norm_first_order),
            "exact_sq_norm": float(p.equilibrium_sq_norm),
            "angular_update": float(s["angular_update"].mean[0]),
            "angular_update_se": float(s["angular_update"].se[0]),
            "printed_angular_update": float(p.angular_update_first_order),
        }
    ax[0].set_title("weight norm vs Thm 1/2 (dashed)")
    ax[1].set_title("angular update vs Thm 3 (dashed)")
    ax[2].set_title("h̃ = ‖g̃‖² + 2α⟨v,g⟩‖w‖² vs ‖g̃‖² (Fig. 3(d))")
    for a in ax:
        a.set_xlabel("step")
        a.legend(fontsize=7)
    ax[1].set_yscale("log")
    fig.suptitle(f"Fig. 3 form: η = {lr}, λ = {wd}, d = 256, reduced-state simulator, {n} trajectories")
    fig.tight_layout()
    fig.savefig(out / "wan2021_fig3.png", dpi=110)
    plt.close(fig)
    return res


def fig4(out, quick: bool, seed: int) -> dict:
    from spheretheory.claims.wan2021 import _free_nrq

    p = {"steps": 6000 if quick else 12000, "runs": 8 if quick else 16}
    grid = [(0.1, 1e-3), (0.4, 2.5e-4), (0.025, 4e-3), (0.1, 4e-3), (0.1, 1e-2), (0.1, 4e-2)]
    rows, model = _free_nrq([g[0] for g in grid], [g[1] for g in grid], p, seed)
    plt = C.plt()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for (lr, wd), (loss, se, ang) in zip(grid, rows, strict=True):
        ax.errorbar(ang, loss, yerr=4 * se, fmt="o", label=f"η={lr:g}, λ={wd:g} (ηλ={lr * wd:.0e})")
    ax.set_xlabel("equilibrium angular update Δ (measured)")
    ax.set_ylabel("stationary training loss (±4 SE)")
    ax.set_title("Fig. 4 form: free SGD on the NRQ (conjectures 1, 2)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "wan2021_fig4.png", dpi=110)
    plt.close(fig)
    return {"grid": grid, "loss_se_angle": rows}


def fig5(out, quick: bool, seed: int) -> dict:
    import spheretheory as st
    from spheretheory.simulation import step_decay

    lr, wd, mom, k = 0.2, 1e-4 * 5, 0.9, 10.0
    p = st.predict("sgdm", lr=lr, weight_decay=wd, momentum=mom)
    stage = int(6 * p.relaxation_steps)
    milestones = [stage, 2 * stage, 3 * stage]
    steps = 4 * stage
    n = 64 if quick else 256
    plt = C.plt()
    fig, ax = plt.subplots(1, 2, figsize=(12, 3.8))
    res = {"milestones": milestones}
    for rescale, lab in ((False, "plain"), (True, "rescaled (w / k^(1/4) at each drop)")):
        r = st.simulate(
            "sgdm",
            lr=lr,
            weight_decay=wd,
            momentum=mom,
            dim=256,
            steps=steps,
            trajectories=n,
            method="reduced",
            seed=seed,
            init_norm=math.sqrt(p.equilibrium_sq_norm),
            lr_schedule=step_decay(milestones, k),
            rescale_on_drop=rescale,
            record_every=max(1, steps // 2000),
        )
        ax[0].semilogy(r.steps, r.trajectory_mean("angular_update")[:, 0], label=lab)
        ax[1].plot(r.steps, np.sqrt(r.trajectory_mean("sq_norm")[:, 0]), label=lab)
        # angular update at the end of each stage vs its theoretical value
        ends = [m - 1 for m in milestones] + [steps - 1]
        idx = [int(np.searchsorted(r.steps, e)) - 1 for e in ends]
        res["rescaled" if rescale else "plain"] = [float(r.trajectory_mean("angular_update")[i, 0]) for i in idx]
    thm3 = st.theory.get("sgdm.angular_update_first_order")  # Wan et al. Thm 3: Δ ≈ √(2λη/(1+α))
    theory = [float(thm3(lr=lr / k**j, weight_decay=wd, momentum=mom, unit_grad_sq=1.0)) for j in range(4)]
    res["theory"] = theory
    for j, th in enumerate(theory):
        lo = 0 if j == 0 else milestones[j - 1]
        hi = milestones[j] if j < 3 else steps
        ax[0].hlines(th, lo, hi, colors="k", linestyles="--", lw=0.8)
    ax[0].set_title("Fig. 5(a)/(b) form: angular update, LR ÷10 three times (dashed: Thm 3)")
    ax[1].set_title("Fig. 5(c) form: weight norm")
    for a in ax:
        a.set_xlabel("step")
        a.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "wan2021_fig5.png", dpi=110)
    plt.close(fig)
    return res


def cor31_table(out, quick: bool, seed: int) -> dict:
    from spheretheory import claims

    rows = []
    for mom in (0.0, 0.9):
        for rtol in (0.01, 0.03, 0.05, 0.1):
            r = claims.run("wan2021.cor31", {"momentum": mom, "rtol": rtol}, quick=quick, seed=seed)
            o = r.outcome
            rows.append(
                {
                    "momentum": mom,
                    "rtol": rtol,
                    "measured": o.measured,
                    "se": o.se,
                    "exact": o.numbers["exact_steps"],
                    "paper_bound": o.predicted,
                    "critical_rtol": o.numbers["critical_rtol"],
                    "verdict": r.verdict,
                }
            )
    lines = [
        "| α | rtol | measured steps | exact iteration | printed bound (new η) | verdict |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['momentum']:g} | {r['rtol']:g} | {r['measured']:.0f} ± {r['se']:.1f} | {r['exact']:.0f} | "
        f"{r['paper_bound']:.0f} | {r['verdict']} |"
        for r in rows
    ]
    (out / "wan2021_cor31.md").write_text("\n".join(lines) + "\n")
    return {"rows": rows}


def main(argv: list[str] | None = None) -> int:
    args = C.parse(__doc__.splitlines()[0], argv)
    nums = {
        "fig3": fig3(args.out, args.quick, args.seed),
        "fig4": fig4(args.out, args.quick, args.seed),
        "fig5": fig5(args.out, args.quick, args.seed),
        "cor31": cor31_table(args.out, args.quick, args.seed),
    }
    print(C.save_numbers(args.out, "wan2021", nums))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
