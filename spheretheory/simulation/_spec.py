"""Validation of :func:`spheretheory.simulate`'s arguments into one :class:`Problem` for all backends."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import as_float_array, check_choice, check_int, check_real
from .schedules import Schedule, as_schedule

OPTIMIZERS = ("sgd", "sgdm", "nesterov", "adam", "adamw", "lion")
#: integer codes used by the kernels
OPT_CODE = {name: i for i, name in enumerate(OPTIMIZERS)}
BACKENDS = ("numba", "numpy", "cupy")
METHODS = ("full", "reduced")
NOISES = ("isotropic", "anisotropic", "drift")
RECORDS = ("series", "summary")
PARAM_NAMES = ("lr", "weight_decay", "momentum", "unit_grad_sq", "beta1", "beta2", "eps")


@dataclass
class Problem:
    """Validated simulation problem (everything the backends need)."""

    optimizer: str
    params: dict[str, np.ndarray]  # each (G,) float64
    decoupled: bool
    dim: int
    steps: int
    trajectories: int
    noise: str
    spectrum: np.ndarray | None  # (d,) normalized to mean 1, or None
    drift: np.ndarray | None  # (d,) or None
    lr_schedule: Schedule
    wd_schedule: Schedule
    grad_schedule: Schedule
    rescale_on_drop: bool
    model: Any
    w0: np.ndarray | None  # (G, n, d) or None (random)
    init_norm: float
    record_every: int
    record: str
    backend: str
    method: str
    seed: Any
    noise_draws: np.ndarray | None  # (steps, G, n, d)
    dtype: np.dtype
    progress: bool | None
    summary_fraction: float
    max_sq_norm: float
    min_sq_norm: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def G(self) -> int:
        return int(self.params["lr"].shape[0])

    @property
    def N(self) -> int:
        return self.G * self.trajectories

    @property
    def n_records(self) -> int:
        return 0 if self.record == "summary" else (self.steps - 1) // self.record_every + 1

    @property
    def record_steps(self) -> np.ndarray:
        if self.record == "summary":
            return np.zeros(0, dtype=np.int64)
        return np.arange(0, self.steps, self.record_every, dtype=np.int64)

    @property
    def summary_start(self) -> int:
        return self.steps - max(1, int(math.ceil(self.steps * self.summary_fraction)))

    @property
    def has_h(self) -> bool:
        return self.optimizer in ("sgd", "sgdm", "nesterov")

    def rescale_factors(self, start: int, stop: int) -> np.ndarray:
        """Multiplier of w applied before iteration t's update: k^(−1/4) at an LR drop by k (Wan Sec. 4.2)."""
        out = np.ones(stop - start)
        if self.rescale_on_drop:
            for t, ratio in self.lr_schedule.drops():
                if start <= t < stop and ratio < 1.0:
                    out[t - start] = ratio**0.25
        return out

    def config(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer,
            "backend": self.backend,
            "method": self.method,
            "dim": self.dim,
            "steps": self.steps,
            "trajectories": self.trajectories,
            "seed": self.seed if isinstance(self.seed, (int, type(None))) else repr(self.seed),
            "record": self.record,
            "record_every": self.record_every,
            "noise": self.noise if self.model is None else "model",
            "model": None if self.model is None else type(self.model).__name__,
            "dtype": np.dtype(self.dtype).name,
            "decoupled": self.decoupled,
            "lr_schedule": self.lr_schedule.description,
            "wd_schedule": self.wd_schedule.description,
            "grad_schedule": self.grad_schedule.description,
            "rescale_on_drop": self.rescale_on_drop,
            "summary_start": self.summary_start,
            "summary_fraction": self.summary_fraction,
            "injected_noise": self.noise_draws is not None,
            "init_norm": self.init_norm if self.w0 is None else None,
        }


def _grid_param(name: str, value: Any, **bounds: Any) -> np.ndarray:
    arr = check_real(name, value, **bounds)
    if arr.ndim > 1:
        raise ValueError(
            f"{name} must be a scalar or a 1-D array (a hyperparameter grid of shape (G,)); got shape {arr.shape}"
        )
    return arr


