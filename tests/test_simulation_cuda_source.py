"""The CuPy backend's host code and CUDA kernel, exercised on the CPU (no GPU needed).

The kernel source of :mod:`spheretheory.simulation._cupy` is compiled as C++ with ``g++`` and small
shims (``__global__`` → nothing, one thread per block so ``__shfl_down_sync`` adds nothing and
``__syncthreads`` is a no-op), and :func:`spheretheory.simulation._cupy.run` is driven through a
stand-in for the ``cupy`` module built on numpy. On injected noise it must then agree with the numpy
reference to round-off. This checks the host logic (state, records, summaries, divergence, schedules)
and the per-thread arithmetic of the kernel; the
multi-thread block reduction is only exercised on a real GPU (``tests/test_simulation_gpu.py``).
"""

from __future__ import annotations

import ctypes
import hashlib
import shutil
import subprocess
import types
from pathlib import Path

import numpy as np
import pytest

from spheretheory.simulation import QUANTITIES, simulate
from spheretheory.simulation import _cupy as cupy_backend
from spheretheory.simulation._api import problem_from_call

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")

SHIM = r"""
#include <cmath>
#include <cstddef>
using std::sqrt; using std::pow; using std::atan2;
#define __global__
#define __device__
#define __forceinline__ inline
struct Dim3 { unsigned x; };
static Dim3 threadIdx = {0}, blockIdx = {0}, blockDim = {1};
static inline void __syncthreads() {}
static inline double __shfl_down_sync(unsigned, double, int) { return 0.0; }
#define __shared__ static
extern "C" void set_block(unsigned b) { blockIdx.x = b; }
"""


