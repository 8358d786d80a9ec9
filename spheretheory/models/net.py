"""A small normalized network: linear layer → batch norm → tanh → fixed linear head, cross-entropy loss.

For inputs x ∈ R^p and weights W ∈ R^{h×p} (flattened to w of length h·p):

    z = W x,   ẑ_j = (z_j − mean_B z_j)/std_B z_j   (batch statistics, no ε, no affine),
    a = tanh(ẑ),   logits = V a (V fixed),   L_B(W) = mean_B CE(logits, y).

Each row W_j is scale-invariant (so is W): L(kW) = L(W) exactly, ⟨W_j, ∂L/∂W_j⟩ = 0 and ∂L/∂W(kW) = ∂L/∂W/k.
The minibatch gradient's noise comes from sampling batches (without replacement), not from a noise model.
The full loss ``loss(w)`` uses the whole data set as its batch. Everything is vectorized over leading axes of
``w`` (independent runs); numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import InputError, check_int, check_real
from ._common import as_weights


def make_classification(
    n: int = 512, features: int = 8, classes: int = 3, separation: float = 2.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic Gaussian-mixture classification data: class means at distance ``separation`` from the origin
    in random directions, unit isotropic noise; balanced classes.

    Returns ``(X, y)`` with X of shape ``(n, features)`` and y of shape ``(n,)`` in ``range(classes)``.
    """
    n = check_int("n", n, low=2)
    features = check_int("features", features, low=1)
    classes = check_int("classes", classes, low=2)
    separation = float(check_real("separation", separation, low=0.0))
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((classes, features))
    means *= separation / np.linalg.norm(means, axis=1, keepdims=True)
    y = np.arange(n) % classes
    rng.shuffle(y)
    X = means[y] + rng.standard_normal((n, features))
    return X, y


