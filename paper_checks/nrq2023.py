"""The NRQ abstract in our setting: limiting excess risk against the angular update (sphere training at several
ELRs, with σ√(d−1)·Δ/4), and the escape after an LR drop under free SGD with weight decay.

    python -m paper_checks.nrq2023 [OUT] [--quick]
"""

from __future__ import annotations

import sys

import numpy as np

try:
    from . import _common as C
except ImportError:  # run as a script
    sys.path.insert(0, __import__("os").path.dirname(__file__))
    import _common as C  # type: ignore[no-redef]


def main(argv: list[str] | None = None) -> int:
    args = C.parse(__doc__.splitlines()[0], argv)
    from spheretheory import claims

    plt = C.plt()
    rows = []
    for elr in (0.001, 0.002, 0.004, 0.008, 0.016, 0.032):
        r = claims.run("nrq2023.limiting_risk", {"elr": elr}, quick=args.quick, seed=args.seed)
        o = r.outcome
        rows.append(
            {
                "elr": elr,
                "delta": o.numbers["angular_update"],
                "excess": o.measured,
                "se": o.se,
                "predicted": o.predicted,
                "verdict": r.verdict,
            }
        )
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    d = np.array([r["delta"] for r in rows])
    ax[0].errorbar(
        d,
        [r["excess"] for r in rows],
        yerr=[2 * r["se"] for r in rows],
        fmt="o",
        label="measured stationary excess risk (±2 SE)",
    )
    ax[0].plot(
        d, [r["predicted"] for r in rows], "k-", label=r"$\sigma\sqrt{d-1}\,\Delta/4$ (nrq.excess_risk_first_order)"
    )
    ax[0].set_xscale("log")
    ax[0].set_yscale("log")
    ax[0].minorticks_off()
    ax[0].set_xlabel(r"measured angular update $\Delta$ (rad)")
    ax[0].set_ylabel("excess risk")
    ax[0].set_title("limiting risk set by the angular update (σ = 0.5, d = 10)")
    ax[0].legend(fontsize=7)
    esc_run = claims.run("nrq2023.escape", quick=args.quick, seed=args.seed)
    esc = esc_run.outcome
    chunk, drop = esc.numbers["chunk"], esc.numbers["drop_chunk"]
    t = (np.arange(len(esc.numbers["loss_curve"])) + 1) * chunk
    ax[1].plot(t, esc.numbers["loss_curve"], label="loss (mean over runs)")
    ax[1].axvline(drop * chunk, color="k", lw=0.7, label=f"LR ÷ {esc_run.params['factor']:g}")
    ax2 = ax[1].twinx()
    ax2.plot(t, esc.numbers["angular_update_curve"], "r:", label=r"$\Delta$ (chunk mean)")
    ax2.set_ylabel(r"angular update $\Delta$ (rad)", color="r")
    ax[1].set_xlabel("step")
    ax[1].set_ylabel("loss")
    ax[1].set_title("escape: the loss dips, then rises as Δ grows back")
    ax[1].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(args.out / "nrq2023.png", dpi=110)
    plt.close(fig)
    print(C.save_numbers(args.out, "nrq2023", {"limiting_risk": rows, "escape": esc.detail}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
