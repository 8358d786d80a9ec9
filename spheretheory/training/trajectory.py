"""The record of a training run (several independent runs at once), shared by every training mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# the loops' angle and cosine (along the last axis); re-exported for sphere.py and gd.py
from ..analysis import angle_between  # noqa: F401
from ..analysis import cosine_similarity as cosine  # noqa: F401


@dataclass
class Trajectory:
    """Recorded statistics of ``runs`` independent training runs.

    Attributes
    ----------
    steps:
        Step index of each record, shape ``(n,)`` (record k describes the state after ``steps[k]`` updates).
    loss:
        Full (noise-free) loss L(w) at each record, shape ``(runs, n)``; NaN after a run diverged.
    angular_update:
        Angle Δ_t = arccos⟨w_t, w_{t+1}⟩/(‖w_t‖‖w_{t+1}‖) of the update taken at each recorded step (Wan
        et al. Def. 3), shape ``(runs, n)``; NaN after divergence.
    cos_to_start:
        cos∠(w_t, w_0), shape ``(runs, n)``.
    sq_norm:
        ‖w_t‖², shape ``(runs, n)`` (constant for sphere training).
    diverged:
        Whether each run produced a non-finite value (it is then frozen), shape ``(runs,)``.
    diverged_at:
        First step with a non-finite value, −1 where none, shape ``(runs,)``.
    dim, min_loss, random_loss:
        The model's dimension, minimum loss (lower bound) and expected loss at a uniformly random direction,
        used by :func:`spheretheory.regimes.classify` as references (``None`` when unknown).
    elr:
        The fixed effective learning rate (sphere training), or ``None``.
    meta:
        Free-form description of the run (mode, model, hyperparameters, seed).
    """

    steps: np.ndarray
    loss: np.ndarray
    angular_update: np.ndarray
    cos_to_start: np.ndarray
    sq_norm: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray
    dim: int
    min_loss: float | None = None
    random_loss: float | None = None
    elr: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def runs(self) -> int:
        return int(self.loss.shape[0])

    @property
    def final_weights(self) -> np.ndarray | None:
        return self.meta.get("final_weights")


class Recorder:
    """Accumulates the per-record statistics of a training loop (internal)."""

    def __init__(self, runs: int | tuple[int, ...], n_records: int) -> None:
        shape = (*np.atleast_1d(runs).tolist(), n_records)  # (runs, n) or (ELRs, runs, n)
        self.steps = np.zeros(n_records, dtype=np.int64)
        self.loss = np.full(shape, np.nan)
        self.angle = np.full(shape, np.nan)
        self.cos0 = np.full(shape, np.nan)
        self.sq_norm = np.full(shape, np.nan)
        self.k = 0

    def record(self, step: int, loss, angle, cos0, sq_norm, alive: np.ndarray) -> None:
        k = self.k
        self.steps[k] = step
        for arr, val in ((self.loss, loss), (self.angle, angle), (self.cos0, cos0), (self.sq_norm, sq_norm)):
            arr[..., k] = np.where(alive, val, np.nan)
        self.k += 1

    def trajectory(
        self, model, alive: np.ndarray, diverged_at: np.ndarray, *, elr, meta: dict, index: int | None = None
    ) -> Trajectory:
        """The :class:`Trajectory` of a finished loop over ``model`` (runs alive at the end, divergence steps);
        ``index``: which ELR of an ``(ELRs, runs, n)`` recorder."""
        pick = (lambda x: x) if index is None else (lambda x: x[index].copy())
        return Trajectory(
            steps=self.steps,
            loss=pick(self.loss),
            angular_update=pick(self.angle),
            cos_to_start=pick(self.cos0),
            sq_norm=pick(self.sq_norm),
            diverged=~alive,
            diverged_at=diverged_at,
            dim=model.dim,
            min_loss=getattr(model, "min_loss", None),
            random_loss=getattr(model, "random_loss", None),
            elr=elr,
            meta=meta,
        )


def progress(iterable, total: int, enabled: bool | None, desc: str):
    """Wrap ``iterable`` in a tqdm bar when enabled (default: only when stderr is a TTY)."""
    import sys

    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False)
