"""Muon on batched small scale-invariant matrices: a pure-numpy reference simulation (``torch.optim.Muon``'s rule).

Each of ``trajectories`` independent m×n matrices W follows, per step (PyTorch ``torch.optim.Muon``):

    B_t = β B_{t−1} + (1 − β) G_t                         (``buf.lerp_(grad, 1 − momentum)``)
    U_t = (1 − β) G_t + β B_t  (Nesterov)  or  B_t        (``grad.lerp(buf, momentum)``)
    O_t = orth(U_t)                                       (Newton–Schulz, or the exact polar factor U Vᵀ)
    W_{t+1} = (1 − ηλ) W_t − η' O_t                       (decoupled decay with η; η' = adjusted LR)

with η' = η·√max(1, m/n) (``adjust_lr_fn`` None/"original", ``adjust_lr=0``) or η·0.2·√max(m, n)
("match_rms_adamw", ``adjust_lr=1``); the update rule is :mod:`spheretheory.optimizers.muon`'s. The
gradient of a scale-invariant matrix: G_t = Z_t⊥/‖W_t‖, Z isotropic Gaussian noise with E‖Z‖² = 1 projected
orthogonally to W_t in the Frobenius inner product (Wan et al. Lemma 1 for the whole matrix). Newton–Schulz runs
in float64 here (torch runs it in bfloat16); ``ns_steps=0`` is the idealisation of the exact polar factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_int, check_real
from ..optimizers.muon import NS_STEPS, lr_scale
from ..optimizers.muon import step as muon_step


@dataclass
class MuonRun:
    """Per-trajectory window means (second half of the run): ‖W‖², Δ² (squared angle between W_t and W_{t+1}),
    and the consecutive-update correlation ⟨O_t, O_{t+1}⟩/‖O‖²; ``*_se`` are the SEs across trajectories."""

    sq_norm: np.ndarray
    sq_angle: np.ndarray
    update_corr: np.ndarray

    def mean_se(self, name: str) -> tuple[float, float]:
        x = getattr(self, name)
        return float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size))

    def rms_angle(self) -> tuple[float, float]:
        r = np.sqrt(self.sq_angle)
        return float(r.mean()), float(r.std(ddof=1) / np.sqrt(r.size))


def simulate_muon(
    lr: float,
    weight_decay: float,
    momentum: float = 0.95,
    shape: tuple[int, int] = (32, 64),
    steps: int = 2000,
    trajectories: int = 32,
    nesterov: bool = True,
    ns_steps: int = NS_STEPS,
    adjust_lr: int = 0,
    seed: int = 0,
) -> MuonRun:
    """Simulate Muon on ``trajectories`` scale-invariant m×n matrices (see the module docstring); statistics over
    the second half of the run. Raises ``FloatingPointError`` naming the step if the weights diverge."""
    lr = float(check_real("lr", lr, low=0.0, low_inclusive=False))
    weight_decay = float(check_real("weight_decay", weight_decay, low=0.0, high=1.0 / lr, high_inclusive=False))
    beta = float(check_real("momentum", momentum, low=0.0, high=1.0, high_inclusive=False))
    steps = check_int("steps", steps, low=2)
    n_traj = check_int("trajectories", trajectories, low=2)
    m, n = (check_int("shape", s, low=1) for s in shape)
    ns_steps = check_int("ns_steps", ns_steps, low=0, high=99)
    step_lr = lr * float(lr_scale(m, n, check_int("adjust_lr", adjust_lr, low=0, high=1)))
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(n_traj, m, n)) * np.sqrt(1.0 / (m * n))
    state: dict = {}
    prev = None
    sums = {k: np.zeros(n_traj) for k in ("sq_norm", "sq_angle", "update_corr")}
    count = 0
    for t in range(steps):
        z = rng.normal(size=w.shape) / np.sqrt(m * n - 1)
        w2 = np.einsum("kij,kij->k", w, w)[:, None, None]
        z -= np.einsum("kij,kij->k", z, w)[:, None, None] / w2 * w
        g = z / np.sqrt(w2)
        w_next, state = muon_step(w, g, state, lr, weight_decay, beta, int(nesterov), ns_steps, adjust_lr)
        o = ((1 - lr * weight_decay) * w - w_next) / step_lr  # the orthogonalised update O_t
        if not np.all(np.isfinite(w_next)):
            raise FloatingPointError(f"Muon simulation diverged at step {t}")
        if t >= steps // 2:
            a2 = np.einsum("kij,kij->k", w_next, w_next)
            cos = np.einsum("kij,kij->k", w, w_next) / np.sqrt(w2[:, 0, 0] * a2)
            sums["sq_norm"] += w2[:, 0, 0]
            sums["sq_angle"] += np.arccos(np.clip(cos, -1.0, 1.0)) ** 2
            if prev is not None:
                sums["update_corr"] += np.einsum("kij,kij->k", prev, o) / np.einsum("kij,kij->k", o, o)
            count += 1
        prev, w = o, w_next
    return MuonRun(sums["sq_norm"] / count, sums["sq_angle"] / count, sums["update_corr"] / (count - 1))