class _CpuKernel:
    """Stand-in for ``cupy.RawKernel``: compiles the source with g++ and runs the blocks one by one."""

    shim = SHIM
    std = "-std=c++14"

    def __init__(self, source: str, name: str, build_dir: Path):
        code = self.shim + source
        tag = hashlib.sha1(code.encode()).hexdigest()[:12]
        src = build_dir / f"k_{tag}.cpp"
        lib = build_dir / f"k_{tag}.so"
        if not lib.exists():
            src.write_text(code)
            proc = subprocess.run(
                ["g++", "-O1", "-shared", "-fPIC", self.std, "-pthread", "-o", str(lib), str(src)],
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                if self.std == "-std=c++20" and "barrier" in proc.stderr:
                    pytest.skip("g++ without C++20 <barrier>")  # an old compiler, not a kernel error
                raise AssertionError(f"the kernel source does not compile:\n{proc.stderr}")
        self.lib = ctypes.CDLL(str(lib))
        self.fn = getattr(self.lib, name)
        self.fn.restype = None

    @staticmethod
    def _c(arg):
        if isinstance(arg, np.ndarray):
            assert arg.flags.c_contiguous
            return ctypes.c_void_p(arg.ctypes.data)
        if isinstance(arg, np.int32):
            return ctypes.c_int(int(arg))
        if isinstance(arg, np.int64):
            return ctypes.c_longlong(int(arg))
        if isinstance(arg, np.float64):
            return ctypes.c_double(float(arg))
        raise TypeError(f"unexpected kernel argument {type(arg)}")

    def __call__(self, grid, block, args):
        cargs = [self._c(a) for a in args]
        for b in range(grid[0]):
            self.lib.set_block(ctypes.c_uint(b))
            self.fn(*cargs)


SHIM_THREADS = r"""
#include <cmath>
#include <barrier>
using std::sqrt; using std::pow; using std::atan2;
#define __global__
#define __device__
#define __forceinline__ inline
struct Dim3 { unsigned x; };
static thread_local Dim3 threadIdx = {0};
static Dim3 blockIdx = {0}, blockDim = {1};
static std::barrier<>* block_barrier = nullptr;
static std::barrier<>* warp_barrier[32];
static double shfl_buf[1024];
static inline void __syncthreads() { block_barrier->arrive_and_wait(); }
// warp-synchronous shuffle: every lane of the warp publishes its value, then reads lane + off
static inline double __shfl_down_sync(unsigned, double x, int off) {
    const unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    shfl_buf[threadIdx.x] = x;
    warp_barrier[warp]->arrive_and_wait();
    const double y = (lane + off < 32) ? shfl_buf[warp * 32 + lane + off] : x;
    warp_barrier[warp]->arrive_and_wait();
    return y;
}
#define __shared__ static
extern "C" void set_block(unsigned b) { blockIdx.x = b; }
extern "C" void set_thread(unsigned t) { threadIdx.x = t; }
extern "C" void set_block_dim(unsigned n) {
    blockDim.x = n;
    delete block_barrier;
    block_barrier = new std::barrier<>(n);
    for (unsigned w = 0; w < 32; ++w) { delete warp_barrier[w]; warp_barrier[w] = new std::barrier<>(32); }
}
"""


class _CpuKernelThreads(_CpuKernel):
    """Like :class:`_CpuKernel` but with ``blockDim.x`` real threads per block (barriers for
    ``__syncthreads``, a warp-synchronous buffer for the shuffles), to exercise the block reduction."""

    shim = SHIM_THREADS
    std = "-std=c++20"

    def __call__(self, grid, block, args):
        import threading

        cargs = [self._c(a) for a in args]
        nthreads = int(block[0])
        self.lib.set_block_dim(ctypes.c_uint(nthreads))

        def worker(tid: int) -> None:
            self.lib.set_thread(ctypes.c_uint(tid))
            self.fn(*cargs)  # ctypes releases the GIL, so the threads meet at the barriers

        for b in range(grid[0]):
            self.lib.set_block(ctypes.c_uint(b))
            threads = [threading.Thread(target=worker, args=(t,)) for t in range(nthreads)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()


def _fake_cupy(build_dir: Path, kernel_cls: type = _CpuKernel) -> types.ModuleType:
    cp = types.ModuleType("fake_cupy_on_numpy")
    for name in ("float64", "int64", "uint8", "nan", "zeros", "full", "sum"):
        setattr(cp, name, getattr(np, name))
    cp.asarray = lambda a, dtype=None: np.array(a, dtype=dtype, order="C", copy=True)  # a device copy
    cp.asnumpy = lambda a: np.array(a)
    cp.RawKernel = lambda source, name: kernel_cls(source, name, build_dir)
    cp.random = types.SimpleNamespace(RandomState=lambda seed: _Normal(seed))
    return cp


class _Normal:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def standard_normal(self, size, dtype=np.float64):
        return self.rng.standard_normal(size).astype(dtype)


@pytest.fixture(scope="module")
def fake_cp(tmp_path_factory):
    return _fake_cupy(tmp_path_factory.mktemp("cuda_on_cpu"))


def _problem(**kw):
    """The Problem of a small cupy-backend call (simulate's own defaults for every argument not given here)."""
    args = dict(optimizer="sgd", lr=0.1, weight_decay=1e-3, dim=8, steps=50, trajectories=3, backend="cupy", seed=0)
    args.update(progress=False, **kw)
    return problem_from_call(**args)


@pytest.mark.parametrize(
    "opt,kw",
    [
        ("sgd", {}),
        ("sgdm", {"momentum": 0.9}),
        ("nesterov", {"momentum": 0.8}),
        ("adam", {"lr": [1e-3, 3e-3]}),
        ("adamw", {"lr": [1e-3, 3e-3]}),
        ("lion", {"lr": [1e-3, 3e-3]}),
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cuda_kernel_on_cpu_matches_numpy(fake_cp, opt, kw, dtype):
    steps, G, n, d = 60, 2, 3, 9
    draws = np.random.default_rng(1).standard_normal((steps, G, n, d))
    args = dict(lr=[0.1, 0.03], weight_decay=[1e-2, 1e-3], dim=d, steps=steps, trajectories=n, seed=2)
    args.update(noise_draws=draws, dtype=dtype, record_every=4, summary_fraction=0.5)
    args.update(kw)
    ref = simulate(opt, backend="numpy", **args)
    # steps_per_copy=16 exercises the block-wise copy of the records
    got = cupy_backend.run(_problem(optimizer=opt, **args), steps_per_copy=16, xp=fake_cp)
    rtol = 1e-9 if dtype == np.float64 else 1e-4
    for q in QUANTITIES:
        x, y = ref.series(q), got.series(q)
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_allclose(y, x, rtol=rtol, atol=rtol * np.nanmax(np.abs(x)), err_msg=q)
    np.testing.assert_allclose(got.w_final, ref.w_final, rtol=rtol, atol=rtol * np.abs(ref.w_final).max())
    for k in ref.summary:
        scale = np.nanmax(np.abs(ref.summary[k]))
        np.testing.assert_allclose(got.summary[k], ref.summary[k], rtol=rtol, atol=rtol * scale, err_msg=k)


def test_cuda_kernel_on_cpu_noise_models_schedules_divergence(fake_cp):
    from spheretheory.simulation import linear_drift, step_decay

    steps, n, d = 80, 3, 6
    rng = np.random.default_rng(3)
    draws = rng.standard_normal((steps, 2, n, d))
    args = dict(lr=[0.1, 1.0], weight_decay=[1e-2, 100.0], momentum=0.0, dim=d, steps=steps, trajectories=n)
    args.update(
        seed=4,
        noise_draws=draws,
        noise="anisotropic",
        spectrum=rng.uniform(0.5, 2.0, d),
        lr_schedule=step_decay([50], 4.0),
        rescale_on_drop=True,
        grad_schedule=linear_drift(10, 60, 1.0, 2.0),
    )
    ref = simulate("sgd", backend="numpy", **args)
    got = cupy_backend.run(_problem(optimizer="sgd", **args), steps_per_copy=32, xp=fake_cp)
    assert ref.diverged[1].all() and not ref.diverged[0].any()  # |1 − ηλ|² ≈ 10⁴ per step on the second point
    np.testing.assert_array_equal(got.diverged, ref.diverged)
    np.testing.assert_array_equal(got.diverged_step, ref.diverged_step)
    np.testing.assert_allclose(got.sq_norm, ref.sq_norm, rtol=1e-9)  # NaN positions must match too
    np.testing.assert_allclose(got.angular_update, ref.angular_update, rtol=1e-9)


def test_block_reduction_with_real_threads(tmp_path):
    """d = 130 → 96 threads per block (3 warps, some threads with 1 coordinate, some with 2)."""
    fake = _fake_cupy(tmp_path, _CpuKernelThreads)
    fake.__name__ = "fake_cupy_threads"  # its own kernel cache entry
    steps, G, n, d = 12, 2, 2, 130
    assert cupy_backend.threads_per_block(d) == 96
    draws = np.random.default_rng(5).standard_normal((steps, G, n, d))
    args = dict(lr=[0.1, 0.05], weight_decay=1e-2, momentum=0.9, dim=d, steps=steps, trajectories=n, seed=1)
    args.update(noise_draws=draws, summary_fraction=0.5)
    ref = simulate("sgdm", backend="numpy", **args)
    got = cupy_backend.run(_problem(optimizer="sgdm", **args), xp=fake)
    for q in QUANTITIES:
        x, y = ref.series(q), got.series(q)
        np.testing.assert_allclose(y, x, rtol=1e-9, atol=1e-9 * np.nanmax(np.abs(x)), err_msg=q)
    np.testing.assert_allclose(got.w_final, ref.w_final, rtol=1e-9, atol=1e-12)


def test_threads_per_block():
    assert cupy_backend.threads_per_block(2) == 32
    assert cupy_backend.threads_per_block(256) == 128
    assert cupy_backend.threads_per_block(100_000) == 256
