"""numba, as every compiled loop in spheretheory imports it: ``from .._jit import njit, prange``.

The one thing this adds to ``from numba import njit, prange`` is the order in which numba loads its array-math
module. ``numba.np.arraymath`` runs a BLAS probe when it is imported (``_HAVE_BLAS = _check_blas()``), which
imports ``scipy.linalg.cython_blas``; through scipy's array-API layer that pulls in ``numpy.f2py``,
``numpy.testing`` and the rest of scipy.linalg: 0.2–0.3 s of a process's first compiled call, in every process
(a CLI call, a ``check`` worker), although no spheretheory kernel calls BLAS. :func:`_load_array_math` imports
that module once, here, with the probe answered from whether scipy is installed (without importing it):

- the answer is the same as the probe's whenever scipy is importable, which it is (a core dependency);
- numba's linear-algebra lowering calls its own ``ensure_blas`` again when a compiled function uses BLAS, so
  scipy.linalg is still imported, and numba's ILP64 check still run, by any compiled ``np.dot``;
- it touches two private names of numba (``numba.np.linalg.ensure_blas``, ``numba.np.arraymath``); if either is
  missing, or the module is already loaded, it does nothing, and numba imports scipy as before.

``tests/test_fixed_cost.py`` checks both sides: a compiled reduced run imports no scipy.linalg, and a compiled
``np.dot`` still works.
"""

from __future__ import annotations

import importlib.util
import sys

from numba import njit, prange

__all__ = ["njit", "prange"]


def _scipy_installed() -> bool:
    """numba's probe, answered without the import: BLAS comes from scipy.linalg.cython_blas (ImportError if absent,
    as the probe raises)."""
    if importlib.util.find_spec("scipy") is None:
        raise ImportError("scipy 0.16+ is required for linear algebra")
    return True


def _load_array_math() -> None:
    """Import ``numba.np.arraymath`` with its import-time BLAS probe answered by :func:`_scipy_installed`."""
    if "numba.np.arraymath" in sys.modules:
        return
    try:
        from numba.np import linalg
    except ImportError:  # pragma: no cover - another numba layout: leave numba as it is
        return
    probe = getattr(linalg, "ensure_blas", None)
    if probe is None:  # pragma: no cover
        return
    linalg.ensure_blas = _scipy_installed
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        linalg.ensure_blas = probe


_load_array_math()
