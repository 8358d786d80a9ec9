"""Worked example: a small BatchNorm CNN trained on generated images with SGDM + weight decay and a step LR
decay, with and without the k^(−1/4) rescaling of Wan et al. (2021) Sec. 4.2 at each drop.

Nothing is downloaded: the data are ``n_classes`` random smooth templates (Gaussian-blurred noise images) seen
through additive noise and a random circular shift, so the task is learnable but the minibatch gradient never
vanishes. ``examples/pytorch_bn_cnn.py`` runs the full configuration from the command line; the tests run a
smaller one (see ``tests/test_torch_example.py``).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ..._validation import check_int, check_real
from .monitor import SphereMonitor

__all__ = ["ExampleConfig", "make_data", "make_model", "run_example"]


@dataclass
class ExampleConfig:
    """Settings of the worked example (defaults: the full configuration reported in ``docs/pytorch.md``)."""

    steps: int = 3000
    drops: tuple[int, ...] = (1000, 2000)
    drop_factor: float = 10.0
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-3
    batch_size: int = 64
    image_size: int = 16
    width: int = 16
    n_classes: int = 10
    n_train: int = 4096
    noise: float = 3.0
    every: int = 1
    seed: int = 0
    threads: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        check_int("steps", self.steps, low=2)
        for d in self.drops:
            check_int("drops", d, low=1, high=self.steps - 1)
        check_real("drop_factor", self.drop_factor, low=1.0, low_inclusive=False)
        check_real("lr", self.lr, low=0.0, low_inclusive=False)
        check_real("momentum", self.momentum, low=0.0, high=1.0, high_inclusive=False)
        check_real("weight_decay", self.weight_decay, low=0.0, low_inclusive=False)
        check_int("batch_size", self.batch_size, low=2)
        check_int("image_size", self.image_size, low=4)
        check_int("width", self.width, low=1)
        check_int("n_classes", self.n_classes, low=2)
        check_int("n_train", self.n_train, low=self.batch_size)
        check_real("noise", self.noise, low=0.0)
        check_int("every", self.every, low=1)


def make_data(cfg: ExampleConfig, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Generated images (n_train, 3, s, s) and labels: smooth class templates + shift + Gaussian noise."""
    s = cfg.image_size
    raw = torch.randn(cfg.n_classes, 3, s, s, generator=generator)
    k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
    k = (k[:, None] * k[None, :]) / 256.0
    kernel = k.expand(3, 1, 5, 5).contiguous()
    templates = nn.functional.conv2d(raw, kernel, padding=2, groups=3)
    templates = templates / templates.flatten(1).std(dim=1).view(-1, 1, 1, 1)
    y = torch.randint(0, cfg.n_classes, (cfg.n_train,), generator=generator)
    shifts = torch.randint(-2, 3, (cfg.n_train, 2), generator=generator)
    x = templates[y].clone()
    for i in range(cfg.n_train):  # one-off data generation
        x[i] = torch.roll(x[i], shifts=(int(shifts[i, 0]), int(shifts[i, 1])), dims=(1, 2))
    x = x + cfg.noise * torch.randn(x.shape, generator=generator)
    return x, y


def make_model(cfg: ExampleConfig) -> nn.Module:
    """Three conv-BN-ReLU blocks (scale-invariant conv weights), global pooling and a linear classifier."""
    w = cfg.width
    return nn.Sequential(
        nn.Conv2d(3, w, 3, padding=1, bias=False),
        nn.BatchNorm2d(w),
        nn.ReLU(),
        nn.Conv2d(w, 2 * w, 3, padding=1, bias=False),
        nn.BatchNorm2d(2 * w),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(2 * w, 2 * w, 3, padding=1, bias=False),
        nn.BatchNorm2d(2 * w),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(2 * w, cfg.n_classes),
    )


def run_example(cfg: ExampleConfig | None = None, *, rescale: bool = False, progress: bool | None = None) -> dict:
    """Train the example network and return the monitor, its comparison with theory and the losses.

    Parameters
    ----------
    cfg:
        :class:`ExampleConfig` (default: the full configuration).
    rescale:
        Divide the scale-invariant weights by k^(1/4) at each LR drop by k (Wan et al. 2021 Sec. 4.2), through
        ``SphereMonitor.attach(..., rescale_on_lr_change=True)``.
    progress:
        tqdm progress bar (default: only on a terminal).

    Returns
    -------
    dict
        ``monitor`` (:class:`SphereMonitor`), ``comparison`` (:class:`~.compare.Comparison`), ``losses``
        (per-step training loss), ``seconds`` (wall time of the loop) and ``config``.
    """
    import sys

    from tqdm.auto import tqdm

    cfg = cfg or ExampleConfig()
    cfg.validate()
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    x, y = make_data(cfg, gen)
    model = make_model(cfg)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=list(cfg.drops), gamma=1.0 / cfg.drop_factor)
    monitor = SphereMonitor.attach(
        model, opt, x[: cfg.batch_size], every=cfg.every, rescale_on_lr_change=rescale, on_empty="raise"
    )
    losses = np.empty(cfg.steps)
    show = sys.stderr.isatty() if progress is None else bool(progress)
    t0 = time.perf_counter()
    for step in tqdm(range(cfg.steps), disable=not show, desc="bn-cnn"):
        idx = torch.randint(0, cfg.n_train, (cfg.batch_size,), generator=gen)
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        sched.step()
        losses[step] = loss.item()
    seconds = time.perf_counter() - t0
    monitor.detach()
    return {
        "monitor": monitor,
        "comparison": monitor.compare(),
        "losses": losses,
        "seconds": seconds,
        "config": asdict(cfg),
    }
