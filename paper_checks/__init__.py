"""Reproductions of the papers' headline figures and tables in our setting, one module per paper.

Each module runs on its own and writes PNGs (and a ``<paper>_numbers.json`` of the measured values) to a folder
given on the command line (default ``out/``)::

    python -m paper_checks.wan2021 out/            # or: python paper_checks/wan2021.py out/
    python -m paper_checks.kodryan2022 out/ --quick

The verdicts themselves come from the claim registry (``spheretheory check``); these modules draw the figures.
Two modules serve documentation pages rather than one paper: ``adam`` (docs/adam.md and its numbers.json) and
``regimes`` (docs/regimes.md and its summary.json). Figure code lives here, not in the library.
"""
