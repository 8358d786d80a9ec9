"""Roburin et al. (2020) in our setting: Adam's effective learning rate (measured vs the formula) and SGD + L2 vs
the mapped AdamG — the experiments of spheretheory.adaptive.experiments (docs/adam.md), drawn again here.

    python -m paper_checks.roburin2020 [OUT] [--quick]
"""

from __future__ import annotations

import sys

try:
    from . import _common as C
except ImportError:  # run as a script
    sys.path.insert(0, __import__("os").path.dirname(__file__))
    import _common as C  # type: ignore[no-redef]


def main(argv: list[str] | None = None) -> int:
    args = C.parse(__doc__.splitlines()[0], argv)
    C.plt()
    from spheretheory.adaptive.experiments import exp_effective_lr, exp_sgd_adamg

    nums = {
        "effective_lr": exp_effective_lr(args.out, steps=1500 if args.quick else 6000, seed=args.seed),
        "sgd_adamg": exp_sgd_adamg(args.out, seed=args.seed),
    }
    print(C.save_numbers(args.out, "roburin2020", nums))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
