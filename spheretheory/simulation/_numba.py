"""numba backend: one jitted kernel, parallel over chunks of trajectories, each chunk with its own generator.

Layout: the weights and optimizer state are ``(N, d)`` arrays (N = G·n trajectories, grid-major) in the
storage dtype. The run is cut into blocks of iterations (:func:`._common.block_length`); each block is one call
of :func:`_kernel`, which loops ``prange`` over the trajectories (handed out dynamically to the threads) and,
for each, over the block's iterations, so a trajectory's state stays in L1 cache.

Randomness: trajectory j draws from its own PCG64 stream (:mod:`._rng`), a row of a ``uint64`` state array
stepped inside the kernel by the inlined ziggurat sampler of :mod:`._rng_numba` (the same numbers as numpy's
``Generator.standard_normal``). A trajectory's numbers depend only on the seed and j — not on threads, chunks
or blocks — and nothing but the cached kernels is compiled in a process. The kernel holds a trajectory's state
in four local values for a block (:func:`._rng_numba.standard_normal_v`) and writes it back once: LLVM keeps it
in registers (a row of the shared array had to be reloaded after every store to ``y``, 1.1–1.2× slower, and two
threads stepping neighbouring rows shared their cache line).

Records: each record goes straight into ``rec``, which is laid out trajectory-major in memory
(:func:`._common.new_buffers`): a trajectory's records of a quantity are contiguous, so a cache line is fetched
once per 8 records while the draws run and no line is shared with another trajectory (another thread). The
kernel writes every record, NaN from a trajectory's divergence on (no NaN prefill).

Per trajectory and iteration t the kernel does two passes over the d coordinates:

1. draw ξ, form y = √(L_t/(d−1))·s⊙ξ + a, accumulate ⟨y, w⟩, ‖y‖², ‖w‖², ⟨w_0, w⟩;
2. g = (y − (⟨y,w⟩/‖w‖²)w)/‖w‖ (so g̃ = g‖w‖ = P⊥y), the optimizer update, and the sums for the recorded
   quantities: ‖δ‖², ⟨δ, w⟩ with δ = w_t − w_{t+1} (as stored), ‖w_{t+1}‖², ⟨v_{t−1}, g⟩, ‖b‖².

The angular update is Δ_t = atan2(‖δ⊥‖, ‖w_t‖ − ⟨δ, w_t⟩/‖w_t‖) (the components of w_{t+1} across and along
w_t), which keeps full precision for tiny angles; ‖δ⊥‖² = ‖δ‖² − ⟨δ,w⟩²/‖w‖² unless that difference cancels
(δ mostly along w), in which case a third pass sums ‖δ − (⟨δ,w⟩/‖w‖²)w‖² directly. Sums accumulate in float64.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from .._jit import njit, prange
from ._common import (
    NQ,
    assemble,
    block_length,
    initial_weights,
    make_progress,
    new_buffers,
    noise_scale_vectors,
    optimizer_code,
    rates,
    recorder,
    seed_sequences,
    steps_block,
    threads_for,
)
from ._rng import stream_states
from ._rng_numba import fill_normal_parallel, standard_normal_v
from ._spec import OPT_CODE, Problem
from .result import SimulationResult

# the codes of the one table in ._spec (numba freezes these globals as constants)
SGD, SGDM, NESTEROV = OPT_CODE["sgd"], OPT_CODE["sgdm"], OPT_CODE["nesterov"]
ADAM, ADAMW = OPT_CODE["adam"], OPT_CODE["adamw"]


class Weights(NamedTuple):
    """The full-d state, ``(N, d)`` in the storage dtype (V, S are (1, 1) when the optimizer has none)."""

    W: np.ndarray
    V: np.ndarray  # momentum buffer / first moment
    S: np.ndarray  # second moment
    W0: np.ndarray
    w0sq: np.ndarray  # (N,) ‖w_0‖² in float64


class Noise(NamedTuple):
    """Where ξ comes from, and the noise model's vectors."""

    streams: np.ndarray  # (N, 4) uint64 PCG64 states, one per trajectory (._rng)
    draws: np.ndarray  # injected ξ of this block, (steps, N, d), or (1, 1, 1)
    injected: bool
    scale: np.ndarray  # √spectrum or empty
    drift: np.ndarray  # a or empty


