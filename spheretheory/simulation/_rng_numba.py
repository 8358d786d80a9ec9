"""Compiled samplers on the per-trajectory PCG64 states of :mod:`._rng` (numba; imported only by kernels).

``st`` is a ``(n, 4)`` uint64 array of PCG64 states (:func:`._rng.stream_states`); every sampler takes
``(st, j)`` and advances row j in place. The samplers are line-by-line ports of numpy's
``random/src/distributions/distributions.c`` (as numba itself ports them for ``np.random.Generator``), with the
same ziggurat tables, so row j yields exactly the numbers ``_rng.numpy_generator(st[j])`` would — tested in
``tests/test_simulation_rng.py``. All functions are plain ``@njit`` helpers inlined into the kernels that call
them, whose compiled code numba caches on disk: a process compiles nothing.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array
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
def local_state(typingctx, st, j):  # pragma: no cover - compiled
    """A private copy of row ``j`` of the state array ``st``, as a ``(1, 4)`` array on the calling function's stack.

    Draw with ``sampler(loc, 0)`` and write ``loc[0, 0]``, ``loc[0, 1]`` back to ``st[j]`` when done: the same
    numbers as drawing from ``st`` directly. The copy never escapes (LLVM keeps the state in registers, where a
    row of ``st`` must be reloaded after every store to another array that might overlap it) and is private to
    the thread (no false sharing of ``st``'s cache lines between threads). Valid only inside the function that
    calls it (never return it); every call site has its own slot in that function's frame.
    """
    if not (isinstance(st, types.Array) and st.dtype == types.uint64 and st.ndim == 2):
        return None
    arrty = types.Array(types.uint64, 2, "C")
    sig = arrty(st, j)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        intp = context.get_value_type(types.intp)
        buf = cgutils.alloca_once(builder, i64, size=4)  # in the entry block: one slot, not one per iteration
        src = make_array(signature.args[0])(context, builder, args[0])
        row = context.cast(builder, args[1], signature.args[1], types.intp)
        for k in range(4):
            p = cgutils.get_item_pointer(context, builder, signature.args[0], src, [row, ir.Constant(intp, k)])
            builder.store(builder.load(p), builder.gep(buf, [ir.Constant(intp, k)]))
        loc = make_array(arrty)(context, builder)
        populate_array(
            loc,
            data=buf,
            shape=[ir.Constant(intp, 1), ir.Constant(intp, 4)],
            strides=[ir.Constant(intp, 32), ir.Constant(intp, 8)],
            itemsize=ir.Constant(intp, 8),
            meminfo=None,
        )
        return loc._getvalue()

    return sig, codegen


@njit(inline="always", error_model="numpy")
def next_uint64(st, j):  # pragma: no cover - compiled
    """PCG64 (numpy's ``pcg64_next64``): state ← state·M + inc (mod 2¹²⁸), then the XSL-RR output."""
    s_hi = st[j, 0]
    s_lo = st[j, 1]
    lo = s_lo * _MUL_LO
    hi = _umulhi(s_lo, _MUL_LO) + s_hi * _MUL_LO + s_lo * _MUL_HI
    new_lo = lo + st[j, 3]
    carry = _U1 if new_lo < lo else np.uint64(0)
    new_hi = hi + st[j, 2] + carry
    st[j, 0] = new_hi
    st[j, 1] = new_lo
    x = new_hi ^ new_lo
    rot = new_hi >> _U58
    return (x >> rot) | (x << ((_U64 - rot) & _U63))


@njit(inline="always", error_model="numpy")
def next_double(st, j):  # pragma: no cover - compiled
    """Uniform on [0, 1) with 53 random bits."""
    return np.float64(next_uint64(st, j) >> _U11) * _TO_DOUBLE


@njit(inline="always", error_model="numpy")
def standard_normal(st, j):  # pragma: no cover - compiled
    """N(0, 1) by numpy's 256-layer ziggurat (``random_standard_normal``)."""
    while True:
        r = next_uint64(st, j)
        idx = np.intp(r & _FF)
        r >>= _U8
        sign = r & _U1
        rabs = (r >> _U1) & _M52
        x = np.float64(rabs) * wi_double[idx]
        if sign == _U1:
            x = -x
        if rabs < ki_double[idx]:
            return x
        if idx == 0:
            while True:
                xx = -ziggurat_nor_inv_r * np.log1p(-next_double(st, j))
                yy = -np.log1p(-next_double(st, j))
                if yy + yy > xx * xx:
                    if (rabs >> _U8) & _U1:
                        return -(ziggurat_nor_r + xx)
                    return ziggurat_nor_r + xx
        else:
            if (fi_double[idx - 1] - fi_double[idx]) * next_double(st, j) + fi_double[idx] < np.exp(-0.5 * x * x):
                return x


@njit(inline="always", error_model="numpy")
def standard_exponential(st, j):  # pragma: no cover - compiled
    """Exp(1) by numpy's ziggurat (``random_standard_exponential``)."""
    while True:
        ri = next_uint64(st, j)
        ri >>= _U3
        idx = np.intp(ri & _FF)
        ri >>= _U8
        x = np.float64(ri) * we_double[idx]
        if ri < ke_double[idx]:
            return x
        if idx == 0:
            return ziggurat_exp_r - np.log1p(-next_double(st, j))
        if (fe_double[idx - 1] - fe_double[idx]) * next_double(st, j) + fe_double[idx] < np.exp(-x):
            return x


@njit(inline="always", error_model="numpy")
def standard_gamma(st, j, shape):  # pragma: no cover - compiled
    """Gamma(shape, 1) as numpy draws it (``random_standard_gamma``: Marsaglia–Tsang for shape > 1)."""
    if shape == 1.0:
        return standard_exponential(st, j)
    if shape == 0.0:
        return 0.0
    if shape < 1.0:
        while True:
            U = next_double(st, j)
            V = standard_exponential(st, j)
            if U <= 1.0 - shape:
                X = U ** (1.0 / shape)
                if X <= V:
                    return X
            else:
                Y = -np.log((1.0 - U) / shape)
                X = (1.0 - shape + shape * Y) ** (1.0 / shape)
                if X <= V + Y:
                    return X
    b = shape - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * b)
    while True:
        while True:
            X = standard_normal(st, j)
            V = 1.0 + c * X
            if V > 0.0:
                break
        V = V * V * V
        U = next_double(st, j)
        if U < 1.0 - 0.0331 * (X * X) * (X * X):
            return b * V
        if np.log(U) < 0.5 * X * X + b * (1.0 - V + np.log(V)):
            return b * V


@njit(inline="always", error_model="numpy")
def chisquare(st, j, df):  # pragma: no cover - compiled
    """χ²_df = 2·Gamma(df/2), as numpy's ``Generator.chisquare``."""
    return 2.0 * standard_gamma(st, j, df / 2.0)


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
