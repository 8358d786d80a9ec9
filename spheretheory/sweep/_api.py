"""``spheretheory.sweep``: predict, simulate and compare over a grid, on Dask, into a resumable Zarr store."""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from .._validation import InputError, check_choice, check_int
from . import _point as P
from ._execute import Task, open_client, run_tasks
from ._grid import (
    Grid,
    _optimizers,
    canonical_point,
    describe_point,
    make_grid,
    needs_dim,
    point_key,
    point_seed,
)

METHODS = ("auto", "full", "reduced")
BACKENDS = ("numba", "numpy", "cupy")


def _package_version() -> str:
    from .._version import __version__

    return __version__


def _fields(forms: tuple[str, ...]) -> list[str]:
    out = [f"predicted_{f}" for f in forms] + ["measured", "se"]
    out += [f"rel_error_{f}" for f in forms] + [f"z_{f}" for f in forms]
    return out + ["allowance", "run_steps", "relaxations", "trajectories_used", "diverged", "wall_s"]


def plan(
    grid: Mapping[str, Any], settings: P.Settings
) -> tuple[Grid, dict[str, dict[str, Any]], dict[str, list[tuple[int, ...]]], tuple[str, ...]]:
    """Validate a grid against the domain of every point, all at once.

    Returns the grid, the distinct canonical points by key, the grid cells of each key and the prediction forms
    available for the quantity. Raises one ``ValueError`` listing every offending point.
    """
    problems: list[str] = []
    g = make_grid(grid, problems)
    _, takes = _optimizers()
    points: dict[str, dict[str, Any]] = {}
    cells: dict[str, list[tuple[int, ...]]] = {}
    bad: list[str] = []
    form_seen: dict[str, tuple[str, ...]] = {}
    for index, point in g.points():
        canon = canonical_point(point, takes)
        key = point_key(canon)
        if key in cells:
            cells[key].append(index)
            continue
        cells[key] = [index]
        points[key] = canon
        opt = canon.get("optimizer", "sgd")
        where = describe_point({d: point[d] for d in g.dims})  # the axes (fixed settings are shared)
        if settings.method == "reduced" and opt not in P.REDUCED_OPTIMIZERS:
            bad.append(f"{where}: method='reduced' exists only for {', '.join(P.REDUCED_OPTIMIZERS)}")
            continue
        try:
            P.prediction(canon, settings, with_dim=needs_dim(opt))
        except (ValueError, TypeError) as exc:
            bad.append(f"{where}: {exc}")
            continue
        if opt not in form_seen:  # the forms predict offers (with dim: the finite-width ones too), per optimizer
            form_seen[opt] = P.forms_available(P.prediction(canon, settings), settings.quantity)
    if bad:
        problems.append(f"{len(bad)} of {len(points)} grid points are outside the domain: " + "; ".join(bad))
    if problems:
        raise InputError("bad grid: " + "; ".join(problems))
    forms = tuple(f for f in P.FORMS if any(f in v for v in form_seen.values()))
    return g, points, cells, forms or ("exact",)


