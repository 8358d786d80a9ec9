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

from typing import Any

from ._version import __version__

#: The lazy names, each loaded on first access by :func:`__getattr__`.
_LAZY: tuple[str, ...] = (
    "predict",
    "lr_drop",
    "Prediction",
    "simulate",
    "trajectory",
    "solve",
    "schedules",
    "theory",
    "sweep",  # a callable module: spheretheory.sweep(grid, ...)
)

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    # One literal import statement per name, so that each edge is in the import graph lint-imports checks (a
    # module-name string would hide it). The modules are imported as ``import spheretheory.x``: ``from . import x``
    # would ask this function for ``x`` again.
    match name:
        case "predict":
            from .prediction import predict as value
        case "lr_drop":
            from .prediction import lr_drop as value
        case "Prediction":
            from .prediction import Prediction as value
        case "simulate":
            from .simulation import simulate as value
        case "trajectory":
            from .trajectory_prediction import trajectory as value
        case "solve":
            from .trajectory_prediction import solve as value
        case "schedules":
            import spheretheory.schedules as value
        case "theory":
            import spheretheory.theory as value
        case "sweep":
            import spheretheory.sweep as value
        case _:
            raise AttributeError(f"module 'spheretheory' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
