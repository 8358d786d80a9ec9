"""Li, Lyu & Arora (2020) in our setting: steps to equilibrium against 1/(ηλ) (SGD, reduced-state simulator),
with the linearised prediction ln(|start − 1|/rtol)/(4ηλ).

    python -m paper_checks.li2020 [OUT] [--quick]
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
    for wd in (5e-4, 1e-3, 2e-3, 4e-3, 8e-3):
        for start in (0.25, 4.0):
            r = claims.run(
                "li2020.time_to_equilibrium",
                {"weight_decay": wd, "ratio": 2.0, "start": start},
                quick=args.quick,
                seed=args.seed,
            )
            o = r.outcome
            rows.append(
                {
                    "eta_lambda": 0.1 * wd,
                    "start": start,
                    "product": o.numbers["products"][0],
                    "se": o.numbers["product_se"][0],
                    "linearised": o.numbers["linearised"][0],
                }
            )
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for start, mk in ((0.25, "o"), (4.0, "s")):
        sel = [r for r in rows if r["start"] == start]
        el = np.array([r["eta_lambda"] for r in sel])
        steps = np.array([r["product"] for r in sel]) / el
        ax.errorbar(
            1 / el,
            steps,
            yerr=[2 * r["se"] / r["eta_lambda"] for r in sel],
            fmt=mk,
            label=rf"measured, $\|w_0\|^2$ = {start:g} $w^{{*2}}$",
        )
        ax.plot(1 / el, np.array([r["linearised"] for r in sel]) / el, "k--", lw=0.7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.minorticks_off()
    ax.set_xlabel(r"$1/(\eta\lambda)$")
    ax.set_ylabel(r"steps until $\|w_t\|^2$ is within 5 % of $w^{*2}$")
    ax.set_title(
        r"time to equilibrium $\propto 1/(\eta\lambda)$ (dashed: linearised)" "\nerror bars: ±2 SE", fontsize=9
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out / "li2020.png", dpi=110)
    plt.close(fig)
    print(C.save_numbers(args.out, "li2020", {"rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
