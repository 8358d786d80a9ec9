"""Kodryan et al. (2022) in our setting: the three-regime plot (loss level, angular update and regime against
the ELR) for the NRQ and the toy wells, with the derived boundaries.

    python -m paper_checks.kodryan2022 [OUT] [--quick]
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
    C.plt()
    from spheretheory.regimes import plot_phase_diagram, sweep

    nums = {}
    for model, elrs in (
        ("nrq", np.geomspace(1e-3, 10, 13 if not args.quick else 9)),
        ("toy", np.geomspace(0.05, 50, 13 if not args.quick else 9)),
    ):
        d = sweep(
            model,
            elrs,
            steps=2000 if args.quick else 4000,
            runs=8,
            seed=args.seed,
            backend="numba" if model == "nrq" else "numpy",
            progress_bar=False,
        )
        plot_phase_diagram(d, str(args.out / f"kodryan2022_regimes_{model}.png"))
        nums[model] = {
            "elr": [r["elr"] for r in d.results],
            "regime": d.regimes(),
            "loss": [r["loss"] for r in d.results],
            "boundaries": d.boundaries,
        }
    print(C.save_numbers(args.out, "kodryan2022", nums))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
