"""Tests of the exact reduced-state simulator (spheretheory.simulation.reduced, docs/reduced_state.md).

* the derivation (eqs. R2–R8) checked with sympy in an explicit orthonormal frame;
* one step of the reduced update against one step of the d-dimensional update on the same draw (hypothesis,
  to round-off), and a whole run against the full-d numpy backend on the same draws ξ (mapped to (z₁, z₂, χ));
* the numba kernel against the numpy reference (injected and seeded draws, to round-off);
* the law: two-sample tests against the full-d numba simulator at d = 2, 3, 16, 256, with a negative control
  showing the tests have power;
* recording, summaries, divergence flags, validation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spheretheory.simulation import QUANTITIES, simulate, step_decay
from spheretheory.simulation._spec import build_problem
from spheretheory.simulation.reduced import (
    draws_from_full,
    gram_from_state,
    reduced_step,
    simulate_reduced,
    state_from_vectors,
)

OPTIMIZERS = ("sgd", "sgdm", "nesterov")


# ----------------------------------------------------------------------------------------------------------
# A plain full-d step (the update rules of spheretheory.simulate's docstring), written out independently
# ----------------------------------------------------------------------------------------------------------
def full_step(w, v, w0, xi, *, opt, lr, lam_c, lam_d, alpha, L):
    """One full-d step for single vectors; returns (w_{t+1}, v_t, values of iteration t)."""
    d = w.shape[0]
    sq = w @ w
    y = math.sqrt(L / (d - 1)) * xi
    g_unit = y - (y @ w) / sq * w  # g̃ = √(L/(d−1)) P⊥ξ
    g = g_unit / math.sqrt(sq)
    gc = g + lam_c * w
    a = alpha if opt != "sgd" else 0.0
    v_new = a * v + gc
    step = {"sgd": gc, "sgdm": v_new, "nesterov": gc + a * v_new}[opt]
    w_new = w - lr * lam_d * w - lr * step
    cos_delta = (w @ w_new) / math.sqrt(sq * (w_new @ w_new))
    values = {
        "sq_norm": sq,
        "angular_update": math.acos(min(1.0, max(-1.0, cos_delta))),
        "unit_grad_sq": g_unit @ g_unit,
        "h_tilde": (g @ g + 2 * a * (v @ g)) * sq,
        "cos_to_start": (w0 @ w) / math.sqrt((w0 @ w0) * sq),
        "effective_lr": lr / sq,
    }
    return w_new, v_new, values


# ----------------------------------------------------------------------------------------------------------
# 1. The derivation, symbolically
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("opt", OPTIMIZERS)
def test_derivation_sympy(opt):
    """Eqs. R3–R8 of docs/reduced_state.md: in the frame (e₀ = w/‖w‖, e₁ ∥ p, e₂, e₃ ∥ the χ² remainder)
    the full update gives exactly the frame coordinates of v_t and w_{t+1} used by the reduced step, for
    every optimizer and both kinds of decay; and the minors give the parts orthogonal to w_{t+1}."""
    import sympy as sp

    ra, al1, be2, rchi = sp.symbols("r_a alpha_1 beta_2 r_chi", positive=True)
    b, m, be1, z1, z2 = sp.symbols("b m beta_1 z_1 z_2")
    eta, lc, ld, al, sig = sp.symbols("eta lambda_c lambda_d alpha sigma")
    a = ra**2
    e = sp.eye(4)
    w = ra * e[:, 0]
    v = b / ra * e[:, 0] + al1 * e[:, 1]  # v_{t−1} = (b/‖w‖)e₀ + p, p = α₁e₁
    w0 = m / ra * e[:, 0] + be1 * e[:, 1] + be2 * e[:, 2]  # w_0 = (m/‖w‖)e₀ + q, q = β₁e₁ + β₂e₂
    xi_perp = z1 * e[:, 1] + z2 * e[:, 2] + rchi * e[:, 3]  # ‖P⊥ξ‖² = z₁² + z₂² + χ
    g = sig / ra * xi_perp  # g = g̃/‖w‖, g̃ = σP⊥ξ with σ = √(L/(d−1))
    # the update rules, as in spheretheory.simulate's docstring
    a_v = 0 if opt == "sgd" else al
    v_new = a_v * v + g + lc * w
    step = {"sgd": g + lc * w, "sgdm": v_new, "nesterov": (g + lc * w) + al * v_new}[opt]
    w_new = w - eta * ld * w - eta * step
    # R1 coefficients and R5/R6 frame coordinates, as the reduced step computes them
    sv, sg, kap = {"sgd": (0, 1, 1), "sgdm": (al, 1, 1), "nesterov": (al**2, 1 + al, 1 + al)}[opt]
    s = sig / ra
    V = sp.Matrix([(a_v * b + lc * a) / ra, a_v * al1 + s * z1, s * z2, s * rchi])
    W = sp.Matrix(
        [
            (1 - eta * ld - eta * kap * lc) * ra - eta * sv * b / ra,
            -eta * (sv * al1 + sg * s * z1),
            -eta * sg * s * z2,
            -eta * sg * s * rchi,
        ]
    )
    assert sp.simplify(v_new - V) == sp.zeros(4, 1)
    assert sp.simplify(w_new - W) == sp.zeros(4, 1)
    # R2/R3: the state (a, b, P, m, R, Q) in the frame
    u = w / ra
    p, q = v - (v.T * u)[0] * u, w0 - (w0.T * u)[0] * u
    assert sp.simplify((p.T * p)[0] - al1**2) == 0
    assert sp.simplify((p.T * q)[0] - al1 * be1) == 0
    assert sp.simplify((q.T * q)[0] - be1**2 - be2**2) == 0
    # R4/R9: ‖g̃‖², h̃ = (‖g‖² + 2α⟨v_{t−1}, g⟩)‖w‖²
    assert sp.expand((g.T * g)[0] * a - sig**2 * (z1**2 + z2**2 + rchi**2)) == 0
    assert sp.expand((g.T * v)[0] - s * z1 * al1) == 0
    # R8: the component of w_{t+1} along w_t is W₀, so Δ_t = atan2(√(W₁² + W₂² + W₃²), W₀)
    assert sp.expand((w_new.T * u)[0] - W[0]) == 0
    # R7': for any X, ‖W‖²⟨X⊥, Y⊥⟩ = Σ_{i<j} (X_iW_j − X_jW_i)(Y_iW_j − Y_jW_i) (Binet–Cauchy), ⊥ to W
    X = sp.Matrix(sp.symbols("x0:4"))
    Y = sp.Matrix(sp.symbols("y0:4"))
    Wg = sp.Matrix(sp.symbols("W0:4"))
    lhs = (X.T * Y)[0] * (Wg.T * Wg)[0] - (X.T * Wg)[0] * (Y.T * Wg)[0]
    pairs = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    rhs = sum((X[i] * Wg[j] - X[j] * Wg[i]) * (Y[i] * Wg[j] - Y[j] * Wg[i]) for i, j in pairs)
    assert sp.expand(lhs - rhs) == 0
    # R7'': det Gram(X, Y, W) = Σ (3×3 minors of [X Y W])² (Cauchy–Binet) = ‖W‖²·(‖X⊥‖²‖Y⊥‖² − ⟨X⊥, Y⊥⟩²)
    M = X.row_join(Y).row_join(Wg)
    minors = [M.extract(list(rows), [0, 1, 2]).det() for rows in [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)]]
    assert sp.expand((M.T * M).det() - sum(x**2 for x in minors)) == 0
    xx, yy, xy = ((A.T * B)[0] * (Wg.T * Wg)[0] - (A.T * Wg)[0] * (B.T * Wg)[0] for A, B in [(X, X), (Y, Y), (X, Y)])
    assert sp.expand((M.T * M).det() * (Wg.T * Wg)[0] - (xx * yy - xy**2)) == 0


# ----------------------------------------------------------------------------------------------------------
# 2. One step against the full-d update on the same draw
# ----------------------------------------------------------------------------------------------------------
def _state_vectors(rng, d, v_kind, w0_kind):
    w = rng.standard_normal(d) * rng.uniform(0.3, 3.0)
    if v_kind == "zero":
        v = np.zeros(d)
    else:
        v = rng.standard_normal(d) * rng.uniform(0.01, 2.0) + rng.uniform(-1, 1) * w
    if w0_kind == "same":
        w0 = w.copy()
    elif w0_kind == "scaled":
        w0 = 0.7 * w
    else:
        w0 = rng.standard_normal(d)
    return w, v, w0


@given(
    d=st.sampled_from([2, 3, 4, 5, 17, 64]),
    opt=st.sampled_from(OPTIMIZERS),
    decoupled=st.booleans(),
    alpha=st.floats(0.0, 0.99),
    lr=st.floats(1e-3, 2.0),
    lam=st.floats(0.0, 0.5),
    L=st.floats(1e-3, 10.0),
    v_kind=st.sampled_from(["generic", "zero"]),
    w0_kind=st.sampled_from(["generic", "same", "scaled"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_one_step_equals_full(d, opt, decoupled, alpha, lr, lam, L, v_kind, w0_kind, seed):
    """The reduced step, fed the draws a full-d ξ amounts to, gives the full step's inner products to
    round-off (a few ulps of the largest term; 1e-12 relative leaves a margin of ~100 over ε·(terms))."""
    rng = np.random.default_rng(seed)
    w, v, w0 = _state_vectors(rng, d, v_kind, w0_kind)
    xi = rng.standard_normal(d)
    lam_c, lam_d = (0.0, lam) if decoupled else (lam, 0.0)
    w1, v1, vals = full_step(w, v, w0, xi, opt=opt, lr=lr, lam_c=lam_c, lam_d=lam_d, alpha=alpha, L=L)
    z = draws_from_full(w, v, w0, xi)
    new, red_vals = reduced_step(
        state_from_vectors(w, v, w0),
        np.array([w0 @ w0]),
        z,
        dim=d,
        optimizer=opt,
        lr=np.array([lr]),
        weight_decay_coupled=np.array([lam_c]),
        weight_decay_decoupled=np.array([lam_d]),
        momentum=np.array([alpha]),
        unit_grad_sq=np.array([L]),
    )
    want = state_from_vectors(w1, v1, w0)[:, 0]
    # scale of each entry: the product of the norms involved (Cauchy–Schwarz bound); P, R, Q are parts
    # orthogonal to w_{t+1}, bounded by the same products
    nw, nv, n0 = (math.sqrt(x @ x) for x in (w1, v1, w0))
    scale = np.array([nw * nw, nw * nv, nv * nv, nw * n0, nv * n0, n0 * n0, (nv * n0) ** 2]) + 1e-300
    np.testing.assert_array_less(np.abs(new[:, 0] - want) / scale, 1e-12)
    gram_new = gram_from_state(new)
    np.testing.assert_allclose(gram_new["v_sq_norm"], v1 @ v1, rtol=1e-11)
    np.testing.assert_allclose(gram_new["v_dot_w0"], v1 @ w0, rtol=1e-11, atol=1e-12 * nv * n0)
    for q, i in zip(QUANTITIES, range(6), strict=True):
        got, ref = red_vals[i, 0], vals[q]
        if q == "angular_update":
            # the full value is an arccos: its own error is ~ε/sin Δ
            tol = 1e-12 + 1e-15 / max(math.sin(ref), 1e-300)
            assert abs(got - ref) <= tol, (q, got, ref)
        else:
            assert abs(got - ref) <= 1e-12 * (abs(ref) + vals["unit_grad_sq"]), (q, got, ref)


# ----------------------------------------------------------------------------------------------------------
# 3. A whole run against the full-d numpy backend on the same ξ
# ----------------------------------------------------------------------------------------------------------
def _mapped_draws(kw, xi, w0):
    """Replay the full-d run of ``kw`` on draws ξ with the plain step above; map each ξ_t to (z₁, z₂, χ)."""
    problem = build_problem(**{**_defaults(), **kw, "noise_draws": xi, "w0": w0})
    T, G, n, d = xi.shape
    p = {k: np.repeat(v, n) for k, v in problem.params.items()}
    W = w0.reshape(G * n, d).copy()
    W0 = W.copy()
    V = np.zeros_like(W)
    out = np.zeros((T, G * n, 3))
    for t in range(T):
        f = problem.rescale_factors(t, t + 1)[0]
        W *= f
        lr_t = p["lr"] * problem.lr_schedule(t)[()]
        wd_t = p["weight_decay"] * problem.wd_schedule(t)[()]
        L_t = p["unit_grad_sq"] * problem.grad_schedule(t)[()]
        for j in range(G * n):
            x = xi[t].reshape(G * n, d)[j]
            out[t, j] = draws_from_full(W[j], V[j], W0[j], x)[0]
            lam_c, lam_d = (0.0, wd_t[j]) if problem.decoupled else (wd_t[j], 0.0)
            W[j], V[j], _ = full_step(
                W[j], V[j], W0[j], x, opt=problem.optimizer, lr=lr_t[j], lam_c=lam_c, lam_d=lam_d,
                alpha=p["momentum"][j], L=L_t[j],
            )  # fmt: skip
    return out


def _defaults():
    import inspect

    return {k: p.default for k, p in inspect.signature(simulate).parameters.items()}


@pytest.mark.parametrize(
    ("opt", "d", "decoupled"),
    [("sgd", 2, False), ("sgdm", 3, False), ("sgdm", 6, True), ("nesterov", 5, False), ("sgd", 9, True)],
)
def test_run_equals_full_backend_on_same_draws(opt, d, decoupled):
    """Every recorded series of the reduced run equals the full-d numpy backend's on the same ξ (relative
    1e-9: round-off compounding over 40 steps stays far below; a wrong formula is off by O(1))."""
    T, G, n = 40, 2, 3
    rng = np.random.default_rng(7 + d)
    xi = rng.standard_normal((T, G, n, d))
    w0 = rng.standard_normal((G, n, d))
    kw = dict(
        optimizer=opt,
        lr=[0.3, 0.05],
        weight_decay=[0.05, 0.2],
        momentum=[0.0, 0.0] if opt == "sgd" else [0.9, 0.5],
        unit_grad_sq=[1.0, 3.0],
        dim=d,
        steps=T,
        trajectories=n,
        lr_schedule=step_decay([25], 16.0),
        rescale_on_drop=True,
        wd_schedule={"t0": 5, "t1": 30, "start": 1.0, "stop": 2.0},
        grad_schedule={"milestones": [10], "values": [1.0, 0.5]},
        decoupled=decoupled,
    )
    full = simulate(**kw, backend="numpy", noise_draws=xi, w0=w0)
    draws = _mapped_draws(kw, xi, w0)
    for backend in ("numpy", "numba"):
        red = simulate_reduced(**kw, backend=backend, w0=w0, draws=draws)
        assert red.config["method"] == "reduced" and red.w_final is None
        for q in QUANTITIES:
            f, r = full.series(q), red.series(q)
            if f is None:
                assert r is None
                continue
            np.testing.assert_allclose(r, f, rtol=1e-9, atol=1e-12, err_msg=f"{backend} {q}")
        np.testing.assert_allclose(
            red.summary["final_sq_norm"], full.summary["final_sq_norm"], rtol=1e-9, err_msg=backend
        )


# ----------------------------------------------------------------------------------------------------------
# 4. numba kernel against the numpy reference
# ----------------------------------------------------------------------------------------------------------
CONFIGS = [
    dict(optimizer="sgdm", lr=[0.1, 0.4], weight_decay=[1e-2, 5e-2], momentum=[0.9, 0.5], dim=256),
    dict(optimizer="sgd", lr=0.5, weight_decay=0.1, dim=2, record_every=7),
    dict(optimizer="nesterov", lr=0.2, weight_decay=0.05, momentum=0.8, dim=3, decoupled=True),
    dict(
        optimizer="sgdm",
        lr=0.2,
        weight_decay=0.02,
        momentum=0.9,
        dim=4,
        lr_schedule=step_decay([30, 60], 10.0),
        rescale_on_drop=True,
        grad_schedule={"t0": 0, "t1": 80, "start": 1.0, "stop": 4.0},
    ),
]


def _assert_same(r1, r2, rtol=1e-10):
    """Equal to round-off: the two paths evaluate the same formulas in a different order, so they differ by
    a few ulps per step, compounded over the run (≲ 1e-12 relative after ~100 steps here); the absolute floor
    1e-12·max|x| covers values crossing zero (cos(w_0, w_t) in high d)."""
    for q in QUANTITIES:
        s1, s2 = r1.series(q), r2.series(q)
        assert (s1 is None) == (s2 is None), q
        if s1 is not None:
            atol = 1e-12 * np.nanmax(np.abs(s2))
            np.testing.assert_allclose(s1, s2, rtol=rtol, atol=atol, err_msg=q)
    for key in r1.summary:
        atol = 1e-12 * np.nanmax(np.abs(r2.summary[key]))
        np.testing.assert_allclose(r1.summary[key], r2.summary[key], rtol=rtol, atol=atol, err_msg=key)
    np.testing.assert_array_equal(r1.diverged, r2.diverged)
    np.testing.assert_array_equal(r1.diverged_step, r2.diverged_step)


@pytest.mark.parametrize("cfg", CONFIGS)
def test_numba_equals_numpy_injected(cfg):
    """On injected draws the kernel and the reference compute the same formulas: agreement to round-off."""
    T, n = 100, 5
    G = np.size(cfg["lr"])
    rng = np.random.default_rng(3)
    draws = np.empty((T, G, n, 3))
    draws[..., :2] = rng.standard_normal((T, G, n, 2))
    draws[..., 2] = rng.chisquare(max(cfg["dim"] - 3, 1), (T, G, n))
    kw = dict(cfg, steps=T, trajectories=n)
    _assert_same(
        simulate_reduced(**kw, backend="numba", draws=draws),
        simulate_reduced(**kw, backend="numpy", draws=draws),
    )


@pytest.mark.parametrize("cfg", CONFIGS)
def test_numba_equals_numpy_seeded(cfg):
    """With a seed both paths draw the same numbers from the same per-chunk generators (normals, then χ²,
    per block and chunk), so they agree to round-off; 37 trajectories exercise several chunks."""
    kw = dict(cfg, steps=120, trajectories=37, seed=11)
    r_nb = simulate_reduced(**kw, backend="numba")
    _assert_same(r_nb, simulate_reduced(**kw, backend="numpy"))
    again = simulate_reduced(**kw, backend="numba")
    for q in QUANTITIES:
        if r_nb.series(q) is not None:
            np.testing.assert_array_equal(r_nb.series(q), again.series(q))  # reproducible run to run
    other = simulate_reduced(**{**kw, "seed": 12}, backend="numba")
    assert not np.allclose(other.sq_norm[-1], r_nb.sq_norm[-1])


# ----------------------------------------------------------------------------------------------------------
# 5. The law, against the full-d simulator
# ----------------------------------------------------------------------------------------------------------
# Two-sample Kolmogorov–Smirnov tests on independent samples (reduced: 4000 trajectories, full: 2000).
# Under the null (same law) each p-value is uniform on (0, 1); 60 KS tests run below, so with the threshold
# p > 1e-4 the chance that any fails by accident is < 60e-4 = 0.6 % (the seeds are fixed, so the outcome is
# deterministic). The threshold still detects a KS distance D ≳ √(ln(2/1e-4)/2)·√(1/4000 + 1/2000) ≈ 0.06;
# the negative controls below show that real mismatches (d = 3 against d = 5; a χ² remainder with one degree
# of freedom too many at d = 16) give p < 1e-6.
KS_P_MIN = 1e-4
# Equilibrium means: z = (m_r − m_f)/√(se_r² + se_f²) is ≈ N(0, 1) under the null (se from independent
# trajectories); |z| < 4.5 fails by accident with probability 7e-6 per comparison.
Z_MAX = 4.5

LAW_CASES = {
    "sgdm": dict(optimizer="sgdm", lr=0.2, weight_decay=0.05, momentum=0.9),
    "sgd": dict(optimizer="sgd", lr=0.5, weight_decay=0.05),
    "nesterov": dict(optimizer="nesterov", lr=0.1, weight_decay=0.05, momentum=0.9),
}


def _law_runs(case, d, seed, n_red=4000, n_full=2000, d_full=None):
    kw = dict(LAW_CASES[case], dim=d, steps=120, record_every=10, summary_fraction=0.5)
    red = simulate(**kw, trajectories=n_red, method="reduced", seed=seed)
    kw["dim"] = d if d_full is None else d_full
    full = simulate(**kw, trajectories=n_full, method="full", seed=seed + 1)
    return red, full


@pytest.mark.parametrize(
    ("case", "d"), [("sgdm", 2), ("sgdm", 3), ("sgdm", 16), ("sgdm", 256), ("sgd", 3), ("nesterov", 16)]
)
def test_law_matches_full(case, d):
    from scipy.stats import ks_2samp

    red, full = _law_runs(case, d, seed=100 + d)
    assert not red.diverged.any() and not full.diverged.any()
    for q in ("sq_norm", "angular_update", "cos_to_start", "h_tilde", "unit_grad_sq"):
        for k in (1, len(red.steps) - 1):  # a transient record (t = 10) and the last one (t = 110)
            p = ks_2samp(red.series(q)[k, 0], full.series(q)[k, 0]).pvalue
            assert p > KS_P_MIN, (q, int(red.steps[k]), p)
    er = red.equilibrium_stats(quantities=("sq_norm", "angular_update"))
    ef = full.equilibrium_stats(quantities=("sq_norm", "angular_update"))
    for q in er:
        z = (er[q].mean - ef[q].mean) / np.sqrt(er[q].se ** 2 + ef[q].se ** 2)
        assert abs(float(z[0])) < Z_MAX, (q, float(z[0]))


def test_law_test_has_power():
    """Negative controls: the same tests reject (1) a reduced run at d = 3 against a full-d run at d = 5, and
    (2) reduced draws whose χ² remainder has d − 2 degrees of freedom instead of d − 3, at d = 16."""
    from scipy.stats import ks_2samp

    red, full = _law_runs("sgdm", 3, seed=5, d_full=5)
    assert ks_2samp(red.angular_update[1, 0], full.angular_update[1, 0]).pvalue < 1e-6

    d, T, n = 16, 120, 4000
    kw = dict(LAW_CASES["sgdm"], dim=d, steps=T, record_every=10, summary_fraction=0.5)
    rng = np.random.default_rng(1)
    draws = np.empty((T, 1, n, 3))
    draws[..., :2] = rng.standard_normal((T, 1, n, 2))
    draws[..., 2] = rng.chisquare(d - 2, (T, 1, n))  # wrong on purpose
    wrong = simulate_reduced(**kw, trajectories=n, draws=draws)
    full = simulate(**kw, trajectories=2000, seed=3)
    assert ks_2samp(wrong.sq_norm[1, 0], full.sq_norm[1, 0]).pvalue < 1e-6


# ----------------------------------------------------------------------------------------------------------
# 6. Recording, summaries, divergence, validation
# ----------------------------------------------------------------------------------------------------------
def test_summary_matches_series_and_keeps_no_series():
    kw = dict(optimizer="sgdm", lr=0.1, weight_decay=0.01, momentum=0.9, dim=64, steps=400, trajectories=8)
    ser = simulate(**kw, method="reduced", seed=1)
    summ = simulate(**kw, method="reduced", seed=1, record="summary")
    assert summ.steps.size == 0 and all(summ.series(q) is None for q in QUANTITIES)
    start = ser.config["summary_start"]
    for q in QUANTITIES:
        window = ser.series(q)[start:]
        np.testing.assert_allclose(summ.summary[f"{q}_mean"], window.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(summ.summary[f"{q}_var"], window.var(axis=0), rtol=1e-8, atol=1e-300)
    np.testing.assert_array_equal(summ.summary["count"], 400 - start)
    sr, ss = ser.equilibrium_stats(), summ.equilibrium_stats()
    np.testing.assert_allclose(ss["sq_norm"].mean, sr["sq_norm"].mean, rtol=1e-12)


def test_record_every_and_final_state():
    kw = dict(optimizer="sgdm", lr=0.1, weight_decay=0.01, momentum=0.9, dim=10, steps=101, trajectories=4)
    r1 = simulate(**kw, method="reduced", seed=2)
    r7 = simulate(**kw, method="reduced", seed=2, record_every=7)
    np.testing.assert_array_equal(r7.steps, np.arange(0, 101, 7))
    np.testing.assert_array_equal(r7.sq_norm, r1.sq_norm[::7])
    fs = r1.extra["final_state"]
    np.testing.assert_array_equal(fs["a"], r1.summary["final_sq_norm"])
    # the Gram matrix of (w, v, w_0) stays positive semi-definite (Cauchy–Schwarz on each pair)
    assert np.all(fs["w_dot_v"] ** 2 <= fs["sq_norm"] * fs["v_sq_norm"] * (1 + 1e-12))
    assert np.all(fs["R"] ** 2 <= fs["P"] * fs["Q"] * (1 + 1e-12))


def test_divergence_flagged_like_full():
    """λη = 10⁴ multiplies ‖w‖² by ≈ 10⁸ per step whatever the noise: both simulators flag the trajectory at
    the step ‖w‖² passes √(max float), the other grid point completes."""
    kw = dict(optimizer="sgd", lr=[0.1, 1e4], weight_decay=[1e-3, 1.0], dim=8, steps=60, trajectories=3)
    red = simulate(**kw, method="reduced", seed=0)
    full = simulate(**kw, method="full", backend="numpy", seed=0)
    np.testing.assert_array_equal(red.diverged, [[False] * 3, [True] * 3])
    np.testing.assert_array_equal(red.diverged_step, full.diverged_step)
    assert np.all(np.isnan(red.sq_norm[-1, 1])) and np.all(np.isfinite(red.sq_norm[:, 0]))
    assert np.all(np.isnan(red.summary["sq_norm_mean"][1]))
    np.testing.assert_array_equal(
        red.diverged_step, simulate(**kw, method="reduced", seed=0, backend="numpy").diverged_step
    )


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (dict(optimizer="adam", momentum=0.0), "optimizer must be one of sgd, sgdm, nesterov"),
        (dict(noise="anisotropic", spectrum=np.ones(8)), "noise must be 'isotropic'"),
        (dict(backend="cupy"), "backend must be one of auto, numba, numpy"),
        (dict(dtype=np.float32), "dtype must be float64"),
        (dict(noise_draws=np.zeros((5, 1, 2, 8))), "noise_draws"),
    ],
)
def test_bad_input(kw, match):
    base = dict(optimizer="sgdm", momentum=0.9, dim=8, steps=5, trajectories=2, method="reduced")
    with pytest.raises(ValueError, match=match):
        simulate(**{**base, **kw})


def test_bad_draws():
    kw = dict(optimizer="sgdm", momentum=0.9, dim=8, steps=5, trajectories=2)
    with pytest.raises(ValueError, match="draws must have shape"):
        simulate_reduced(**kw, draws=np.zeros((5, 2, 2)))
    bad = np.zeros((5, 1, 2, 3))
    bad[0, 0, 0, 2] = -1.0
    with pytest.raises(ValueError, match="non-negative"):
        simulate_reduced(**kw, draws=bad)
    with pytest.raises(TypeError, match="unexpected keyword"):
        simulate_reduced(**kw, learning_rate=0.1)


def test_seeded_run_independent_of_thread_count():
    """Chunks and blocks depend only on (N, steps), each chunk has its own generator: the same numbers with
    one thread as with all of them."""
    import numba

    kw = dict(optimizer="sgdm", lr=0.1, weight_decay=0.01, momentum=0.9, dim=50, steps=300, trajectories=100)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = simulate(**kw, method="reduced", seed=4)
    finally:
        numba.set_num_threads(before)
    many = simulate(**kw, method="reduced", seed=4)
    for q in QUANTITIES:
        np.testing.assert_array_equal(one.series(q), many.series(q))


def test_seeded_run_independent_of_block_length(monkeypatch):
    """The kernel carries 1/a, the Welford sums and the streams across its calls exactly, so cutting the run
    into 7-iteration calls gives the same bits as the default (one call here)."""
    from spheretheory.simulation import reduced

    kw = dict(optimizer="sgdm", lr=0.1, weight_decay=0.01, momentum=0.9, dim=50, steps=300, trajectories=37)
    kw.update(method="reduced", backend="numba", summary_fraction=0.5, seed=5)
    ref = simulate(**kw)
    monkeypatch.setattr(reduced, "_BLOCK", 7)
    monkeypatch.setattr(reduced, "_KERNEL_BLOCK_DRAWS", 1)
    cut = simulate(**kw)
    for q in QUANTITIES:
        np.testing.assert_array_equal(cut.series(q), ref.series(q))
    for key, v in ref.summary.items():
        np.testing.assert_array_equal(cut.summary[key], v, err_msg=key)


def test_no_noise_matches_full():
    """L = 0: a deterministic radial recursion (here SGDM oscillates through w = 0, Δ = π): reduced and full
    agree to round-off and the tangential parts stay exactly zero."""
    kw = dict(optimizer="sgdm", lr=0.1, weight_decay=0.1, momentum=0.9, unit_grad_sq=0.0, dim=50, steps=50)
    red = simulate(**kw, trajectories=3, method="reduced", seed=0)
    full = simulate(**kw, trajectories=3, method="full", backend="numpy", seed=0)
    np.testing.assert_allclose(red.sq_norm, full.sq_norm, rtol=1e-12)
    np.testing.assert_allclose(red.angular_update, full.angular_update, atol=1e-12)
    assert np.all(red.extra["final_state"]["P"] == 0) and np.all(red.extra["final_state"]["Q"] == 0)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["sgdm", "sgd"])
def test_law_matches_full_long_run_high_d(case):
    """A long run at d = 1024 (near the paper's regime ηλ ≪ 1): KS tests on the last record and z-tests of
    the equilibrium means (thresholds as above)."""
    from scipy.stats import ks_2samp

    params = {
        "sgdm": dict(optimizer="sgdm", lr=0.1, weight_decay=5e-3, momentum=0.9),
        "sgd": dict(optimizer="sgd", lr=0.2, weight_decay=5e-3),
    }[case]
    kw = dict(params, dim=1024, steps=3000, record_every=100)
    red = simulate(**kw, trajectories=4000, method="reduced", seed=21)
    full = simulate(**kw, trajectories=400, method="full", seed=22)
    for q in ("sq_norm", "angular_update", "cos_to_start", "h_tilde", "unit_grad_sq"):
        assert ks_2samp(red.series(q)[-1, 0], full.series(q)[-1, 0]).pvalue > KS_P_MIN, q
    er, ef = red.equilibrium_stats(), full.equilibrium_stats()
    for q in ("sq_norm", "angular_update", "h_tilde", "cos_to_start"):
        z = (er[q].mean - ef[q].mean) / np.sqrt(er[q].se ** 2 + ef[q].se ** 2)
        assert abs(float(z[0])) < Z_MAX, (q, float(z[0]))
