"""The Adam family's ``compute`` functions, now in :mod:`spheretheory.optimizers` (one file per optimizer).

Kept as re-exports for the figure code that imports them from here.
"""

from __future__ import annotations

from ..optimizers.adam import adam_compute
from ..optimizers.adamw import adamw_compute
from ..optimizers.lion import lion_compute

__all__ = ["adam_compute", "adamw_compute", "lion_compute"]
