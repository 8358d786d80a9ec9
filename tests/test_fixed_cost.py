"""The per-call fixed cost of the CLI (issue 15): what a small call imports, and the scipy-free log-gamma ratios
that let it skip scipy. Timings themselves live in benchmarks/bench_cli.py (ratios, never asserted here)."""

from __future__ import annotations

import os
import subprocess
import sys

import mpmath
import numpy as np
import pytest

from spheretheory.theory import finite_d_numeric as N

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def _modules_after(argv: list[str]) -> set[str]:
    """The modules loaded by one CLI call in a fresh interpreter (the call's output is discarded)."""
    code = (
        "import sys, io, contextlib\n"
        "from spheretheory.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        f"    main({argv!r})\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


@pytest.mark.parametrize("flags", [["--json"], []], ids=["json", "table"])
def test_small_reduced_cli_call_imports_neither_numba_nor_scipy(flags):
    """The issue's warm-call command (scaled down) runs on the numpy path: importing numba (≈ 0.3 s, plus scipy
    through numba's BLAS check) or scipy.special (≈ 0.2–0.35 s) would exceed the whole budget of 2× `import
    numpy`; only the simulate subcommand's module is imported. The table output's compile note must not import
    numba to look at a cache the run will not use."""
    mods = _modules_after(
        ["simulate", "--method", "reduced", "--dim", "4096", "--trajectories", "16", "--steps", "40", *flags]
    )
    assert not any(m == "numba" or m.startswith(("numba.", "scipy")) for m in mods), sorted(
        m for m in mods if m.startswith(("numba", "scipy"))
    )
    assert "spheretheory.cli.simulate" in mods
    assert not mods & {"spheretheory.cli.sweep", "spheretheory.cli.trajectory", "spheretheory.cli.check"}


@pytest.mark.parametrize("h", [0.5, 1.0, 1.5, 4.0, 10.5])
def test_log_gamma_ratio_matches_mpmath(h):
    """ln Γ(x + h) − ln Γ(x) to a few ulp (200-bit mpmath reference), from small half-integers to x = 5e4 where a
    difference of two double-precision ln Γ values is off by ~1e-10 (the O(1/(d−1)) matching reads it at
    d = 1e5). Tolerance: 1e-14 relative (≥ 1 absolute), ~50 ulp; the series and the exact rationals give ≤ 10."""
    mpmath.mp.prec = 200
    xs = [0.5, 1.0, 1.5, 2.0, 2.5, 7.0, 19.5, 20.0, 33.5, 512.0, 2047.5, 49999.5, 3.3]
    got = N._log_gamma_ratio(np.array(xs), h)
    for x, g in zip(xs, got, strict=True):
        ref = mpmath.loggamma(mpmath.mpf(x) + mpmath.mpf(h)) - mpmath.loggamma(mpmath.mpf(x))
        assert abs(g - float(ref)) <= 1e-14 * max(1.0, abs(float(ref))), (x, h, g, float(ref))


def test_chi_moments_are_the_exact_gamma_ratios():
    """E[χ_k^m] = 2^{m/2}Γ((k+m)/2)/Γ(k/2) and E[χ_{d−1}]/√(d−1) against mpmath, including k = 99999 (the
    matching width) where the ratio is ≈ k^{m/2}·(1 + O(1/k))."""
    mpmath.mp.prec = 200
    for k in (1.0, 4.0, 255.0, 99999.0):
        for m in (1, 2, 7, 20):
            ref = mpmath.mpf(2) ** (mpmath.mpf(m) / 2) * mpmath.gamma((k + m) / 2) / mpmath.gamma(mpmath.mpf(k) / 2)
            assert float(N._chi_moment(m, np.array(k))) == pytest.approx(float(ref), rel=1e-13)
    for d in (2, 5, 256, 100000):
        k = mpmath.mpf(d - 1)
        ref = mpmath.sqrt(2 / k) * mpmath.gamma(mpmath.mpf(d) / 2) / mpmath.gamma(k / 2)
        assert float(N.chi_mean_factor(d)) == pytest.approx(float(ref), rel=1e-14)


_COMPILES = """
import sys
from numba.core import dispatcher

compiled = []
orig = dispatcher._FunctionCompiler.compile


def spy(self, args, return_type):
    compiled.append(f"{self.py_func.__module__}.{self.py_func.__qualname__}")
    return orig(self, args, return_type)


dispatcher._FunctionCompiler.compile = spy
import spheretheory as st
from spheretheory.theory.iterate import steps_to_equilibrium

steps_to_equilibrium("sgd", 0.1, 1e-3, 10.0, 1e-3)
st.trajectory("sgdm", steps=50, lr=0.1, weight_decay=1e-3, momentum=0.9)
print(",".join(c for c in compiled if c.startswith("spheretheory")))
"""


def test_loops_over_the_generated_maps_are_cached_across_processes(tmp_path):
    """The second process loads lr_drop's iteration and the trajectory loop from numba's disk cache instead of
    compiling them again (a loop closing over a dispatcher got a new cache key in every process, numba#6264)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}

    def compiled() -> list[str]:
        out = subprocess.run([sys.executable, "-c", _COMPILES], env=env, capture_output=True, text=True, check=True)
        return [c for c in out.stdout.strip().split(",") if c]

    first = compiled()
    assert any("iterate" in c for c in first) and any("trajectory_prediction" in c for c in first), first
    assert compiled() == []


def test_compiled_reduced_call_skips_numbas_scipy_blas_import():
    """``spheretheory._jit`` loads numba's array math with its import-time BLAS probe answered without importing
    scipy.linalg (0.2–0.3 s of every compiled call): a compiled reduced CLI call must end with no scipy.linalg and
    numpy.f2py loaded, and numba must still believe BLAS is there (its probe's answer with scipy installed).
    Removing the ``_load_array_math()`` call in _jit fails this test."""
    argv = ["simulate", "--method", "reduced", "--dim", "64", "--trajectories", "16", "--steps", "40"]
    mods = _modules_after([*argv, "--backend", "numba"])
    assert "spheretheory.simulation._reduced_numba" in mods and "numba.np.arraymath" in mods
    assert not mods & {"scipy.linalg", "scipy.linalg.cython_blas", "numpy.f2py"}, sorted(
        mods & {"scipy.linalg", "scipy.linalg.cython_blas", "numpy.f2py"}
    )


def test_compiled_blas_still_works_after_jit_loads_array_math():
    """The other side of the shortcut above: a compiled ``np.dot`` (BLAS) still compiles and is right, because
    numba's linear-algebra lowering runs its own BLAS check (importing scipy.linalg) when it needs it."""
    code = (
        "import numpy as np, sys\n"
        "from spheretheory._jit import njit\n"
        "import numba.np.arraymath as am\n"
        "assert am._HAVE_BLAS and 'scipy.linalg' not in sys.modules\n"
        "f = njit(lambda a, b: np.dot(a, b))\n"
        "a = np.arange(12.0).reshape(3, 4); b = np.arange(8.0).reshape(4, 2)\n"
        "assert np.array_equal(f(a, b), a @ b)\n"
        "print('scipy.linalg' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True"]  # the dot's lowering imported scipy.linalg


def test_console_freezes_the_heap_only_as_the_process_entry(monkeypatch):
    """``cli.console`` (the console script, ``python -m spheretheory``) returns :func:`cli.main`'s exit code and
    then ``gc.freeze()``s, so the interpreter's teardown skips numba's objects (0.3 s of a compiled call's exit);
    ``main`` itself, which tests and scripts call in-process, must leave the collector alone."""
    import gc

    from spheretheory.cli import console, main

    gc.unfreeze()
    assert main(["predict", "--lr", "0.1", "--wd", "1e-3", "--json"]) == 0
    assert gc.get_freeze_count() == 0
    monkeypatch.setattr(sys, "argv", ["spheretheory", "predict", "--lr", "0", "--wd", "1e-3"])
    try:
        assert console() == 2  # a bad input's exit code passes through
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
