"""The developers' guide's import rule, checked on the source: every import edge is a literal import statement.

import-linter (``.importlinter``, run by ``lint-imports``) builds its graph with grimp from the import statements
of the AST. Two forms hide an edge from it or from a reader:

* a string import — ``importlib.import_module("spheretheory.x")`` or ``__import__(...)``: no edge at all;
* a bare ``from .. import x`` that reaches into another package's namespace (``..`` from a subpackage, or ``.``
  from a module directly under ``spheretheory/``, whose package is the top one with its lazy ``__getattr__``):
  it reads as a name re-exported by that package's ``__init__`` whether or not ``x`` is a module.
  ``from ..x import name`` names the module the edge reaches.

The lazy loaders (``spheretheory.__getattr__``, the CLI's subcommands, the claim and derivation registries) keep
their laziness with one import statement per name inside a function; the tests below check that they still load
every name and nothing more.
"""

from __future__ import annotations

import ast
import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "spheretheory"
SOURCES = sorted(PACKAGE.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(package: str, name: str) -> bool:
    base = ROOT.joinpath(*package.split("."), name)
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _string_imports(path: Path, tree: ast.AST) -> list[tuple[int, str]]:
    """Calls that import a module named by a string: ``importlib.import_module``, ``import_module``,
    ``__import__`` (``importlib.__import__`` too)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
            if name in {"import_module", "__import__"}:
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.ImportFrom) and node.module == "importlib" and node.level == 0:
            if any(a.name in {"import_module", "__import__"} for a in node.names):
                found.append((node.lineno, ast.unparse(node)))
    return found


def _hidden_from_imports(path: Path, tree: ast.AST) -> list[tuple[int, str]]:
    """Bare ``from <relative> import x`` whose package is not the importing module's own subpackage."""
    module = _module_name(path)
    own_package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ImportFrom) and node.module is None and node.level >= 1):
            continue
        parts = own_package.split(".")
        package = ".".join(parts[: len(parts) - (node.level - 1)])
        if node.level >= 2 or (package == "spheretheory" and module != "spheretheory"):
            for alias in node.names:
                kind = "module" if _is_module(package, alias.name) else "name"
                found.append((node.lineno, f"from {'.' * node.level} import {alias.name} ({kind} of {package})"))
    return found


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _violations(check) -> list[str]:
    out = []
    for path in SOURCES:
        tree = _tree(path)
        out += [f"{path.relative_to(ROOT)}:{line}: {what}" for line, what in check(path, tree)]
    return out


def test_sources_are_found():
    assert len(SOURCES) > 50 and PACKAGE / "__init__.py" in SOURCES


def test_no_string_imports():
    """An import by module-name string is invisible to import-linter: write ``from . import x`` inside a
    function instead (one statement per name keeps the laziness)."""
    bad = _violations(_string_imports)
    assert not bad, "string imports hide edges from lint-imports:\n" + "\n".join(bad)


def test_no_bare_from_parent_imports():
    """``from .. import x`` reads as a name of the parent package; write ``from ..x import name`` (or, from a
    top-level module, ``from .x import name``) so that the edge names the module it reaches."""
    bad = _violations(_hidden_from_imports)
    assert not bad, "bare `from .. import x` hides which module an edge reaches:\n" + "\n".join(bad)


def test_the_checks_catch_each_form():
    """The two scanners flag the forms they are meant to (so that the tests above can fail)."""
    here = PACKAGE / "cli" / "__init__.py"
    src = "import importlib\nimportlib.import_module('spheretheory.x')\n__import__('os')\nfrom . import simulate\n"
    assert [line for line, _ in _string_imports(here, ast.parse(src))] == [2, 3]
    assert _string_imports(here, ast.parse("from importlib import import_module\n"))
    tree = ast.parse("from .. import _measure as M\nfrom . import x\nfrom .._measure import predict\n")
    assert [line for line, _ in _hidden_from_imports(PACKAGE / "claims" / "wan2021" / "rates.py", tree)] == [1]
    tree = ast.parse("from . import theory\nfrom .theory import get\n")
    assert [line for line, _ in _hidden_from_imports(PACKAGE / "prediction.py", tree)] == [1]
    assert _hidden_from_imports(PACKAGE / "claims" / "nrq2023.py", ast.parse("from . import _measure as M\n")) == []