# reassociation lets LLVM vectorize the float64 sums; no 'nnan'/'ninf' so the divergence tests stay
@njit(cache=True, parallel=True, error_model="numpy", fastmath={"reassoc", "contract", "nsz"})
def _kernel(opt, state, noise, rt, blk, out):  # pragma: no cover - compiled
    """One block of iterations for every trajectory: ``opt`` (a code of ``._spec.OPT_CODE``), ``state``
    (:class:`Weights`), ``noise`` (:class:`Noise`), ``rt`` (:class:`._common.Rates`), ``blk``
    (:class:`._common.Steps`), ``out`` (:class:`._common.Recorder`)."""
    # one name per line: numba 0.6x parfors lose the writes to arrays bound by a tuple-unpacking assignment
    W = state.W
    V = state.V
    S = state.S
    W0 = state.W0
    w0sq = state.w0sq
    lr = rt.lr
    wdc = rt.wd_coupled
    wdd = rt.wd_decoupled
    mom = rt.momentum
    L = rt.unit_grad_sq
    b1 = rt.beta1
    b2 = rt.beta2
    eps = rt.eps
    t0 = blk.t0
    lr_mult = blk.lr_mult
    wd_mult = blk.wd_mult
    g_mult = blk.grad_mult
    resc = blk.rescale
    scale = noise.scale
    drift = noise.drift
    draws = noise.draws
    use_draws = noise.injected
    streams = noise.streams
    record = out.series
    rec_every = out.every
    rec = out.rec
    sum_start = out.summary_start
    sum_count = out.count
    sum_mean = out.mean
    sum_m2 = out.m2
    diverged = out.diverged
    div_step = out.div_step
    max_sq = out.max_sq
    min_sq = out.min_sq
    N, d = W.shape
    nsteps = lr_mult.shape[0]
    has_scale = scale.shape[0] > 0
    has_drift = drift.shape[0] > 0
    inv_dm1 = 1.0 / (d - 1)
    sqrt_d = math.sqrt(d)
    for j in prange(N):
        y = np.empty(d)
        val = np.empty(NQ)
        # this trajectory's Welford sums live in local arrays for the block and are written back at its end
        # (neighbouring trajectories share cache lines of (NQ, N) arrays: false sharing between threads); its
        # records go straight to rec, trajectory-major in memory (no line shared with another trajectory), as
        # they are made: a line is fetched once per 8 records while the draws run, not 192 at the block's end
        mloc = np.empty(NQ)
        m2loc = np.empty(NQ)
        for q in range(NQ):
            mloc[q] = sum_mean[q, j]
            m2loc[q] = sum_m2[q, j]
        cnt = sum_count[j]
        s_rec = (rec_every - t0 % rec_every) % rec_every  # the block's next recorded iteration and its record index
        r = (t0 + s_rec) // rec_every
        # this trajectory's PCG64 state in four locals for the block (registers: a row of streams would be
        # reloaded after every store to y, and two threads stepping neighbouring rows would share a cache line)
        sh = streams[j, 0]
        sl = streams[j, 1]
        ih = streams[j, 2]
        il = streams[j, 3]
        for s in range(nsteps):
            if diverged[j]:
                break
            t = t0 + s
            eta = lr[j] * lr_mult[s]
            lam_c = wdc[j] * wd_mult[s]
            lam_d = wdd[j] * wd_mult[s]
            a = mom[j]
            # ---- rescale on LR drop (Wan et al. Sec. 4.2)
            f = resc[s]
            if f != 1.0:
                for i in range(d):
                    W[j, i] = W[j, i] * f
            # ---- pass 1: noise and the sums that define the tangential projection
            sig = math.sqrt(L[j] * g_mult[s] * inv_dm1)
            if use_draws:
                for i in range(d):
                    y[i] = sig * np.float64(draws[s, j, i])
            else:
                for i in range(d):  # the floor: nothing but the generator in this loop
                    z, sh, sl = standard_normal_v(sh, sl, ih, il)
                    y[i] = z
            # y ← σy: folded into the sums below unless the noise model's s ⊙ y + a come first
            ys = 1.0 if use_draws else sig
            if ys != 1.0 and (has_scale or has_drift):
                for i in range(d):
                    y[i] *= ys
                ys = 1.0
            if has_scale:
                for i in range(d):
                    y[i] *= scale[i]
            if has_drift:
                for i in range(d):
                    y[i] += drift[i]
            yw = 0.0
            yy = 0.0
            ww = 0.0
            w0w = 0.0
            for i in range(d):
                yi = y[i] * ys
                y[i] = yi
                wi = np.float64(W[j, i])
                yw += yi * wi
                yy += yi * yi
                ww += wi * wi
                w0w += np.float64(W0[j, i]) * wi
            if not (ww <= max_sq and ww >= min_sq):
                diverged[j] = True
                div_step[j] = t
                break
            c = yw / ww
            inv = 1.0 / math.sqrt(ww)
            ugs = yy - yw * c  # ‖g̃‖² = ‖P⊥y‖²
            # ---- pass 2: the optimizer update, one loop per optimizer (no branch inside)
            vg = 0.0
            bb = 0.0
            dd = 0.0
            dw = 0.0
            nn = 0.0
            eld = eta * lam_d
            if opt == SGD:
                for i in range(d):
                    wi = np.float64(W[j, i])
                    gi = (y[i] - c * wi) * inv
                    W[j, i] = wi - eld * wi - eta * (gi + lam_c * wi)
                    wn = np.float64(W[j, i])
                    di = wi - wn
                    y[i] = di
                    dd += di * di
                    dw += di * wi
                    nn += wn * wn
            elif opt == SGDM or opt == NESTEROV:
                nest = 1.0 if opt == NESTEROV else 0.0
                for i in range(d):
                    wi = np.float64(W[j, i])
                    gi = (y[i] - c * wi) * inv
                    gc = gi + lam_c * wi
                    vi = np.float64(V[j, i])
                    vg += vi * gi
                    V[j, i] = a * vi + gc
                    vn = np.float64(V[j, i])
                    # heavy ball: step = v_t; Nesterov (PyTorch): step = d_t + αv_t
                    step = vn + nest * (gc + a * vn - vn)
                    W[j, i] = wi - eld * wi - eta * step
                    wn = np.float64(W[j, i])
                    di = wi - wn
                    y[i] = di
                    dd += di * di
                    dw += di * wi
                    nn += wn * wn
            elif opt == ADAM or opt == ADAMW:
                bc1 = 1.0 - b1[j] ** (t + 1)
                bc2 = 1.0 - b2[j] ** (t + 1)
                for i in range(d):
                    wi = np.float64(W[j, i])
                    gi = (y[i] - c * wi) * inv
                    gc = gi + lam_c * wi
                    V[j, i] = b1[j] * np.float64(V[j, i]) + (1.0 - b1[j]) * gc
                    S[j, i] = b2[j] * np.float64(S[j, i]) + (1.0 - b2[j]) * gc * gc
                    den = math.sqrt(np.float64(S[j, i]) / bc2) + eps[j]
                    bb += den * den
                    W[j, i] = wi - eld * wi - eta * ((np.float64(V[j, i]) / bc1) / den)
                    wn = np.float64(W[j, i])
                    di = wi - wn
                    y[i] = di
                    dd += di * di
                    dw += di * wi
                    nn += wn * wn
            else:  # LION
                for i in range(d):
                    wi = np.float64(W[j, i])
                    gi = (y[i] - c * wi) * inv
                    gc = gi + lam_c * wi
                    mi = np.float64(V[j, i])
                    cc = b1[j] * mi + (1.0 - b1[j]) * gc
                    step = 1.0 if cc > 0 else (-1.0 if cc < 0 else 0.0)
                    V[j, i] = b2[j] * mi + (1.0 - b2[j]) * gc
                    W[j, i] = wi - eld * wi - eta * step
                    wn = np.float64(W[j, i])
                    di = wi - wn
                    y[i] = di
                    dd += di * di
                    dw += di * wi
                    nn += wn * wn
            if not (nn <= max_sq and nn >= min_sq):
                diverged[j] = True
                div_step[j] = t
                break
            # ---- recorded quantities of iteration t
            rw = math.sqrt(ww)
            kp = dw / ww
            perp2 = dd - dw * kp
            if perp2 < 0.5 * dd:
                # δ mostly along w: the difference cancels, so sum ‖δ − (⟨δ,w⟩/‖w‖²)w‖² directly
                perp2 = 0.0
                for i in range(d):
                    di = y[i]
                    e = di - kp * (np.float64(W[j, i]) + di)
                    perp2 += e * e
            val[0] = ww
            val[1] = math.atan2(math.sqrt(perp2), rw - dw / rw)
            val[2] = ugs
            val[3] = ugs + 2.0 * a * vg * ww
            val[4] = w0w / math.sqrt(w0sq[j] * ww)
            if opt == ADAM or opt == ADAMW:
                val[5] = eta * sqrt_d / (ww * math.sqrt(bb))
            else:
                val[5] = eta / ww
            if record and s == s_rec:
                for q in range(NQ):
                    rec[q, r, j] = val[q]
                r += 1
                s_rec += rec_every
            if t >= sum_start:
                cnt += 1
                for q in range(NQ):
                    delta = val[q] - mloc[q]
                    mloc[q] += delta / cnt
                    m2loc[q] += delta * (val[q] - mloc[q])
        # ---- write back (the stream's state; NaN for the records from divergence on)
        streams[j, 0] = sh
        streams[j, 1] = sl
        if record:
            while s_rec < nsteps:
                for q in range(NQ):
                    rec[q, r, j] = np.nan
                r += 1
                s_rec += rec_every
        sum_count[j] = cnt
        for q in range(NQ):
            sum_mean[q, j] = mloc[q]
            sum_m2[q, j] = m2loc[q]


