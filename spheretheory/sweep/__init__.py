"""Sweeps: predict, simulate and compare over a grid of hyperparameters, on Dask, into a resumable Zarr store.

>>> import spheretheory as st
>>> ds = st.sweep({"lr": [0.01, 0.1], "weight_decay": [1e-3, 1e-2]}, client="inline")  # doctest: +SKIP

``spheretheory.sweep`` is this module, and calling it calls :func:`sweep`. Importing it is cheap: dask,
distributed, xarray and zarr are imported only when a sweep runs (install them with ``pip install
spheretheory[sweep]``).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from ._api import plan, sweep
from ._execute import Task, open_client, run_tasks
from ._grid import ALIASES, PARAMETERS, Grid, make_grid, parse_axis, point_seed
from ._point import QUANTITIES, Z_THRESHOLD

__all__ = [
    "ALIASES",
    "PARAMETERS",
    "QUANTITIES",
    "Z_THRESHOLD",
    "Grid",
    "Task",
    "make_grid",
    "open_client",
    "parse_axis",
    "plan",
    "point_seed",
    "run_tasks",
    "sweep",
]


class _CallableModule(types.ModuleType):
    """``spheretheory.sweep(...)`` calls :func:`sweep` although ``spheretheory.sweep`` is this package."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
