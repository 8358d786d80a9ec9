"""Predictions from hyperparameters alone: equilibrium norm, angular update, effective LR, relaxation time.

>>> import spheretheory as st
>>> p = st.predict(optimizer="sgdm", lr=0.1, weight_decay=5e-4, momentum=0.9)
>>> round(p.angular_update_first_order, 6)        # Wan et al. Thm 3: sqrt(2 λ η / (1 + α))
0.007255

Every number comes from a registered derivation of :mod:`spheretheory.theory` (its numpy twin, generated from the
sympy expression). The optimizers are the specs of :mod:`spheretheory.optimizers` (one file each): a spec names
its hyperparameters (validated here) and a ``compute`` function; this module validates and broadcasts the
inputs and calls it. All functions broadcast over array arguments (hyperparameter grids).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._flags import fp_events, nonfinite_notes
from ._validation import InputError, broadcast, check_choice, check_dim, check_int, check_real, scalar_or_array
from .optimizers import SPECS, STANDARD_KEYS, HyperParameter, OptimizerSpec

__all__ = [
    "DESCRIPTIONS",
    "STANDARD_KEYS",
    "HyperParameter",
    "LrDrop",
    "OptimizerSpec",
    "Prediction",
    "lr_drop",
    "optimizers",
    "predict",
]

DESCRIPTIONS: dict[str, str] = {
    "angular_update": "equilibrium angular update Δ* per step (rad), exact for the discrete map",
    "angular_update_first_order": (
        "first-order Δ* (SGD/SGDM: Wan et al. Thm 3; AdamW: Kosson et al.; Lion: arcsine series, Kosson's form is "
        "angular_update_linearized)"
    ),
    "equilibrium_sq_norm": "equilibrium ‖w*‖² (fixed point of the norm recursion)",
    "equilibrium_sq_norm_first_order": "first-order ‖w*‖² (Wan et al. Thm 1/2 to first order)",
    "equilibrium_norm": "equilibrium ‖w*‖",
    "equilibrium_norm_first_order": "first-order ‖w*‖",
    "effective_lr": "equilibrium effective learning rate (η/‖w*‖² for SGD/SGDM, η/(r ν) for Adam)",
    "effective_lr_first_order": "first-order effective learning rate",
    "relaxation_steps": "e-folding time (steps) of the deviation of ‖w‖² from equilibrium",
    "contraction": "per-step linearised contraction μ of that deviation",
    "contraction_paper": "the paper's printed rate (for E[(‖w‖²−w*²)²])",
    "angular_update_mean": (
        "E[Δ_t] at width d (finite_d.sgdm_lna; SGD: Δ*·E[χ_{d−1}]/√(d−1); AdamW/Lion: fitted, see finite_d_basis)"
    ),
    "angular_update_rms": "√E[Δ_t²] at width d",
    "angular_update_std": "standard deviation of Δ_t at width d",
    "equilibrium_sq_norm_mean": "E‖w‖² at width d (fixed point + O(1/(d−1)) shift)",
    "equilibrium_sq_norm_std": "standard deviation of ‖w‖² at width d",
    "equilibrium_sq_norm_autocorr_time": "integrated autocorrelation time of ‖w_t‖² (steps)",
    "second_moment_kappa": (
        "AdamW: κ = E‖ĝ‖²/d = 1 − (1 − β₂)(K − 1)/2 for Gaussian noise (K = 3), applied to the norm keys"
    ),
    "second_moment_kappa_in_range": (
        "κ's range, ηλ ≤ 1 − β₂ (the norm relaxes slower than the second moment forgets); outside it, indicative"
    ),
    "finite_d_in_range": (
        "finite-d values within their validity range (derived: a real slow mode, ηλ ≤ (1 − √α)² for heavy ball, "
        "((1 − α)/(1 + α))² for Nesterov; fitted: the fitted betas, ηλ and d)"
    ),
    "finite_d_basis": "derived (finite_d.sgdm_lna), fitted (paper_checks/finite_d_fit.py, not a derivation) or none",
}


def optimizers() -> dict[str, OptimizerSpec]:
    """All optimizers, by name (the specs of :mod:`spheretheory.optimizers`)."""
    return dict(SPECS)


class Prediction:
    """Result of :func:`predict`: attribute access to every value, plus :meth:`to_dict`.

    Values are floats for scalar inputs and arrays (broadcast shape) for array inputs.
    """

    def __init__(self, optimizer: str, inputs: dict[str, Any], values: dict[str, Any]):
        self.optimizer = optimizer
        self.inputs = inputs
        self.values = values

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(f"{type(self).__name__} has no value {name!r}; available: {', '.join(values)}")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.values))

    def to_dict(self) -> dict[str, Any]:
        """``{"optimizer": ..., "inputs": {...}, <value keys>: ...}``."""
        return {"optimizer": self.optimizer, "inputs": dict(self.inputs), **self.values}

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"{type(self).__name__}(optimizer={self.optimizer!r}, {body})"


def _validate_common(lr, weight_decay, unit_grad_sq, dim) -> dict[str, Any]:
    lr = check_real("lr", lr, low=0.0, low_inclusive=False)
    weight_decay = check_real("weight_decay", weight_decay, low=0.0)
    unit_grad_sq = check_real("unit_grad_sq", unit_grad_sq, low=0.0, low_inclusive=False)
    if dim is not None:
        dim = check_dim(dim)
    return {"lr": lr, "weight_decay": weight_decay, "unit_grad_sq": unit_grad_sq, "dim": dim}


def _check_decay_product(lr: np.ndarray, weight_decay: np.ndarray, interval: str) -> None:
    lr, weight_decay = (np.atleast_1d(v) for v in np.broadcast_arrays(lr, weight_decay))
    with np.errstate(over="ignore"):  # an overflowing product is >= 1: refused below
        bad = np.argwhere(lr * weight_decay >= 1.0)
    if bad.size:
        i = tuple(bad[0])
        raise InputError(
            f"weight_decay must be in {interval} so that 1 - lr*weight_decay > 0; got "
            f"weight_decay={float(weight_decay[i])!r} with lr={float(lr[i])!r}"
        )


def _validate_hyper(spec: OptimizerSpec, given: dict[str, Any]) -> dict[str, np.ndarray]:
    unknown = [k for k, v in given.items() if v is not None and k not in spec.hyperparameters]
    if unknown:
        takes = ", ".join(spec.hyperparameters) or "no optimizer-specific hyperparameters"
        raise InputError(f"optimizer {spec.name!r} does not take {', '.join(unknown)} (it takes {takes})")
    out = {}
    for name, hp in spec.hyperparameters.items():
        value = given.get(name)
        if value is None:
            if hp.default is None:
                raise InputError(f"optimizer {spec.name!r} needs {name}")
            value = hp.default
        out[name] = hp.validate(name, value)
    return out


def predict(
    optimizer: str = "sgd",
    lr: Any = 0.1,
    weight_decay: Any = 5e-4,
    momentum: Any = None,
    unit_grad_sq: Any = 1.0,
    dim: int | None = None,
    quantiles: Any = None,
    **hyperparameters: Any,
) -> Prediction:
    """Predicted equilibrium of a scale-invariant weight from hyperparameters alone.

    Parameters
    ----------
    optimizer:
        A registered optimizer: ``"sgd"``, ``"sgdm"`` (heavy ball, PyTorch convention), and the Adam family when
        registered (see :func:`optimizers`).
    lr, weight_decay:
        Learning rate η > 0 and coupled weight decay λ ∈ [0, 1/η). Scalars or arrays (broadcast together).
    momentum:
        Heavy-ball α ∈ [0, 1) for ``sgdm`` (default 0); ``sgd`` accepts only 0; other optimizers reject it.
    unit_grad_sq:
        L = E‖g̃‖², the mean squared unit-gradient norm (Wan et al. Def. 2); it sets the norm, not the angle.
    dim:
        Dimension of the weight (needed by optimizers whose equilibrium depends on it, e.g. AdamW). It adds the
        finite-width keys ``angular_update_mean``, ``angular_update_rms``, ``angular_update_std``,
        ``equilibrium_sq_norm_mean``, ``equilibrium_sq_norm_std``, ``equilibrium_sq_norm_autocorr_time``,
        ``finite_d_in_range`` and ``finite_d_basis`` (:func:`spheretheory.theory.finite_d_numeric.finite_d_values`):
        derived for sgd/sgdw/sgdm/nesterov, fitted to the simulator for adamw/adamc/lion (default betas), NaN with
        the reason for adam (coupled L2) and muon. The d → ∞ keys are unchanged.
    quantiles:
        Levels in (0, 1) (with ``dim`` and scalar hyperparameters): adds ``angular_update_q<level>``, the
        quantiles of Δ_t at equilibrium.
    **hyperparameters:
        Optimizer-specific values (``beta1``, ``beta2``, ``eps``...).

    Returns
    -------
    Prediction
        With at least ``angular_update`` (exact Δ* = arccos(1 − ηλ/(1+α)) for SGD/SGDM),
        ``angular_update_first_order`` (√(2ηλ/(1+α)), Wan et al. Thm 3), ``equilibrium_sq_norm`` (exact fixed
        point; Thm 1/2), ``equilibrium_norm``, ``equilibrium_norm_first_order``, ``effective_lr`` (η/‖w*‖²) and
        ``relaxation_steps`` (−1/ln μ, μ the linearised contraction). With λ = 0 there is no equilibrium: the
        norm is inf, Δ* = 0 and the relaxation time is inf.
    """
    specs = optimizers()
    name = check_choice("optimizer", optimizer, specs)
    spec = specs[name]
    common = _validate_common(lr, weight_decay, unit_grad_sq, dim)
    if spec.needs_dim and common["dim"] is None:
        raise InputError(f"optimizer {name!r} needs dim (the number of weights in the group, an integer >= 2)")
    if "momentum" not in spec.hyperparameters and momentum is not None:
        if np.any(check_real("momentum", momentum) != 0):
            raise InputError(f"optimizer {name!r} does not take momentum{spec.momentum_hint}")
        momentum = None  # an explicit 0 means "no momentum": accepted
    hyper = _validate_hyper(spec, {"momentum": momentum, **hyperparameters})
    arrays = broadcast(lr=common["lr"], weight_decay=common["weight_decay"], unit_grad_sq=common["unit_grad_sq"],
                       **hyper)
    _check_decay_product(arrays["lr"], arrays["weight_decay"], "[0, 1/lr)")
    finite_d_reason = None
    finite_d_reasons: dict[str, str] = {}
    with fp_events() as fp:  # generated code: FP warnings are silenced and reported as notes
        values = spec.compute(dim=common["dim"], **arrays)
        if common["dim"] is not None:  # finite-width keys (issue 12), computed in the theory module
            from .theory.finite_d_numeric import FINITE_D_KEYS, finite_d_values

            try:
                fd = finite_d_values(name, dim=common["dim"], quantiles=quantiles, reference=values, **arrays)
                finite_d_reasons = fd.pop("_reasons", {})
                values.update(fd)
            except np.linalg.LinAlgError:  # the closure's linear system is singular (J ≈ I at tiny ηλ)
                nan = np.full(np.broadcast(*arrays.values()).shape, np.nan)
                values.update({k: nan for k in FINITE_D_KEYS})
                finite_d_reason = "the finite-width closure is singular at these hyperparameters (ηλ ≈ 0)"
    if common["dim"] is None and quantiles is not None:
        raise InputError("quantiles need dim (the finite-width law of Δ depends on the number of weights d)")
    missing = [k for k in STANDARD_KEYS if k not in values]
    if missing:  # pragma: no cover - a registry bug, not user input
        raise RuntimeError(f"optimizer {name!r} did not compute {missing}")
    inputs = {k: scalar_or_array(v) for k, v in arrays.items()}
    if common["dim"] is not None:
        inputs["dim"] = common["dim"]
    out = {k: (v if isinstance(v, (str, bool)) else scalar_or_array(v)) for k, v in values.items()}
    reasons = _nonfinite_reasons(out, arrays)
    reasons.update(finite_d_reasons)
    if finite_d_reason:
        reasons.update({k: finite_d_reason for k in FINITE_D_KEYS})
    out["notes"] = nonfinite_notes(out, reasons, fp.seen)
    return Prediction(name, inputs, out)


def _nonfinite_reasons(values: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict[str, str]:
    """Known reasons for nan/inf values (see spheretheory._flags.nonfinite_notes)."""
    reasons = {}
    if np.all(arrays["weight_decay"] == 0) or values.get("equilibrium_exists") is False:
        reasons["*"] = "no equilibrium without weight decay (λ = 0): ‖w‖ grows without bound"
    elif values.get("norm_needs_dim"):
        reasons["*"] = "scales with the number of weights in the group: pass dim (--dim)"
    elif values.get("norm_hyperparameter_only") is False:
        reasons["*"] = "no hyperparameter-only value exists (norm_hyperparameter_only is False)"
    return reasons


# ------------------------------------------------------------------------------------------------ LR drop
class LrDrop(Prediction):
    """Result of :func:`lr_drop` (values broadcast over array inputs); same access as :class:`Prediction`."""


def lr_drop(
    optimizer: str = "sgd",
    lr: Any = 0.1,
    weight_decay: Any = 1e-3,
    factor: Any = 10.0,
    rtol: Any = 0.01,
    momentum: Any = None,
    max_steps: int = 1_000_000_000,
    **hyperparameters: Any,
) -> LrDrop:
    """Steps to the new equilibrium after dividing the learning rate by ``factor`` (Wan et al. Corollary 3.1).

    ``hyperparameters`` are the spec's others beyond momentum (``dampening`` for sgdm_dampened, whose recursion
    is SGDM's run at the spec's ``lr_drop_rate`` η(1 − τ)).

    Starting at the old equilibrium (rate η), the recursion runs at η/k until |‖w‖²/x*_new − 1| ≤ rtol.

    Returns an :class:`LrDrop` with

    * ``steps`` — exact iteration of the derived recursion (``sgd.norm_recursion``, ``sgdm.moment_recursion``,
      ``nesterov.moment_recursion``: the spec's ``lr_drop`` prefix), run for at most min(``max_steps``,
      :data:`LR_DROP_ITERATION_CAP`) steps; beyond that it is nan and ``notes["steps"]`` says "not reached
      within N steps (closed form ≈ X)";
    * ``steps_continuous`` — closed form ln((ρ−1)/((1+r)²−1)) / (1 − μ(η/k)), ``*.lr_drop_steps_continuous``;
    * only where the paper printed a bound (sgd, sgdm): ``paper_bound`` — the printed ⌈ln(k)(1−α)/(2λη)⌉ with
      η = the new rate η/k, and ``paper_bound_old_lr`` with η = the old rate; ``paper_bound_valid`` /
      ``paper_bound_old_lr_valid`` say whether each is ≤ steps; ``critical_rtol`` — first-order tolerance
      below which the new-rate reading is a valid lower bound;
    * ``rescale_factor`` = k^(−1/4) (Wan et al. Sec. 4.2) and ``rescale_factor_exact`` = √(x*_new/x*_old), the
      factor on w that puts ‖w‖² exactly at the new fixed point, so that the transition vanishes.

    The unit-gradient power L cancels out of all of these (assumed unchanged by the drop).
    """
    from .theory import get as derivation
    from .theory import names as derivation_names
    from .theory.iterate import steps_to_equilibrium

    droppable = [n for n, spec in SPECS.items() if spec.lr_drop]
    name = check_choice("optimizer", optimizer, droppable)
    spec = SPECS[name]
    prefix = spec.lr_drop
    lr_a = check_real("lr", lr, low=0.0, low_inclusive=False)
    wd = check_real("weight_decay", weight_decay, low=0.0, low_inclusive=False)
    k = check_real("factor", factor, low=1.0, low_inclusive=False)
    r = check_real("rtol", rtol, low=0.0, low_inclusive=False)
    max_steps = check_int("max_steps", max_steps, low=1)
    has_momentum = "momentum" in spec.hyperparameters
    if not has_momentum:
        if momentum not in (None, 0, 0.0):
            raise InputError(f"optimizer {name!r} does not take momentum{spec.momentum_hint}")
        mom = np.asarray(0.0)
    else:
        hp = spec.hyperparameters["momentum"]
        mom = hp.validate("momentum", hp.default if momentum is None else momentum)
    others = [n for n in spec.hyperparameters if n != "momentum"]
    unknown = sorted(set(hyperparameters) - set(others))
    if unknown:
        raise InputError(
            f"lr_drop for {name!r} takes {', '.join(others) if others else 'no hyperparameters'} besides momentum; "
            f"got {', '.join(unknown)}"
        )
    extra = {n: spec.hyperparameters[n].validate(n, hyperparameters.get(n, spec.hyperparameters[n].default))
             for n in others}
    arr = broadcast(lr=lr_a, weight_decay=wd, factor=k, rtol=r, momentum=mom, **extra)
    _check_decay_product(arr["lr"], arr["weight_decay"], "(0, 1/lr)")
    rate = arr["lr"] if spec.lr_drop_rate is None else spec.lr_drop_rate(arr["lr"], **{n: arr[n] for n in others})
    kw = {"lr": rate, "weight_decay": arr["weight_decay"]}
    if has_momentum:
        kw["momentum"] = arr["momentum"]
    with fp_events() as fp:
        cont = np.asarray(
            derivation(f"{prefix}.lr_drop_steps_continuous")(**kw, factor=arr["factor"], rtol=arr["rtol"]), dtype=float
        )
        # iterate only as far as is quick (LR_DROP_ITERATION_CAP); beyond it the closed form answers
        cap = min(max_steps, LR_DROP_ITERATION_CAP)
        steps = steps_to_equilibrium(prefix, rate, arr["weight_decay"], arr["factor"], arr["rtol"],
                                     arr["momentum"], max_steps=cap)
        x_old = derivation(f"{prefix}.equilibrium_sq_norm")(**kw, unit_grad_sq=1.0)
        x_new = derivation(f"{prefix}.equilibrium_sq_norm")(**{**kw, "lr": rate / arr["factor"]},
                                                            unit_grad_sq=1.0)
        rescale_exact = (x_new / x_old) ** 0.5
        has_bound = f"{prefix}.lr_drop_paper_bound" in derivation_names()
        if has_bound:
            bound_new = derivation(f"{prefix}.lr_drop_paper_bound")(**{**kw, "lr": rate / arr["factor"]},
                                                                    factor=arr["factor"])
            bound_old = derivation(f"{prefix}.lr_drop_paper_bound")(**kw, factor=arr["factor"])
    not_reached = ~np.isfinite(steps)
    # the printed bound is valid when it is <= the true count; when the iteration stopped at the cap the count
    # is > cap, so a bound <= cap is valid for sure; otherwise judge it against the closed form
    reference = np.where(not_reached, np.maximum(cont, cap + 1), steps)
    paper: dict[str, Any] = {}
    if has_bound:
        critical = derivation(f"{prefix}.lr_drop_critical_rtol")
        paper = {
            "paper_bound": np.asarray(bound_new, dtype=float),
            "paper_bound_old_lr": np.asarray(bound_old, dtype=float),
            "paper_bound_valid": np.asarray(bound_new <= reference),
            "paper_bound_old_lr_valid": np.asarray(bound_old <= reference),
            "critical_rtol": np.asarray(critical(factor=arr["factor"]), dtype=float),
        }
    values = {
        "steps": np.where(not_reached, np.nan, steps),
        "steps_continuous": np.asarray(cont, dtype=float),
        **paper,
        "rescale_factor": arr["factor"] ** -0.25,
        "rescale_factor_exact": rescale_exact,
        "new_lr": arr["lr"] / arr["factor"],
        "old_equilibrium_sq_norm_per_L": x_old,
        "new_equilibrium_sq_norm_per_L": x_new,
    }
    out = {key: scalar_or_array(v) for key, v in values.items()}
    reasons = {}
    if np.any(not_reached):
        approx = ", ".join(f"{c:.4g}" for c in np.atleast_1d(cont[not_reached])[:4])
        reasons["steps"] = (
            f"not reached within {cap} steps of the exact iteration (closed form ≈ {approx} steps)"
            + ("; rtol is below what float64 resolves" if np.any(arr["rtol"] < 1e-12) else "")
        )
    out["notes"] = nonfinite_notes(out, reasons, fp.seen)
    if has_bound:
        for key, bound in (("paper_bound_valid", bound_new), ("paper_bound_old_lr_valid", bound_old)):
            if np.any(not_reached & (bound > cap)):
                out["notes"][key] = f"judged against the closed form (the bound is above the {cap}-step cap)"
    inputs = {key: scalar_or_array(v) for key, v in arr.items() if has_momentum or key != "momentum"}
    return LrDrop(name, inputs, out)


#: lr_drop iterates the exact recursion at most this many steps (well under a second with numba); beyond it the
#: closed form ``steps_continuous`` answers.
LR_DROP_ITERATION_CAP = 10_000_000