@dataclass(eq=False)
class BatchNormNet:
    """Linear → batch norm → tanh → fixed head network with minibatch SGD noise.

    Parameters
    ----------
    X, y:
        Data, shape ``(n, p)`` and ``(n,)`` (integer labels 0..K−1); default :func:`make_classification`.
    hidden:
        Width h of the normalized layer (≥ 1).
    batch_size:
        Minibatch size B, 2 ≤ B ≤ n.
    head_scale:
        Scale of the fixed head V (entries N(0, head_scale²/h)), drawn from ``seed``.
    seed:
        Seed of the head (and of the default data set).
    """

    X: np.ndarray | None = None
    y: np.ndarray | None = None
    hidden: int = 8
    batch_size: int = 32
    head_scale: float = 4.0
    seed: int = 0
    dim: int = field(init=False)

    def __post_init__(self) -> None:
        if self.X is None and self.y is None:
            self.X, self.y = make_classification(seed=self.seed)
        elif self.X is None or self.y is None:
            raise InputError("X and y must be given together")
        X = check_real("X", self.X)
        if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
            raise InputError(f"X must have shape (n, p) with n >= 2, p >= 1; got {X.shape}")
        y = np.asarray(self.y)
        if y.shape != (X.shape[0],):
            raise InputError(f"y must have shape (n,) = ({X.shape[0]},); got {y.shape}")
        if y.dtype.kind not in "iu" or y.min() < 0:
            raise InputError("y must hold non-negative integer class labels")
        self.X, self.y = X, y.astype(np.int64)
        self.classes = int(max(2, y.max() + 1))
        self.hidden = check_int("hidden", self.hidden, low=1)
        n = X.shape[0]
        self.batch_size = check_int("batch_size", self.batch_size, low=2)
        if self.batch_size > n:
            raise InputError(f"batch_size must be in [2, n] = [2, {n}] (the data set size); got {self.batch_size}")
        self.head_scale = float(check_real("head_scale", self.head_scale, low=0.0, low_inclusive=False))
        rng = np.random.default_rng(self.seed + 1)
        self.V = rng.standard_normal((self.classes, self.hidden)) * self.head_scale / np.sqrt(self.hidden)
        self.features = int(X.shape[1])
        self.dim = self.hidden * self.features
        self._Y = np.eye(self.classes)[self.y]

    @property
    def groups(self) -> tuple[int, ...]:
        """Sizes of the scale-invariant groups (one per hidden unit, the rows of W)."""
        return (self.features,) * self.hidden

    # --- forward / backward ------------------------------------------------------------------------
    def _forward_backward(self, w: np.ndarray, Xb: np.ndarray, Yb: np.ndarray, need_grad: bool):
        """Xb: (..., B, p) or (B, p); Yb matching one-hot. Returns loss (...), grad (..., dim) or None.

        Batched matrix products (BLAS) and sums scaled by 1/B rather than einsum and ``mean``: these arrays are
        small, so the number of numpy calls sets the cost.
        """
        W = w.reshape(*w.shape[:-1], self.hidden, self.features)
        B = Xb.shape[-2]
        inv_b = 1.0 / B
        Z = Xb @ np.swapaxes(W, -1, -2)  # (..., B, h)
        Zc = Z - Z.sum(axis=-2, keepdims=True) * inv_b
        s = np.sqrt(np.sum(Zc * Zc, axis=-2, keepdims=True) * inv_b)
        Zh = Zc / s
        A = np.tanh(Zh)
        O = A @ self.V.T
        O -= O.max(axis=-1, keepdims=True)
        E = np.exp(O)
        sumE = E.sum(axis=-1)
        logZ = np.log(sumE)
        loss = (logZ.sum(axis=-1) - np.sum(O * Yb, axis=(-2, -1))) * inv_b
        if not need_grad:
            return loss, None
        dO = (E / sumE[..., None] - Yb) * inv_b
        dZh = (dO @ self.V) * (1.0 - A * A)
        dZ = (dZh - (dZh.sum(axis=-2, keepdims=True) + Zh * np.sum(dZh * Zh, axis=-2, keepdims=True)) * inv_b) / s
        dW = np.swapaxes(dZ, -1, -2) @ Xb
        return loss, dW.reshape(w.shape)

    def loss(self, w: np.ndarray) -> np.ndarray:
        """Full-data-set loss (batch norm with the whole data set's statistics), shape ``(...)``."""
        w = as_weights(w, self.dim)
        return self._forward_backward(w, self.X, self._Y, need_grad=False)[0]

    def accuracy(self, w: np.ndarray) -> np.ndarray:
        """Training accuracy with full-data-set batch norm, shape ``(...)``."""
        w = as_weights(w, self.dim)
        W = w.reshape(*w.shape[:-1], self.hidden, self.features)
        Z = np.einsum("bp,...hp->...bh", self.X, W)
        Zh = (Z - Z.mean(-2, keepdims=True)) / Z.std(-2, keepdims=True)
        pred = np.argmax(np.tanh(Zh) @ self.V.T, axis=-1)
        return np.mean(pred == self.y, axis=-1)

    def sample_batches(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """Minibatch indices without replacement, shape ``shape + (batch_size,)``."""
        keys = rng.random((*shape, self.X.shape[0]))
        return np.argpartition(keys, self.batch_size - 1, axis=-1)[..., : self.batch_size]

    def draw_noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
        """The injected-noise keywords of :meth:`grad` that ``grad(w, rng=rng)`` draws for ``w`` of shape
        ``shape + (dim,)``: the minibatch indices (the same numbers, in the same order)."""
        return {"batch": self.sample_batches(rng, shape)}

    def grad(
        self,
        w: np.ndarray,
        rng: np.random.Generator | None = None,
        batch: np.ndarray | None = None,
    ) -> np.ndarray:
        """Exact gradient of the full loss (``rng`` and ``batch`` None) or of a minibatch loss L_B.

        ``batch`` (injected noise): indices of shape ``w.shape[:-1] + (B,)``; otherwise drawn from ``rng``.
        """
        return self.loss_and_grad(w, rng=rng, batch=batch)[1]

    def loss_and_grad(self, w: np.ndarray, rng: np.random.Generator | None = None, batch: np.ndarray | None = None):
        """(L_B(w), ∇L_B(w)) for the batch given/drawn (the full data set when neither is given)."""
        w = as_weights(w, self.dim)
        if batch is None and rng is None:
            return self._forward_backward(w, self.X, self._Y, need_grad=True)
        if batch is None:
            batch = self.sample_batches(rng, w.shape[:-1])
        batch = np.asarray(batch)
        if batch.shape[:-1] != w.shape[:-1] or batch.dtype.kind not in "iu":
            raise InputError(f"batch must be integer indices of shape {w.shape[:-1]} + (B,); got {batch.shape}")
        return self._forward_backward(w, self.X[batch], self._Y[batch], need_grad=True)

    # --- references ----------------------------------------------------------------------------------
    min_loss: float = field(default=0.0, init=False)

    @property
    def random_loss(self) -> float:
        """Mean full loss at 256 uniformly random directions (Monte Carlo with a fixed seed; ~1% SE)."""
        if not hasattr(self, "_random_loss"):
            rng = np.random.default_rng(2024)
            z = rng.standard_normal((256, self.dim))
            self._random_loss = float(np.mean(self.loss(z)))
        return self._random_loss

    def grad_rms(self, samples: int = 64, seed: int = 7) -> float:
        """√E‖∇L_B‖² at uniformly random unit directions (Monte Carlo, fixed seed)."""
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((samples, self.dim))
        z /= np.linalg.norm(z, axis=1, keepdims=True)
        g = self.grad(z, rng=rng)
        return float(np.sqrt(np.mean(np.sum(g * g, axis=1))))

    def tangent_hessian_max(self, w: np.ndarray, eps: float = 1e-5, iters: int = 50, seed: int = 0) -> float:
        """Largest eigenvalue of the full-loss Hessian at unit ``w`` (power iteration on finite-difference
        Hessian–vector products of the exact gradient; the Hessian of a scale-invariant loss at ‖w‖ = 1
        acts on the tangent space)."""
        w = np.asarray(w, float) / np.linalg.norm(w)
        rng = np.random.default_rng(seed)
        v = rng.standard_normal(self.dim)
        lam = 0.0
        for _ in range(iters):
            v -= (v @ w) * w
            v /= np.linalg.norm(v)
            Hv = (self.grad(w + eps * v) - self.grad(w - eps * v)) / (2 * eps)
            lam = float(v @ Hv)
            v = Hv
        return lam

    def regime_boundaries(self, steps: int | None = None, w_min: np.ndarray | None = None) -> dict[str, float]:
        """Derived ELR boundaries: ``stability`` = 2/λ_max(Hessian at ``w_min``) when a trained minimum
        is given, ``random_walk`` = tan(0.8·π/2)/g_rms (toy.random_walk_elr)."""
        from ..theory.toy import random_walk_elr

        out = {"random_walk": random_walk_elr(self.grad_rms())}
        if w_min is not None:
            out["stability"] = 2.0 / self.tangent_hessian_max(w_min)
        return out
