"""Validation of :func:`spheretheory.simulate`'s arguments into one :class:`Problem` for all backends."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import InputError, InputTypeError, as_float_array, check_choice, check_int, check_real
from .schedules import Schedule, as_schedule

OPTIMIZERS = ("sgd", "sgdm", "nesterov", "adam", "adamw", "lion")
#: The one table of the optimizers' integer codes in the compiled kernels: the numba kernels read their
#: constants from it, the CUDA source gets its ``#define``s from :func:`c_defines`.
OPT_CODE = {name: i for i, name in enumerate(OPTIMIZERS)}
#: Optimizers of matrices (``dim=(rows, cols)``), simulated by their own numpy module (:mod:`.muon`), not the kernels.
MATRIX_OPTIMIZERS = ("muon",)
BACKENDS = ("auto", "numba", "numpy", "cupy")
METHODS = ("full", "reduced")
NOISES = ("isotropic", "anisotropic", "drift")
RECORDS = ("series", "summary")


def c_defines() -> str:
    """``#define SGD 0`` … for the CUDA kernel source, generated from :data:`OPT_CODE`."""
    return "\n".join(f"#define {name.upper()} {code}" for name, code in OPT_CODE.items())


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
            **self.extra,  # a matrix optimizer's shape and options
        }


def _grid_param(name: str, value: Any, **bounds: Any) -> np.ndarray:
    arr = check_real(name, value, **bounds)
    if arr.ndim > 1:
        raise InputError(
            f"{name} must be a scalar or a 1-D array (a hyperparameter grid of shape (G,)); got shape {arr.shape}"
        )
    return arr


def build_problem(**call: Any) -> Problem:
    """Validate the arguments of :func:`spheretheory.simulate` (every one, by name: ``simulate`` passes its
    ``locals()``) into a :class:`Problem`.

    Raises
    ------
    TypeError
        A missing or unknown argument, or one of the wrong type.
    ValueError
        An argument out of its range, naming it and the range.
    """
    take = _Arguments(call)
    optimizer = check_choice("optimizer", take("optimizer"), OPTIMIZERS + MATRIX_OPTIMIZERS)
    backend = check_choice("backend", take("backend"), BACKENDS)
    method = check_choice("method", take("method"), METHODS)
    noise = check_choice("noise", take("noise"), NOISES)
    record = check_choice("record", take("record"), RECORDS)
    dim, extra = _dim_and_options(optimizer, take("dim"), take("options"))
    steps = check_int("steps", take("steps"), low=1)
    trajectories = check_int("trajectories", take("trajectories"), low=1)
    record_every = check_int("record_every", take("record_every"), low=1)
    summary_fraction = float(
        check_real("summary_fraction", take("summary_fraction"), low=0.0, high=1.0, low_inclusive=False)
    )
    init_norm = float(check_real("init_norm", take("init_norm"), low=0.0, low_inclusive=False))
    dtype = take("dtype")
    rescale_on_drop = take("rescale_on_drop")
    progress = take("progress")
    beta2 = take("beta2")
    decoupled = take("decoupled")
    spectrum = take("spectrum")
    drift = take("drift")
    w0 = take("w0")
    noise_draws = take("noise_draws")
    model = take("model")
    seed = take("seed")
    try:
        dtype = np.dtype(dtype)
    except TypeError as exc:
        raise InputTypeError(f"dtype must be float32 or float64; got {dtype!r}") from exc
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise InputError(f"dtype must be float32 or float64; got {dtype}")
    if not isinstance(rescale_on_drop, (bool, np.bool_)):
        raise InputTypeError(f"rescale_on_drop must be a bool; got {rescale_on_drop!r}")
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise InputTypeError(f"progress must be None or a bool; got {progress!r}")

    if beta2 is None:
        beta2 = 0.99 if optimizer == "lion" else 0.999
    if decoupled is None:
        decoupled = optimizer in ("adamw", "lion", *MATRIX_OPTIMIZERS)
    if not isinstance(decoupled, (bool, np.bool_)):
        raise InputTypeError(f"decoupled must be None or a bool; got {decoupled!r}")
    if optimizer == "adamw" and not decoupled:
        raise InputError("decoupled=False with optimizer='adamw' is Adam: use optimizer='adam'")

    momentum = take("momentum")
    if momentum is None:  # the optimizer's default: torch.optim.Muon's β for muon, 0 for the others
        momentum = _default_momentum(optimizer)
    params = {
        "lr": _grid_param("lr", take("lr"), low=0.0, low_inclusive=False),
        "weight_decay": _grid_param("weight_decay", take("weight_decay"), low=0.0),
        "momentum": _grid_param("momentum", momentum, low=0.0, high=1.0, high_inclusive=False),
        "unit_grad_sq": _grid_param("unit_grad_sq", take("unit_grad_sq"), low=0.0),
        "beta1": _grid_param("beta1", take("beta1"), low=0.0, high=1.0, high_inclusive=False),
        "beta2": _grid_param("beta2", beta2, low=0.0, high=1.0, high_inclusive=False),
        "eps": _grid_param("eps", take("eps"), low=0.0),
    }
    sizes = {k: v.size for k, v in params.items() if v.ndim == 1}
    lengths = set(sizes.values()) - {1}
    if len(lengths) > 1:
        shapes = ", ".join(f"{k}({n},)" for k, n in sizes.items())
        raise InputError(f"hyperparameter grids must all have the same length G (or be scalars); got {shapes}")
    G = lengths.pop() if lengths else 1
    params = {
        k: np.ascontiguousarray(np.broadcast_to(v.reshape(-1), (G,)), dtype=np.float64) for k, v in params.items()
    }
    if optimizer in ("sgd", "adam", "adamw", "lion") and np.any(params["momentum"] != 0):
        raise InputError(
            f"momentum must be 0 for optimizer={optimizer!r} (use 'sgdm'/'nesterov' for momentum, "
            "beta1/beta2 for the Adam family and Lion)"
        )
    if optimizer == "nesterov" and np.any(params["momentum"] <= 0):
        raise InputError("momentum must be in (0, 1) for optimizer='nesterov'")

    spec_arr = None
    drift_arr = None
    if noise == "anisotropic":
        if spectrum is None:
            raise InputError("noise='anisotropic' needs spectrum= (the d eigenvalues of the noise covariance)")
        spec_arr = check_real("spectrum", spectrum, low=0.0)
        if spec_arr.shape != (dim,) or not np.any(spec_arr > 0):
            raise InputError(f"spectrum must have shape (dim,) = ({dim},) with a positive entry; got {spec_arr.shape}")
        spec_arr = spec_arr / spec_arr.mean()
    elif spectrum is not None:
        raise InputError("spectrum= is only used with noise='anisotropic'")
    if noise == "drift":
        if drift is None:
            raise InputError("noise='drift' needs drift= (a vector a of shape (dim,): g̃ = P⊥(a + noise))")
        drift_arr = check_real("drift", drift)
        if drift_arr.shape != (dim,):
            raise InputError(f"drift must have shape (dim,) = ({dim},); got {drift_arr.shape}")
    elif drift is not None:
        raise InputError("drift= is only used with noise='drift'")

    lr_s = as_schedule("lr_schedule", take("lr_schedule"), steps)
    wd_s = as_schedule("wd_schedule", take("wd_schedule"), steps)
    gr_s = as_schedule("grad_schedule", take("grad_schedule"), steps)
    if rescale_on_drop and not lr_s.drops():
        raise InputError("rescale_on_drop=True needs an lr_schedule with drops (e.g. step decay)")

    N = G * trajectories
    w0_arr = None
    if w0 is not None:
        w0_arr = as_float_array("w0", w0)
        try:
            w0_arr = np.array(np.broadcast_to(w0_arr, (G, trajectories, dim)), dtype=np.float64)
        except ValueError:
            raise InputError(
                f"w0 must be broadcastable to (G, trajectories, dim) = ({G}, {trajectories}, {dim}); "
                f"got shape {np.shape(w0)}"
            ) from None
        sq = np.einsum("gnd,gnd->gn", w0_arr, w0_arr)
        if not np.all(np.isfinite(sq)) or np.any(sq <= 0):
            raise InputError("w0 must be finite and nonzero for every trajectory")

    draws = None
    if noise_draws is not None:
        if model is not None:
            raise InputError("noise_draws cannot be combined with model= (the model draws its own noise)")
        draws = as_float_array("noise_draws", noise_draws)
        want = (steps, G, trajectories, dim)
        if draws.shape == (steps, N, dim):
            draws = draws.reshape(want)
        if draws.shape != want:
            raise InputError(f"noise_draws must have shape (steps, G, trajectories, dim) = {want}; got {draws.shape}")
        if not np.all(np.isfinite(draws)):
            raise InputError("noise_draws must be finite")
        draws = np.ascontiguousarray(draws, dtype=dtype)

    if model is not None:
        from ..models.base import ScaleInvariantModel

        if not isinstance(model, ScaleInvariantModel):
            raise InputTypeError("model must implement spheretheory.models.ScaleInvariantModel (dim, loss, grad)")
        if int(model.dim) != dim:
            raise InputError(f"dim must equal model.dim = {model.dim}; got {dim}")

    if seed is not None and not isinstance(seed, (int, np.integer, np.random.SeedSequence)):
        raise InputTypeError(f"seed must be None, a non-negative int or a numpy SeedSequence; got {seed!r}")
    if isinstance(seed, (int, np.integer)) and int(seed) < 0:
        raise InputError(f"seed must be a non-negative integer; got {seed}")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))

    take.done()
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
        extra=extra,
    )


