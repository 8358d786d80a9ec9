"""The one entry point :func:`simulate`: its parameter list is the only list of the arguments; the call is
validated into a :class:`._spec.Problem` and handed to a backend."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validation import InputTypeError
from ._spec import MATRIX_OPTIMIZERS, Problem, build_problem
from .result import SimulationResult
from .schedules import Schedule

__all__ = ["problem_from_call", "simulate"]


def simulate(
    optimizer: str = "sgd",
    lr: float | np.ndarray = 0.1,
    weight_decay: float | np.ndarray = 1e-3,
    momentum: float | np.ndarray | None = None,
    *,
    dim: int | tuple[int, int] = 256,
    options: Mapping[str, Any] | None = None,
    steps: int = 10_000,
    trajectories: int = 64,
    unit_grad_sq: float | np.ndarray = 1.0,
    noise: str = "isotropic",
    spectrum: np.ndarray | None = None,
    drift: np.ndarray | None = None,
    lr_schedule: Schedule | dict | None = None,
    wd_schedule: Schedule | dict | None = None,
    grad_schedule: Schedule | dict | None = None,
    rescale_on_drop: bool = False,
    beta1: float | np.ndarray = 0.9,
    beta2: float | np.ndarray | None = None,
    eps: float | np.ndarray = 1e-8,
    decoupled: bool | None = None,
    model: Any = None,
    w0: np.ndarray | None = None,
    init_norm: float = 1.0,
    record_every: int = 1,
    record: str = "series",
    backend: str = "auto",
    method: str = "full",
    seed: int | np.random.SeedSequence | None = None,
    noise_draws: np.ndarray | None = None,
    dtype: Any = np.float64,
    progress: bool | None = None,
    summary_fraction: float = 0.25,
) -> SimulationResult:
    """Simulate many independent trajectories of a scale-invariant weight w ∈ R^d.

    The update rules (PyTorch conventions; λ = ``weight_decay``, η_t = ``lr``·lr_schedule(t)):

    * ``"sgd"`` (Wan et al. eq. 7): w_{t+1} = w_t − η(g_t + λw_t).
    * ``"sgdm"`` heavy ball (Wan et al. eq. 10–11, PyTorch SGD momentum=α, dampening=0):
      v_t = αv_{t−1} + g_t + λw_t; w_{t+1} = w_t − ηv_t.
    * ``"nesterov"`` (PyTorch nesterov=True): d_t = g_t + λw_t; v_t = αv_{t−1} + d_t; w_{t+1} = w_t − η(d_t
      + αv_t).
    * ``"adam"`` (PyTorch Adam, coupled L2): g' = g + λw; m ← β₁m + (1−β₁)g'; s ← β₂s + (1−β₂)g'²;
      w ← w − η m̂/(√ŝ + ε) with m̂ = m/(1−β₁^t), ŝ = s/(1−β₂^t), t counted from 1.
    * ``"adamw"`` (PyTorch AdamW, decoupled): w ← w − ηλw − η m̂/(√ŝ + ε) with the moments of g.
    * ``"lion"`` (Chen et al. 2023): c = β₁m + (1−β₁)g; w ← w − η(sign(c) + λw); m ← β₂m + (1−β₂)g.
    * ``"muon"`` (``torch.optim.Muon``, on m×n matrices, :mod:`.muon`): B ← βB + (1−β)G; O = orth((1−β)G + βB)
      (Newton–Schulz, or the exact polar factor with ``ns_steps=0``); W ← (1 − ηλ)W − η'O, η' the adjusted LR.

    ``decoupled=True`` applies the decay as w ← w − ηλw (on the old w, beside the step) instead of adding λw
    to
    the gradient; the default is coupled for sgd/sgdm/nesterov/adam and decoupled for adamw/lion.

    Synthetic gradients obey scale invariance (Wan et al. Lemma 1): g_t = g̃_t/‖w_t‖ with g̃_t ⟂ w_t.
    ``noise="isotropic"``: g̃ = √(L_t/(d−1))·P⊥ξ, ξ ~ N(0, I_d), so E‖g̃‖² = L_t exactly;
    ``"anisotropic"``: ξ ~ N(0, diag(spectrum)) with the spectrum rescaled to mean 1 (E‖g̃‖² = L_t averaged
    over
    directions of w); ``"drift"``: g̃ = P⊥(a + √(L_t/(d−1))ξ) with the fixed vector a = ``drift`` (the
    gradient of
    the linear loss ⟨a, w/‖w‖⟩ plus noise). L_t = ``unit_grad_sq``·grad_schedule(t). With ``model=`` (a
    :class:`spheretheory.models.ScaleInvariantModel`) the model's stochastic gradients are used instead (numpy
    loop, any backend name).

    Parameters
    ----------
    optimizer:
        One of ``sgd, sgdm, nesterov, adam, adamw, lion, muon``.
    lr, weight_decay, momentum, unit_grad_sq, beta1, beta2, eps:
        Scalars or 1-D arrays of a common length G (a hyperparameter grid). ``momentum`` is α for
        sgdm/nesterov and β for muon (must be 0 otherwise; ``None``: 0.95 for muon, 0 otherwise);
        ``beta2=None`` means 0.999 (Adam family) or 0.99 (Lion).
    dim:
        d ≥ 2, or ``(rows, cols)`` for muon (its weight is a matrix; ``config["dim"]`` is rows·cols).
    options:
        Muon's other hyperparameters (its spec's): ``ns_steps`` (default 5; 0 = exact polar factor),
        ``adjust_lr`` 0/1 or ``adjust_lr_fn`` None/"original"/"match_rms_adamw", ``nesterov`` (1). Muon runs on
        the numpy backend with ``method="full"``, isotropic noise, float64 and decoupled decay; anything else
        raises ``ValueError`` saying why (``method="reduced"`` is not exact for Muon). Not used by the others.
    steps:
        Number of iterations T ≥ 1.
    trajectories:
        n independent trajectories per grid point.
    lr_schedule, wd_schedule, grad_schedule:
        Multipliers of lr, weight_decay and unit_grad_sq over time (:mod:`.schedules`; ``None`` = constant).
    rescale_on_drop:
        At each drop of the learning rate by k, divide w by k^(1/4) (Wan et al. Sec. 4.2); the momentum
        buffer is
        left as it is.
    w0:
        Initial weights broadcastable to (G, n, d); default: independent uniformly random directions of norm
        ``init_norm`` (the same for every backend with the same seed).
    record, record_every:
        ``"series"`` (the default) records the quantities every ``record_every`` iterations: 48 bytes per
        trajectory and record, so N·steps/record_every·48 bytes (1.3 GB for 65,536 trajectories × 4,000
        steps); ``"summary"`` keeps only the streaming statistics (memory independent of ``steps``), which is
        all that the equilibrium statistics need and what the CLI uses unless it plots.
    backend:
        ``"auto"`` (default: numba, or the numpy path where that is cheaper — small reduced runs, tiny full-d
        runs; a function of the sizes only), ``"numba"``, ``"numpy"`` or ``"cupy"`` (needs CuPy and a CUDA
        device). ``result.config["backend"]`` names the one that ran.
    method:
        ``"full"`` (this module's d-dimensional simulators) or ``"reduced"``
        (:func:`spheretheory.simulation.reduced.simulate_reduced`).
    seed:
        Seeds every random draw; the same seed gives the same result run to run (whatever the number of
        threads: each trajectory has its own PCG64 stream). The numba and numpy paths draw the same numbers
        (equal to round-off); the CuPy backend uses cuRAND.
    noise_draws:
        Injected standard normals ξ of shape (steps, G, n, d) (or (steps, G·n, d)) used instead of the
        generator,
        so that backends can be compared on identical draws.
    dtype:
        float64 (default) or float32 for the weights and optimizer state (reductions accumulate in float64).
    progress:
        Show a tqdm progress bar (``None``: only on a TTY for long runs).
    summary_fraction:
        The streaming summaries cover the last ``summary_fraction`` of the iterations.

    Returns
    -------
    SimulationResult

    Raises
    ------
    ValueError, TypeError
        Bad input, naming the parameter and the allowed range.
    ImportError
        ``backend="cupy"`` without CuPy or without a CUDA device.
    """
    problem = build_problem(**locals())
    _check_memory(problem)
    if problem.optimizer in MATRIX_OPTIMIZERS:
        from .muon import run as run_muon

        return run_muon(problem)
    if problem.method == "reduced":
        from .reduced import simulate_reduced

        return simulate_reduced(problem)
    if problem.model is not None or problem.backend == "numpy" or (problem.backend == "auto" and _tiny(problem)):
        from ._numpy import run as run_numpy

        return run_numpy(problem)
    if problem.backend in ("numba", "auto"):
        from ._numba import run as run_numba

        return run_numba(problem)
    from ._cupy import run as run_cupy

    return run_cupy(problem)


def _tiny(problem: Problem) -> bool:
    """``backend="auto"`` for ``method="full"``: the numpy loop when it costs less (:func:`_numpy_pays`)."""
    return _numpy_pays(problem.N, problem.dim, problem.steps)


def _numpy_pays(trajectories: int, dim: int, steps: int) -> bool:
    """Cost model measured (CPU time) on the 2-core development machine: numpy ≈ 150 µs per iteration + 50 ns per
    coordinate-iteration; numba ≈ ``reduced.NUMBA_FIXED_S`` (import numba, load the cached kernel) + 5 ns per
    coordinate-iteration. A function of the sizes only (both paths draw the same numbers: they agree to
    round-off)."""
    from .reduced import NUMBA_FIXED_S

    work = float(steps) * trajectories * dim
    return 150e-6 * steps + 50e-9 * work < NUMBA_FIXED_S + 5e-9 * work


def auto_uses_numba(method: str, trajectories: int, dim: int, steps: int) -> bool:
    """Whether ``simulate(backend="auto", method=method)`` runs the compiled kernel for ``trajectories`` (all grid
    points together) × ``dim`` × ``steps`` (isotropic noise, no model): lets the CLI announce a compilation
    without importing numba when the run will not use it."""
    if method == "reduced":
        from .reduced import numba_pays

        return numba_pays(trajectories, steps)
    return not _numpy_pays(trajectories, dim, steps)


def problem_from_call(**kwargs: Any) -> Problem:
    """The :class:`._spec.Problem` of ``simulate(**kwargs)`` (the arguments not given take simulate's defaults).

    Raises
    ------
    TypeError
        An argument that :func:`simulate` does not take.
    """
    try:
        bound = inspect.signature(simulate).bind(**kwargs)
    except TypeError as exc:
        raise InputTypeError(f"unexpected arguments for simulate: {exc}") from None
    bound.apply_defaults()
    return build_problem(**bound.arguments)


def _check_memory(problem: Problem) -> None:
    """Refuse a run whose arrays would not fit (spheretheory._validation.check_memory) before allocating them."""
    from .._validation import check_memory, simulation_bytes

    nbytes = simulation_bytes(
        grid=problem.G,
        trajectories=problem.trajectories,
        dim=3 if problem.method == "reduced" else problem.dim,
        records=problem.n_records,
        itemsize=np.dtype(problem.dtype).itemsize,
    )
    if problem.noise_draws is not None:
        nbytes += problem.noise_draws.nbytes
    check_memory(
        f"simulate ({problem.G}x{problem.trajectories} trajectories, d={problem.dim}, {problem.n_records} records)",
        nbytes,
        hint="use fewer trajectories, a smaller dim, or record fewer steps (record='summary' or a larger record_every)",
    )
