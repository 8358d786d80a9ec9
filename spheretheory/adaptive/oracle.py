"""A scale-invariant gradient oracle with injected noise (so two optimizers can see identical draws).

Unit gradient (the gradient at u = x/‖x‖, Wan et al. Lemma 1):  g̃(u, ξ) = P_u (2 H u + σ ξ), P_u = I − u uᵀ,
with H = diag(spectrum) (a Rayleigh-quotient landscape R(u) = uᵀHu; ``spectrum=None`` gives pure noise) and
ξ ~ N(0, I_d) drawn by the caller. The gradient at x is g̃(x/‖x‖, ξ)/‖x‖: orthogonal to x and ∝ 1/‖x‖.
"""

from __future__ import annotations

import numpy as np

__all__ = ["unit_gradient", "gradient", "noise_scale_for"]


def noise_scale_for(unit_grad_sq: float, dim: int) -> float:
    """σ such that pure tangential noise has E‖g̃‖² = σ²(d − 1) = unit_grad_sq."""
    return float(np.sqrt(unit_grad_sq / (dim - 1)))


def unit_gradient(u: np.ndarray, xi: np.ndarray, *, sigma: float, spectrum: np.ndarray | None = None) -> np.ndarray:
    """g̃(u, ξ) = P_u(2Hu + σξ) for unit vectors ``u`` (shape (..., d)) and standard normal draws ``xi``."""
    q = sigma * np.asarray(xi, dtype=float)
    if spectrum is not None:
        q = q + 2.0 * np.asarray(spectrum, dtype=float) * u
    return q - np.sum(q * u, axis=-1, keepdims=True) * u


def gradient(x: np.ndarray, xi: np.ndarray, *, sigma: float, spectrum: np.ndarray | None = None) -> np.ndarray:
    """∇L(x) = g̃(x/‖x‖, ξ)/‖x‖ (scale invariance)."""
    r = np.linalg.norm(x, axis=-1, keepdims=True)
    return unit_gradient(x / r, xi, sigma=sigma, spectrum=spectrum) / r
