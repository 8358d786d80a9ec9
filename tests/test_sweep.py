"""Sweeps: grid validation, determinism across executors, the resumable store (kill and resume), Dask clusters
(two workers; a worker dying mid-task), the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("dask.distributed")
pytest.importorskip("xarray")
pytest.importorskip("zarr")

import spheretheory as st  # noqa: E402
from spheretheory.cli import main  # noqa: E402
from spheretheory.sweep import _store, make_grid, parse_axis, point_seed, run_tasks  # noqa: E402
from spheretheory.sweep._execute import Task  # noqa: E402

# short runs (the reduced-state chain costs the same at any d): the tests compare runs with each other
GRID = {
    "optimizer": "sgdm",
    "lr": [0.01, 0.1],
    "weight_decay": [1e-3, 1e-2],
    "momentum": [0.0, 0.9],
    "steps": 300,
    "trajectories": 8,
}


@pytest.fixture(scope="module")
def reference():
    """An uninterrupted in-process sweep of GRID (the values every other execution must reproduce)."""
    return st.sweep(GRID, client="inline")


def _same(a, b) -> None:
    for name in ("measured", "se", "predicted_exact", "z_exact", "seed", "done"):
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


# ----------------------------------------------------------------------------------------------- results
def test_dataset_layout_and_comparison(reference):
    ds = reference
    assert tuple(ds.sizes) == ("lr", "weight_decay", "momentum") and ds["measured"].shape == (2, 2, 2)
    assert bool(ds["done"].all()) and ds.attrs["failed"] == []
    assert ds.coords["optimizer"].item() == "sgdm" and ds.coords["trajectories"].item() == 8
    # the comparison is computed from the stored numbers, not typed in
    m, p, se = ds["measured"], ds["predicted_exact"], ds["se"]
    np.testing.assert_allclose(ds["z_exact"], (m - p) / se)
    np.testing.assert_allclose(ds["rel_error_exact"], (m - p) / abs(p))
    np.testing.assert_array_equal(ds["holds_exact"], abs(ds["z_exact"]) <= ds.attrs["z_threshold"])
    allowance = abs(ds["predicted_exact"] - ds["predicted_first_order"])
    np.testing.assert_allclose(ds["allowance"], allowance)
    np.testing.assert_array_equal(ds["fails"], abs(m - p) > ds.attrs["z_threshold"] * se + allowance)
    # the predictions are predict's, point by point
    pr = st.predict("sgdm", lr=0.1, weight_decay=1e-2, momentum=0.9, dim=256)
    assert ds["predicted_exact"].sel(lr=0.1, weight_decay=1e-2, momentum=0.9).item() == pr.angular_update
    # every point has its own seed, derived from its parameters
    assert len(np.unique(ds["seed"].values)) == ds["seed"].size
    assert ds.attrs["spheretheory_version"] == st.__version__ and ds.attrs["method"] == "auto"


def test_seed_depends_on_the_point_only():
    a = point_seed(0, {"lr": 0.1, "weight_decay": 1e-3})
    assert a == point_seed(0, {"weight_decay": 1e-3, "lr": 0.1})  # not on the order of the names
    assert a != point_seed(1, {"lr": 0.1, "weight_decay": 1e-3})
    assert a != point_seed(0, {"lr": 0.1, "weight_decay": 2e-3})
    # same in another process (no hash randomization)
    code = "from spheretheory.sweep import point_seed; print(point_seed(0, {'lr': 0.1, 'weight_decay': 1e-3}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) == a


def test_mixed_optimizers_share_runs_an_optimizer_ignores():
    ds = st.sweep(
        {"optimizer": ["sgd", "sgdm"], "momentum": [0.0, 0.9], "steps": 200, "trajectories": 4}, client="inline"
    )
    sgd = ds.sel(optimizer="sgd")
    assert sgd["measured"].values[0] == sgd["measured"].values[1]  # one SGD run for both momentum cells
    sgdm = ds.sel(optimizer="sgdm")
    assert sgdm["measured"].values[0] != sgdm["measured"].values[1]


# --------------------------------------------------------------------------------------------- executors
def test_two_worker_local_cluster_gives_the_inline_values(reference):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        with Client(cluster) as client:
            ds = st.sweep(GRID, client=client)
            assert len(client.scheduler_info()["workers"]) == 2
    _same(ds, reference)


def _die_once(marker: str, value: int) -> int:
    """Kills its worker process the first time any task runs it (the marker file remembers)."""
    if value == 1 and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return value * value


def _close_worker_once(marker: str, value: int) -> int:
    """Shuts its (in-process) worker down while running, the first time any task runs it."""
    import time

    from distributed import get_worker

    if value == 1 and not os.path.exists(marker):
        open(marker, "w").close()
        worker = get_worker()
        worker.loop.add_callback(worker.close)
        time.sleep(0.5)  # still running when the worker goes: the task is lost with it
    return value * value


def test_a_worker_closing_mid_task_is_rescheduled(tmp_path):
    from distributed import Client, LocalCluster

    marker = str(tmp_path / "closed")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        with Client(cluster) as client:
            got: dict[int, int] = {}
            tasks = [Task(f"t{i}", _close_worker_once, (marker, i)) for i in range(4)]
            run_tasks(tasks, lambda t, r: got.__setitem__(t.args[1], r), client)
            assert len(client.scheduler_info()["workers"]) == 1  # one worker did go away
    assert os.path.exists(marker) and got == {0: 0, 1: 1, 2: 4, 3: 9}


@pytest.mark.slow
def test_a_worker_process_dying_mid_task_is_rescheduled(tmp_path):
    """A worker process killed (os._exit) mid-task (slow: starts worker processes)."""
    from distributed import Client, LocalCluster

    marker = str(tmp_path / "died")
    # by value: the worker processes cannot import this test module
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
            with Client(cluster) as client:
                got: dict[int, int] = {}
                tasks = [Task(f"t{i}", _die_once, (marker, i)) for i in range(4)]
                run_tasks(tasks, lambda t, r: got.__setitem__(t.args[1], r), client)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert os.path.exists(marker)  # a worker did die
    assert got == {0: 0, 1: 1, 2: 4, 3: 9}


def test_a_single_point_runs_inline_without_a_cluster():
    seen: list = []
    ds = st.sweep({"lr": 0.1, "steps": 200, "trajectories": 4}, on_client=seen.append)
    assert seen == ["inline"] and bool(ds["done"].item())


# ------------------------------------------------------------------------------------------------ store
class Interrupted(Exception):
    pass


def _stop_after(k: int):
    def progress(done: int, total: int) -> None:
        if done == k:
            raise Interrupted

    return progress


def test_interrupted_sweep_resumes_without_losing_or_repeating_points(tmp_path, reference):
    path = tmp_path / "s.zarr"
    with pytest.raises(Interrupted):
        st.sweep(GRID, client="inline", store=str(path), progress=_stop_after(3))
    import zarr

    assert int(zarr.open_group(str(path), mode="r")["done"][...].sum()) == 3  # the finished points are kept
    calls: list[tuple[int, int]] = []
    ds = st.sweep(GRID, client="inline", store=str(path), progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (5, 5)  # only the 5 missing points ran
    _same(ds, reference)
    calls.clear()
    again = st.sweep(GRID, client="inline", store=str(path), progress=lambda d, t: calls.append((d, t)))
    assert calls == []  # a complete store computes nothing
    _same(again, reference)


def test_a_kill_between_results_and_done_loses_only_that_point(tmp_path, reference, monkeypatch):
    """The on-disk state of a kill in the middle of a point's write: results written, done mark not."""
    path = tmp_path / "s.zarr"
    original = _store.SweepStore.write
    count = {"n": 0}

    def crash_mid_write(self, cells, values):
        count["n"] += 1
        if count["n"] == 4:
            for cell in cells:
                self._results[cell] = values
            raise Interrupted  # killed before the done mark
        original(self, cells, values)

    monkeypatch.setattr(_store.SweepStore, "write", crash_mid_write)
    with pytest.raises(Interrupted):
        st.sweep(GRID, client="inline", store=str(path))
    monkeypatch.setattr(_store.SweepStore, "write", original)
    calls: list[tuple[int, int]] = []
    ds = st.sweep(GRID, client="inline", store=str(path), progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (5, 5)
    _same(ds, reference)


@pytest.mark.slow
def test_sigkilled_sweep_process_resumes(tmp_path, reference):
    """A real SIGKILL of the process, at a random moment after the first point (slow: spawns Python)."""
    path = tmp_path / "s.zarr"
    script = (
        "import os, signal, spheretheory as st\n"
        f"grid = {GRID!r}\n"
        "def p(d, t):\n"
        "    if d == 4: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"st.sweep(grid, client='inline', store={str(path)!r}, progress=p)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -9
    ds = st.sweep(GRID, client="inline", store=str(path))
    _same(ds, reference)


def test_extended_grid_computes_only_new_points(tmp_path, reference):
    path = str(tmp_path / "s.zarr")
    st.sweep(GRID, client="inline", store=path)
    bigger = dict(GRID, lr=[0.01, 0.1, 0.03])
    calls: list[tuple[int, int]] = []
    ds = st.sweep(bigger, client="inline", store=path, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (4, 4)  # the new lr value only: 2 weight decays × 2 momenta
    _same(ds.sel(lr=[0.01, 0.1]), reference)
    # the old grid, asked again, is read back from the extended store, with nothing computed
    calls.clear()
    _same(st.sweep(GRID, client="inline", store=path, progress=lambda d, t: calls.append((d, t))), reference)
    assert calls == []
    # a grid in another axis order reads the same cells
    swapped = {k: GRID[k] for k in ("momentum", "weight_decay", "lr", "optimizer", "steps", "trajectories")}
    ds2 = st.sweep(swapped, client="inline", store=path)
    _same(ds2.transpose("lr", "weight_decay", "momentum"), reference)


def test_interrupted_store_extension_is_recovered(tmp_path, reference):
    path = tmp_path / "s.zarr"
    st.sweep(GRID, client="inline", store=str(path))
    path.rename(tmp_path / "s.zarr.old-123")  # a kill between the two renames of an extension
    (tmp_path / "s.zarr.new-123").mkdir()  # and its half-built new layout
    calls: list = []
    ds = st.sweep(GRID, client="inline", store=str(path), progress=lambda d, t: calls.append(d))
    assert calls == [] and not (tmp_path / "s.zarr.new-123").exists()
    _same(ds, reference)


def test_mismatched_rerun_is_refused(tmp_path, monkeypatch):
    path = str(tmp_path / "s.zarr")
    small = dict(GRID, lr=[0.1], weight_decay=[1e-3])
    st.sweep(small, client="inline", store=path)
    with pytest.raises(ValueError, match="method: stored 'auto', now 'reduced'"):
        st.sweep(small, method="reduced", client="inline", store=path)
    with pytest.raises(ValueError, match="trajectories"):
        st.sweep(dict(small, trajectories=16), client="inline", store=path)
    with pytest.raises(ValueError, match="holds a sweep over"):
        st.sweep({**small, "dim": [16, 32]}, client="inline", store=path)
    from spheretheory.sweep import _api

    monkeypatch.setattr(_api, "_package_version", lambda: "99.0")
    with pytest.raises(ValueError, match="spheretheory_version: stored '.*', now '99.0'"):
        st.sweep(small, client="inline", store=path)


def test_unwritable_store_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ValueError, match="does not exist"):
        st.sweep(GRID, client="inline", store=str(blocker / "s.zarr"))
    with pytest.raises(ValueError, match="not a Zarr directory"):
        st.sweep(GRID, client="inline", store=str(blocker))
    (tmp_path / "other").mkdir()
    with pytest.raises(ValueError, match="not a spheretheory sweep store"):
        st.sweep(GRID, client="inline", store=str(tmp_path / "other"))


# ----------------------------------------------------------------------------------------- bad grids
def test_bad_grid_reports_every_problem_at_once():
    with pytest.raises(ValueError) as exc:
        st.sweep({"lr": [], "foo": [1], "bar": 2, "weight_decay": [1e-3, -1.0, -2.0]}, client="inline")
    msg = str(exc.value)
    assert "\n" not in msg
    for part in ("unknown parameter 'foo'", "unknown parameter 'bar'", "lr: empty axis", "-1.0", "-2.0"):
        assert part in msg


def test_points_outside_the_domain_are_all_listed():
    # lr·λ ≥ 1 (no equilibrium) at two of the six points: both are named, with predict's reason
    grid = {"optimizer": "sgdm", "lr": [0.5, 2.0, 4.0], "weight_decay": [0.1, 0.5], "momentum": 0.9}
    with pytest.raises(ValueError) as exc:
        st.sweep(grid, client="inline")
    msg = str(exc.value)
    assert msg.startswith("bad grid: 2 of 6 grid points are outside the domain")
    assert "{lr=2, weight_decay=0.5}: weight_decay must be in [0, 1/lr)" in msg and "{lr=4, weight_decay=0.5}" in msg
    with pytest.raises(ValueError, match="momentum is not a hyperparameter of sgd"):
        st.sweep({"optimizer": "sgd", "momentum": [0.9]}, client="inline")
    with pytest.raises(ValueError, match="method='reduced' exists only for"):
        st.sweep({"optimizer": ["sgd", "adamw"]}, method="reduced", client="inline")


def test_parse_axis():
    np.testing.assert_allclose(parse_axis("lr", "1e-3:1:4log"), [1e-3, 1e-2, 1e-1, 1])
    assert parse_axis("momentum", "0,0.9,0.99") == [0.0, 0.9, 0.99]
    assert parse_axis("dim", "16:4096:9log") == [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
    assert parse_axis("optimizer", "sgd,adamw") == ["sgd", "adamw"]
    with pytest.raises(ValueError, match="lo:hi:n"):
        parse_axis("lr", "1:2")
    with pytest.raises(ValueError, match="positive ends"):
        parse_axis("lr", "0:1:3log")


def test_make_grid_keeps_axis_order_and_fixed_values():
    g = make_grid({"wd": [1e-3, 1e-2], "lr": 0.1})
    assert g.dims == ("weight_decay",) and g.fixed == {"lr": 0.1} and g.size == 2


def test_import_spheretheory_sweep_does_not_import_dask():
    code = "import sys, spheretheory as st; st.sweep; print(sorted(m for m in sys.modules if m.split('.')[0] in {'dask', 'distributed', 'xarray', 'zarr'}))"  # noqa: E501
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_json_and_plot(tmp_path, capsys):
    png = tmp_path / "h.png"
    argv = ["sweep", "--lr", "0.01,0.1", "--wd", "1e-3:1e-2:2log", "--momentum", "0.9", "--steps", "300",
            "--trajectories", "8", "--scheduler", "inline", "--json", "--plot", str(png)]  # fmt: skip
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["axes"] == ["lr", "weight_decay"] and len(out["points"]) == 4
    assert out["summary"]["done"] == 4 and png.stat().st_size > 10_000
    p = out["points"][0]
    assert p["lr"] == 0.01 and p["weight_decay"] == pytest.approx(1e-3) and p["measured"] > 0


def test_cli_text_table(capsys):
    argv = ["sweep", "--lr", "0.1", "--wd", "1e-3,1e-2", "--steps", "300", "--trajectories", "8", "--scheduler",
            "inline"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "2 of 2 points done" in out and "nan" not in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--lr", "1:2"], "expected a,b,c or lo:hi:n"),
        (["--wd=-1,1e-3"], "weight_decay must be in"),
        (["--optimizer", "sgdx"], "optimizer must be one of"),
        (["--quantity", "foo"], "quantity must be one of"),
        (["--plot", "x.png", "--lr", "0.1,0.2"], "--plot needs two grid axes"),
        (["--scheduler", "nonsense"], "scheduler must be an address"),
        (["--scheduler-file", "/nonexistent.json"], "no such file"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(capsys, argv, message):
    assert main(["sweep", "--steps", "300", "--trajectories", "8", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
