"""The reduced chain's update as one compiled kernel (numba); :mod:`._reduced_numpy` is its reference.

``prange`` runs over chunks of :data:`CHUNK` consecutive trajectories. A chunk advances its block of iterations
:data:`SUB` iterations at a time: it first draws them (z₁, z₂ from each trajectory's normal stream, χ ~ χ²_{d−3}
from its χ² stream: :mod:`._rng_numba`, the same numbers as :class:`._reduced_numpy.StreamSet`; each stream's
state is held in registers while it draws), then advances its trajectories in lockstep: for each iteration, one
loop over the chunk's lanes with no branch and no call (divergence and the optional quantities are selects;
Δ_t = atan2 is :func:`atan2_nonneg`), which LLVM vectorizes. The step is one inlined function,
:func:`lane_step`, which also returns the six recorded quantities: the loop of a recorded iteration or one in the
summary window computes them in the same pass (the Welford sums are rows of the chunk's lane array for the whole
block); the loop of any other iteration drops them, so LLVM does not compute them.

A trajectory's numbers depend only on the seed and its index, so neither the chunk size nor the number of
threads nor the block length changes a seeded run.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._jit import njit, prange
from ._rng_numba import chisquare_v, fsqrt, prefetch_write, standard_normal_v
from ._spec import OPT_CODE

SGD = OPT_CODE["sgd"]
SGDM = OPT_CODE["sgdm"]
#: trajectories advanced in lockstep by one parallel task (a few vector registers' worth)
CHUNK = 16
#: iterations drawn at a time: the draws of a chunk, SUB × 3 × CHUNK float64 (24 KB), stay in the L1 cache
SUB = 64
#: how many records ahead the kernel prefetches the lines of a series record: a record is 6 pieces of CHUNK
#: values far apart, each a read for ownership from memory; prefetched 2 records ahead, series every iteration cost
#: 2.2× the draw floor instead of 2.8× (1 thread, 4096 trajectories × 1000 iterations, d = 4096)
PREFETCH = 2
# rows of the per-chunk lane array X: the state (a, b, P, m, R, Q, D), 1/a and 1/√a₀, the coefficients of eq.
# R1, the rates, the alive flag and divergence iteration, the six quantities of a recorded iteration, and the
# Welford count, means and sums of squares of the block
_A, _B, _P, _M, _R, _Q, _D, _IA, _IRA0 = range(9)
_AV, _SV, _SG, _KAP, _SQL, _H2, _LR, _WDC, _WDD, _ALIVE, _DEAD = range(9, 20)
_V0 = 20
_CNT = _V0 + 6
_MEAN = _CNT + 1
_M2 = _MEAN + 6
NROWS = _M2 + 6


class ReducedState(NamedTuple):
    """The chain's state: ``S`` (7, N) = (a, b, P, m, R, Q, D) per trajectory, and ``a0`` (N,) = ‖w_0‖²."""

    S: np.ndarray
    a0: np.ndarray


class ReducedNoise(NamedTuple):
    """Where (z₁, z₂, χ) come from: the streams (2, N, 4) (normals; χ²), or injected draws (steps, N, 3)."""

    streams: np.ndarray
    draws: np.ndarray
    injected: bool


# Cephes atan (S. Moshier): rational approximation on three ranges, relative error ≤ 2.2e-16
_P0, _P1, _P2, _P3, _P4 = (
    -8.750608600031904122785e-1,
    -1.615753718733365076637e1,
    -7.500855792314704667340e1,
    -1.228866684490136173410e2,
    -6.485021904942025371773e1,
)
_Q0, _Q1, _Q2, _Q3, _Q4 = (
    2.485846490142306297962e1,
    1.650270098316988542046e2,
    4.328810604912902668951e2,
    4.853903996359136964868e2,
    1.945506571482613964425e2,
)
_T3P8 = 2.41421356237309504880  # tan(3π/8)
_MOREBITS = 6.123233995736765886130e-17  # π/2 − fl(π/2)


