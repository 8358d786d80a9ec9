"""The resumable, crash-safe Zarr store of a sweep.

Layout (a Zarr v3 group; ``xarray.open_zarr(path)`` reads it as a labelled dataset):

* one 1-D coordinate array per grid axis;
* ``results`` — float64, dims (*axes, ``field``), NaN until computed; ``field`` names the numbers of a point;
* ``done`` — bool, dims (*axes): the commit mark of a point, written *after* its results;
* group attributes ``spheretheory_sweep``: everything that defines the numbers (package version, quantity,
  method, backend, base seed, fixed settings, forms, fields).

Why it is crash safe: only the client writes (one process, one point at a time); Zarr's local store writes
every chunk to a temporary file and renames it into place, so a chunk holds either its old or its new bytes.
A kill between a point's ``results`` write and its ``done`` write leaves that point not done (computed again
on the next run); a finished point is never rewritten. Extending the grid builds the union layout in a new
directory and swaps it in with two renames; :func:`_recover` finishes or undoes a swap a kill interrupted.
"""

from __future__ import annotations

import math
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import InputError

ATTR = "spheretheory_sweep"
#: target number of grid cells per chunk (a point write rewrites one chunk of ``results`` and one of ``done``)
CHUNK_CELLS = 256


def _chunks(shape: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    budget = CHUNK_CELLS
    for n in reversed(shape):
        c = max(1, min(n, budget))
        out.append(c)
        budget = max(1, budget // c)
    return tuple(reversed(out))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=0.0)
        except (TypeError, ValueError):
            return False
    return a == b


def _index_of(values: tuple[Any, ...], v: Any) -> int:
    for i, x in enumerate(values):
        if _same(x, v):
            return i
    return -1


def _recover(path: Path) -> None:
    """Finish a layout swap that a kill interrupted (see the module docstring)."""
    parent = path.parent
    olds = sorted(parent.glob(f"{path.name}.old-*"))
    if not path.exists() and olds:
        olds[-1].rename(path)  # killed between the two renames: the old layout is intact, put it back
        olds = olds[:-1]
    for junk in [*olds, *parent.glob(f"{path.name}.new-*")]:
        shutil.rmtree(junk, ignore_errors=True)


class SweepStore:
    """Open (or create) the store at ``path`` for a grid; read finished points; write points as they finish."""

    def __init__(self, path: str | os.PathLike, axes: dict[str, tuple[Any, ...]], meta: dict[str, Any]):
        import zarr

        self.path = Path(path)
        self._zarr = zarr
        parent = self.path.parent if str(self.path.parent) else Path(".")
        if not parent.is_dir():
            raise InputError(f"store: directory {str(parent)!r} does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise InputError(f"store: cannot write in {str(parent)!r} (permission denied)")
        if self.path.exists() and not self.path.is_dir():
            raise InputError(f"store: {str(self.path)!r} exists and is not a Zarr directory")
        _recover(self.path)
        if self.path.exists():
            if not os.access(self.path, os.W_OK | os.X_OK):
                raise InputError(f"store: cannot write in {str(self.path)!r} (permission denied)")
            stored_axes, stored_meta = self._read_layout()
            self._check_meta(stored_meta, meta)
            if set(stored_axes) != set(axes):
                raise InputError(
                    f"store {str(self.path)!r} holds a sweep over ({', '.join(stored_axes)}); this grid is over "
                    f"({', '.join(axes)}): use another --store"
                )
            union = {}
            for name, old in stored_axes.items():
                new = [v for v in axes[name] if _index_of(old, v) < 0]
                union[name] = old + tuple(new)
            if any(len(union[k]) != len(stored_axes[k]) for k in union):
                self._extend(stored_axes, union, meta)
            self.axes = union
        else:
            self.axes = dict(axes)
            try:
                self._create(self.path, self.axes, meta)
            except OSError as exc:
                raise InputError(f"store: cannot create {str(self.path)!r} ({exc.strerror or exc})") from None
        self.meta = meta
        self._group = zarr.open_group(str(self.path), mode="r+")
        self._results = self._group["results"]
        self._done = self._group["done"]

    # ------------------------------------------------------------------------------------------ layout
    def _read_layout(self) -> tuple[dict[str, tuple[Any, ...]], dict[str, Any]]:
        try:
            g = self._zarr.open_group(str(self.path), mode="r")
            meta = dict(g.attrs[ATTR])
            axes = {name: tuple(_py(v) for v in g[name][:]) for name in meta["dims"]}
        except Exception as exc:  # not a sweep store (or not Zarr at all)
            raise InputError(f"store: {str(self.path)!r} is not a spheretheory sweep store ({exc})") from None
        return axes, meta

    @staticmethod
    def _check_meta(stored: dict[str, Any], meta: dict[str, Any]) -> None:
        keys = [k for k in meta if k not in ("dims",)]
        diff = [k for k in keys if stored.get(k) != meta[k]]
        if diff:
            parts = ", ".join(f"{k}: stored {stored.get(k)!r}, now {meta[k]!r}" for k in diff)
            raise InputError(
                f"store was written with different settings ({parts}); its points would not be comparable: "
                "use another --store (or the same settings)"
            )

    def _create(self, path: Path, axes: dict[str, tuple[Any, ...]], meta: dict[str, Any]) -> Any:
        zarr = self._zarr
        g = zarr.open_group(str(path), mode="w-")
        dims = list(axes)
        shape = tuple(len(v) for v in axes.values())
        for name, values in axes.items():
            is_str = any(isinstance(v, str) for v in values)
            arr = np.array(values, dtype=str if is_str else None)
            a = g.create_array(name, shape=arr.shape, dtype=str if is_str else arr.dtype, dimension_names=[name])
            a[:] = arr
        fields = np.array(meta["fields"], dtype=str)
        f = g.create_array("field", shape=fields.shape, dtype=str, dimension_names=["field"])
        f[:] = fields
        chunks = _chunks(shape)
        g.create_array(
            "results",
            shape=(*shape, len(fields)),
            chunks=(*chunks, len(fields)),
            dtype="f8",
            fill_value=np.nan,
            dimension_names=[*dims, "field"],
        )
        g.create_array("done", shape=shape, chunks=chunks, dtype=bool, fill_value=False, dimension_names=dims)
        g.attrs[ATTR] = {**meta, "dims": dims}
        with warnings.catch_warnings():  # "consolidated metadata is not in the v3 spec": xarray reads it anyway
            warnings.simplefilter("ignore")
            zarr.consolidate_metadata(str(path))  # metadata change only here (chunk writes leave it alone)
        return zarr.open_group(str(path), mode="r+")

    def _extend(self, old_axes: dict[str, tuple[Any, ...]], union: dict[str, tuple[Any, ...]], meta: dict) -> None:
        """Copy the store into the union layout in a new directory, then swap it in (two renames)."""
        old = self._zarr.open_group(str(self.path), mode="r")
        results, done = old["results"][...], old["done"][...]
        tag = f"{os.getpid()}"
        new_path = self.path.with_name(f"{self.path.name}.new-{tag}")
        g = self._create(new_path, union, meta)
        index = np.ix_(*(np.arange(len(v)) for v in old_axes.values()))
        big_results = np.full((*(len(v) for v in union.values()), results.shape[-1]), np.nan)
        big_done = np.zeros(tuple(len(v) for v in union.values()), dtype=bool)
        big_results[index] = results  # old values come first along every axis of the union
        big_done[index] = done
        g["results"][...] = big_results
        g["done"][...] = big_done
        old_path = self.path.with_name(f"{self.path.name}.old-{tag}")
        self.path.rename(old_path)
        new_path.rename(self.path)
        shutil.rmtree(old_path, ignore_errors=True)

    # ------------------------------------------------------------------------------------------ access
    def index(self, axes: dict[str, tuple[Any, ...]]) -> tuple[np.ndarray, ...]:
        """Indices (np.ix_) of a grid's axis values in the store's axes, in the grid's axis order."""
        dims = list(self.axes)
        idx = []
        for name in dims:
            idx.append(np.array([_index_of(self.axes[name], v) for v in axes[name]], dtype=np.intp))
        return tuple(idx)

    def read(self) -> tuple[np.ndarray, np.ndarray]:
        """``results`` and ``done`` of the whole store (store axis order)."""
        return self._results[...], self._done[...]

    def write(self, cells: list[tuple[int, ...]], values: np.ndarray) -> None:
        """Write one point's ``values`` (one per field) into each of ``cells`` (store indices), then mark done."""
        for cell in cells:
            self._results[cell] = values
        for cell in cells:
            self._done[cell] = True


def _py(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v