def _dim_and_options(optimizer: str, dim: Any, options: Any) -> tuple[int, dict[str, Any]]:
    """(d, Problem.extra): ``dim`` ≥ 2 for the vector optimizers; ``dim=(rows, cols)`` and ``options`` for a matrix
    optimizer (validated by its simulator module, against its spec)."""
    if optimizer in MATRIX_OPTIMIZERS:
        from .muon import matrix_problem

        return matrix_problem(dim, options)
    if options:
        raise InputError(f"options= is used only by {', '.join(MATRIX_OPTIMIZERS)}; got {options!r}")
    if not isinstance(dim, (int, np.integer)) and np.ndim(dim) == 1:
        raise InputError(
            f"dim=(rows, cols) is for {', '.join(MATRIX_OPTIMIZERS)}; optimizer={optimizer!r} needs an int"
        )
    return check_int("dim", dim, low=2), {}


def _default_momentum(optimizer: str) -> float:
    """``momentum=None``: the spec's default for a matrix optimizer (Muon's 0.95), else 0 (as before)."""
    if optimizer in MATRIX_OPTIMIZERS:
        from ..optimizers import get

        return float(get(optimizer).hyperparameters["momentum"].default)
    return 0.0


class _Arguments:
    """``take(name)``: the argument ``name`` of the call, once; :meth:`done` rejects the ones never taken."""

    def __init__(self, call: dict[str, Any]) -> None:
        self._call = dict(call)

    def __call__(self, name: str) -> Any:
        try:
            return self._call.pop(name)
        except KeyError:
            raise TypeError(f"build_problem() missing the argument {name!r} of simulate") from None

    def done(self) -> None:
        if self._call:
            raise TypeError(f"unexpected arguments for simulate: {', '.join(sorted(self._call))}")
