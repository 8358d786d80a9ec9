"""A toy with a known landscape on a low-dimensional sphere: von Mises–Fisher wells of different sharpness.

    f(u) = −Σ_k a_k exp(κ_k(⟨u, p_k⟩ − 1)),    L(w) = f(w/‖w‖)

(scale-invariant by construction). Well k has depth ≈ a_k and, when isolated, tangent-Hessian eigenvalue
h_k = a_k κ_k at its centre p_k. The default is two antipodal wells on S² — a sharp, deep one at +e₁ (a = 1,
κ = 20, h = 20) and a flat, shallow one at −e₁ (a = 0.6, κ = 3, h = 1.8) — so that the landscape depends on
⟨u, e₁⟩ only and its stationary density can be drawn as a 1-d curve.

Gradient noise (minibatch-like): g = ∇L(w)·(1 + σ_m ε) + σ_a P_w z/‖w‖, with ε ~ N(0, 1) one scalar per run
(multiplicative noise, which vanishes at every critical point, as minibatch noise does at an interpolating
minimum) and z ~ N(0, I_d) (additive isotropic tangential noise).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .._validation import InputError, check_real
from ._common import as_weights, sq_norm, tangent


@dataclass(eq=False)
class WellsOnSphere:
    """Scale-invariant sum of von Mises–Fisher wells on S^{d−1}.

    Parameters
    ----------
    centers:
        Well centres p_k, shape ``(K, d)`` (normalized here), d ≥ 2.
    depths:
        a_k > 0, shape ``(K,)``.
    concentrations:
        κ_k > 0, shape ``(K,)``.
    mult_noise:
        σ_m ≥ 0, multiplicative gradient noise.
    add_noise:
        σ_a ≥ 0, additive tangential gradient noise (per direction, at ‖w‖ = 1).
    """

    centers: np.ndarray = field(default_factory=lambda: np.array([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]]))
    depths: np.ndarray = field(default_factory=lambda: np.array([1.0, 0.6]))
    concentrations: np.ndarray = field(default_factory=lambda: np.array([20.0, 3.0]))
    mult_noise: float = 0.5
    add_noise: float = 0.0
    dim: int = field(init=False)

    def __post_init__(self) -> None:
        c = check_real("centers", self.centers)
        if c.ndim != 2 or c.shape[1] < 2 or c.shape[0] < 1:
            raise InputError(f"centers must have shape (K, d) with K >= 1, d >= 2; got {c.shape}")
        norms = np.linalg.norm(c, axis=1, keepdims=True)
        if np.any(norms == 0):
            raise InputError("centers must be non-zero vectors")
        self.centers = c / norms
        K = c.shape[0]
        self.depths = check_real("depths", self.depths, low=0.0, low_inclusive=False).reshape(-1)
        self.concentrations = check_real("concentrations", self.concentrations, low=0.0, low_inclusive=False)
        self.concentrations = self.concentrations.reshape(-1)
        if self.depths.size != K or self.concentrations.size != K:
            raise InputError(f"depths and concentrations must have one entry per centre ({K})")
        self.mult_noise = float(check_real("mult_noise", self.mult_noise, low=0.0))
        self.add_noise = float(check_real("add_noise", self.add_noise, low=0.0))
        self.dim = int(c.shape[1])

    # --- loss and gradient -------------------------------------------------------------------------
    def _terms(self, u: np.ndarray) -> np.ndarray:
        return self.depths * np.exp(self.concentrations * (u @ self.centers.T - 1.0))

    def loss(self, w: np.ndarray) -> np.ndarray:
        """L(w) = f(w/‖w‖), shape ``(...)``."""
        w = as_weights(w, self.dim)
        u = w / np.sqrt(sq_norm(w))
        return -np.sum(self._terms(u), axis=-1)

    def draw_noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
        """The injected-noise keywords of :meth:`grad` that ``grad(w, rng=rng)`` draws for ``w`` of shape
        ``shape + (dim,)`` (the same numbers, in the same order)."""
        return {"noise": rng.standard_normal((*shape, self.dim + 1))}

    def grad(
        self,
        w: np.ndarray,
        rng: np.random.Generator | None = None,
        noise: np.ndarray | None = None,
    ) -> np.ndarray:
        """Exact gradient ∇L(w) = P_w ∇F(w/‖w‖)/‖w‖ with ∇F(u) = −Σ a_k κ_k e^{κ_k(⟨u,p_k⟩−1)} p_k, or noisy.

        ``noise`` (injected draws) has shape ``(..., dim + 1)``: ``noise[..., 0]`` is ε (multiplicative) and
        ``noise[..., 1:]`` is z (additive); with ``rng`` they are drawn from it.
        """
        w = as_weights(w, self.dim)
        r = np.sqrt(sq_norm(w))
        u = w / r
        coef = -self._terms(u) * self.concentrations
        g = tangent(coef @ self.centers, u) / r
        if noise is None and rng is None:
            return g
        if noise is None:
            noise = rng.standard_normal((*w.shape[:-1], self.dim + 1))
        else:
            noise = np.asarray(noise, dtype=np.float64)
            if noise.shape != (*w.shape[:-1], self.dim + 1):
                raise InputError(f"noise must have shape {(*w.shape[:-1], self.dim + 1)}; got {noise.shape}")
        g = g * (1.0 + self.mult_noise * noise[..., :1])
        if self.add_noise:
            g = g + self.add_noise * tangent(noise[..., 1:], u) / r
        return g

    # --- landscape facts -----------------------------------------------------------------------------
    def tangent_hessian(self, u: np.ndarray) -> np.ndarray:
        """Riemannian Hessian of f on the unit sphere at ``u`` (shape ``(d, d)``, acting on the
        tangent space).

        Hess f(u) = P (∇²F(u) − ⟨∇F(u), u⟩ I) P with F the ambient extension F(u) = −Σ a_k e^{κ_k(⟨u,p_k⟩−1)}.
        """
        u = np.asarray(u, float) / np.linalg.norm(u)
        t = self._terms(u)
        grad_F = -(t * self.concentrations) @ self.centers
        hess_F = -np.einsum("k,ki,kj->ij", t * self.concentrations**2, self.centers, self.centers)
        P = np.eye(self.dim) - np.outer(u, u)
        return P @ (hess_F - (grad_F @ u) * np.eye(self.dim)) @ P

    def minima(self, tol: float = 1e-13, max_iter: int = 200_000) -> list[dict]:
        """Local minima found by Riemannian gradient descent from each centre (step 0.5/max curvature).

        Returns one dict per distinct minimum: ``point``, ``loss``, ``hessian_eigenvalues`` (tangent, the
        d − 1 non-trivial ones, ascending), ``max_curvature``.
        """
        key = (tol, max_iter)
        cache = self.__dict__.setdefault("_minima_cache", {})
        if key not in cache:
            cache[key] = self._find_minima(tol, max_iter)
        return [dict(m) for m in cache[key]]

    def _find_minima(self, tol: float, max_iter: int) -> list[dict]:
        """Riemannian gradient descent from each centre (see :meth:`minima`)."""
        step = 0.5 / float(np.max(self.depths * self.concentrations))
        found: list[dict] = []
        for p in self.centers:
            u = p.copy()
            for _ in range(max_iter):
                g = self.grad(u)
                if np.linalg.norm(g) < tol:
                    break
                u = u - step * g
                u /= np.linalg.norm(u)
            if any(np.linalg.norm(u - m["point"]) < 1e-6 for m in found):
                continue
            ev = np.linalg.eigvalsh(self.tangent_hessian(u))
            # drop the eigenvalue of the normal direction u (exactly 0 after projection)
            normal = int(np.argmin(np.abs(ev)))
            ev = np.delete(ev, normal)
            if np.all(ev > 0):
                found.append(
                    {
                        "point": u,
                        "loss": float(self.loss(u)),
                        "hessian_eigenvalues": ev,
                        "max_curvature": float(ev.max()),
                    }
                )
        return found

    @cached_property
    def min_loss(self) -> float:
        """Lowest loss over the local minima found by :meth:`minima`."""
        return min(m["loss"] for m in self.minima())

    @cached_property
    def random_loss(self) -> float:
        """E f(u) for u uniform on S^{d−1}, by quadrature over c = ⟨u, p_k⟩ (density ∝ (1 − c²)^{(d−3)/2})."""
        from scipy import integrate, special

        d = self.dim
        norm = special.beta(0.5, (d - 1) / 2)
        total = 0.0
        for a, k in zip(self.depths, self.concentrations, strict=True):
            val, _ = integrate.quad(lambda c, k=k: np.exp(k * (c - 1.0)) * (1 - c * c) ** ((d - 3) / 2), -1, 1)
            total -= a * val / norm
        return float(total)

    def grad_rms(self, samples: int = 20000, seed: int = 12345) -> float:
        """√E‖g‖² of the stochastic gradient at a uniformly random point (Monte Carlo, fixed seed):
        E‖∇f‖²(1 + σ_m²) + σ_a²(d − 1)."""
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((samples, self.dim))
        u = z / np.linalg.norm(z, axis=1, keepdims=True)
        g2 = np.mean(np.sum(self.grad(u) ** 2, axis=1))
        return float(np.sqrt(g2 * (1 + self.mult_noise**2) + self.add_noise**2 * (self.dim - 1)))

    def regime_boundaries(self, steps: int | None = None) -> dict[str, float]:
        """Derived ELR boundaries (``spheretheory.theory.toy``; docs/regimes.md).

        * ``stability_<k>``: ELR at which minimum k loses almost-sure (Lyapunov) stability of the linearized
          sphere map under multiplicative noise: E log|1 − ELR·h(1 + σ_m ε)| = 0 with h its largest tangent
          curvature (ELR = 2/h when σ_m = 0; above 2/h when σ_m > 0). ``stability`` is the largest (the
          last minimum to go unstable): above it no minimum is stable and the run cannot converge.
        * ``random_walk``: ELR at which the typical angular step atan(ELR·g_rms) reaches the classifier's
          divergence angle.
        """
        from ..theory.toy import random_walk_elr, stability_elr

        out: dict[str, float] = {}
        for i, m in enumerate(self.minima()):
            out[f"stability_{i}"] = stability_elr(m["max_curvature"], self.mult_noise)
        out["stability"] = max(v for k, v in out.items())
        out["random_walk"] = random_walk_elr(self.grad_rms())
        return out
