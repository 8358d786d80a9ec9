"""Predict the whole training run under any schedule: iterate the derived mean-field maps step by step.

>>> import spheretheory as st
>>> tr = st.trajectory("sgdm", steps=20_000, lr=0.1, weight_decay=1e-3, momentum=0.9, lr_schedule="cosine")
>>> tr.angular_update_lag[tr.step == 18_000]           # RMS Δ_t / instantaneous Δ* at 90% of the run
array([...])

:func:`trajectory` iterates, with the hyperparameters of each step (η_t, λ_t, L_t), the one-step map derived
for the optimizer in :mod:`spheretheory.theory.trajectory` (``trajectory.heavy_ball_map``,
``trajectory.nesterov_map``, ``trajectory.adam_map``, ``trajectory.lion_map``; their numpy twins are generated
from the sympy expressions). Beside each predicted value it gives the *instantaneous equilibrium* — the fixed
point of the same map at that step's hyperparameters (closed forms ``trajectory.*_equilibrium`` for the SGD
family, the arcsine series for Lion, a bracketed root for Adam) — and the lag, their ratio.

The per-optimizer maps are a small table, :data:`MAPS`, keyed by optimizer name (so it can hang off the
optimizer specs later). Two implementations of the iteration: a numba kernel (``cache=True``) and a numpy
reference (one vectorised generated-function call per step); ``tests/test_trajectory.py`` checks they agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import InputError, check_choice, check_int, check_real
from .optimizers.adamw import GAUSSIAN_KURTOSIS
from .schedules import Constant, Product, Schedule, as_schedule, weight_decay_convention
from .theory import _generated as G
from .theory.trajectory import lion_arcsine_weights

__all__ = ["MAPS", "Trajectory", "TrajectoryMap", "solve", "trajectory"]

#: Steps per block: schedules are evaluated and the kernel called one block at a time (memory ∝ block).
_BLOCK = 1 << 16


@dataclass(frozen=True)
class TrajectoryMap:
    """How to iterate one optimizer: which derived map, which hyperparameters, which decay placements.

    ``kind`` is ``"linear"`` (state ‖w‖², ⟨w, v⟩, ‖v‖²), ``"adam"`` (+ the second moment q) or ``"lion"``
    (‖w‖² and the radial memories S_n). ``decoupled`` lists the allowed placements of the weight decay, the
    first being the default.
    """

    name: str
    kind: str
    derivation: str
    hyperparameters: dict[str, tuple[float, float, float, bool]]  # name -> (default, low, high, high_inclusive)
    decoupled: tuple[bool, ...]
    needs_dim: bool = False
    nesterov: bool = False


_MOM = {"momentum": (0.0, 0.0, 1.0, False)}
_ADAM = {"beta1": (0.9, 0.0, 1.0, False), "beta2": (0.999, 0.0, 1.0, False), "eps": (1e-8, 0.0, np.inf, False)}
_LION = {"beta1": (0.9, 0.0, 1.0, False), "beta2": (0.99, 0.0, 1.0, False)}

#: The per-optimizer table.
MAPS: dict[str, TrajectoryMap] = {
    "sgd": TrajectoryMap("sgd", "linear", "trajectory.heavy_ball_map", {}, (False, True)),
    "sgdm": TrajectoryMap("sgdm", "linear", "trajectory.heavy_ball_map", _MOM, (False, True)),
    "nesterov": TrajectoryMap("nesterov", "linear", "trajectory.nesterov_map", _MOM, (False, True), nesterov=True),
    "adam": TrajectoryMap("adam", "adam", "trajectory.adam_map", _ADAM, (False, True), needs_dim=True),
    "adamw": TrajectoryMap("adamw", "adam", "trajectory.adam_map", _ADAM, (True,), needs_dim=True),
    "lion": TrajectoryMap("lion", "lion", "trajectory.lion_map", _LION, (True,), needs_dim=True),
}

#: Keys of :meth:`Trajectory.to_dict` holding one array per record (names as in ``predict``).
SERIES = (
    "step",
    "lr",
    "weight_decay",
    "unit_grad_sq",
    "sq_norm",
    "sq_norm_equilibrium",
    "sq_norm_lag",
    "angular_update",
    "angular_update_equilibrium",
    "angular_update_lag",
    "effective_lr",
    "effective_lr_equilibrium",
    "effective_lr_lag",
    "grad_norm_ratio",
    "grad_norm_ratio_equilibrium",
    "grad_norm_ratio_lag",
)
DESCRIPTIONS = {
    "step": "iteration t of the record",
    "lr": "η_t",
    "weight_decay": "λ_t (the PyTorch weight_decay of step t)",
    "unit_grad_sq": "L_t = E‖g̃_t‖²",
    "sq_norm": "predicted E‖w_t‖²",
    "angular_update": "predicted RMS angular update Δ_t = ∠(w_t, w_{t+1}) (rad)",
    "effective_lr": "η_t/E‖w_t‖² (SGD family, Lion); η_t/(c₁‖w‖²(√q̂ + ε)) for Adam",
    "grad_norm_ratio": "‖g_t‖/‖w_t‖ = √L_t/E‖w_t‖²",
}


class Trajectory:
    """Result of :func:`trajectory`: arrays over the records (``step``), attribute access, :meth:`to_dict`."""

    def __init__(self, optimizer: str, inputs: dict[str, Any], values: dict[str, np.ndarray]):
        self.optimizer = optimizer
        self.inputs = inputs
        self.values = values

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(f"Trajectory has no value {name!r}; available: {', '.join(values)}")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.values))

    def at_fraction(self, fractions: Any) -> dict[str, np.ndarray]:
        """The records nearest to the given fractions of the run (0 = first step, 1 = last step)."""
        f = check_real("fractions", fractions, low=0.0, high=1.0)
        steps = self.inputs["steps"]
        idx = np.searchsorted(self.step, np.round(np.atleast_1d(f) * (steps - 1)), side="left")
        idx = np.clip(idx, 0, self.step.size - 1)
        return {k: v[idx] for k, v in self.values.items()}

    def to_dict(self) -> dict[str, Any]:
        """``{"optimizer": ..., "inputs": {...}, <series>: array, ...}`` (one array per quantity)."""
        return {"optimizer": self.optimizer, "inputs": dict(self.inputs), **self.values}

    def __repr__(self) -> str:
        return f"Trajectory(optimizer={self.optimizer!r}, steps={self.inputs['steps']}, records={self.step.size})"


# --------------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------------
def _per_step(name: str, value: Any, steps: int) -> Schedule:
    """A scalar, per-step array, schedule (or grammar string) → a schedule of absolute values."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return Constant(float(check_real(name, value, low=0.0)))
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return Constant(float(check_real(name, value, low=0.0)))
    return as_schedule(name, value, steps)


