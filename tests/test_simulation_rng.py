"""Per-trajectory PCG64 streams: the compiled samplers give numpy's numbers exactly, the states depend only on
the seed and the trajectory, and a process that runs a simulation loads its kernels from numba's cache."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from spheretheory.simulation._rng import StreamDrawer, generate_state64, numpy_generator, state_row, stream_states

rn = pytest.importorskip("spheretheory.simulation._rng_numba")


def test_states_are_reproducible_distinct_and_odd():
    a = stream_states(np.random.SeedSequence(3), 50, streams=2)
    b = stream_states(np.random.SeedSequence(3), 50, streams=2)
    c = stream_states(np.random.SeedSequence(4), 50, streams=2)
    assert a.shape == (2, 50, 4) and a.dtype == np.uint64
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.all(a[..., 3] & np.uint64(1) == 1)  # PCG needs an odd increment
    assert len({tuple(r) for r in a.reshape(-1, 4)}) == 100


@pytest.mark.parametrize("seed", [0, 12345, [1, 2, 3], 2**100 + 7])
@pytest.mark.parametrize("pool_size", [4, 8])
def test_vectorized_generate_state_is_numpys(seed, pool_size):
    """The vectorized hash gives SeedSequence.generate_state's words exactly (spawned children included), so
    the streams, and every seeded run, are unchanged."""
    ss = np.random.SeedSequence(seed, pool_size=pool_size)
    for s in [ss, *ss.spawn(2)]:
        for n in (0, 1, 3, 4, 7, 100, 4097):
            np.testing.assert_array_equal(generate_state64(s, n), s.generate_state(n, dtype=np.uint64))


def test_numpy_generator_round_trips_the_state():
    row = stream_states(np.random.SeedSequence(9), 1)[0, 0]
    gen = numpy_generator(row)
    np.testing.assert_array_equal(state_row(gen), row)
    x = gen.standard_normal(5)
    states = row[None].copy()
    np.testing.assert_array_equal(StreamDrawer().normal(states, 0, 5), x)
    np.testing.assert_array_equal(states[0], state_row(gen))  # the drawer writes the advanced state back


def test_compiled_normal_is_numpys_stream():
    st = stream_states(np.random.SeedSequence(5), 6)[0]
    ref = np.stack([numpy_generator(st[j]).standard_normal(4000) for j in range(6)])
    out = np.empty((6, 4000))
    s = st.copy()
    rn.fill_normal(s, out)
    np.testing.assert_array_equal(out, ref)  # 24,000 draws include the ziggurat's rare tail and wedge branches
    par = np.empty_like(out)
    rn.fill_normal_parallel(st.copy(), par)
    np.testing.assert_array_equal(par, ref)
    gens = [numpy_generator(st[j]) for j in range(6)]
    for g in gens:
        g.standard_normal(4000)
    np.testing.assert_array_equal(s, np.stack([state_row(g) for g in gens]))  # the same advanced states


@pytest.mark.parametrize("df", [0.5, 1.0, 2.0, 3.0, 8.0, 4093.0])
def test_compiled_chisquare_is_numpys_stream(df):
    """df < 2, = 2 and > 2 take numpy's three gamma branches (shape < 1, exponential, Marsaglia–Tsang)."""
    st = stream_states(np.random.SeedSequence(7), 4)[0]
    ref = np.stack([numpy_generator(st[j]).chisquare(df, 2000) for j in range(4)])
    out = np.empty((4, 2000))
    rn.fill_chisquare(st.copy(), df, out)
    np.testing.assert_array_equal(out, ref)


def test_simulation_compiles_nothing_in_a_warm_process():
    """After one run has filled numba's cache, a new process loads every kernel from it (no typed.List or
    other per-process compilation): numba's dispatchers report no compiled-here overloads."""
    code = (
        "import numba, numpy as np\n"
        "from spheretheory.simulation import simulate\n"
        "simulate('sgdm', 0.1, 1e-3, 0.9, dim=8, steps=5, trajectories=3, seed=0)\n"
        "simulate('sgdm', 0.1, 1e-3, 0.9, dim=8, steps=5, trajectories=3, seed=0, method='reduced')\n"
        "from spheretheory.simulation import _numba, _rng_numba, _reduced_numba\n"
        "fns = [_numba._kernel, _rng_numba.fill_normal_parallel, _reduced_numba.kernel]\n"
        "print(sum(len(f.stats.cache_misses) for f in fns))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)  # fills the cache
    r = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert r.stdout.strip() == "0"


def test_numba_and_numpy_full_d_draw_the_same_seeded_numbers():
    """Both full-d paths draw trajectory j's ξ from stream j, d normals per iteration in turn, so a seeded run
    agrees to round-off (rtol as for injected draws in test_simulation.py) and backend="auto" may take
    either."""
    from spheretheory.simulation import simulate

    kw = dict(lr=[0.1, 0.05], weight_decay=1e-2, momentum=0.9, dim=12, steps=70, trajectories=5, seed=3)
    a = simulate("sgdm", backend="numpy", **kw)
    b = simulate("sgdm", backend="numba", **kw)
    np.testing.assert_allclose(b.w_final, a.w_final, rtol=1e-9, atol=1e-9 * np.abs(a.w_final).max())
    np.testing.assert_allclose(b.sq_norm, a.sq_norm, rtol=1e-9)


def test_reduced_numpy_backend_does_not_import_numba():
    code = (
        "import sys\n"
        "from spheretheory.simulation import simulate\n"
        "r = simulate('sgdm', 0.1, 1e-3, 0.9, dim=64, steps=20, trajectories=4, seed=0, method='reduced',"
        " backend='numpy')\n"
        "s = simulate('sgdm', 0.1, 1e-3, 0.9, dim=64, steps=20, trajectories=4, seed=0, method='reduced')\n"
        "print(r.config['backend'], s.config['backend'], 'numba' in sys.modules)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert r.stdout.split() == ["numpy", "numpy", "False"]  # a small run on "auto" takes the numpy path too


def test_vectorizable_atan2_matches_numpy():
    """Cephes' atan is accurate to ≤ 2.2e-16 relative; 4e-16 leaves room for the final rounding of y/|x|."""
    red = pytest.importorskip("spheretheory.simulation._reduced_numba")
    rng = np.random.default_rng(0)
    y = np.abs(rng.standard_normal(20000)) * 10.0 ** rng.uniform(-12, 6, 20000)
    x = rng.standard_normal(20000) * 10.0 ** rng.uniform(-12, 6, 20000)
    y = np.concatenate([y, [0.0, 0.0, 0.0, 1.0, 1.0, 2.0]])
    x = np.concatenate([x, [1.0, -1.0, 0.0, 0.0, -0.0, 2.0]])
    out = np.empty_like(y)
    red.atan2_array(y, x, out)
    np.testing.assert_allclose(out, np.arctan2(y, x), rtol=4e-16, atol=0)
