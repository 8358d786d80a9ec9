"""Helpers shared by the scale-invariant models: input checks and tangent projections (numpy only)."""

from __future__ import annotations

import numpy as np


def as_weights(w: np.ndarray, dim: int, name: str = "w") -> np.ndarray:
    """Validate ``w`` as a real array of shape ``(..., dim)``; returned as float64 (models compute in
    float64 whatever the input dtype)."""
    arr = np.asarray(w)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real array of shape (..., {dim}); got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim == 0 or arr.shape[-1] != dim:
        raise ValueError(f"{name} must have shape (..., {dim}); got shape {arr.shape}")
    return arr


def sq_norm(w: np.ndarray) -> np.ndarray:
    """‖w‖² over the last axis, keeping it (shape ``(..., 1)``)."""
    return np.sum(w * w, axis=-1, keepdims=True)


def tangent(v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Projection of ``v`` on the tangent space at the unit vector ``u``: v − ⟨v, u⟩u (last axis)."""
    return v - np.sum(v * u, axis=-1, keepdims=True) * u
