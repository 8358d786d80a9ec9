"""Scale-invariant models with exact gradients (toy losses for the simulators and regime studies).

* :class:`NoisyRayleighQuotient` — R(w) = wᵀHw/‖w‖² with tangential gradient noise
  (``spheretheory.models.nrq``);
* :class:`WellsOnSphere` — von Mises–Fisher wells on a low-dimensional sphere (``spheretheory.models.toy``);
* :class:`BatchNormNet` — linear → batch norm → tanh → fixed head, minibatch noise
  (``spheretheory.models.net``).
"""

from .base import ScaleInvariantModel
from .net import BatchNormNet, make_classification
from .nrq import NoisyRayleighQuotient
from .toy import WellsOnSphere

__all__ = [
    "ScaleInvariantModel",
    "NoisyRayleighQuotient",
    "WellsOnSphere",
    "BatchNormNet",
    "make_classification",
]
