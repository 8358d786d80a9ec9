"""Random streams of the simulators: one PCG64 state per trajectory, held in a plain ``uint64`` array.

Every trajectory j has its own PCG64 generator (Melissa O'Neill's XSL-RR 128/64 generator, the bit generator of
``np.random.PCG64``). Its 128-bit state and odd 128-bit increment are four words of row j of a ``(n, 4)`` array
``[state_hi, state_lo, inc_hi, inc_lo]``, hashed from the seed by :meth:`numpy.random.SeedSequence.generate_state`
(vectorized: no Python loop over trajectories, no ``numba.typed.List``). A trajectory's stream therefore depends
only on the seed and on j: not on the number of threads, on how trajectories are chunked, or on how iterations
are cut into kernel calls.

Two implementations of the same stream:

* :func:`numpy_generator` turns a row into an ``np.random.Generator`` (numpy's C samplers: the reference);
* :mod:`._rng_numba` steps the rows inside compiled kernels, with numba ports of numpy's ziggurat normal,
  exponential and Marsaglia–Tsang gamma samplers, bit-identical to numpy's (tested against it).

This module imports numpy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["StreamDrawer", "generate_state64", "numpy_generator", "state_dict", "state_row", "stream_states"]

_MASK64 = (1 << 64) - 1


def stream_states(seed_seq: np.random.SeedSequence, n: int, streams: int = 1) -> np.ndarray:
    """Initial PCG64 states of ``n`` trajectories × ``streams`` independent streams each.

    Returns a ``(streams, n, 4)`` uint64 array of rows ``[state_hi, state_lo, inc_hi, inc_lo]`` (the increment
    made odd, as PCG requires). Row (s, j) is a function of (seed, s, j, n·streams) only: the words come from
    one ``generate_state`` call, whose output is a hash of the seed's entropy pool and the word index.
    """
    words = generate_state64(seed_seq, 4 * n * streams).reshape(streams, n, 4)
    words[..., 3] |= np.uint64(1)
    return np.ascontiguousarray(words)


# SeedSequence's output hash (numpy/random/bit_generator.pyx: INIT_B, MULT_B, XSHIFT)
_INIT_B = np.uint32(0x8B51F9DD)
_MULT_B = np.uint32(0x58F38DED)
_XSHIFT = np.uint32(16)


def generate_state64(seed_seq: np.random.SeedSequence, n_words: int) -> np.ndarray:
    """``seed_seq.generate_state(n_words, dtype=np.uint64)``, vectorized (numpy loops over the words in Python:
    ≈ 0.15 µs each, 5 ms for 4,096 trajectories × 2 streams, as long as the reduced kernel's first 100 steps).

    Word i of the uint32 output is (pool[i mod 4] ⊕ h_i)·h_{i+1} with h_i = INIT_B·MULT_B^i (mod 2³²), then
    x ⊕= x >> 16; pairs of words, little-endian, make the uint64 words. Tested equal to numpy's.
    """
    if type(seed_seq) is not np.random.SeedSequence:  # another implementation: ask it
        return seed_seq.generate_state(n_words, dtype=np.uint64)
    n32 = 2 * int(n_words)
    pool = np.asarray(seed_seq.pool, dtype=np.uint32)
    h = np.full(n32 + 1, _MULT_B, dtype=np.uint32)
    h[0] = _INIT_B
    h = np.multiply.accumulate(h, dtype=np.uint32)  # wraps mod 2³²
    x = np.tile(pool, -(-n32 // pool.size))[:n32] ^ h[:-1]
    x *= h[1:]
    x ^= x >> _XSHIFT
    return x.astype("<u4").view("<u8").astype(np.uint64)


def state_dict(row: np.ndarray) -> dict:
    """The ``PCG64.state`` dict of a row of four words."""
    s_hi, s_lo, i_hi, i_lo = (int(x) for x in row)
    return {
        "bit_generator": "PCG64",
        "state": {"state": (s_hi << 64) | s_lo, "inc": (i_hi << 64) | i_lo},
        "has_uint32": 0,
        "uinteger": 0,
    }


def numpy_generator(row: np.ndarray) -> np.random.Generator:
    """An ``np.random.Generator`` whose PCG64 bit generator is in the state ``row`` (four uint64 words)."""
    bg = np.random.PCG64(0)
    bg.state = state_dict(row)
    return np.random.Generator(bg)


class StreamDrawer:
    """Draws from row j of a state array with numpy's samplers and writes the advanced state back (one
    Generator, reloaded per call: no Generator object per trajectory)."""

    def __init__(self) -> None:
        self._bg = np.random.PCG64(0)
        self._gen = np.random.Generator(self._bg)

    def _done(self, states: np.ndarray, j: int) -> None:
        states[j] = state_row(self._gen)

    def normal(self, states: np.ndarray, j: int, size: int | tuple[int, ...]) -> np.ndarray:
        """Standard normals from stream j (row-major fill of ``size``)."""
        self._bg.state = state_dict(states[j])
        out = self._gen.standard_normal(size)
        self._done(states, j)
        return out

    def chisquare(self, states: np.ndarray, j: int, df: float, size: int | tuple[int, ...]) -> np.ndarray:
        """χ²_df variates from stream j."""
        self._bg.state = state_dict(states[j])
        out = self._gen.chisquare(df, size)
        self._done(states, j)
        return out


def state_row(gen: np.random.Generator) -> np.ndarray:
    """The four words of a PCG64 generator's state (the inverse of :func:`numpy_generator`)."""
    st = gen.bit_generator.state["state"]
    s, inc = int(st["state"]), int(st["inc"])
    return np.array([s >> 64, s & _MASK64, inc >> 64, inc & _MASK64], dtype=np.uint64)
