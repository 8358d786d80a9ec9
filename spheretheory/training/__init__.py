"""Training loops on scale-invariant models: on the sphere at a fixed ELR, full-batch GD with weight decay.

Free SGD/SGDM training (the dynamics of the SMD papers) goes through :func:`spheretheory.simulate` with
``model=``; see :func:`spheretheory.training.free.train_free`.
"""

from .free import train_free
from .gd import full_batch_gd
from .sphere import train_sphere
from .trajectory import Trajectory

__all__ = ["Trajectory", "train_sphere", "full_batch_gd", "train_free"]