def build_problem(
    *,
    optimizer: Any,
    lr: Any,
    weight_decay: Any,
    momentum: Any,
    dim: Any,
    steps: Any,
    trajectories: Any,
    unit_grad_sq: Any,
    noise: Any,
    spectrum: Any,
    drift: Any,
    lr_schedule: Any,
    wd_schedule: Any,
    grad_schedule: Any,
    rescale_on_drop: Any,
    beta1: Any,
    beta2: Any,
    eps: Any,
    decoupled: Any,
    model: Any,
    w0: Any,
    init_norm: Any,
    record_every: Any,
    record: Any,
    backend: Any,
    method: Any,
    seed: Any,
    noise_draws: Any,
    dtype: Any,
    progress: Any,
    summary_fraction: Any,
) -> Problem:
    optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
    backend = check_choice("backend", backend, BACKENDS)
    method = check_choice("method", method, METHODS)
    noise = check_choice("noise", noise, NOISES)
    record = check_choice("record", record, RECORDS)
    dim = check_int("dim", dim, low=2)
    steps = check_int("steps", steps, low=1)
    trajectories = check_int("trajectories", trajectories, low=1)
    record_every = check_int("record_every", record_every, low=1)
    summary_fraction = float(check_real("summary_fraction", summary_fraction, low=0.0, high=1.0, low_inclusive=False))
    init_norm = float(check_real("init_norm", init_norm, low=0.0, low_inclusive=False))
    try:
        dtype = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be float32 or float64; got {dtype!r}") from exc
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64; got {dtype}")
    if not isinstance(rescale_on_drop, (bool, np.bool_)):
        raise TypeError(f"rescale_on_drop must be a bool; got {rescale_on_drop!r}")
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be None or a bool; got {progress!r}")

    if beta2 is None:
        beta2 = 0.99 if optimizer == "lion" else 0.999
    if decoupled is None:
        decoupled = optimizer in ("adamw", "lion")
    if not isinstance(decoupled, (bool, np.bool_)):
        raise TypeError(f"decoupled must be None or a bool; got {decoupled!r}")
    if optimizer == "adamw" and not decoupled:
        raise ValueError("decoupled=False with optimizer='adamw' is Adam: use optimizer='adam'")

    params = {
        "lr": _grid_param("lr", lr, low=0.0, low_inclusive=False),
        "weight_decay": _grid_param("weight_decay", weight_decay, low=0.0),
        "momentum": _grid_param("momentum", momentum, low=0.0, high=1.0, high_inclusive=False),
        "unit_grad_sq": _grid_param("unit_grad_sq", unit_grad_sq, low=0.0),
        "beta1": _grid_param("beta1", beta1, low=0.0, high=1.0, high_inclusive=False),
        "beta2": _grid_param("beta2", beta2, low=0.0, high=1.0, high_inclusive=False),
        "eps": _grid_param("eps", eps, low=0.0),
    }
    sizes = {k: v.size for k, v in params.items() if v.ndim == 1}
    lengths = set(sizes.values()) - {1}
    if len(lengths) > 1:
        shapes = ", ".join(f"{k}({n},)" for k, n in sizes.items())
        raise ValueError(f"hyperparameter grids must all have the same length G (or be scalars); got {shapes}")
    G = lengths.pop() if lengths else 1
    params = {
        k: np.ascontiguousarray(np.broadcast_to(v.reshape(-1), (G,)), dtype=np.float64) for k, v in params.items()
    }
    if optimizer in ("sgd", "adam", "adamw", "lion") and np.any(params["momentum"] != 0):
        raise ValueError(
            f"momentum must be 0 for optimizer={optimizer!r} (use 'sgdm'/'nesterov' for momentum, "
            "beta1/beta2 for the Adam family and Lion)"
        )
    if optimizer == "nesterov" and np.any(params["momentum"] <= 0):
        raise ValueError("momentum must be in (0, 1) for optimizer='nesterov'")

    spec_arr = None
    drift_arr = None
    if noise == "anisotropic":
        if spectrum is None:
            raise ValueError("noise='anisotropic' needs spectrum= (the d eigenvalues of the noise covariance)")
        spec_arr = check_real("spectrum", spectrum, low=0.0)
        if spec_arr.shape != (dim,) or not np.any(spec_arr > 0):
            raise ValueError(f"spectrum must have shape (dim,) = ({dim},) with a positive entry; got {spec_arr.shape}")
        spec_arr = spec_arr / spec_arr.mean()
    elif spectrum is not None:
        raise ValueError("spectrum= is only used with noise='anisotropic'")
    if noise == "drift":
        if drift is None:
            raise ValueError("noise='drift' needs drift= (a vector a of shape (dim,): g̃ = P⊥(a + noise))")
        drift_arr = check_real("drift", drift)
        if drift_arr.shape != (dim,):
            raise ValueError(f"drift must have shape (dim,) = ({dim},); got {drift_arr.shape}")
    elif drift is not None:
        raise ValueError("drift= is only used with noise='drift'")

    lr_s = as_schedule("lr_schedule", lr_schedule, steps)
    wd_s = as_schedule("wd_schedule", wd_schedule, steps)
    gr_s = as_schedule("grad_schedule", grad_schedule, steps)
    if rescale_on_drop and not lr_s.drops():
        raise ValueError("rescale_on_drop=True needs an lr_schedule with drops (e.g. step decay)")

    N = G * trajectories
    w0_arr = None
    if w0 is not None:
        w0_arr = as_float_array("w0", w0)
        try:
            w0_arr = np.array(np.broadcast_to(w0_arr, (G, trajectories, dim)), dtype=np.float64)
        except ValueError:
            raise ValueError(
                f"w0 must be broadcastable to (G, trajectories, dim) = ({G}, {trajectories}, {dim}); "
                f"got shape {np.shape(w0)}"
            ) from None
        sq = np.einsum("gnd,gnd->gn", w0_arr, w0_arr)
        if not np.all(np.isfinite(sq)) or np.any(sq <= 0):
            raise ValueError("w0 must be finite and nonzero for every trajectory")

    draws = None
    if noise_draws is not None:
        if model is not None:
            raise ValueError("noise_draws cannot be combined with model= (the model draws its own noise)")
        draws = as_float_array("noise_draws", noise_draws)
        want = (steps, G, trajectories, dim)
        if draws.shape == (steps, N, dim):
            draws = draws.reshape(want)
        if draws.shape != want:
            raise ValueError(f"noise_draws must have shape (steps, G, trajectories, dim) = {want}; got {draws.shape}")
        if not np.all(np.isfinite(draws)):
            raise ValueError("noise_draws must be finite")
        draws = np.ascontiguousarray(draws, dtype=dtype)

    if model is not None:
        from ..models.base import ScaleInvariantModel

        if not isinstance(model, ScaleInvariantModel):
            raise TypeError("model must implement spheretheory.models.ScaleInvariantModel (dim, loss, grad)")
        if int(model.dim) != dim:
            raise ValueError(f"dim must equal model.dim = {model.dim}; got {dim}")

    if seed is not None and not isinstance(seed, (int, np.integer, np.random.SeedSequence)):
        raise TypeError(f"seed must be None, a non-negative int or a numpy SeedSequence; got {seed!r}")
    if isinstance(seed, (int, np.integer)) and int(seed) < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed}")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))

    finfo = np.finfo(dtype)
    return Problem(
        optimizer=optimizer,
        params=params,
        decoupled=bool(decoupled),
        dim=dim,
        steps=steps,
        trajectories=trajectories,
        noise=noise,
        spectrum=spec_arr,
        drift=drift_arr,
        lr_schedule=lr_s,
        wd_schedule=wd_s,
        grad_schedule=gr_s,
        rescale_on_drop=bool(rescale_on_drop),
        model=model,
        w0=w0_arr,
        init_norm=init_norm,
        record_every=record_every,
        record=record,
        backend=backend,
        method=method,
        seed=seed,
        noise_draws=draws,
        dtype=dtype,
        progress=None if progress is None else bool(progress),
        summary_fraction=summary_fraction,
        # ‖w‖² beyond sqrt(max) or below sqrt(tiny) is flagged: products of two such numbers would overflow
        max_sq_norm=float(np.sqrt(finfo.max)),
        min_sq_norm=float(np.sqrt(finfo.tiny)),
    )
