"""The model interface shared by the simulators and the training loops.

A scale-invariant model defines a loss L(w) with L(kw) = L(w) for k > 0 on batches of weights. Everything is
vectorized over leading batch axes: ``w`` has shape ``(..., dim)``.

By Lemma 1 of Wan et al. (2021), ⟨w, ∇L(w)⟩ = 0 and ∇L(kw) = ∇L(w)/k; implementations must satisfy both
(property-tested for every model).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class ScaleInvariantModel(Protocol):
    """Protocol for scale-invariant losses.

    Attributes
    ----------
    dim:
        Dimension d of the weight vector w.
    """

    dim: int

    def loss(self, w: np.ndarray) -> np.ndarray:
        """Full (noise-free) loss L(w) for ``w`` of shape ``(..., dim)``; returns shape ``(...)``."""
        ...

    def grad(self, w: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Gradient at ``w`` (shape ``(..., dim)``).

        With ``rng=None`` the exact full gradient ∇L(w); with a generator, a stochastic gradient (minibatch or
        injected noise) that is still orthogonal to w and scales as 1/‖w‖.
        """
        ...
