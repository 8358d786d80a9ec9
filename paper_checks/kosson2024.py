"""Kosson et al. (2024) in our setting: equilibrium angular update of AdamW and Lion over ηλ against their
formulas and our finite-ηλ derivations (paper_checks/adam.py, exp_equilibria).

    python -m paper_checks.kosson2024 [OUT] [--quick]
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
    nums = adam.exp_equilibria(
        args.out, dim=128 if args.quick else 256, trajectories=8 if args.quick else 16, seed=args.seed
    )
    print(C.save_numbers(args.out, "kosson2024", nums))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