def run(problem: Problem) -> SimulationResult:
    """Simulate ``problem`` with the numba kernel (see :func:`spheretheory.simulate`)."""
    N, d, dtype = problem.N, problem.dim, problem.dtype
    code = optimizer_code(problem)
    W = np.ascontiguousarray(initial_weights(problem, fill_normal_parallel).astype(dtype))
    W0 = W.copy()
    w0sq = np.einsum("nd,nd->n", W0.astype(np.float64), W0.astype(np.float64))
    V = np.zeros((N, d) if code != SGD else (1, 1), dtype=dtype)
    S = np.zeros((N, d) if code in (ADAM, ADAMW) else (1, 1), dtype=dtype)
    state = Weights(W, V, S, W0, w0sq)
    rt = rates(problem)
    scale, drift = noise_scale_vectors(problem)
    _, noise_ss = seed_sequences(problem)
    streams = stream_states(noise_ss, N)[0]
    buf = new_buffers(problem, nan_records=False, trajectory_major=True)  # the kernel writes every record
    out = recorder(problem, buf)
    block = block_length(problem)
    empty_draws = np.zeros((1, 1, 1), dtype=dtype)
    injected = problem.noise_draws is not None
    bar = make_progress(problem, f"simulate {problem.optimizer} (numba)")
    threads = threads_for(float(problem.steps) * N * d)
    before = numba.get_num_threads()
    try:
        if threads is not None:
            numba.set_num_threads(min(threads, before))
        with numba.parallel_chunksize(1):  # dynamic: an idle thread takes the next trajectory
            for t0 in range(0, problem.steps, block):
                t1 = min(problem.steps, t0 + block)
                draws = problem.noise_draws[t0:t1].reshape(t1 - t0, N, d) if injected else empty_draws
                noise = Noise(streams, draws, injected, scale, drift)
                _kernel(code, state, noise, rt, steps_block(problem, t0, t1), out)
                bar.update(t1 - t0)
    finally:
        numba.set_num_threads(before)
        bar.close()
    return assemble(problem, buf, W, "numba")
