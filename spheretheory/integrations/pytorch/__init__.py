"""PyTorch integration: find the scale-invariant weights of an ``nn.Module``, monitor their spherical motion
dynamics during training, and hold the measurements against the predictions of :func:`spheretheory.predict`.

Typical use (one line added to a training loop)::

    from spheretheory.integrations.pytorch import SphereMonitor
    monitor = SphereMonitor.attach(model, optimizer, example_input=x0)   # the one line
    ...  # the user's unchanged loop: loss.backward(); optimizer.step(); scheduler.step()
    report = monitor.compare()        # measured vs predicted angular update / norm per layer
    monitor.plot("smd.png")           # one panel row per layer, as in Wan et al. (2021) Fig. 3 and 5

Importing this module requires torch (``pip install 'spheretheory[torch]'``; see ``docs/pytorch.md`` for the
CPU build).
"""

from __future__ import annotations

try:
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "spheretheory.integrations.pytorch needs PyTorch: pip install 'spheretheory[torch]' "
        "(CPU-only build: pip install torch --index-url https://download.pytorch.org/whl/cpu)"
    ) from exc

from .detect import (
    DetectionReport,
    ScaleInvariantGroup,
    find_scale_invariant_groups,
    verify_scale_invariance,
)
from .monitor import SphereMonitor, rescale_on_lr_drop, rescale_weights

__all__ = [
    "DetectionReport",
    "ScaleInvariantGroup",
    "SphereMonitor",
    "find_scale_invariant_groups",
    "rescale_on_lr_drop",
    "rescale_weights",
    "verify_scale_invariance",
]