@njit(inline="always", error_model="numpy")
def atan2_nonneg(y, x):  # pragma: no cover - compiled
    """atan2(y, x) for y ≥ 0 without a libm call or a branch (so a loop over lanes vectorizes): Cephes' atan of
    r = y/|x| (π/2 − atan(|x|/y) above tan 3π/8, π/4 + atan((y−|x|)/(y+|x|)) above 0.66), reflected for x < 0; the
    reduced argument is one quotient of y and |x| (two divisions in all, with the rational function's)."""
    ax = abs(x)
    big = y > _T3P8 * ax  # r = y/|x| > tan 3π/8, without forming r: one division for the reduced argument
    mid = y > 0.66 * ax
    xr = (-ax if big else (y - ax if mid else y)) / (y if big else (y + ax if mid else ax))
    base = 0.5 * math.pi if big else (0.25 * math.pi if mid else 0.0)
    extra = _MOREBITS if big else (0.5 * _MOREBITS if mid else 0.0)
    z = xr * xr
    p = (((_P0 * z + _P1) * z + _P2) * z + _P3) * z + _P4
    q = ((((z + _Q0) * z + _Q1) * z + _Q2) * z + _Q3) * z + _Q4
    at = base + (xr + xr * (z * p / q) + extra)
    at = 0.0 if y == 0.0 else at
    return at if x >= 0.0 else math.pi - at


@njit(cache=True, error_model="numpy")
def atan2_array(y, x, out):  # pragma: no cover - compiled
    """:func:`atan2_nonneg` elementwise (for the tests)."""
    for i in range(y.shape[0]):
        out[i] = atan2_nonneg(y[i], x[i])


@njit(inline="always", error_model="numpy")
def lane_step(X, jj, Zs, it, lim):  # pragma: no cover - compiled
    """Advance lane jj of the chunk's lane array ``X`` by one iteration (eqs. R1–R7'') from its draws
    (z₁, z₂, χ) = ``Zs[:, jj]``, with branch-free selects only (so a loop over lanes vectorizes). ``it`` = (lr
    multiplier, wd multiplier, noise scale √(g_mult/(d−1)), t) of the iteration; ``lim`` = (max ‖w‖², min ‖w‖²,
    d > 2). Returns (R8, R9) the six quantities of the iteration just taken: ‖w_t‖², Δ_t, ‖g̃_t‖², h̃_t,
    cos(w_0, w_t) = m/√(a₀a), η_t/‖w_t‖²; inlined, a loop that does not use them does not compute them."""
    lm, wm, sgm, tf = it
    max_sq, min_sq, has_z2 = lim
    z1 = Zs[0, jj]
    z2 = Zs[1, jj]
    chi = Zs[2, jj]
    a = X[_A, jj]
    b = X[_B, jj]
    P = max(X[_P, jj], 0.0)
    m = X[_M, jj]
    R = X[_R, jj]
    Q = max(X[_Q, jj], 0.0)
    D = X[_D, jj]
    ia = X[_IA, jj]
    av = X[_AV, jj]
    sv = X[_SV, jj]
    sg = X[_SG, jj]
    eta = X[_LR, jj] * lm
    lam_c = X[_WDC, jj] * wm
    lam_d = X[_WDD, jj] * wm
    # the noise frame (see :mod:`._reduced_numpy`): u = √(z₂² + χ), cos φ = z₂/u, sin²φ = χ/u²
    u2 = z2 * z2 + max(chi, 0.0)
    u = fsqrt(u2)
    pos = u2 > 0.0
    iu2 = 1.0 / u2 if pos else 0.0
    cphi = z2 * u * iu2 if pos else 1.0
    s2phi = max(chi, 0.0) * iu2
    ira = fsqrt(ia)  # 1/‖w_t‖
    # (R3) basis e₁ ∥ p, e₂ in span{p, q}
    al1 = fsqrt(P)
    has_p = P > 0.0
    sq = fsqrt(Q)
    ip = 1.0 / P if has_p else 0.0
    be1 = R * al1 * ip if has_p else sq  # R/√P
    be1 = math.copysign(sq, be1) if be1 * be1 > Q else be1
    be2sq = max(D, 0.0) * ip  # β₂² = Q − β₁² = D/P
    be2sq = be2sq if has_z2 else 0.0
    be2 = fsqrt(be2sq)
    # (R4) noise g_t = s(z₁e₁ + u f₂)
    sig = X[_SQL, jj] * sgm
    sz = sig * ira
    gz1 = sz * z1
    ugs = sig * sig * (z1 * z1 + u2)
    # (R5, R6) v_t and w_{t+1} in the noise frame; w_0 = (m/‖w‖, β₁, β₂ cos φ, ζ₃)
    svh = eta * sv
    gs = -eta * sg
    v0 = (av * b + lam_c * a) * ira
    v1 = av * al1 + gz1
    v2 = sz * u
    w0_ = ((1.0 - eta * lam_d - eta * X[_KAP, jj] * lam_c) * a - svh * b) * ira
    w1 = gs * gz1 - svh * al1
    w2 = gs * v2
    q0 = m * ira
    q2 = be2 * cphi
    zeta2 = be2sq * s2phi
    wt2 = w1 * w1 + w2 * w2
    # (R7)
    a_new = w0_ * w0_ + wt2
    inv_an = 1.0 / a_new
    # (R7') minors X_i W_j − X_j W_i of v_t and w_0 with w_{t+1} (coordinates 0, 1, 2)
    mv01 = v0 * w1 - v1 * w0_
    mv02 = v0 * w2 - v2 * w0_
    mv12 = v1 * w2 - v2 * w1
    mz01 = q0 * w1 - be1 * w0_
    mz02 = q0 * w2 - q2 * w0_
    mz12 = be1 * w2 - q2 * w1
    pn = (mv01 * mv01 + mv02 * mv02 + mv12 * mv12) * inv_an
    # (R7'') det(v_t, w_0, w_{t+1}) over the coordinates 0, 1, 2
    det = v0 * mz12 - v1 * mz02 + v2 * mz01
    was = X[_ALIVE, jj] > 0.0
    ok = (a <= max_sq) & (a >= min_sq) & (a_new <= max_sq) & (a_new >= min_sq)
    live = was & ok
    X[_ALIVE, jj] = 1.0 if live else 0.0
    X[_DEAD, jj] = tf if (was and not ok) else X[_DEAD, jj]
    X[_A, jj] = a_new if live else a
    X[_IA, jj] = inv_an if live else ia
    X[_B, jj] = (v0 * w0_ + v1 * w1 + v2 * w2) if live else b
    X[_P, jj] = pn if live else P
    X[_M, jj] = (q0 * w0_ + be1 * w1 + q2 * w2) if live else m
    rn = (mv01 * mz01 + mv02 * mz02 + mv12 * mz12) * inv_an
    X[_R, jj] = rn if live else R
    qn = (mz01 * mz01 + mz02 * mz02 + mz12 * mz12) * inv_an + zeta2
    X[_Q, jj] = qn if live else Q
    X[_D, jj] = (det * det * inv_an + zeta2 * pn) if live else D
    return (
        a,
        atan2_nonneg(fsqrt(wt2), w0_),
        ugs,
        ugs + X[_H2, jj] * gz1 * al1 * a,  # ⟨g_t, v_{t−1}⟩ = ⟨g_t, p⟩ = gz1·√P
        m * ira * X[_IRA0, jj],
        eta * ia,
    )


