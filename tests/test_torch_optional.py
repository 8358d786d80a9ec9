"""torch is an optional extra: the core never imports it, and the integration says how to install it."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_core_and_integrations_package_do_not_import_torch():
    res = _run(
        "import sys, spheretheory, spheretheory.integrations; "
        "assert 'torch' not in sys.modules, 'torch imported eagerly'; print('ok')"
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_core_never_loads_an_optional_dependency():
    """`import spheretheory` and every core subpackage (and the CLI's parser) load none of torch, dask, xarray,
    zarr, cupy: the runtime half of .importlinter's optional-dependency contract, which sees only direct
    imports."""
    res = _run(
        "import sys, spheretheory, spheretheory.prediction, spheretheory.simulation, spheretheory.analysis, "
        "spheretheory.models, spheretheory.training, spheretheory.regimes, spheretheory.adaptive, "
        "spheretheory.claims, spheretheory.integrations, spheretheory.cli\n"
        "spheretheory.cli.build_parser()\n"
        "print(sorted(m for m in ('torch', 'dask', 'xarray', 'zarr', 'cupy') if m in sys.modules))"
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


def test_clear_error_without_torch():
    # sys.modules['torch'] = None makes `import torch` fail as if torch were not installed
    res = _run(
        "import sys; sys.modules['torch'] = None\n"
        "try:\n"
        "    import spheretheory.integrations.pytorch\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    assert res.returncode == 0, res.stderr
    assert "needs PyTorch" in res.stdout and "spheretheory[torch]" in res.stdout


@pytest.mark.torch
def test_integration_imports_with_torch():
    pytest.importorskip("torch", reason="PyTorch not installed (CPU build: see docs/pytorch.md)")
    import spheretheory.integrations.pytorch as stp

    assert callable(stp.SphereMonitor.attach)
