"""spheretheory: spherical motion dynamics of scale-invariant weights — derived, simulated and checked.

Top-level names are loaded lazily so that ``import spheretheory`` stays cheap (no sympy, no numba):

* :func:`predict` — equilibrium predictions from hyperparameters (:mod:`spheretheory.prediction`);
* :func:`lr_drop` — steps to the new equilibrium after a learning-rate drop;
* :func:`simulate` — discrete simulations of the dynamics (:mod:`spheretheory.simulation`);
* :func:`trajectory` — the predicted whole run under any schedule (:mod:`spheretheory.trajectory_prediction`);
* :mod:`schedules` — the schedule vocabulary shared by ``simulate``, ``trajectory`` and the CLI;
* :mod:`theory` — the sympy derivations;
* :func:`sweep` — predict, simulate and compare over a grid on Dask (:mod:`spheretheory.sweep`, extra ``sweep``).
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__

_LAZY: dict[str, tuple[str, str | None]] = {
    "predict": ("spheretheory.prediction", "predict"),
    "lr_drop": ("spheretheory.prediction", "lr_drop"),
    "Prediction": ("spheretheory.prediction", "Prediction"),
    "simulate": ("spheretheory.simulation", "simulate"),
    "trajectory": ("spheretheory.trajectory_prediction", "trajectory"),
    "solve": ("spheretheory.trajectory_prediction", "solve"),
    "schedules": ("spheretheory.schedules", None),
    "theory": ("spheretheory.theory", None),
    "sweep": ("spheretheory.sweep", None),  # a callable module: spheretheory.sweep(grid, ...)
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'spheretheory' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
