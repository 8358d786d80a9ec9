"""Compiled samplers on the per-trajectory PCG64 states of :mod:`._rng` (numba; imported only by kernels).

``st`` is a ``(n, 4)`` uint64 array of PCG64 states (:func:`._rng.stream_states`). Each sampler ``*_v`` takes a
state held in four values ``(sh, sl, ih, il)`` (row j of ``st``) and returns ``(variate, sh, sl)``, so a kernel that
draws many variates keeps the state in registers and stores it back once; :func:`standard_normal` and
:func:`chisquare` are the same samplers advancing row j of ``st`` in place. The samplers are line-by-line ports
of numpy's ``random/src/distributions/distributions.c`` (as numba itself ports them for ``np.random.Generator``),
with the same ziggurat tables, so row j yields exactly the numbers ``_rng.numpy_generator(st[j])`` would — tested in
``tests/test_simulation_rng.py``. All functions are plain ``@njit`` helpers inlined into the kernels that call
them, whose compiled code numba caches on disk: a process compiles nothing. Two LLVM intrinsics the kernels share
live here too: :func:`fsqrt` (a square root LLVM can vectorize) and :func:`prefetch_write` (a cache hint).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.random._constants import (
    fe_double,
    fi_double,
    ke_double,
    ki_double,
    we_double,
    wi_double,
    ziggurat_exp_r,
    ziggurat_nor_inv_r,
    ziggurat_nor_r,
)

from .._jit import njit, prange

_MUL_HI = np.uint64(2549297995355413924)  # PCG_DEFAULT_MULTIPLIER_128 = 0x2360ED051FC65DA44385DF649FCCF645
_MUL_LO = np.uint64(4865540595714422341)
_U1 = np.uint64(1)
_U3 = np.uint64(3)
_U8 = np.uint64(8)
_U11 = np.uint64(11)
_U58 = np.uint64(58)
_U63 = np.uint64(63)
_U64 = np.uint64(64)
_FF = np.uint64(0xFF)
_M52 = np.uint64(0x000FFFFFFFFFFFFF)
_TO_DOUBLE = 1.0 / 9007199254740992.0


@intrinsic
def _umulhi(typingctx, a, b):  # pragma: no cover - compiled
    """The high 64 bits of the 128-bit product of two uint64 (one ``mul`` instruction)."""
    sig = types.uint64(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        i128 = ir.IntType(128)
        p = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
        return builder.trunc(builder.lshr(p, ir.Constant(i128, 64)), ir.IntType(64))

    return sig, codegen


@intrinsic
def fsqrt(typingctx, x):  # pragma: no cover - compiled
    """√x as the ``llvm.sqrt.f64`` intrinsic (NaN below 0): unlike ``math.sqrt``, which numba lowers to a libm
    call that may set errno, it lets LLVM vectorize the loops that use it."""
    sig = types.float64(types.float64)

    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.sqrt", [ir.DoubleType()])
        return builder.call(fn, [args[0]])

    return sig, codegen


@intrinsic
def prefetch_write(typingctx, arr, idx):  # pragma: no cover - compiled
    """Ask the cache for ``arr[idx]`` (``idx`` a tuple of ints, one per axis) ahead of a write (``llvm.prefetch``,
    rw = 1, locality 3): a hint only, it neither faults (an address past the end is ignored) nor changes a value.
    A kernel that writes records in short strided pieces uses it so that the line's read for ownership overlaps
    the work before the write instead of stalling it."""
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty, idxty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        ind = [
            context.cast(builder, builder.extract_value(args[1], k), idxty[k], types.intp) for k in range(aryty.ndim)
        ]
        shape = cgutils.unpack_tuple(builder, ary.shape)
        strides = cgutils.unpack_tuple(builder, ary.strides)
        ptr = cgutils.get_item_pointer2(
            context, builder, ary.data, shape, strides, aryty.layout, ind, wraparound=False, boundscheck=False
        )
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), "llvm.prefetch.p0"
        )
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(1), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


# ---- the samplers on a state held in four local values (sh, sl) = state, (ih, il) = increment: each returns
# (variate, sh, sl). A kernel that loads a row once, draws many variates and stores (sh, sl) back keeps the state in
# registers (stored through the array after every draw, LLVM cannot tell those stores from the kernel's own).


@njit(inline="always", error_model="numpy")
def next_uint64_v(sh, sl, ih, il):  # pragma: no cover - compiled
    """PCG64 (numpy's ``pcg64_next64``): state ← state·M + inc (mod 2¹²⁸), then the XSL-RR output."""
    lo = sl * _MUL_LO
    hi = _umulhi(sl, _MUL_LO) + sh * _MUL_LO + sl * _MUL_HI
    new_lo = lo + il
    carry = _U1 if new_lo < lo else np.uint64(0)
    new_hi = hi + ih + carry
    x = new_hi ^ new_lo
    rot = new_hi >> _U58
    return (x >> rot) | (x << ((_U64 - rot) & _U63)), new_hi, new_lo


@njit(inline="always", error_model="numpy")
def next_double_v(sh, sl, ih, il):  # pragma: no cover - compiled
    """Uniform on [0, 1) with 53 random bits."""
    r, sh, sl = next_uint64_v(sh, sl, ih, il)
    return np.float64(r >> _U11) * _TO_DOUBLE, sh, sl


@njit(inline="always", error_model="numpy")
def standard_normal_v(sh, sl, ih, il):  # pragma: no cover - compiled
    """N(0, 1) by numpy's 256-layer ziggurat (``random_standard_normal``)."""
    while True:
        r, sh, sl = next_uint64_v(sh, sl, ih, il)
        idx = np.intp(r & _FF)
        r >>= _U8
        sign = r & _U1
        rabs = (r >> _U1) & _M52
        x = np.float64(rabs) * wi_double[idx]
        if sign == _U1:
            x = -x
        if rabs < ki_double[idx]:
            return x, sh, sl
        if idx == 0:
            while True:
                u1, sh, sl = next_double_v(sh, sl, ih, il)
                u2, sh, sl = next_double_v(sh, sl, ih, il)
                xx = -ziggurat_nor_inv_r * np.log1p(-u1)
                yy = -np.log1p(-u2)
                if yy + yy > xx * xx:
                    if (rabs >> _U8) & _U1:
                        return -(ziggurat_nor_r + xx), sh, sl
                    return ziggurat_nor_r + xx, sh, sl
        else:
            u, sh, sl = next_double_v(sh, sl, ih, il)
            if (fi_double[idx - 1] - fi_double[idx]) * u + fi_double[idx] < np.exp(-0.5 * x * x):
                return x, sh, sl


@njit(inline="always", error_model="numpy")
def standard_exponential_v(sh, sl, ih, il):  # pragma: no cover - compiled
    """Exp(1) by numpy's ziggurat (``random_standard_exponential``)."""
    while True:
        ri, sh, sl = next_uint64_v(sh, sl, ih, il)
        ri >>= _U3
        idx = np.intp(ri & _FF)
        ri >>= _U8
        x = np.float64(ri) * we_double[idx]
        if ri < ke_double[idx]:
            return x, sh, sl
        u, sh, sl = next_double_v(sh, sl, ih, il)
        if idx == 0:
            return ziggurat_exp_r - np.log1p(-u), sh, sl
        if (fe_double[idx - 1] - fe_double[idx]) * u + fe_double[idx] < np.exp(-x):
            return x, sh, sl


@njit(inline="always", error_model="numpy")
def standard_gamma_v(sh, sl, ih, il, shape):  # pragma: no cover - compiled
    """Gamma(shape, 1) as numpy draws it (``random_standard_gamma``: Marsaglia–Tsang for shape > 1)."""
    if shape == 1.0:
        return standard_exponential_v(sh, sl, ih, il)
    if shape == 0.0:
        return 0.0, sh, sl
    if shape < 1.0:
        while True:
            U, sh, sl = next_double_v(sh, sl, ih, il)
            V, sh, sl = standard_exponential_v(sh, sl, ih, il)
            if U <= 1.0 - shape:
                X = U ** (1.0 / shape)
                if X <= V:
                    return X, sh, sl
            else:
                Y = -np.log((1.0 - U) / shape)
                X = (1.0 - shape + shape * Y) ** (1.0 / shape)
                if X <= V + Y:
                    return X, sh, sl
    b = shape - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * b)
    while True:
        while True:
            X, sh, sl = standard_normal_v(sh, sl, ih, il)
            V = 1.0 + c * X
            if V > 0.0:
                break
        V = V * V * V
        U, sh, sl = next_double_v(sh, sl, ih, il)
        if U < 1.0 - 0.0331 * (X * X) * (X * X):
            return b * V, sh, sl
        if np.log(U) < 0.5 * X * X + b * (1.0 - V + np.log(V)):
            return b * V, sh, sl


