"""Scale-invariant models with exact gradients (toy losses for the simulators and regime studies)."""

from .base import ScaleInvariantModel

__all__ = ["ScaleInvariantModel"]
