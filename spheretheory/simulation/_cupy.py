"""CuPy backend: one CUDA kernel launch per iteration, one thread block per trajectory.

Importing this module never needs CuPy; :func:`run` raises ``ImportError`` with an explanation when CuPy or a
CUDA device is missing.

Per iteration the host draws ξ ~ N(0, I) for all trajectories with cuRAND (``cupy.random.RandomState``, seeded
from the noise child of the user's seed, so a seeded run repeats exactly on a given device) — or copies the
injected ``noise_draws`` — and launches ``smd_step`` with grid = N blocks. Inside a block the threads stride
over the d coordinates and do the same two passes as the numba kernel (see :mod:`._numba`): sums for the
tangential projection (block reduction with warp shuffles), then the optimizer update and the sums for the
recorded quantities; thread 0 writes the records, the Welford summaries and the divergence flag. Weights and
optimizer state are stored in the chosen dtype; sums are accumulated in double.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._common import (
    NQ,
    assemble,
    decay_split,
    initial_weights,
    make_progress,
    new_buffers,
    noise_scale_vectors,
    optimizer_code,
    per_trajectory,
    seed_sequences,
)
from ._spec import OPT_CODE, Problem, c_defines
from .result import SimulationResult

_SOURCE = r"""
typedef unsigned long long idx_t;  // no headers under NVRTC, so no size_t
@DEFINES@

__device__ __forceinline__ double warp_sum(double x) {
    for (int off = 16; off > 0; off >>= 1) x += __shfl_down_sync(0xffffffffu, x, off);
    return x;
}

// Sum each of v[0..K-1] over the block; every thread gets the totals back in v. sh holds 8*32 doubles.
__device__ void block_sum(double* v, const int K, double* sh) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    for (int k = 0; k < K; ++k) v[k] = warp_sum(v[k]);
    __syncthreads();
    if (lane == 0) for (int k = 0; k < K; ++k) sh[k * 32 + warp] = v[k];
    __syncthreads();
    if (warp == 0) {
        for (int k = 0; k < K; ++k) {
            double x = (lane < nw) ? sh[k * 32 + lane] : 0.0;
            x = warp_sum(x);
            if (lane == 0) sh[k * 32] = x;
        }
    }
    __syncthreads();
    for (int k = 0; k < K; ++k) v[k] = sh[k * 32];
    __syncthreads();
}