@njit(inline="always", error_model="numpy")
def keep(X, jj, values):  # pragma: no cover - compiled
    """Keep lane jj's six quantities in rows ``_V0`` … ``_V0 + 5`` of ``X`` (for the record)."""
    v0, v1, v2, v3, v4, v5 = values
    X[_V0, jj] = v0
    X[_V0 + 1, jj] = v1
    X[_V0 + 2, jj] = v2
    X[_V0 + 3, jj] = v3
    X[_V0 + 4, jj] = v4
    X[_V0 + 5, jj] = v5


@njit(inline="always", error_model="numpy")
def welford(X, jj, q, v, inv, live):  # pragma: no cover - compiled
    """If lane jj is ``live``, add quantity q's value v to its Welford mean and sum of squared deviations:
    μ ← μ + (v − μ)·inv, M₂ ← M₂ + (v − μ)(v − μ_new), ``inv`` = 1/count (selects: a dead lane's v may be inf)."""
    mu = X[_MEAN + q, jj]
    delta = v - mu
    mu_new = mu + delta * inv
    X[_MEAN + q, jj] = mu_new if live else mu
    X[_M2 + q, jj] += delta * (v - mu_new) if live else 0.0


@njit(inline="always", error_model="numpy")
def accumulate(X, jj, values, inv_cnt, in_window):  # pragma: no cover - compiled
    """Add lane jj's six quantities to its Welford sums (:func:`welford`) and count it, if the iteration is
    ``in_window`` and the lane still alive."""
    v0, v1, v2, v3, v4, v5 = values
    live = (X[_ALIVE, jj] > 0.0) & in_window
    X[_CNT, jj] += 1.0 if live else 0.0
    welford(X, jj, 0, v0, inv_cnt, live)
    welford(X, jj, 1, v1, inv_cnt, live)
    welford(X, jj, 2, v2, inv_cnt, live)
    welford(X, jj, 3, v3, inv_cnt, live)
    welford(X, jj, 4, v4, inv_cnt, live)
    welford(X, jj, 5, v5, inv_cnt, live)