@dataclass
class _Inputs:
    spec: TrajectoryMap
    steps: int
    every: int
    lr: Schedule
    wd: Schedule
    grad: Schedule
    decoupled: bool
    hyper: dict[str, float]
    dim: int | None
    sq_norm0: float | None

    def block(self, t0: int, t1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(η_t, λ_t, L_t) for t0 ≤ t < t1, validated (ValueError naming the step)."""
        lr, wd, L = self.lr.block(t0, t1), self.wd.block(t0, t1), self.grad.block(t0, t1)
        for name, arr, low_open in (("lr", lr, True), ("weight_decay", wd, True), ("unit_grad_sq", L, True)):
            bad = (arr <= 0) if low_open else (arr < 0)
            if bad.any():
                i = int(np.argmax(bad))
                raise InputError(
                    f"{name} must be > 0 at every step (the trajectory and its instantaneous equilibrium need it); "
                    f"got {arr[i]!r} at step {t0 + i}"
                )
        bad = lr * wd >= 1.0
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(
                f"lr*weight_decay must be < 1 at every step; got lr={lr[i]!r}, weight_decay={wd[i]!r} at step {t0 + i}"
            )
        return lr, wd, L


def _inputs(
    optimizer,
    steps,
    lr,
    weight_decay,
    unit_grad_sq,
    lr_schedule,
    wd_schedule,
    grad_schedule,
    wd_convention,
    dim,
    sq_norm0,
    every,
    hyper,
) -> _Inputs:
    name = check_choice("optimizer", optimizer, MAPS)
    spec = MAPS[name]
    steps = check_int("steps", steps, low=1)
    every = check_int("every", every, low=1)
    given = {k: v for k, v in hyper.items() if v is not None}
    unknown = [k for k in given if k not in spec.hyperparameters]
    if unknown:
        if name == "sgd" and unknown == ["momentum"] and float(given["momentum"]) == 0.0:
            given.pop("momentum")
        else:
            takes = ", ".join(spec.hyperparameters) or "no optimizer-specific hyperparameters"
            raise InputError(f"optimizer {name!r} does not take {', '.join(unknown)} (it takes {takes})")
    hp = {}
    for key, (default, low, high, high_incl) in spec.hyperparameters.items():
        v = given.get(key, default)
        hp[key] = float(check_real(key, v, low=low, high=None if np.isinf(high) else high, high_inclusive=high_incl))
    if dim is not None:
        dim = check_int("dim", dim, low=2)
    elif spec.needs_dim:
        raise InputError(f"optimizer {name!r} needs dim (the number of weights in the group, an integer >= 2)")
    if sq_norm0 is not None:
        sq_norm0 = float(check_real("sq_norm0", sq_norm0, low=0.0, low_inclusive=False))
    lr_s = _per_step("lr", lr, steps)
    lr_mult = as_schedule("lr_schedule", lr_schedule, steps)
    lr_abs = lr_s if lr_mult.is_constant else Product((lr_s, lr_mult), (1.0, 1.0), label=lr_mult.description)
    wd_s = _per_step("weight_decay", weight_decay, steps)
    wd_mult = as_schedule("wd_schedule", wd_schedule, steps)
    if wd_convention is None:
        decoupled = spec.decoupled[0]
    else:
        conv_mult, decoupled = weight_decay_convention(wd_convention, lr_abs, steps)
        wd_mult = Product((wd_mult, conv_mult), (1.0, 1.0), label=conv_mult.description)
    if decoupled not in spec.decoupled:
        where = "decoupled" if decoupled else "coupled"
        raise InputError(f"optimizer {name!r} does not take a {where} weight decay (wd_convention={wd_convention!r})")
    wd_abs = wd_s if wd_mult.is_constant else Product((wd_s, wd_mult), (1.0, 1.0), label=wd_mult.description)
    L_s = _per_step("unit_grad_sq", unit_grad_sq, steps)
    g_mult = as_schedule("grad_schedule", grad_schedule, steps)
    L_abs = L_s if g_mult.is_constant else Product((L_s, g_mult), (1.0, 1.0), label=g_mult.description)
    return _Inputs(spec, steps, every, lr_abs, wd_abs, L_abs, bool(decoupled), hp, dim, sq_norm0)


# --------------------------------------------------------------------------------------------------------
# Equilibria (fixed points of the maps at one step's hyperparameters), vectorised over records
# --------------------------------------------------------------------------------------------------------
def _split(inp: _Inputs, wd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    zero = np.zeros_like(wd)
    return (zero, wd) if inp.decoupled else (wd, zero)


def _angle(par: np.ndarray, perp: np.ndarray) -> np.ndarray:
    """∠(w_t, w_{t+1}) = atan2(‖w_{t+1} ⟂ w_t‖, ⟨u_t, w_{t+1}⟩) (no cancellation for small angles)."""
    return np.arctan2(np.sqrt(np.maximum(perp, 0.0)), par)


def _adam_args(inp: _Inputs, wdc, wdd) -> dict[str, Any]:
    h = inp.hyper
    return dict(
        weight_decay=wdc,
        decoupled_weight_decay=wdd,
        beta1=h["beta1"],
        beta2=h["beta2"],
        eps=h["eps"],
        dim=float(inp.dim),
    )


def _equilibrium(
    inp: _Inputs, lr: np.ndarray, wd: np.ndarray, L: np.ndarray, backend: str = "numpy"
) -> dict[str, np.ndarray]:
    """State, Δ* and η_e* at the fixed point of the optimizer's map, for each (η, λ, L) (arrays)."""
    wdc, wdd = _split(inp, wd)
    kind = inp.spec.kind
    if kind == "linear":
        mom = inp.hyper.get("momentum", 0.0)
        fp = G.trajectory__nesterov_equilibrium if inp.spec.nesterov else G.trajectory__heavy_ball_equilibrium
        step = G.trajectory__nesterov_map if inp.spec.nesterov else G.trajectory__heavy_ball_map
        kw = dict(lr=lr, weight_decay=wdc, decoupled_weight_decay=wdd, momentum=mom, unit_grad_sq=L)
        a, b, c = fp(**kw)
        _, _, _, par, perp = step(sq_norm=a, w_dot_v=b, v_sq_norm=c, **kw)
        return {"state": np.stack([a, b, c]), "sq_norm": a, "angular_update": _angle(par, perp), "effective_lr": lr / a}
    if kind == "lion":
        w, q = lion_arcsine_weights(inp.hyper["beta1"], inp.hyper["beta2"])
        rho = 1.0 - lr * wd
        S = lr[None, :] / (1.0 - rho[None, :] * q[:, None])
        X = -inp.dim * (w[:, None] * S).sum(axis=0)
        a = (lr**2 * inp.dim - 2 * rho * lr * X) / (1 - rho**2)
        _, par, perp = G.trajectory__lion_map(sq_norm=a, x_dot_update=X, lr=lr, weight_decay=wd, dim=float(inp.dim))
        return {"state": np.vstack([a, S]), "sq_norm": a, "angular_update": _angle(par, perp), "effective_lr": lr / a}
    return _adam_equilibrium(inp, lr, wdc, wdd, L, backend)


def _adam_fixed_bc(inp, a, lr, wdc, wdd, L, final: bool = True):
    """At fixed a: q* and the (b, c) solving the affine fixed-point equations of trajectory.adam_map (and the map
    at that point, unless ``final`` is false)."""
    d = float(inp.dim)
    q = (L / a + wdc**2 * a) / d
    args = _adam_args(inp, wdc, wdd)

    def F(b, c):
        return G.trajectory__adam_map(
            sq_norm=a, w_dot_v=b, v_sq_norm=c, second_moment=q, lr=lr, unit_grad_sq=L, bias1=1.0, bias2=1.0, **args
        )

    z = np.zeros_like(a)
    sc = q * d  # the scale of ‖m‖² (the mean squared gradient); ⟨x, m⟩ ~ √(a·sc): perturb on those scales
    sb = np.sqrt(a * sc)
    f0, fb, fc = F(z, z), F(sb, z), F(z, sc)
    # (b', c') = M (b, c) + k  →  (I − M)(b, c) = k (the map is affine in (b, c))
    m11, m12 = (fb[1] - f0[1]) / sb, (fc[1] - f0[1]) / sc
    m21, m22 = (fb[2] - f0[2]) / sb, (fc[2] - f0[2]) / sc
    k1, k2 = f0[1], f0[2]
    A11, A12, A21, A22 = 1 - m11, -m12, -m21, 1 - m22
    det = A11 * A22 - A12 * A21
    b = (k1 * A22 - A12 * k2) / det
    c = (A11 * k2 - A21 * k1) / det
    return b, c, q, (F(b, c) if final else None)


def _adam_equilibrium(inp, lr, wdc, wdd, L, backend: str = "numpy") -> dict[str, np.ndarray]:
    """Root in log ‖w‖² of the increment E‖x_{t+1}‖² − ‖x_t‖² at (a, b*(a), c*(a), q*(a)).

    The residual is ``trajectory.adam_map_increment`` (term by term, so that it keeps its sign below ηλ ~ 1e-16,
    where F(a) − a would be round-off). The root is bracketed at the first-order guess ± e^12 and found by the
    secant method from the guess, with bisection whenever a step leaves the bracket; vectorised over the records.
    """
    d = float(inp.dim)
    # first-order guesses: the slow mode ηd/(2λ) (schedule_forms.slow_mode_adamw; ε = 0) for the decoupled decay,
    # adam_l2.equilibrium_norm_first_order for the coupled one
    g_w = np.where(wdd > 0, lr * d / (2 * np.maximum(wdd, 1e-300)), np.inf)
    g_c = np.where(wdc > 0, (lr * np.sqrt(d * L) / (2 * np.maximum(wdc, 1e-300))) ** (2 / 3), np.inf)
    x0 = np.log(np.minimum(g_w, g_c))
    if backend == "numba":  # the same secant/bisection per record, compiled (scalar twins of the map)
        h = inp.hyper
        lr, wdc, wdd, L = np.broadcast_arrays(*(np.ascontiguousarray(x, dtype=np.float64) for x in (lr, wdc, wdd, L)))
        a = np.empty(lr.shape)
        ok = _adam_root_kernel()(
            x0.astype(np.float64).ravel(), lr.ravel(), wdc.ravel(), wdd.ravel(), L.ravel(), h["beta1"], h["beta2"],
            h["eps"], d, a.reshape(-1)
        )  # fmt: skip
        if not ok:  # pragma: no cover - guarded by the guesses
            raise RuntimeError("could not bracket the Adam fixed point; please report the hyperparameters")
        return _adam_eq_values(inp, a, lr, wdc, wdd, L)
    lo, hi = x0 - 12.0, x0 + 12.0
    args = _adam_args(inp, wdc, wdd)

    def resid(loga):
        a = np.exp(loga)
        b, c, q = _adam_fixed_bc(inp, a, lr, wdc, wdd, L, final=False)[:3]
        inc = G.trajectory__adam_map_increment(
            sq_norm=a, w_dot_v=b, v_sq_norm=c, second_moment=q, lr=lr, unit_grad_sq=L, bias1=1.0, bias2=1.0, **args
        )
        return inc / a

    with np.errstate(all="ignore"):
        if not (np.all(resid(lo) > 0) and np.all(resid(hi) < 0)):  # pragma: no cover - guarded by the guesses
            raise RuntimeError("could not bracket the Adam fixed point; please report the hyperparameters")
        x_prev, f_prev = x0, resid(x0)
        x = x0 + 1e-3
        for _ in range(200):
            fx = resid(x)
            lo, hi = np.where(fx > 0, np.maximum(lo, x), lo), np.where(fx < 0, np.minimum(hi, x), hi)
            x_new = x - fx * (x - x_prev) / (fx - f_prev)
            x_new = np.where(np.isfinite(x_new) & (x_new > lo) & (x_new < hi), x_new, 0.5 * (lo + hi))
            done = (fx == 0) | (np.abs(x_new - x) < 1e-14) | (hi - lo < 1e-15)
            x_new = np.where(fx == 0, x, x_new)
            x_prev, f_prev, x = x, fx, x_new
            if np.all(done):
                break
        return _adam_eq_values(inp, np.exp(x), lr, wdc, wdd, L)


def _adam_eq_values(inp, a, lr, wdc, wdd, L) -> dict[str, np.ndarray]:
    """State, Δ* and η_e* of the Adam map at its fixed point ‖x‖² = a."""
    with np.errstate(all="ignore"):
        b, c, q, f = _adam_fixed_bc(inp, a, lr, wdc, wdd, L)
    return {"state": np.stack([a, b, c, q]), "sq_norm": a, "angular_update": _angle(f[4], f[5]), "effective_lr": f[6]}


def _make_adam_root(step: Callable, inc: Callable, jit: Callable, tag: int) -> Callable:
    """Per record: the root in log a of the increment at (a, b*(a), c*(a), q*(a)), as :func:`_adam_equilibrium`.
    ``tag``: see :func:`_compiled`."""

    def fixed_bc(a, lr, wdc, wdd, L, b1, b2, eps, d):  # pragma: no cover - jitted
        q = (L / a + wdc * wdc * a) / d
        sc = q * d
        sb = np.sqrt(a * sc)
        f0 = step(a, 0.0, 0.0, q, lr, wdc, wdd, b1, b2, eps, L, d, 1.0, 1.0)
        fb = step(a, sb, 0.0, q, lr, wdc, wdd, b1, b2, eps, L, d, 1.0, 1.0)
        fc = step(a, 0.0, sc, q, lr, wdc, wdd, b1, b2, eps, L, d, 1.0, 1.0)
        m11, m12 = (fb[1] - f0[1]) / sb, (fc[1] - f0[1]) / sc
        m21, m22 = (fb[2] - f0[2]) / sb, (fc[2] - f0[2]) / sc
        k1, k2 = f0[1], f0[2]
        A11, A12, A21, A22 = 1 - m11, -m12, -m21, 1 - m22
        det = A11 * A22 - A12 * A21
        return (k1 * A22 - A12 * k2) / det, (A11 * k2 - A21 * k1) / det, q

    fixed_bc = jit(fixed_bc)

    def resid(x, lr, wdc, wdd, L, b1, b2, eps, d):  # pragma: no cover - jitted
        a = np.exp(x)
        b, c, q = fixed_bc(a, lr, wdc, wdd, L, b1, b2, eps, d)
        return inc(a, b, c, q, lr, wdc, wdd, b1, b2, eps, L, d, 1.0, 1.0) / a

    resid = jit(resid)

    def root(x0, lr, wdc, wdd, L, b1, b2, eps, d, out):  # pragma: no cover - jitted
        if tag == -1:  # never: the tag only keys numba's cache (see _compiled)
            return False
        for i in range(x0.size):
            args = (lr[i], wdc[i], wdd[i], L[i], b1, b2, eps, d)
            lo, hi = x0[i] - 12.0, x0[i] + 12.0
            if not (resid(lo, *args) > 0 and resid(hi, *args) < 0):
                return False
            xp, fp = x0[i], resid(x0[i], *args)
            x = x0[i] + 1e-3
            for _ in range(200):
                fx = resid(x, *args)
                if fx > 0 and x > lo:
                    lo = x
                if fx < 0 and x < hi:
                    hi = x
                if fx == 0:
                    break
                xn = x - fx * (x - xp) / (fx - fp)
                if not (np.isfinite(xn) and lo < xn < hi):
                    xn = 0.5 * (lo + hi)
                done = abs(xn - x) < 1e-14 or hi - lo < 1e-15
                xp, fp, x = x, fx, xn
                if done:
                    break
            out[i] = np.exp(x)
        return True

    return root


def _adam_root_kernel() -> Callable:
    key = ("adam_root", "numba")
    if key not in _KERNELS:
        from numba.extending import register_jitable

        steps = (G.trajectory__adam_map__scalar, G.trajectory__adam_map_increment__scalar)
        _KERNELS[key] = _compiled(lambda step, inc, tag: _make_adam_root(step, inc, register_jitable, tag), *steps)
    return _KERNELS[key]


def _compiled(make: Callable, *steps: Callable) -> Callable:
    """``njit(cache=True)`` of the loop ``make(*steps, tag)`` over the generated scalar maps ``steps``: the loop
    closes over the maps and their cache tag (:func:`.theory._numeric.jitable`), not over numba dispatchers, so
    numba's disk cache serves it in every process."""
    from ._jit import njit
    from .theory._numeric import jitable

    fns, tag = jitable(*steps)
    return njit(cache=True)(make(*fns, tag))


# --------------------------------------------------------------------------------------------------------
# The iteration: numba kernels and the numpy reference
# --------------------------------------------------------------------------------------------------------
def _make_linear(step: Callable, tag: int = 0) -> Callable:
    def loop(state, t0, lr, wdc, wdd, mom, L, every, out_a, out_delta, out_elr):  # pragma: no cover - jitted
        if tag == -1:  # never: the tag only keys numba's cache (see _compiled)
            return
        a, b, c = state[0], state[1], state[2]
        for s in range(lr.size):
            a1, b1, c1, par, perp = step(a, b, c, lr[s], wdc[s], wdd[s], mom, L[s])
            t = t0 + s
            if t % every == 0:
                k = t // every
                out_a[k] = a
                out_delta[k] = np.arctan2(np.sqrt(max(perp, 0.0)), par)
                out_elr[k] = lr[s] / a
            a, b, c = a1, b1, c1
        state[0], state[1], state[2] = a, b, c

    return loop


def _make_adam(step: Callable, tag: int = 0) -> Callable:
    def loop(
        state, t0, lr, wdc, wdd, L, b1, b2, eps, dim, bias_from, every, out_a, out_delta, out_elr
    ):  # pragma: no cover - jitted
        if tag == -1:  # never: the tag only keys numba's cache (see _compiled)
            return
        a, b, c, q = state[0], state[1], state[2], state[3]
        for s in range(lr.size):
            t = t0 + s
            c1, c2 = 1.0, 1.0
            if bias_from >= 0:
                n = t - bias_from + 1
                c1, c2 = 1.0 - b1**n, 1.0 - b2**n
            a1, bb, cc, qq, par, perp, elr = step(a, b, c, q, lr[s], wdc[s], wdd[s], b1, b2, eps, L[s], dim, c1, c2)
            if t % every == 0:
                k = t // every
                out_a[k] = a
                out_delta[k] = np.arctan2(np.sqrt(max(perp, 0.0)), par)
                out_elr[k] = elr
            a, b, c, q = a1, bb, cc, qq
        state[0], state[1], state[2], state[3] = a, b, c, q

    return loop


def _make_lion(step: Callable, tag: int = 0) -> Callable:
    def loop(state, t0, lr, wd, dim, w, qn, every, out_a, out_delta, out_elr):  # pragma: no cover - jitted
        if tag == -1:  # never: the tag only keys numba's cache (see _compiled)
            return
        a = state[0]
        n = w.size
        for s in range(lr.size):
            X = 0.0
            for j in range(n):
                X -= dim * w[j] * state[1 + j]
            a1, par, perp = step(a, X, lr[s], wd[s], dim)
            t = t0 + s
            if t % every == 0:
                k = t // every
                out_a[k] = a
                out_delta[k] = np.arctan2(np.sqrt(max(perp, 0.0)), par)
                out_elr[k] = lr[s] / a
            rho = 1.0 - lr[s] * wd[s]
            for j in range(n):
                state[1 + j] = lr[s] + rho * qn[j] * state[1 + j]
            a = a1
        state[0] = a

    return loop


_SCALAR = {
    "trajectory.heavy_ball_map": "trajectory__heavy_ball_map__scalar",
    "trajectory.nesterov_map": "trajectory__nesterov_map__scalar",
    "trajectory.adam_map": "trajectory__adam_map__scalar",
    "trajectory.lion_map": "trajectory__lion_map__scalar",
}
_MAKERS = {"linear": _make_linear, "adam": _make_adam, "lion": _make_lion}
_KERNELS: dict[tuple[str, str], Callable] = {}


def _kernel(spec: TrajectoryMap, backend: str) -> Callable:
    """The loop for ``spec``: numba-compiled (cache=True) or, for ``"python"``, the same loop uncompiled."""
    key = (spec.derivation, backend)
    if key not in _KERNELS:
        step = getattr(G, _SCALAR[spec.derivation])
        if backend == "numba":
            _KERNELS[key] = _compiled(_MAKERS[spec.kind], step)
        else:
            _KERNELS[key] = _MAKERS[spec.kind](step)
    return _KERNELS[key]


def _numpy_block(inp: _Inputs, state, t0, lr, wd, L, bias_from, out_a, out_delta, out_elr) -> None:
    """The numpy reference for one block: one call of the vectorised generated map per step."""
    wdc, wdd = _split(inp, wd)
    kind, every = inp.spec.kind, inp.every
    if kind == "lion":
        w, qn = lion_arcsine_weights(inp.hyper["beta1"], inp.hyper["beta2"])
    for s in range(lr.size):
        t = t0 + s
        if kind == "linear":
            fn = G.trajectory__nesterov_map if inp.spec.nesterov else G.trajectory__heavy_ball_map
            a1, b1, c1, par, perp = fn(
                sq_norm=state[0],
                w_dot_v=state[1],
                v_sq_norm=state[2],
                lr=lr[s],
                weight_decay=wdc[s],
                decoupled_weight_decay=wdd[s],
                momentum=inp.hyper.get("momentum", 0.0),
                unit_grad_sq=L[s],
            )
            new, elr = np.array([a1, b1, c1]), lr[s] / state[0]
        elif kind == "adam":
            n = t - bias_from + 1
            c1, c2 = (1 - inp.hyper["beta1"] ** n, 1 - inp.hyper["beta2"] ** n) if bias_from >= 0 else (1.0, 1.0)
            a1, b1, cc, qq, par, perp, elr = G.trajectory__adam_map(
                sq_norm=state[0],
                w_dot_v=state[1],
                v_sq_norm=state[2],
                second_moment=state[3],
                lr=lr[s],
                unit_grad_sq=L[s],
                bias1=c1,
                bias2=c2,
                **_adam_args(inp, wdc[s], wdd[s]),
            )
            new = np.array([a1, b1, cc, qq])
        else:
            X = -inp.dim * float(np.dot(w, state[1:]))
            a1, par, perp = G.trajectory__lion_map(
                sq_norm=state[0], x_dot_update=X, lr=lr[s], weight_decay=wd[s], dim=float(inp.dim)
            )
            S = lr[s] + (1 - lr[s] * wd[s]) * qn * state[1:]
            new, elr = np.concatenate([[a1], S]), lr[s] / state[0]
        if t % every == 0:
            k = t // every
            out_a[k] = state[0]
            out_delta[k] = _angle(np.float64(par), np.float64(perp))
            out_elr[k] = elr
        state[:] = new


def _kappa(inp: _Inputs) -> float:
    """The factor κ = E‖ĝ‖²/d on E‖x‖² of AdamW (``adam.second_moment_kappa``, Gaussian noise), else 1.

    ``trajectory.adam_map`` replaces E[g²/v] by E[g²]/q (κ = 1). With decoupled decay and ε = 0 the update is
    scale-free, so E‖x_t‖² = Π_s ρ_s²·‖x₀‖² + (a part linear in the update's power): iterating the κ = 1 map
    from ‖x₀‖²/κ and multiplying by κ is then exact to first order in 1 − β₂, and agrees with ``predict``'s
    κ-applied AdamW norm at every fixed point; η_e ∝ 1/‖x‖ scales by 1/√κ, Δ is unchanged. With coupled L2
    the update depends on the norm and κ is not applied (as in ``predict``).
    """
    if inp.spec.kind != "adam" or not inp.decoupled:
        return 1.0
    return float(G.adam__second_moment_kappa(beta2=inp.hyper["beta2"], kurtosis=GAUSSIAN_KURTOSIS))


def _initial_state(inp: _Inputs, backend: str = "numpy") -> tuple[np.ndarray, int]:
    """(state, bias_from): the first step's equilibrium, or ‖w₀‖² with zero momentum (and fresh Adam moments)."""
    lr, wd, L = inp.block(0, 1)
    if inp.sq_norm0 is None:
        eq = _equilibrium(inp, lr, wd, L, backend)
        return np.ascontiguousarray(eq["state"][:, 0], dtype=np.float64), -1
    kind = inp.spec.kind
    if kind == "linear":
        size = 3
    elif kind == "adam":
        size = 4
    else:
        size = 1 + lion_arcsine_weights(inp.hyper["beta1"], inp.hyper["beta2"])[0].size
    state = np.zeros(size)
    state[0] = inp.sq_norm0
    return state, (0 if kind == "adam" else -1)


def _given_state(inp: _Inputs, state0: Any, default: np.ndarray) -> np.ndarray:
    """``state0`` checked against the map's state: the SGD family only (3 values, ‖w₀‖² > 0, ‖v‖² ≥ 0)."""
    if inp.spec.kind != "linear":
        raise InputError(f"state0 is supported for the SGD family only; optimizer {inp.spec.name!r} takes sq_norm0")
    s = np.asarray(state0, dtype=np.float64).ravel()
    if s.size != default.size or not np.all(np.isfinite(s)) or s[0] <= 0 or s[2] < 0:
        raise InputError(f"state0 must be (sq_norm > 0, w_dot_v, v_sq_norm >= 0), finite; got {state0!r}")
    return np.ascontiguousarray(s)


# --------------------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------------------
def trajectory(
    optimizer: str = "sgd",
    steps: int = 10_000,
    lr: Any = 0.1,
    weight_decay: Any = 5e-4,
    unit_grad_sq: Any = 1.0,
    momentum: float | None = None,
    *,
    beta1: float | None = None,
    beta2: float | None = None,
    eps: float | None = None,
    dim: int | None = None,
    sq_norm0: float | None = None,
    state0: Any = None,
    every: int = 1,
    lr_schedule: Any = None,
    wd_schedule: Any = None,
    grad_schedule: Any = None,
    wd_convention: str | None = None,
    backend: str = "numba",
    equilibrium: bool = True,
) -> Trajectory:
    """Predicted E‖w_t‖², RMS Δ_t, effective LR and ‖g_t‖/‖w_t‖ over a whole run, beside the instantaneous equilibrium.

    Iterates the mean-field one-step map derived for the optimizer (``trajectory.heavy_ball_map`` — SGD and
    SGDM; ``trajectory.nesterov_map``; ``trajectory.adam_map`` — Adam and AdamW with a lagging scalar second
    moment and bias corrections; ``trajectory.lion_map`` with the arcsine-law radial memory), with the
    hyperparameters of each step: η_t = lr(t)·lr_schedule(t), λ_t = weight_decay(t)·wd_schedule(t)·(the
    convention's factor), L_t = unit_grad_sq(t)·grad_schedule(t).

    Parameters
    ----------
    optimizer:
        ``sgd``, ``sgdm``, ``nesterov``, ``adam``, ``adamw`` or ``lion`` (:data:`MAPS`).
    steps:
        Number of iterations T ≥ 1.
    lr, weight_decay, unit_grad_sq:
        Each a scalar, a per-step array of length ≥ ``steps``, a :class:`spheretheory.schedules.Schedule` of
        absolute values or a schedule string; must stay > 0 with η_tλ_t < 1 (``ValueError`` naming the step).
    momentum, beta1, beta2, eps:
        The optimizer's hyperparameters (as in :func:`spheretheory.predict`; defaults α = 0, β₁ = 0.9,
        β₂ = 0.999 for Adam/AdamW and 0.99 for Lion, ε = 1e-8).
    dim:
        The number of weights in the group (needed by Adam, AdamW, Lion; the SGD family's mean-field map does
        not depend on it).
    sq_norm0:
        ‖w₀‖² with a zero momentum buffer (and, for Adam, zero moments with bias correction from t = 0);
        default: the fixed point of the first step's hyperparameters (the run starts at equilibrium).
    state0:
        The whole initial state of the map instead (overrides ``sq_norm0``): (‖w₀‖², ⟨w₀, v₋₁⟩, ‖v₋₁‖²) for the
        SGD family (v the momentum buffer before the first step), e.g. measured by the PyTorch monitor.
    every:
        Record every ``every``-th step (t = 0, every, 2·every, … ≤ T − 1).
    lr_schedule, wd_schedule, grad_schedule:
        Multipliers (anything :func:`spheretheory.schedules.as_schedule` accepts, e.g. ``"warmup:2000,cosine"``).
    wd_convention:
        ``None`` (the optimizer's default placement, λ fixed), or ``"coupled"``, ``"decoupled"``,
        ``"independent"`` (η_tλ_t fixed), ``"adamc"`` (λ_t = λη_t/η_max) — see
        :func:`spheretheory.schedules.weight_decay_convention`.
    backend:
        ``"numba"`` (compiled kernel) or ``"numpy"`` (the reference: one vectorised map call per step).
    equilibrium:
        Also compute the instantaneous equilibrium and the lags (default).

    Returns
    -------
    Trajectory
        Arrays per record: ``step``, ``lr``, ``weight_decay``, ``unit_grad_sq``, ``sq_norm``, ``angular_update``,
        ``effective_lr``, ``grad_norm_ratio``; with ``equilibrium``, ``*_equilibrium`` (the fixed point at that
        step's hyperparameters) and ``*_lag`` (value / equilibrium).
    """
    backend = check_choice("backend", backend, ("numba", "numpy"))
    inp = _inputs(
        optimizer,
        steps,
        lr,
        weight_decay,
        unit_grad_sq,
        lr_schedule,
        wd_schedule,
        grad_schedule,
        wd_convention,
        dim,
        sq_norm0,
        every,
        {"momentum": momentum, "beta1": beta1, "beta2": beta2, "eps": eps},
    )
    state, bias_from = _initial_state(inp, backend)
    if state0 is not None:  # the whole measured state (added for the PyTorch monitor; SGD family, κ = 1)
        state = _given_state(inp, state0, state)
    kappa = _kappa(inp)
    if inp.sq_norm0 is not None:
        state[0] /= kappa  # iterate the κ = 1 map in its own units (see _kappa)
    n_rec = (inp.steps - 1) // inp.every + 1
    out_a, out_delta, out_elr = np.empty(n_rec), np.empty(n_rec), np.empty(n_rec)
    rec_lr, rec_wd, rec_L = np.empty(n_rec), np.empty(n_rec), np.empty(n_rec)
    kernel = _kernel(inp.spec, "numba") if backend == "numba" else None
    h = inp.hyper
    if inp.spec.kind == "lion":
        w, qn = lion_arcsine_weights(h["beta1"], h["beta2"])
    for t0 in range(0, inp.steps, _BLOCK):
        t1 = min(inp.steps, t0 + _BLOCK)
        lr_b, wd_b, L_b = inp.block(t0, t1)
        first = -(-t0 // inp.every) * inp.every
        rec = slice(first // inp.every, (t1 - 1) // inp.every + 1)
        rec_lr[rec], rec_wd[rec], rec_L[rec] = (x[first - t0 :: inp.every] for x in (lr_b, wd_b, L_b))
        if kernel is None:
            _numpy_block(inp, state, t0, lr_b, wd_b, L_b, bias_from, out_a, out_delta, out_elr)
            continue
        wdc, wdd = _split(inp, wd_b)
        if inp.spec.kind == "linear":
            kernel(state, t0, lr_b, wdc, wdd, h.get("momentum", 0.0), L_b, inp.every, out_a, out_delta, out_elr)
        elif inp.spec.kind == "adam":
            kernel(
                state,
                t0,
                lr_b,
                wdc,
                wdd,
                L_b,
                h["beta1"],
                h["beta2"],
                h["eps"],
                float(inp.dim),
                bias_from,
                inp.every,
                out_a,
                out_delta,
                out_elr,
            )
        else:
            kernel(state, t0, lr_b, wd_b, float(inp.dim), w, qn, inp.every, out_a, out_delta, out_elr)
    if not np.all(np.isfinite(out_a) & (out_a > 0)):
        bad = int(np.argmax(~(np.isfinite(out_a) & (out_a > 0))))
        raise InputError(f"the predicted trajectory diverged (‖w‖² not finite and positive) by step {bad * inp.every}")
    out_a *= kappa
    out_elr /= np.sqrt(kappa)
    values: dict[str, np.ndarray] = {
        "step": np.arange(n_rec, dtype=np.int64) * inp.every,
        "lr": rec_lr,
        "weight_decay": rec_wd,
        "unit_grad_sq": rec_L,
        "sq_norm": out_a,
        "angular_update": out_delta,
        "effective_lr": out_elr,
        "grad_norm_ratio": np.sqrt(rec_L) / out_a,
    }
    if equilibrium:
        eq = _equilibrium(inp, rec_lr, rec_wd, rec_L, backend)
        eq["sq_norm"], eq["effective_lr"] = eq["sq_norm"] * kappa, eq["effective_lr"] / np.sqrt(kappa)
        eq["grad_norm_ratio"] = np.sqrt(rec_L) / eq["sq_norm"]
        for q in ("sq_norm", "angular_update", "effective_lr", "grad_norm_ratio"):
            values[f"{q}_equilibrium"] = eq[q]
            values[f"{q}_lag"] = values[q] / eq[q]
    values = {k: values[k] for k in SERIES if k in values}
    inputs = {
        "steps": inp.steps,
        "every": inp.every,
        "decoupled": inp.decoupled,
        "wd_convention": wd_convention,
        "lr_schedule": inp.lr.description,
        "wd_schedule": inp.wd.description,
        "grad_schedule": inp.grad.description,
        "initial_state": "equilibrium of the first step" if inp.sq_norm0 is None else f"sq_norm0={inp.sq_norm0:g}",
        **inp.hyper,
    }
    if inp.dim is not None:
        inputs["dim"] = inp.dim
    if state0 is not None:
        inputs["initial_state"] = "state0=(" + ", ".join(f"{x:g}" for x in np.ravel(state0)) + ")"
    return Trajectory(inp.spec.name, inputs, values)


# --------------------------------------------------------------------------------------------------------
# Inverse questions
# --------------------------------------------------------------------------------------------------------
def solve(
    optimizer: str,
    unknown: str,
    target: dict[str, float],
    *,
    lr: float | None = None,
    weight_decay: float | None = None,
    steps: int | None = None,
    at: float | None = None,
    lr_schedule: Any = None,
    wd_schedule: Any = None,
    wd_convention: str | None = None,
    **hyperparameters: Any,
) -> float:
    """The ``lr`` or ``weight_decay`` at which :func:`spheretheory.predict` gives ``target`` (constant run).

    With any of ``steps``, ``at``, ``lr_schedule``, ``wd_schedule``, ``wd_convention`` the run is scheduled and the
    question is about the trajectory instead: see :func:`_solve_scheduled` — the base value x (η or λ) such that
    q_t(x) = target at step t = ``at``, where q_t is :func:`trajectory`'s ``angular_update``, ``effective_lr`` or
    ``sq_norm`` at that step (iterating the map from the first step's equilibrium unless ``sq_norm0``/``state0``).

    ``target`` is one ``{key: value}`` with ``key`` a monotone output of ``predict`` in the unknown
    (``angular_update``, ``angular_update_first_order``, ``effective_lr``, ``equilibrium_sq_norm``,
    ``relaxation_steps``), or ``tau_iter``, the EMA timescale 1/(ηλ) (``ema.timescale``, Wang & Aitchison 2024).
    Solved by bisection in log(unknown) over (0, 1/other) to round-off; ``ValueError`` when the target is out of
    reach. E.g. ``solve("sgdm", "weight_decay", {"angular_update": 0.01}, lr=0.1,
    momentum=0.9)``.
    """
    from .prediction import predict

    unknown = check_choice("unknown", unknown, ("lr", "weight_decay"))
    if not isinstance(target, dict) or len(target) != 1:
        raise InputError(f"target must be one {{quantity: value}}; got {target!r}")
    schedule = {"lr_schedule": lr_schedule, "wd_schedule": wd_schedule, "wd_convention": wd_convention}
    if steps is not None or at is not None or any(v is not None for v in schedule.values()):
        return _solve_scheduled(optimizer, unknown, target, lr, weight_decay, steps, at, schedule, hyperparameters)
    (key, value), = target.items()  # fmt: skip
    allowed = ("angular_update", "angular_update_first_order", "effective_lr", "equilibrium_sq_norm",
               "relaxation_steps", "tau_iter")  # fmt: skip
    key = check_choice("target quantity", key, allowed)
    value = float(check_real(f"target {key}", value, low=0.0, low_inclusive=False))
    other_name = "weight_decay" if unknown == "lr" else "lr"
    other = weight_decay if unknown == "lr" else lr
    if other is None:
        raise InputError(f"solving for {unknown} needs {other_name}")
    other = float(check_real(other_name, other, low=0.0, low_inclusive=False))

    def f(log_x: np.ndarray) -> np.ndarray:
        kw = {unknown: np.exp(log_x), other_name: other}
        with np.errstate(all="ignore"):
            if key == "tau_iter":  # the EMA timescale 1/(ηλ) of Wang & Aitchison (2024), theory ema.timescale
                from .theory import get as _derivation

                return np.log(np.asarray(_derivation("ema.timescale")(**kw), dtype=float))
            return np.log(np.asarray(predict(optimizer, **kw, **hyperparameters).values[key], dtype=float))

    lo, hi = np.log(1e-16 / other), np.log((1.0 - 1e-12) / other)
    grid = np.linspace(lo, hi, 400)
    vals = f(grid) - np.log(value)
    sign = np.sign(vals)
    cross = np.flatnonzero(np.isfinite(vals[:-1]) & np.isfinite(vals[1:]) & (sign[:-1] * sign[1:] <= 0))
    if cross.size == 0:
        reach = vals[np.isfinite(vals)] + np.log(value)
        raise InputError(
            f"no {unknown} in (0, 1/{other_name}) gives {key}={value:g} (reachable: "
            f"{np.exp(reach.min()):.3g} to {np.exp(reach.max()):.3g})"
        )
    return _bisect_log(lambda u: float(f(np.array(u))) - np.log(value), grid[cross[0]], grid[cross[0] + 1],
                       vals[cross[0]], unknown)  # fmt: skip


def _bisect_log(g: Callable[[float], float], a: float, b: float, fa: float, unknown: str) -> float:
    """x = e^u with g(u) = 0, bisecting [a, b] (g(a) = fa, a sign change inside) in u = log x to round-off.

    ``InputError`` when g is not finite inside the bracket (no valid run there)."""
    if fa == 0.0:
        return float(np.exp(a))
    for _ in range(200):
        mid = 0.5 * (a + b)
        fm = g(mid)
        if not np.isfinite(fm):
            raise InputError(f"the run is not valid at {unknown}={np.exp(mid):g}, inside the bracket of the solve")
        if fm == 0.0:
            return float(np.exp(mid))
        if np.sign(fm) == np.sign(fa):
            a, fa = mid, fm
        else:
            b = mid
        if b - a < 1e-15:
            break
    return float(np.exp(0.5 * (a + b)))


#: What a scheduled :func:`solve` may target: the trajectory's values at one step.
SCHEDULED_TARGETS = ("angular_update", "effective_lr", "sq_norm")
#: Grid points of the bracket check (log-spaced over the whole admissible range of the unknown).
_SCHEDULED_GRID = 64


def at_step(at: Any, steps: int) -> int:
    """``at`` → a step index in [0, steps − 1]: an integer is a step index, a float in (0, 1] a fraction of the run
    (step round(f·(steps − 1)), as :meth:`Trajectory.at_fraction`)."""
    steps = check_int("steps", steps, low=1)
    if isinstance(at, (int, np.integer)) and not isinstance(at, bool):
        return check_int("at (a step index)", at, low=0, high=steps - 1)
    f = check_real("at (a fraction of the run)", at, low=0.0, high=1.0, low_inclusive=False)
    return int(np.round(float(f) * (steps - 1)))


def _solve_scheduled(optimizer, unknown, target, lr, weight_decay, steps, at, schedule, hyper) -> float:
    """Scheduled inverse question: the base x (``lr`` η or ``weight_decay`` λ) with q_t(x) = target at t = ``at``.

    q_t(x) is the value at step t of the iterated mean-field map of :func:`trajectory` (E‖w_t‖², RMS Δ_t or
    η_t/E‖w_t‖²) with η_t = η·s_η(t), λ_t = λ·s_λ(t)·(the convention's factor), started at the first step's
    equilibrium (or ``sq_norm0``/``state0``). The root of g(u) = log q_t(e^u) − log target is bracketed on a
    log-spaced grid of x over (1e-16, 1)/(other base value) — every point of the whole run must keep η_tλ_t < 1
    and a finite trajectory, others are left out — g is checked to be strictly monotone on that grid (else
    ``InputError``), and the bracket is bisected in u = log x to round-off.
    """
    if steps is None:
        raise InputError("a scheduled solve needs steps (the length of the run the schedules refer to)")
    steps = check_int("steps", steps, low=1)
    t = at_step(steps - 1 if at is None else at, steps)
    (key, value), = target.items()  # fmt: skip
    key = check_choice("target quantity (scheduled run)", key, SCHEDULED_TARGETS)
    value = float(check_real(f"target {key}", value, low=0.0, low_inclusive=False))
    other_name = "weight_decay" if unknown == "lr" else "lr"
    other = weight_decay if unknown == "lr" else lr
    if other is None:
        raise InputError(f"solving for {unknown} needs {other_name}")
    other = float(check_real(other_name, other, low=0.0, low_inclusive=False))
    for bad in ("every", "equilibrium", "backend"):
        if bad in hyper:
            raise InputError(f"solve does not take {bad} (it records only step {t})")

    def q(log_x: float) -> float:
        kw = {unknown: float(np.exp(log_x)), other_name: other}
        tr = trajectory(optimizer, steps, every=max(t, 1), equilibrium=False, **kw, **schedule, **hyper)
        return float(np.log(tr.values[key][t // max(t, 1)])) - np.log(value)

    errors: list[str] = []

    def q_or_nan(log_x: float) -> float:
        try:
            with np.errstate(all="ignore"):
                return q(log_x)
        except InputError as e:  # η_tλ_t ≥ 1 somewhere, a diverging run, or a bad input (reported below)
            errors.append(str(e))
            return np.nan

    grid = np.linspace(np.log(1e-16 / other), np.log((1.0 - 1e-12) / other), _SCHEDULED_GRID)
    vals = np.array([q_or_nan(u) for u in grid])
    ok = np.flatnonzero(np.isfinite(vals))
    if ok.size < 2:
        raise InputError(errors[-1] if errors else f"no {unknown} in (0, 1/{other_name}) gives a valid run")
    g, u = vals[ok], grid[ok]
    where = f"{key} at step {t} of {steps}"
    reach = f"reachable: {np.exp(g.min()) * value:.4g} to {np.exp(g.max()) * value:.4g}"
    diffs = np.diff(g)
    if not (np.all(diffs > 0) or np.all(diffs < 0)):
        turn = np.exp(u[int(np.argmax(np.sign(diffs) != np.sign(diffs[0])))])
        raise InputError(
            f"{where} is not monotone in {unknown} over (0, 1/{other_name}) (it turns near {unknown}={turn:.3g}; "
            f"{reach}): no unique solution"
        )
    sign = np.sign(g)
    cross = np.flatnonzero(sign[:-1] * sign[1:] <= 0)
    if cross.size == 0:
        raise InputError(f"no {unknown} in (0, 1/{other_name}) gives {where} = {value:g} ({reach})")
    return _bisect_log(q_or_nan, u[cross[0]], u[cross[0] + 1], g[cross[0]], unknown)