extern "C" __global__ void smd_step(
    const int N, const int d, const long long t, const int opt,
    T* __restrict__ W, T* __restrict__ V, T* __restrict__ S,
    const T* __restrict__ W0, const double* __restrict__ w0sq, T* __restrict__ XI,
    const double* __restrict__ lr, const double* __restrict__ wdc, const double* __restrict__ wdd,
    const double* __restrict__ mom, const double* __restrict__ L, const double* __restrict__ b1,
    const double* __restrict__ b2, const double* __restrict__ eps,
    const double lr_mult, const double wd_mult, const double g_mult, const double resc,
    const double* __restrict__ scale, const int has_scale,
    const double* __restrict__ drift, const int has_drift,
    double* __restrict__ rec, const int rec_row, const int Rb,
    const int in_summary, long long* __restrict__ sum_count,
    double* __restrict__ sum_mean, double* __restrict__ sum_m2,
    unsigned char* __restrict__ diverged, long long* __restrict__ div_step,
    const double max_sq, const double min_sq)
{
    __shared__ double sh[8 * 32];
    const int j = blockIdx.x;
    if (j >= N || diverged[j]) return;  // uniform over the block
    const int tid = threadIdx.x, bs = blockDim.x;
    const idx_t row = (idx_t)j * (idx_t)d;
    T* w = W + row;
    const T* w0 = W0 + row;
    T* xi = XI + row;  // ξ on entry; pass 2 overwrites it with δ = w_t − w_{t+1} for pass 3
    const double eta = lr[j] * lr_mult, lam_c = wdc[j] * wd_mult, lam_d = wdd[j] * wd_mult, a = mom[j];
    const double sig = sqrt(L[j] * g_mult / (double)(d - 1));

    if (resc != 1.0) {  // Wan et al. Sec. 4.2: divide w by k^(1/4) at an LR drop by k
        for (int i = tid; i < d; i += bs) w[i] = (T)((double)w[i] * resc);
    }
    // ---- pass 1: y = sig*s*xi + a; sums <y,w>, |y|^2, |w|^2, <w0,w>
    double s1[4] = {0.0, 0.0, 0.0, 0.0};
    for (int i = tid; i < d; i += bs) {
        double y = sig * (double)xi[i];
        if (has_scale) y *= scale[i];
        if (has_drift) y += drift[i];
        const double wi = (double)w[i];
        s1[0] += y * wi; s1[1] += y * y; s1[2] += wi * wi; s1[3] += (double)w0[i] * wi;
    }
    block_sum(s1, 4, sh);
    const double yw = s1[0], yy = s1[1], ww = s1[2], w0w = s1[3];
    if (!(ww <= max_sq && ww >= min_sq)) {
        if (tid == 0) { diverged[j] = 1; div_step[j] = t; }
        return;
    }
    const double c = yw / ww, inv = 1.0 / sqrt(ww), ugs = yy - yw * c;
    const double eld = eta * lam_d;
    const double bc1 = 1.0 - pow(b1[j], (double)(t + 1)), bc2 = 1.0 - pow(b2[j], (double)(t + 1));
    // ---- pass 2: optimizer update; sums <v,g>, |b|^2, |delta|^2, <delta,w>, |w_new|^2
    double s2[5] = {0.0, 0.0, 0.0, 0.0, 0.0};
    for (int i = tid; i < d; i += bs) {
        double y = sig * (double)xi[i];
        if (has_scale) y *= scale[i];
        if (has_drift) y += drift[i];
        const double wi = (double)w[i];
        const double gi = (y - c * wi) * inv;
        const double gc = gi + lam_c * wi;
        double step;
        if (opt == SGD) {
            step = gc;
        } else if (opt == SGDM || opt == NESTEROV) {
            const double vi = (double)V[row + i];
            s2[0] += vi * gi;
            V[row + i] = (T)(a * vi + gc);
            const double vn = (double)V[row + i];
            step = (opt == SGDM) ? vn : gc + a * vn;
        } else if (opt == ADAM || opt == ADAMW) {
            V[row + i] = (T)(b1[j] * (double)V[row + i] + (1.0 - b1[j]) * gc);
            S[row + i] = (T)(b2[j] * (double)S[row + i] + (1.0 - b2[j]) * gc * gc);
            const double den = sqrt((double)S[row + i] / bc2) + eps[j];
            s2[1] += den * den;
            step = ((double)V[row + i] / bc1) / den;
        } else {  // LION
            const double mi = (double)V[row + i];
            const double cc = b1[j] * mi + (1.0 - b1[j]) * gc;
            step = (cc > 0.0) ? 1.0 : ((cc < 0.0) ? -1.0 : 0.0);
            V[row + i] = (T)(b2[j] * mi + (1.0 - b2[j]) * gc);
        }
        w[i] = (T)(wi - eld * wi - eta * step);
        const double wn = (double)w[i];
        const double di = wi - wn;
        xi[i] = (T)di;
        s2[2] += di * di; s2[3] += di * wi; s2[4] += wn * wn;
    }
    block_sum(s2, 5, sh);
    const double vg = s2[0], bb = s2[1], dd = s2[2], dw = s2[3], nn = s2[4];
    if (!(nn <= max_sq && nn >= min_sq)) {  // uniform over the block
        if (tid == 0) { diverged[j] = 1; div_step[j] = t; }
        return;
    }
    const double kp = dw / ww;
    double perp2 = dd - dw * kp;
    if (perp2 < 0.5 * dd) {  // δ mostly along w: sum |δ − kp·w_t|² directly (the difference cancels)
        double s3[1] = {0.0};
        for (int i = tid; i < d; i += bs) {
            const double di = (double)xi[i];
            const double e = di - kp * ((double)w[i] + di);
            s3[0] += e * e;
        }
        block_sum(s3, 1, sh);
        perp2 = s3[0];
    }
    if (tid != 0) return;
    const double rw = sqrt(ww);
    double val[NQ];
    val[0] = ww;
    val[1] = atan2(sqrt(perp2), rw - dw / rw);
    val[2] = ugs;
    val[3] = ugs + 2.0 * a * vg * ww;
    val[4] = w0w / sqrt(w0sq[j] * ww);
    val[5] = (opt == ADAM || opt == ADAMW) ? eta * sqrt((double)d) / (ww * sqrt(bb)) : eta / ww;
    if (rec_row >= 0) {
        for (int q = 0; q < NQ; ++q) rec[((idx_t)q * Rb + rec_row) * N + j] = val[q];
    }
    if (in_summary) {
        const long long cnt = ++sum_count[j];
        for (int q = 0; q < NQ; ++q) {
            const double delta = val[q] - sum_mean[(idx_t)q * N + j];
            sum_mean[(idx_t)q * N + j] += delta / (double)cnt;
            sum_m2[(idx_t)q * N + j] += delta * (val[q] - sum_mean[(idx_t)q * N + j]);
        }
    }
}
"""

_KERNELS: dict[str, Any] = {}


def require_cupy() -> Any:
    """Import CuPy and check for a CUDA device, or raise ``ImportError`` saying what is missing."""
    try:
        import cupy as cp
    except Exception as exc:  # ImportError, or a broken CUDA install
        raise ImportError(
            "backend='cupy' needs CuPy (pip install 'spheretheory[gpu]') and a CUDA device; "
            f"importing cupy failed: {exc}"
        ) from exc
    try:
        n = cp.cuda.runtime.getDeviceCount()
    except Exception as exc:
        raise ImportError(f"backend='cupy' needs a CUDA device; CuPy found none ({exc})") from exc
    if n < 1:
        raise ImportError("backend='cupy' needs a CUDA device; CuPy found none")
    return cp


def _kernel(cp: Any, dtype: np.dtype) -> Any:
    name = np.dtype(dtype).name
    key = f"{getattr(cp, '__name__', id(cp))}:{name}"
    if key not in _KERNELS:
        ctype = "float" if name == "float32" else "double"
        _KERNELS[key] = cp.RawKernel(f"typedef {ctype} T;\n" + kernel_source(), "smd_step")
    return _KERNELS[key]


def kernel_source() -> str:
    """The CUDA source with its constants (``NQ``, the optimizer codes) generated from the Python tables."""
    return _SOURCE.replace("@DEFINES@", f"#define NQ {NQ}\n" + c_defines())


def threads_per_block(d: int) -> int:
    """Threads per trajectory block: a multiple of 32, about two coordinates per thread, at most 256."""
    return int(min(256, max(32, 32 * math.ceil(d / 64))))


def run(problem: Problem, steps_per_copy: int = 256, *, xp: Any = None) -> SimulationResult:
    """Simulate ``problem`` on the GPU (see :func:`spheretheory.simulate`).

    ``xp`` replaces the ``cupy`` module (tests run the host code and the kernel source on the CPU through a
    stand-in; see ``tests/test_simulation_cuda_source.py``).
    """
    cp = require_cupy() if xp is None else xp
    p = per_trajectory(problem)
    N, d, dtype = problem.N, problem.dim, np.dtype(problem.dtype)
    code = optimizer_code(problem)
    kern = _kernel(cp, dtype)

    W = cp.asarray(initial_weights(problem).astype(dtype))
    W0 = W.copy()
    w0sq = cp.sum(W0.astype(cp.float64) ** 2, axis=1)
    V = cp.zeros((N, d) if code != OPT_CODE["sgd"] else (1, 1), dtype=dtype)
    S = cp.zeros((N, d) if code in (OPT_CODE["adam"], OPT_CODE["adamw"]) else (1, 1), dtype=dtype)
    wdc, wdd = decay_split(problem, p["weight_decay"])
    dev = {k: cp.asarray(v, dtype=cp.float64) for k, v in p.items()}
    wdc_d, wdd_d = cp.asarray(wdc), cp.asarray(wdd)
    scale, drift = noise_scale_vectors(problem)
    scale_d = cp.asarray(scale if scale.size else np.zeros(1))
    drift_d = cp.asarray(drift if drift.size else np.zeros(1))

    host = new_buffers(problem)
    sum_count = cp.zeros(N, dtype=cp.int64)
    sum_mean = cp.zeros((NQ, N), dtype=cp.float64)
    sum_m2 = cp.zeros((NQ, N), dtype=cp.float64)
    diverged = cp.zeros(N, dtype=cp.uint8)
    div_step = cp.full(N, -1, dtype=cp.int64)

    _, noise_ss = seed_sequences(problem)
    rs = cp.random.RandomState(int(noise_ss.generate_state(1, np.uint64)[0] % (2**63)))
    threads = threads_per_block(d)
    every = problem.record_every
    record = problem.record == "series"
    bar = make_progress(problem, f"simulate {problem.optimizer} (cupy)")
    f64 = np.float64
    for t0 in range(0, problem.steps, steps_per_copy):
        t1 = min(problem.steps, t0 + steps_per_copy)
        rows = [t for t in range(t0, t1) if record and t % every == 0]
        Rb = max(1, len(rows))
        rec = cp.full((NQ, Rb, N), cp.nan, dtype=cp.float64)
        lr_m = problem.lr_schedule.block(t0, t1)
        wd_m = problem.wd_schedule.block(t0, t1)
        g_m = problem.grad_schedule.block(t0, t1)
        resc = problem.rescale_factors(t0, t1)
        if problem.noise_draws is not None:
            block_draws = cp.asarray(problem.noise_draws[t0:t1].reshape(t1 - t0, N, d))
        for s in range(t1 - t0):
            t = t0 + s
            if problem.noise_draws is not None:
                xi = block_draws[s]
            else:
                xi = rs.standard_normal((N, d), dtype=dtype)
            rec_row = rows.index(t) if (record and t % every == 0) else -1
            kern(
                (N,),
                (threads,),
                (
                    np.int32(N),
                    np.int32(d),
                    np.int64(t),
                    np.int32(code),
                    W,
                    V,
                    S,
                    W0,
                    w0sq,
                    xi,
                    dev["lr"],
                    wdc_d,
                    wdd_d,
                    dev["momentum"],
                    dev["unit_grad_sq"],
                    dev["beta1"],
                    dev["beta2"],
                    dev["eps"],
                    f64(lr_m[s]),
                    f64(wd_m[s]),
                    f64(g_m[s]),
                    f64(resc[s]),
                    scale_d,
                    np.int32(scale.size > 0),
                    drift_d,
                    np.int32(drift.size > 0),
                    rec,
                    np.int32(rec_row),
                    np.int32(Rb),
                    np.int32(t >= problem.summary_start),
                    sum_count,
                    sum_mean,
                    sum_m2,
                    diverged,
                    div_step,
                    f64(problem.max_sq_norm),
                    f64(problem.min_sq_norm),
                ),
            )
        if rows:
            host["rec"][:, rows[0] // every : rows[-1] // every + 1, :] = cp.asnumpy(rec[:, : len(rows), :])
        bar.update(t1 - t0)
    bar.close()
    host["sum_count"] = cp.asnumpy(sum_count)
    host["sum_mean"] = cp.asnumpy(sum_mean)
    host["sum_m2"] = cp.asnumpy(sum_m2)
    host["diverged"] = cp.asnumpy(diverged).astype(bool)
    host["div_step"] = cp.asnumpy(div_step)
    return assemble(problem, host, cp.asnumpy(W), "cupy")