# --- the lazy loaders load every name, and only what was asked for --------------------------------------------


def _fresh(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


HEAVY = ("numba", "sympy", "scipy", "matplotlib", "torch", "dask", "xarray", "zarr", "cupy")


def test_top_package_names_and_laziness():
    """``import spheretheory`` loads no heavy or optional dependency; ``__all__``, ``dir()`` and the unknown-name
    error are as documented; every lazy name resolves (to the object its module defines) and is then cached."""
    out = _fresh(
        "import sys, spheretheory as st\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
        "print(st.__all__)\n"
        "print(all(n in dir(st) for n in st.__all__))\n"
        "try:\n    st.nope\nexcept AttributeError as e:\n    print(e)\n"
        "from spheretheory import prediction, simulation, trajectory_prediction as tp, schedules, theory, sweep\n"
        "print(st.predict is prediction.predict, st.lr_drop is prediction.lr_drop,"
        " st.Prediction is prediction.Prediction, st.simulate is simulation.simulate,"
        " st.trajectory is tp.trajectory, st.solve is tp.solve, st.schedules is schedules, st.theory is theory,"
        " st.sweep is sweep, 'predict' in vars(st))\n"
    )
    heavy, all_, in_dir, error, same = out.splitlines()
    assert heavy == "[]"
    assert all_ == str(
        ["__version__", "predict", "lr_drop", "Prediction", "simulate", "trajectory", "solve", "schedules", "theory"]
        + ["sweep"]
    )
    assert in_dir == "True"
    assert error == "module 'spheretheory' has no attribute 'nope'"
    assert same == " ".join(["True"] * 10)


def test_cli_imports_only_the_named_subcommand():
    """Each subcommand's loader imports its module (which registers a parser); naming one imports no other."""
    import spheretheory.cli as cli

    for name in cli.SUBCOMMANDS:
        assert cli._subcommand_module(name).__name__ == f"spheretheory.cli.{name}"
    with pytest.raises(KeyError, match="no subcommand module 'nope'"):
        cli._subcommand_module("nope")
    out = _fresh(
        "import sys\nfrom spheretheory.cli import build_parser\nbuild_parser(['lr-drop'])\n"
        f"print(sorted(m for m in sys.modules if m.removeprefix('spheretheory.cli.') in {cli.SUBCOMMANDS!r}))"
    )
    assert out == "['spheretheory.cli.lr_drop']"


def test_claims_load_one_paper_at_a_time():
    """Every paper key has a loader importing the module ``PAPERS`` names; asking for one paper's claims imports
    that paper's module and no other paper's."""
    from spheretheory import claims as C

    for key, (module, _) in C.PAPERS.items():
        assert C._import_paper(key).__name__ == f"spheretheory.claims.{module}"
    with pytest.raises(KeyError, match="no claim module for paper 'nope'"):
        C._import_paper("nope")
    out = _fresh(
        "import sys\nfrom spheretheory import claims as C\nC.claims('nrq2023')\n"
        "print(sorted(k for k, (m, _) in C.PAPERS.items() if 'spheretheory.claims.' + m in sys.modules))"
    )
    assert out == "['nrq2023']"


def _registers_at_import(path: Path) -> bool:
    """Whether a module calls ``register(...)`` in a top-level statement (a derivation module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = [s for s in tree.body if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "register"
        for s in top
        for n in ast.walk(s)
    )


@pytest.mark.parametrize("probe", ["theory.names()", "theory.get('sgd.angular_update')"])
def test_theory_registry_loads_every_derivation_module(probe):
    """First access to the registry, by whichever entry point, imports every module of ``spheretheory/theory/``
    that registers derivations at import (found here from the source, so a new module that the registry's
    import list forgets fails)."""
    expected = sorted(
        f"spheretheory.theory.{p.stem}" for p in (PACKAGE / "theory").glob("*.py") if _registers_at_import(p)
    )
    assert len(expected) >= 17
    out = _fresh(
        f"import sys\nfrom spheretheory import theory\n{probe}\n"
        f"print([m for m in {expected!r} if m not in sys.modules])"
    )
    assert out == "[]"
