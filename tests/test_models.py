"""Property tests of the scale-invariant models: L(kw) = L(w), ⟨w, ∇L⟩ = 0, ∇L(kw) = ∇L(w)/k, ∇L = finite
differences (exact and stochastic gradients), and bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spheretheory.models import BatchNormNet, NoisyRayleighQuotient, WellsOnSphere, make_classification
from spheretheory.models.base import ScaleInvariantModel

NET = BatchNormNet(
    X=make_classification(n=64, features=4, classes=3, seed=3)[0],
    y=make_classification(n=64, features=4, classes=3, seed=3)[1],
    hidden=3,
    batch_size=16,
)


def _models(seed):
    rng = np.random.default_rng(seed)
    ev = rng.uniform(0, 2, size=6)
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    return [
        NoisyRayleighQuotient(eigenvalues=ev, noise_std=0.7),
        NoisyRayleighQuotient(H=Q @ np.diag(ev) @ Q.T, noise_std=0.3),
        WellsOnSphere(mult_noise=0.4, add_noise=0.2),
        WellsOnSphere(centers=rng.standard_normal((3, 4)), depths=[1.0, 0.5, 0.3], concentrations=[5.0, 2.0, 9.0]),
        NET,
    ]


def _rel(a, b):
    return np.max(np.abs(a - b)) / max(1e-300, np.max(np.abs(b)))


@given(seed=st.integers(0, 2**31 - 1), k=st.floats(1e-3, 1e3), dtype=st.sampled_from([np.float64, np.float32]))
def test_scale_invariance_and_lemma1(seed, k, dtype):
    rng = np.random.default_rng(seed)
    for m in _models(seed % 7):
        assert isinstance(m, ScaleInvariantModel)
        w = rng.standard_normal((3, m.dim)).astype(dtype)
        w64 = w.astype(np.float64)
        L, Lk = m.loss(w), m.loss(k * w64)
        np.testing.assert_allclose(Lk, L, rtol=1e-10, atol=1e-12)
        g = m.grad(w)
        # ⟨w, ∇L⟩ = 0 relative to ‖w‖‖∇L‖
        inner = np.abs(np.sum(w64 * g, -1)) / (np.linalg.norm(w64, axis=-1) * np.linalg.norm(g, axis=-1))
        assert np.all(inner < 1e-12)
        assert _rel(m.grad(k * w64) * k, g) < 1e-10


@given(seed=st.integers(0, 2**31 - 1))
def test_gradient_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    for m in _models(seed % 5):
        w = rng.standard_normal(m.dim)
        w *= rng.uniform(0.3, 3) / np.linalg.norm(w)
        g = m.grad(w)
        for _ in range(3):
            v = rng.standard_normal(m.dim)
            h = 1e-6 * np.linalg.norm(w)
            fd = (m.loss(w + h * v) - m.loss(w - h * v)) / (2 * h)
            # central differences: error O(h²·L''') + rounding O(eps·|L|/h) ≈ 1e-9 here
            assert abs(fd - g @ v) <= 1e-6 * (1 + np.linalg.norm(g) * np.linalg.norm(v))


@given(seed=st.integers(0, 2**31 - 1), k=st.floats(1e-2, 1e2))
def test_stochastic_gradients_keep_lemma1(seed, k):
    """Every noise draw is orthogonal to w and scales as 1/‖w‖ (same injected draw at w and kw)."""
    rng = np.random.default_rng(seed)
    for m in _models(seed % 3):
        w = rng.standard_normal((4, m.dim))
        if isinstance(m, BatchNormNet):
            batch = m.sample_batches(rng, (4,))
            g, gk = m.grad(w, batch=batch), m.grad(k * w, batch=batch)
        else:
            z = rng.standard_normal((4, m.dim + (1 if isinstance(m, WellsOnSphere) else 0)))
            g, gk = m.grad(w, noise=z), m.grad(k * w, noise=z)
        assert np.all(np.abs(np.sum(w * g, -1)) < 1e-12 * np.linalg.norm(w, axis=-1) * np.linalg.norm(g, axis=-1))
        assert _rel(gk * k, g) < 1e-10
        # drawing from a generator gives a different, still orthogonal gradient
        g2 = m.grad(w, rng=rng)
        assert np.all(np.abs(np.sum(w * g2, -1)) < 1e-10 * np.linalg.norm(w, -1) * np.linalg.norm(g2, -1))


def test_net_rows_are_separately_scale_invariant():
    rng = np.random.default_rng(0)
    w = rng.standard_normal(NET.dim)
    scales = np.repeat(rng.uniform(0.1, 10, NET.hidden), NET.features)
    np.testing.assert_allclose(NET.loss(w * scales), NET.loss(w), rtol=1e-12)
    G = NET.grad(w).reshape(NET.hidden, NET.features)
    W = w.reshape(NET.hidden, NET.features)
    assert np.all(np.abs(np.sum(G * W, axis=1)) < 1e-13 * np.linalg.norm(G) * np.linalg.norm(W))


def test_net_minibatch_gradient_is_unbiased_only_in_full_batch_limit():
    """The full-batch 'minibatch' (B = n) equals the exact gradient; a smaller batch differs (real noise)."""
    X, y = make_classification(n=40, features=3, classes=2, seed=1)
    m = BatchNormNet(X=X, y=y, hidden=2, batch_size=40)
    w = np.random.default_rng(1).standard_normal((2, m.dim))
    np.testing.assert_allclose(m.grad(w, rng=np.random.default_rng(2)), m.grad(w), rtol=1e-12, atol=1e-14)
    m2 = BatchNormNet(X=X, y=y, hidden=2, batch_size=8)
    assert _rel(m2.grad(w, rng=np.random.default_rng(2)), m2.grad(w)) > 1e-3


def test_nrq_reference_values():
    m = NoisyRayleighQuotient(eigenvalues=[0.0, 1.0, 3.0])
    e = np.eye(3)
    np.testing.assert_allclose(m.loss(e), [0.0, 1.0, 3.0])
    np.testing.assert_allclose(m.loss(np.array([1.0, 1.0, 0.0])), 0.5)
    assert m.random_loss == pytest.approx(4.0 / 3)
    # E[R(u)] = tr(H)/d by Monte Carlo: SE = std/√n ≈ 0.9/√20000 ≈ 0.0065; 4 SE
    u = np.random.default_rng(0).standard_normal((20000, 3))
    assert abs(m.loss(u).mean() - m.random_loss) < 4 * m.loss(u).std() / np.sqrt(20000)
    # grad_rms formula against Monte Carlo (noise part exact: σ²(d−1))
    g = m.grad(u / np.linalg.norm(u, axis=1, keepdims=True), rng=np.random.default_rng(1))
    sq = np.sum(g * g, 1)
    assert abs(np.sqrt(sq.mean()) - m.grad_rms()) < 4 * sq.std() / np.sqrt(len(sq)) / (2 * m.grad_rms())


def test_toy_landscape_facts():
    m = WellsOnSphere()
    mins = m.minima()
    assert len(mins) == 2
    curv = sorted(x["max_curvature"] for x in mins)
    # isolated-well curvature a·κ: 0.6·3 and 1·20 (the other well's tail changes them by < 1e-2)
    np.testing.assert_allclose(curv, [1.8, 20.0], rtol=1e-3)
    # random loss: d = 3 ⇒ c uniform on [−1, 1]: E e^{κ(c−1)} = (1 − e^{−2κ})/(2κ)
    exact = -sum(a * (1 - np.exp(-2 * k)) / (2 * k) for a, k in [(1.0, 20.0), (0.6, 3.0)])
    assert m.random_loss == pytest.approx(exact, rel=1e-10)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: NoisyRayleighQuotient(eigenvalues=[1.0, -0.5, 2.0]), "indefinite"),
        (lambda: NoisyRayleighQuotient(H=[[1.0, 0.0], [0.0, -1.0]]), "positive semi-definite"),
        (lambda: NoisyRayleighQuotient(H=[[1.0, 2.0], [0.0, 1.0]]), "symmetric"),
        (lambda: NoisyRayleighQuotient(eigenvalues=[1.0]), "length"),
        (lambda: NoisyRayleighQuotient(eigenvalues=[]), "empty"),
        (lambda: NoisyRayleighQuotient(noise_std=-1.0), "noise_std"),
        (lambda: WellsOnSphere(depths=[1.0, -1.0]), "depths"),
        (lambda: WellsOnSphere(centers=[[0.0, 0.0, 0.0]], depths=[1.0], concentrations=[1.0]), "non-zero"),
        (lambda: BatchNormNet(X=np.zeros((0, 3)), y=np.zeros(0, int)), "X"),
        (lambda: BatchNormNet(X=np.ones(10), y=np.zeros(10, int)), "shape"),
        (lambda: BatchNormNet(X=np.ones((10, 2)), y=np.zeros(9, int)), "y must have shape"),
        (lambda: BatchNormNet(X=np.ones((10, 2)), y=np.zeros(10, int), batch_size=11), "batch_size"),
        (lambda: BatchNormNet(X=np.ones((10, 2)), y=None), "together"),
    ],
)
def test_bad_input(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_weights():
    m = NoisyRayleighQuotient()
    with pytest.raises(ValueError, match="shape"):
        m.loss(np.ones(3))
    with pytest.raises(TypeError):
        m.grad(np.array(["a"] * 10))
    with pytest.raises(ValueError, match="noise"):
        m.grad(np.ones(10), noise=np.ones(3))