def sweep(
    grid: Mapping[str, Any],
    quantity: str = "angular_update",
    method: str = "auto",
    client: Any = None,
    store: str | None = None,
    seed: int = 0,
    *,
    scheduler_file: str | None = None,
    backend: str = "numba",
    n_workers: int | None = None,
    max_steps: int = P.MAX_STEPS,
    progress: bool | Callable[[int, int], None] | None = None,
    on_client: Callable[[Any], None] | None = None,
) -> Any:
    """Predict, simulate and compare at every point of a grid; return an ``xarray.Dataset``.

    Parameters
    ----------
    grid:
        Parameter name -> values. A list is an axis (a dimension of the result), a scalar a fixed setting:
        ``optimizer``, ``lr``, ``weight_decay``, ``momentum``, ``unit_grad_sq``, ``beta1``, ``beta2``, ``eps``,
        ``dim`` (default 256), ``steps`` (default: 16 relaxation times, clipped to [2000, 200000]),
        ``trajectories`` (default 256), ``init_norm`` (default: the predicted ‖w*‖), ``dtype``. An optimizer
        hyperparameter is ignored at the points of an optimizer that does not take it (they share one run).
    quantity:
        ``angular_update`` (Δ, rad), ``sq_norm`` (‖w‖²) or ``effective_lr`` (η/‖w‖²): its equilibrium mean over
        the last half of the run is compared with the exact, first-order (and, when predict has it, finite-d)
        prediction (:mod:`spheretheory.sweep._point` defines relative error, z-score, ``holds_*`` and ``fails``).
    method:
        ``auto`` (the exact reduced-state chain for SGD/SGDM, full d otherwise), ``full`` or ``reduced``.
    client:
        ``"inline"`` (this process, no cluster), a ``distributed.Client``, a scheduler address
        (``"tcp://host:8786"``) or ``None``: a ``LocalCluster`` of single-threaded worker processes, one per core
        (inline for a single point).
    store:
        Path of a Zarr store: each point is written as it finishes; a rerun skips finished points, an extended
        grid computes only the new ones, and a run with other settings or another package version is refused.
    seed:
        Base seed; each point's seed is a hash of (seed, the point's parameters), so results do not depend on the
        worker count or the order of completion.
    scheduler_file:
        A Dask scheduler file (``dask scheduler --scheduler-file``), instead of ``client``.
    max_steps:
        Cap of the automatic run length (16 relaxation times; the ``relaxations`` field says how many a capped
        run covered).
    backend:
        Simulation backend on the workers: ``numba`` (default), ``numpy`` or ``cupy`` (a GPU per worker).
    progress:
        A progress bar (``None``: on a terminal), or a callable ``(finished, total)`` called after each point.
    on_client:
        Called with the client once it is up (e.g. to print the dashboard link).

    Returns
    -------
    xarray.Dataset
        Dims: the grid's axes. Variables: every field of a point (``predicted_<form>``, ``measured``, ``se``,
        ``rel_error_<form>``, ``z_<form>``, ``allowance``, ``run_steps``, ``relaxations``, ``trajectories_used``,
        ``diverged``, ``wall_s``), ``holds_<form>``, ``fails``, ``done`` and ``seed``. Fixed settings are scalar
        coordinates; attributes record quantity, method, backend, base seed and package versions. Points whose
        task failed are NaN with ``done`` False and listed in ``attrs["failed"]`` (a warning is issued).
    """
    import xarray as xr

    quantity = check_choice("quantity", quantity, P.QUANTITIES)
    method = check_choice("method", method, METHODS)
    backend = check_choice("backend", backend, BACKENDS)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer; got {seed!r}")
    max_steps = check_int("max_steps", max_steps, low=P.MIN_STEPS)
    settings = P.Settings(quantity=quantity, method=method, backend=backend, seed=int(seed), max_steps=max_steps)
    g, points, cells, forms = plan(grid, settings)
    fields = _fields(forms)
    meta = {
        "spheretheory_version": _package_version(),
        "quantity": quantity,
        "method": method,
        "backend": backend,
        "seed": int(seed),
        "max_steps": max_steps,
        "fixed": {k: v for k, v in sorted(g.fixed.items())},
        "forms": list(forms),
        "fields": fields,
        "z_threshold": P.Z_THRESHOLD,
    }
    seeds = {key: point_seed(seed, p) for key, p in points.items()}

    # where results go: the store (cells mapped to its layout) or memory
    results = np.full((*g.shape, len(fields)), np.nan)
    done = np.zeros(g.shape, dtype=bool)
    st = None
    if store is not None:
        from ._store import SweepStore

        st = SweepStore(store, g.axes, meta)
        index = st.index(g.axes)
        order = [list(st.axes).index(d) for d in g.dims]  # grid axis i is store axis order[i]
        sr, sd = st.read()
        sub = np.ix_(*index)
        results = np.moveaxis(sr[sub], order, list(range(g.ndim))) if g.ndim else sr
        done = np.moveaxis(sd[sub], order, list(range(g.ndim))) if g.ndim else sd

        def to_store(cell: tuple[int, ...]) -> tuple[int, ...]:
            by_dim = dict(zip(g.dims, cell, strict=True))
            return tuple(int(index[g.dims.index(d)][by_dim[d]]) for d in st.axes)

    def record(key: str, values: np.ndarray) -> None:
        for cell in cells[key]:
            results[cell] = values
            done[cell] = True
        if st is not None:
            st.write([to_store(c) for c in cells[key]], values)

    # points already finished somewhere (a cell of the same run, e.g. after an axis another optimizer ignores
    # was extended) are copied, not recomputed
    pending = []
    for key, cs in cells.items():
        finished = [c for c in cs if done[c]]
        if not finished:
            pending.append(key)
        elif len(finished) < len(cs):
            record(key, results[finished[0]].copy())

    total, count = len(pending), 0
    bar = None
    if progress is True or (progress is None and sys.stderr.isatty() and total > 1):
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc="sweep", unit="point", file=sys.stderr)
    failed: list[str] = []
    by_task = {_task_key(seeds[k]): k for k in pending}

    def on_result(task: Task, out: dict[str, float]) -> None:
        nonlocal count
        record(by_task[task.key], np.array([out.get(f, math.nan) for f in fields], dtype=float))
        count += 1
        if bar is not None:
            bar.update(1)
        if callable(progress):
            progress(count, total)

    def on_error(task: Task, exc: BaseException) -> None:
        failed.append(
            f"{describe_point(points[by_task[task.key]])}: {type(exc).__name__}: {' '.join(str(exc).split())}"
        )

    try:
        if pending:
            with open_client(client, scheduler_file=scheduler_file, n_tasks=total, n_workers=n_workers) as c:
                run_settings = settings if c == "inline" else replace(settings, numba_threads=1)
                if on_client is not None:
                    on_client(c)
                tasks = [
                    Task(_task_key(seeds[k]), P.run_point, (points[k], run_settings, seeds[k], forms)) for k in pending
                ]
                run_tasks(tasks, on_result, c, on_error=on_error)
    finally:
        if bar is not None:
            bar.close()

    # the labelled result
    coords: dict[str, Any] = {d: list(v) for d, v in g.axes.items()}
    coords.update(g.fixed)
    data: dict[str, Any] = {f: (g.dims, results[..., i]) for i, f in enumerate(fields)}
    for name, v in P.verdicts({f: results[..., i] for i, f in enumerate(fields)}, forms).items():
        data[name] = (g.dims, v & done)
    data["done"] = (g.dims, done)
    seed_cells = np.zeros(g.shape, dtype=np.int64)
    for key, cs in cells.items():
        for c in cs:
            seed_cells[c] = seeds[key]
    data["seed"] = (g.dims, seed_cells)
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update({k: v for k, v in meta.items() if k not in ("fixed", "forms", "fields")})
    ds.attrs["forms"] = ",".join(forms)
    ds.attrs["statistic"] = "equilibrium mean over the last half of the run; SE across independent trajectories"
    ds.attrs["versions"] = _versions()
    ds.attrs["failed"] = failed
    if store is not None:
        ds.attrs["store"] = str(store)
    if failed:
        warnings.warn(f"{len(failed)} sweep points failed: {failed[0]}", RuntimeWarning, stacklevel=2)
    return ds


def _task_key(seed: int) -> str:
    return f"spheretheory-sweep-{seed:016x}"


def _versions() -> str:
    out = [f"spheretheory {_package_version()}", f"numpy {np.__version__}"]
    for name in ("numba", "dask", "distributed", "xarray", "zarr"):
        mod = sys.modules.get(name)
        if mod is not None:
            out.append(f"{name} {getattr(mod, '__version__', '?')}")
    return ", ".join(out)
