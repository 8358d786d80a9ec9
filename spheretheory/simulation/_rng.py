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

__all__ = ["StreamDrawer", "numpy_generator", "state_dict", "state_row", "stream_states"]

_MASK64 = (1 << 64) - 1


def stream_states(seed_seq: np.random.SeedSequence, n: int, streams: int = 1) -> np.ndarray:
    """Initial PCG64 states of ``n`` trajectories × ``streams`` independent streams each.

    Returns a ``(streams, n, 4)`` uint64 array of rows ``[state_hi, state_lo, inc_hi, inc_lo]`` (the increment
    made odd, as PCG requires). Row (s, j) is a function of (seed, s, j, n·streams) only: the words come from
    one ``generate_state`` call, whose output is a hash of the seed's entropy pool and the word index.
    """
    words = seed_seq.generate_state(4 * n * streams, dtype=np.uint64).reshape(streams, n, 4)
    words[..., 3] |= np.uint64(1)
    return np.ascontiguousarray(words)


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