@njit(inline="always", error_model="numpy")
def chisquare_v(sh, sl, ih, il, df):  # pragma: no cover - compiled
    """χ²_df = 2·Gamma(df/2), as numpy's ``Generator.chisquare``."""
    g, sh, sl = standard_gamma_v(sh, sl, ih, il, df / 2.0)
    return 2.0 * g, sh, sl


# ---- the same samplers on row j of a state array, advanced in place


@njit(inline="always", error_model="numpy")
def standard_normal(st, j):  # pragma: no cover - compiled
    """:func:`standard_normal_v` on row j of ``st``."""
    x, st[j, 0], st[j, 1] = standard_normal_v(st[j, 0], st[j, 1], st[j, 2], st[j, 3])
    return x


@njit(inline="always", error_model="numpy")
def chisquare(st, j, df):  # pragma: no cover - compiled
    """:func:`chisquare_v` on row j of ``st``."""
    x, st[j, 0], st[j, 1] = chisquare_v(st[j, 0], st[j, 1], st[j, 2], st[j, 3], df)
    return x


@njit(cache=True, error_model="numpy")
def fill_normal(st, out):  # pragma: no cover - compiled
    """``out[j, :]`` ← standard normals from stream j (for the tests and the initial weights)."""
    for j in range(out.shape[0]):
        for i in range(out.shape[1]):
            out[j, i] = standard_normal(st, j)


@njit(cache=True, error_model="numpy")
def fill_chisquare(st, df, out):  # pragma: no cover - compiled
    """``out[j, :]`` ← χ²_df variates from stream j (for the tests)."""
    for j in range(out.shape[0]):
        for i in range(out.shape[1]):
            out[j, i] = chisquare(st, j, df)


@njit(cache=True, parallel=True, error_model="numpy")
def fill_normal_parallel(st, out):  # pragma: no cover - compiled
    """``out[j, :]`` ← standard normals from stream j, trajectories in parallel (the initial weights)."""
    for j in prange(out.shape[0]):
        for i in range(out.shape[1]):
            out[j, i] = standard_normal(st, j)
