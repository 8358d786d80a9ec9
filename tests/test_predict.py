"""The prediction API: values, vectorization, bad input (fuzzed), lazy imports."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import spheretheory  # noqa: F401  (used in test_predict_function_survives_submodule_import)
from spheretheory.prediction import STANDARD_KEYS, lr_drop, optimizers, predict


def test_sgdm_values_follow_the_derivations():
    p = predict("sgdm", lr=0.1, weight_decay=5e-4, momentum=0.9, unit_grad_sq=2.0)
    eps, a = 0.1 * 5e-4, 0.9
    assert p.angular_update == pytest.approx(math.acos(1 - eps / (1 + a)), rel=1e-13)
    assert p.angular_update_first_order == pytest.approx(math.sqrt(2 * eps / (1 + a)), rel=1e-13)
    # Thm 2 (exact for the mean-field recursion)
    w4 = 2.0 * 0.1 / (5e-4 * (1 - a) * (2 - eps / (1 + a)))
    assert p.equilibrium_sq_norm == pytest.approx(math.sqrt(w4), rel=1e-12)
    assert p.equilibrium_norm == pytest.approx(w4**0.25, rel=1e-12)
    assert p.effective_lr == pytest.approx(0.1 / p.equilibrium_sq_norm, rel=1e-12)
    assert p.relaxation_steps == pytest.approx(-1 / math.log(p.contraction), rel=1e-9)
    d = p.to_dict()
    assert set(STANDARD_KEYS) <= set(d) and d["optimizer"] == "sgdm"


def test_vectorized_over_hyperparameter_grids():
    lr = np.array([0.01, 0.1, 1.0])[:, None]
    wd = np.array([1e-4, 5e-4])
    p = predict("sgdm", lr=lr, weight_decay=wd, momentum=0.9)
    assert p.angular_update.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            q = predict("sgdm", lr=float(lr[i, 0]), weight_decay=float(wd[j]), momentum=0.9)
            assert p.angular_update[i, j] == q.angular_update
            assert p.relaxation_steps[i, j] == q.relaxation_steps


def test_no_weight_decay_means_no_equilibrium():
    p = predict("sgd", lr=0.1, weight_decay=0.0)
    assert p.equilibrium_sq_norm == math.inf and p.angular_update == 0.0 and p.relaxation_steps == math.inf


def test_lr_drop_values_and_rescale():
    r = lr_drop("sgd", lr=0.1, weight_decay=1e-3, factor=10, rtol=0.01)
    assert r.paper_bound == math.ceil(math.log(10) / (2 * 1e-3 * 0.01))
    assert r.paper_bound_old_lr == math.ceil(math.log(10) / (2 * 1e-3 * 0.1))
    assert r.rescale_factor == pytest.approx(10**-0.25)
    # exact rescale: puts ‖w‖² at the new fixed point; agrees with k^(-1/4) to O(ηλ)
    assert abs(r.rescale_factor_exact / r.rescale_factor - 1) < 1e-3 * 0.1
    assert r.steps_continuous == pytest.approx(r.steps, rel=1e-3)


# -------------------------------------------------------------------------------------------------- bad input
BAD_REAL = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not (0 < x < 1e6) or math.isnan(x)),
    st.sampled_from([None, "0.1", True, 1j, [], [[0.1], [0.1, 0.2]], object()]),
)


@given(lr=BAD_REAL)
def test_bad_lr_raises_clear_error(lr):
    with pytest.raises((ValueError, TypeError), match="lr"):
        predict("sgd", lr=lr, weight_decay=1e-4)


@given(wd=st.one_of(st.floats(max_value=-1e-300), st.floats(min_value=10.0), st.just(float("nan"))))
def test_bad_weight_decay_raises(wd):
    with pytest.raises(ValueError, match="weight_decay"):
        predict("sgd", lr=0.1, weight_decay=wd)


@given(m=st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=1.0), st.just(float("inf"))))
def test_bad_momentum_raises(m):
    with pytest.raises(ValueError, match="momentum"):
        predict("sgdm", lr=0.1, weight_decay=1e-4, momentum=m)


@given(name=st.text(max_size=12).filter(lambda s: s.strip().lower() not in optimizers()))
def test_unknown_optimizer(name):
    with pytest.raises(ValueError, match="optimizer"):
        predict(name, lr=0.1, weight_decay=1e-4)


@given(k=st.one_of(st.floats(max_value=1.0), st.just(float("nan"))), rtol=st.floats(0.001, 0.1))
def test_bad_factor(k, rtol):
    with pytest.raises(ValueError, match="factor"):
        lr_drop("sgd", lr=0.1, weight_decay=1e-3, factor=k, rtol=rtol)


def test_sgd_rejects_momentum_but_accepts_zero():
    with pytest.raises(ValueError, match="sgdm"):
        predict("sgd", lr=0.1, weight_decay=1e-4, momentum=0.5)
    assert predict("sgd", lr=0.1, weight_decay=1e-4, momentum=0.0).angular_update > 0


@given(
    kwargs=st.fixed_dictionaries(
        {},
        optional={
            "lr": st.one_of(st.floats(), st.integers(-3, 3), st.none(), st.text(max_size=3)),
            "weight_decay": st.one_of(st.floats(), st.integers(-3, 3), st.none()),
            "momentum": st.one_of(st.floats(), st.none(), st.booleans()),
            "unit_grad_sq": st.one_of(st.floats(), st.integers(-2, 2)),
            "dim": st.one_of(st.integers(-5, 5), st.floats(), st.none()),
        },
    ),
    name=st.sampled_from(["sgd", "sgdm", "SGDM", "adamw", "lion", "bogus"]),
)
def test_fuzz_predict_only_raises_value_or_type_error(kwargs, name):
    """Whatever the input, predict returns values or raises ValueError/TypeError; a NaN is never silent.

    The registry's contract: a value with no hyperparameter-only prediction is NaN *and* a flag says why
    (``norm_needs_dim`` when ``dim`` was not given, ``*_hyperparameter_only`` / ``exact_available`` otherwise).
    """
    try:
        p = predict(name, **kwargs)
    except (ValueError, TypeError):
        return
    v = p.values
    if np.any(np.isnan(np.asarray(v["angular_update"], dtype=float))):
        assert v.get("angular_update_hyperparameter_only") is False, kwargs
    if np.any(np.isnan(np.asarray(v["equilibrium_sq_norm"], dtype=float))):
        assert v.get("norm_needs_dim") is True or v.get("norm_hyperparameter_only") is False, kwargs


# ---------------------------------------------------------------------------------------------- import cost
def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    return set(out)


def test_import_is_lazy():
    mods = _modules_after("import spheretheory")
    assert not {"sympy", "numba", "matplotlib", "scipy", "torch"} & {m.split(".")[0] for m in mods}


def test_predict_path_does_not_pay_for_sympy_or_numba():
    mods = _modules_after("import spheretheory as st; st.predict('sgdm', lr=0.1, weight_decay=5e-4, momentum=0.9)")
    assert not {"sympy", "numba"} & {m.split(".")[0] for m in mods}


def test_predict_function_survives_submodule_import():
    """``import spheretheory.prediction`` must not shadow the lazy ``spheretheory.predict`` function."""
    import spheretheory.prediction  # noqa: F401

    assert callable(spheretheory.predict)
    assert spheretheory.predict("sgd", lr=0.1, weight_decay=1e-3).angular_update > 0


def test_relaxation_time_of_oscillating_decay_follows_the_iterated_norm_recursion():
    """ηλ > 1/2 makes SGD's contraction μ negative (the deviation of ‖w‖² flips sign each step): the relaxation
    time is then the e-folding time of the envelope, −1/ln|μ|, checked against the exact norm recursion."""
    from spheretheory import theory

    lr, wd = 1.0, 0.9
    p = predict("sgd", lr=lr, weight_decay=wd)
    assert p.contraction < 0
    tau = p.relaxation_steps
    assert np.isfinite(tau) and tau > 0
    step = theory.get("sgd.norm_recursion")
    x_star = p.equilibrium_sq_norm
    x, t = x_star * (1 + 1e-6), 20  # a small deviation: the linearisation holds to O(1e-6)
    for _ in range(t):
        x = step(sq_norm=x, lr=lr, weight_decay=wd, unit_grad_sq=1.0)
    ratio = abs(x - x_star) / (1e-6 * x_star)
    assert ratio == pytest.approx(np.exp(-t / tau), rel=1e-3)
