"""Roburin et al. (2020) in our setting: Adam's effective learning rate (measured vs the formula) and SGD + L2 vs
the mapped AdamG — the experiments of paper_checks/adam.py (docs/adam.md), drawn again here.

    python -m paper_checks.roburin2020 [OUT] [--quick]
"""

from __future__ import annotations

import sys

try:
    from . import _common as C
    from . import adam
except ImportError:  # run as a script
    sys.path.insert(0, __import__("os").path.dirname(__file__))
    import _common as C  # type: ignore[no-redef]
    import adam  # type: ignore[no-redef]


def main(argv: list[str] | None = None) -> int:
    args = C.parse(__doc__.splitlines()[0], argv)
    C.plt()
    nums = {
        "effective_lr": adam.exp_effective_lr(args.out, steps=1500 if args.quick else 6000, seed=args.seed),
        "sgd_adamg": adam.exp_sgd_adamg(args.out, seed=args.seed),
    }
    print(C.save_numbers(args.out, "roburin2020", nums))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
