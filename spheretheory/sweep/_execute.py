"""Run independent tasks in-process or on dask.distributed, handing each result to a callback as it finishes.

This is the one execution path of sweeps (and the hook for ``regimes``/``check --scheduler``): no scheduler of
our own — Dask places the tasks, reschedules those of a worker that dies, and reports completion.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .._validation import InputError

#: ``client`` values that run every task in this process, one after the other
INLINE = ("inline", "sync", "synchronous")


@dataclass(frozen=True)
class Task:
    """One independent unit of work: ``fn(*args)``; ``key`` names it on the cluster (and deduplicates it)."""

    key: str
    fn: Callable[..., Any]
    args: tuple[Any, ...]


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def open_client(
    client: Any = None, *, scheduler_file: str | None = None, n_tasks: int = 0, n_workers: int | None = None
) -> Iterator[Any]:
    """Yield a ``distributed.Client`` or the string ``"inline"``; close what this function started.

    ``client``: ``"inline"`` (no cluster), a ``distributed.Client``, a scheduler address (``"tcp://host:8786"``),
    or ``None``: a ``LocalCluster`` with one single-threaded worker process per core (at most one per task) —
    or inline when there is at most one task (or one core), so a tiny run never starts a cluster.
    ``scheduler_file``: the JSON file written by ``dask scheduler --scheduler-file`` (or dask-jobqueue).
    """
    if client is not None and scheduler_file is not None:
        raise InputError("give client (or --scheduler) or scheduler_file, not both")
    if isinstance(client, str) and client.strip().lower() in INLINE:
        yield "inline"
        return
    if client is not None and not isinstance(client, str):
        yield client  # the caller's client: theirs to close
        return
    from distributed import Client, LocalCluster

    if scheduler_file is not None:
        if not os.path.isfile(scheduler_file):
            raise InputError(f"scheduler_file: no such file {scheduler_file!r}")
        try:
            c = Client(scheduler_file=scheduler_file, timeout="20s")
        except (OSError, ValueError, KeyError) as exc:  # unreachable scheduler, stale or malformed file
            raise InputError(f"scheduler_file {scheduler_file!r}: cannot connect ({exc})") from None
        try:
            yield c
        finally:
            c.close()
        return
    if isinstance(client, str):
        if "://" not in client and ":" not in client:
            raise InputError(f"scheduler must be an address such as tcp://host:8786 or 'inline'; got {client!r}")
        try:
            c = Client(client, timeout="20s")
        except OSError as exc:
            raise InputError(f"scheduler {client!r}: cannot connect ({exc})") from None
        try:
            yield c
        finally:
            c.close()
        return
    workers = n_workers or min(cores(), max(n_tasks, 1))
    if n_tasks <= 1 or workers <= 1:
        yield "inline"
        return
    # processes, one thread each: the numba kernels hold the GIL (compiled without nogil), so threads would
    # serialize; NUMBA_NUM_THREADS=1 keeps each worker's parallel kernels from oversubscribing the cores
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port (8787 may be taken by another cluster)
        env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
    )
    c = Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def _no_dashboard() -> bool:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return True
    return False


def dashboard_link(client: Any) -> str | None:
    """The Dask dashboard address of a client, when it serves one."""
    if client == "inline" or _no_dashboard():
        return None
    try:
        return client.dashboard_link
    except Exception:  # pragma: no cover - no dashboard
        return None


def run_tasks(
    tasks: Sequence[Task],
    on_result: Callable[[Task, Any], None],
    client: Any = "inline",
    *,
    on_error: Callable[[Task, BaseException], None] | None = None,
) -> None:
    """Run every task, calling ``on_result(task, result)`` in this process as each one finishes (any order).

    A task that raises is passed to ``on_error`` (or re-raised when it is None); the others still run. With a
    ``distributed.Client`` the tasks of a worker that dies are rescheduled on the others by Dask itself.
    Interrupting (KeyboardInterrupt) cancels what is still pending.
    """
    if client == "inline":
        for task in tasks:
            try:
                result = task.fn(*task.args)
            except Exception as exc:
                if on_error is None:
                    raise
                on_error(task, exc)
                continue
            on_result(task, result)
        return
    from distributed import as_completed

    by_key = {t.key: t for t in tasks}
    futures = [client.submit(t.fn, *t.args, key=t.key, pure=False) for t in tasks]
    try:
        for future in as_completed(futures):
            task = by_key[future.key]
            try:
                result = future.result()
            except Exception as exc:
                if on_error is None:
                    raise
                on_error(task, exc)
                continue
            finally:
                future.release()
            on_result(task, result)
    finally:
        client.cancel([f for f in futures if not f.done()])