@njit(cache=True, parallel=True, error_model="numpy")
def kernel(opt, dim, state, noise, rt, blk, out):  # pragma: no cover - compiled
    """One block of iterations of the reduced chain (eqs. R1–R9) for every trajectory.

    ``opt``: a code of ``._spec.OPT_CODE`` (sgd, sgdm or nesterov); ``state``: :class:`ReducedState`;
    ``noise``: :class:`ReducedNoise`; ``rt``: :class:`._common.Rates`; ``blk``: :class:`._common.Steps`;
    ``out``: :class:`._common.Recorder`.
    """
    # one name per line: numba 0.6x parfors lose the writes to arrays bound by a tuple-unpacking assignment
    S = state.S
    a0 = state.a0
    nstreams = noise.streams[0]
    cstreams = noise.streams[1]
    draws = noise.draws
    use_draws = noise.injected
    lr = rt.lr
    wdc = rt.wd_coupled
    wdd = rt.wd_decoupled
    mom = rt.momentum
    L = rt.unit_grad_sq
    t0 = blk.t0
    lr_mult = blk.lr_mult
    wd_mult = blk.wd_mult
    g_mult = blk.grad_mult
    resc = blk.rescale
    record = out.series
    rec_every = out.every
    rec = out.rec
    nrec = rec.shape[1]
    sum_start = out.summary_start
    sum_count = out.count
    sum_mean = out.mean
    sum_m2 = out.m2
    diverged = out.diverged
    div_step = out.div_step
    max_sq = out.max_sq
    min_sq = out.min_sq
    N = S.shape[1]
    nsteps = lr_mult.shape[0]
    df = dim - 3.0
    inv_dm1 = 1.0 / (dim - 1)
    has_z2 = dim > 2
    has_chi = dim > 3
    lim = (max_sq, min_sq, has_z2)
    nan = np.nan
    K = (N + CHUNK - 1) // CHUNK
    for k in prange(K):
        lo = k * CHUNK
        nj = min(N, lo + CHUNK) - lo
        # ---- every per-lane quantity is a row of one (NROWS, CHUNK) array: constant strides, so LLVM sees that
        # the rows do not overlap and vectorizes the lockstep loops (separate arrays could alias, as far as it
        # can tell). Padding lanes (jj ≥ nj) hold a harmless dead trajectory.
        X = np.zeros((NROWS, CHUNK))
        for jj in range(CHUNK):
            X[_A, jj] = 1.0
            X[_IA, jj] = 1.0
            X[_IRA0, jj] = 1.0
        for jj in range(nj):
            j = lo + jj
            alpha = mom[j]
            # (R1) v_t = α_v v_{t−1} + g + λ_c w, step = σ_v v_{t−1} + σ_g g + κλ_c w
            if opt == SGD:
                X[_AV, jj], X[_SV, jj], X[_SG, jj], X[_KAP, jj], X[_H2, jj] = 0.0, 0.0, 1.0, 1.0, 0.0
            elif opt == SGDM:
                X[_AV, jj], X[_SV, jj], X[_SG, jj], X[_KAP, jj], X[_H2, jj] = alpha, alpha, 1.0, 1.0, 2.0 * alpha
            else:  # Nesterov (PyTorch): step = d_t + α v_t = (1+α)(g + λ_c w) + α² v_{t−1}
                X[_AV, jj], X[_SV, jj], X[_SG, jj] = alpha, alpha * alpha, 1.0 + alpha
                X[_KAP, jj], X[_H2, jj] = 1.0 + alpha, 2.0 * alpha
            X[_SQL, jj] = fsqrt(L[j])
            X[_LR, jj] = lr[j]
            X[_WDC, jj] = wdc[j]
            X[_WDD, jj] = wdd[j]
            for q in range(7):
                X[q, jj] = S[q, j]
            X[_IA, jj] = 1.0 / S[_A, j]  # carried from here on: 1/a' of each step (one division less per step)
            X[_IRA0, jj] = fsqrt(1.0 / a0[j])
            X[_ALIVE, jj] = 0.0 if diverged[j] else 1.0
            X[_DEAD, jj] = -1.0
            X[_CNT, jj] = sum_count[j]
            for q in range(6):
                X[_MEAN + q, jj] = sum_mean[q, j]
                X[_M2 + q, jj] = sum_m2[q, j]
        # the draws of SUB iterations, (SUB, 3, CHUNK): lane jj of iteration s at [s, :, jj]; padding lanes and
        # the rows not drawn (z₂ for d = 2, χ for d ≤ 3) stay 0
        Z = np.zeros((SUB, 3, CHUNK))
        for s0 in range(0, nsteps, SUB):
            ns = min(nsteps, s0 + SUB) - s0
            if use_draws:
                for s in range(ns):
                    for jj in range(nj):
                        Z[s, 0, jj] = draws[s0 + s, lo + jj, 0]
                        Z[s, 1, jj] = draws[s0 + s, lo + jj, 1] if has_z2 else 0.0
                        Z[s, 2, jj] = draws[s0 + s, lo + jj, 2] if has_chi else 0.0
            else:
                for jj in range(nj):
                    j = lo + jj
                    sh = nstreams[j, 0]
                    sl = nstreams[j, 1]
                    ih = nstreams[j, 2]
                    il = nstreams[j, 3]
                    for s in range(ns):
                        z1, sh, sl = standard_normal_v(sh, sl, ih, il)
                        z2, sh, sl = standard_normal_v(sh, sl, ih, il)
                        Z[s, 0, jj] = z1
                        Z[s, 1, jj] = z2 if has_z2 else 0.0
                    nstreams[j, 0] = sh
                    nstreams[j, 1] = sl
                    if has_chi:
                        sh = cstreams[j, 0]
                        sl = cstreams[j, 1]
                        ih = cstreams[j, 2]
                        il = cstreams[j, 3]
                        for s in range(ns):
                            chi, sh, sl = chisquare_v(sh, sl, ih, il, df)
                            Z[s, 2, jj] = chi
                        cstreams[j, 0] = sh
                        cstreams[j, 1] = sl
            for s in range(ns):
                t = t0 + s0 + s
                f = resc[s0 + s]
                if f != 1.0:  # rescale on LR drop (Wan et al. Sec. 4.2): w ← f·w (v and the directions unchanged)
                    for jj in range(CHUNK):
                        X[_A, jj] *= f * f
                        X[_B, jj] *= f
                        X[_M, jj] *= f
                        X[_IA, jj] = 1.0 / X[_A, jj]
                it = (lr_mult[s0 + s], wd_mult[s0 + s], fsqrt(g_mult[s0 + s] * inv_dm1), float(t))
                Zs = Z[s]
                rec_now = record and t % rec_every == 0
                in_window = t >= sum_start
                if rec_now or in_window:
                    # Welford's online mean and variance over the lanes still alive; each has been alive at every
                    # iteration of the window so far, so its count is the same t − start + 1. One loop for a
                    # recorded iteration and one in the window (the sums are selects): each variant of the
                    # inlined step is one more large loop for LLVM to optimize on a cold cache
                    inv_cnt = 1.0 / (t - sum_start + 1) if in_window else 0.0
                    for jj in range(CHUNK):  # lockstep over lanes: selects only, vectorized
                        values = lane_step(X, jj, Zs, it, lim)
                        keep(X, jj, values)
                        accumulate(X, jj, values, inv_cnt, in_window)
                else:  # the quantities are not computed (the inlined step's unused results are dropped)
                    for jj in range(CHUNK):
                        lane_step(X, jj, Zs, it, lim)
                if rec_now:
                    r = t // rec_every
                    if r + PREFETCH < nrec:  # the lines of the record PREFETCH records ahead (their reads overlap)
                        rp = r + PREFETCH
                        for q in range(6):
                            prefetch_write(rec, (q, rp, lo))
                            prefetch_write(rec, (q, rp, lo + CHUNK // 2))
                            prefetch_write(rec, (q, rp, lo + nj - 1))
                    for q in range(6):  # through a 1-d view: a plain contiguous store loop (≈ 25 % faster)
                        row = rec[q, r, lo : lo + nj]
                        for jj in range(nj):
                            row[jj] = X[_V0 + q, jj] if X[_ALIVE, jj] > 0.0 else nan
        for jj in range(nj):
            j = lo + jj
            for q in range(7):
                S[q, j] = X[q, jj]
            if X[_DEAD, jj] >= 0.0:
                diverged[j] = True
                div_step[j] = np.int64(X[_DEAD, jj])
            sum_count[j] = np.int64(X[_CNT, jj])
            for q in range(6):
                sum_mean[q, j] = X[_MEAN + q, jj]
                sum_m2[q, j] = X[_M2 + q, jj]
