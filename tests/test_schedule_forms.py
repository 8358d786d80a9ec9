"""theory.schedule_forms: the closed forms for scheduled runs against the iterated mean-field map (st.trajectory).

Each check states the approximation error it allows, from the neglected orders named in the derivation:
* the next term of the form's own expansion (``result.extra['next_order']``; ×1.5 for the terms after it);
* the slow-mode elimination: 2κ/(1 − m) relative, κ the slow rate where the form applies (at the freeze point, or
  at η_max during a warmup) and m the slowest fast mode (α for SGDM; β₁ and β₂ for AdamW — β₂'s lagging second
  moment is the largest term for AdamW: measured coefficients 0.08–0.2, bounded here by 2);
* O(ηλ) from the discrete steps and from the first-order equilibrium (2ηλ).
and a negative control shows the tolerance is tight enough to reject the form without its last term.
"""

from __future__ import annotations

import numpy as np
import pytest

import spheretheory as st
from spheretheory import schedules as S
from spheretheory import theory

SHAPE_OF = {"cosine": "cosine", "linear": "linear", "wsd_sqrt": "sqrt", "wsd_cosine": "cosine"}


def _schedule(kind, T, D):
    return {
        "cosine": S.Cosine(T),
        "linear": S.Linear(T),
        "wsd_sqrt": S.WSD(T, D, "sqrt"),
        "wsd_cosine": S.WSD(T, D, "cosine"),
    }[kind]


def _slow(opt, lr, wd, momentum=0.0, dim=None):
    if opt == "adamw":
        kappa, _ = theory.get("schedule_forms.slow_mode_adamw")(lr=lr, weight_decay=wd, dim=dim)
        return float(kappa), 1
    kappa, _ = theory.get("schedule_forms.slow_mode_sgdm")(lr=lr, weight_decay=wd, momentum=momentum, unit_grad_sq=1.0)
    return float(kappa), 2


def test_slow_modes_are_the_first_order_forms():
    """κ and y* of the slow mode equal the registered first-order gap and equilibrium (independent derivations)."""
    rng = np.random.default_rng(0)
    lr, wd, mom = rng.uniform(0.01, 0.5, 30), rng.uniform(1e-5, 1e-2, 30), rng.uniform(0, 0.99, 30)
    kappa, y_star = theory.get("schedule_forms.slow_mode_sgdm")(lr=lr, weight_decay=wd, momentum=mom, unit_grad_sq=2.0)
    gap = theory.get("sgdm.contraction").result.extra["first_order_gap"]
    syms = {s.name: s for s in gap.free_symbols}
    for i in range(3):
        sub = {syms["lr"]: lr[i], syms["weight_decay"]: wd[i], syms["momentum"]: mom[i]}
        assert kappa[i] == pytest.approx(float(gap.subs(sub)), rel=1e-12)
    x1 = theory.get("sgdm.equilibrium_sq_norm_first_order")(lr=lr, weight_decay=wd, momentum=mom, unit_grad_sq=2.0)
    np.testing.assert_allclose(np.sqrt(y_star), x1, rtol=1e-12)
    k_a, y_a = theory.get("schedule_forms.slow_mode_adamw")(lr=lr, weight_decay=wd, dim=64)
    np.testing.assert_allclose(y_a, theory.get("adamw.equilibrium_sq_norm_first_order")(lr=lr, weight_decay=wd, dim=64))
    np.testing.assert_allclose(k_a, 2 * lr * wd)


@pytest.mark.parametrize("kind", ["cosine", "linear", "wsd_sqrt"])
def test_end_shapes_are_the_schedules(kind):
    """(p, c, e₁) of the derivation against the numeric schedules of spheretheory.schedules near the end."""
    from spheretheory.theory.schedule_forms import end_shape

    sh = end_shape(SHAPE_OF[kind])
    T = D = 10**6
    s_left = np.array([1000, 3000, 10000])
    f = _schedule(kind, T, D).values(T - s_left)
    u = s_left / D
    model = float(sh["c"]) * u ** float(sh["p"]) * (1 + float(sh["e1"]) * u ** float(sh["q"]))
    # the remainder is the e₂u^{2q} term (+ the schedules' step offset, 1/s relative)
    np.testing.assert_allclose(f / model - 1, 0, atol=2 * (u ** (2 * float(sh["q"]))).max() + 2 / s_left.min())


CASES = [
    # (optimizer, kind, T, D, lr, wd, momentum or beta2, dim)
    ("sgd", "cosine", 200_000, 200_000, 0.1, 1e-3, 0.0, None),
    ("sgd", "cosine", 1_000_000, 1_000_000, 0.1, 1e-3, 0.0, None),
    ("sgdm", "cosine", 200_000, 200_000, 0.01, 1e-3, 0.9, None),
    ("sgd", "linear", 200_000, 200_000, 0.1, 1e-3, 0.0, None),
    ("sgdm", "linear", 200_000, 200_000, 0.01, 1e-3, 0.9, None),
    ("sgd", "wsd_sqrt", 1_000_000, 200_000, 0.1, 1e-3, 0.0, None),
    ("sgd", "wsd_cosine", 1_000_000, 500_000, 0.1, 1e-3, 0.0, None),
    ("adamw", "linear", 50_000, 50_000, 1e-3, 0.1, 0.99, 1024),
    ("adamw", "cosine", 200_000, 200_000, 1e-3, 0.1, 0.99, 1024),
]


def _freeze_case(opt, kind, T, D, lr, wd, m, dim):
    shape = SHAPE_OF[kind]
    sched = _schedule(kind, T, D)
    kw = dict(dim=dim, beta2=m) if opt == "adamw" else dict(momentum=m if opt == "sgdm" else None)
    tr = st.trajectory(opt, steps=T, lr=lr, weight_decay=wd, lr_schedule=sched, every=T - 1, equilibrium=False, **kw)
    kappa0, nu = _slow(opt, lr, wd, m if opt == "sgdm" else 0.0, dim)
    s_f = float(theory.get(f"schedule_forms.{shape}_freeze_steps")(rate=kappa0, decay_steps=D))
    phi = s_f / D
    t_f = int(round(T - s_f))
    lr_f = lr * float(sched.values([t_f])[0])
    eq_f = st.trajectory(opt, steps=1, lr=lr_f, weight_decay=wd, **kw).sq_norm_equilibrium[0]
    eq_0 = st.trajectory(opt, steps=1, lr=lr, weight_decay=wd, **kw).sq_norm_equilibrium[0]
    ratio = tr.sq_norm[-1] ** nu / eq_f**nu
    deriv = theory.get(f"schedule_forms.{shape}_frozen_ratio")
    form = float(deriv(freeze_fraction=phi))
    ex = deriv.result.extra
    nxt = abs(ex["next_order_coefficient"]) * phi ** ex["next_order_power"]
    kappa_f = kappa0 * float(sched.values([t_f])[0])
    fast = 2 * kappa_f * ((1 / (1 - 0.9) + 1 / (1 - m)) if opt == "adamw" else 1 / (1 - m))
    tol = 1.5 * nxt + fast + 2 * lr * wd + 2.0 / s_f  # + the rounding of the freeze step (p/s_f ≤ 2/s_f)
    rise = eq_0 / tr.sq_norm[-1]  # ‖g‖/‖w‖ = √L/‖w‖²: end of the run over the start of the decay (at equilibrium)
    rise_form = float(theory.get(f"schedule_forms.{shape}_grad_norm_rise")(freeze_fraction=phi, norm_power=nu))
    return ratio, form, ex["leading"], tol, rise, rise_form, nu


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_frozen_norm_and_late_gradient_rise_match_the_iterated_map(case):
    ratio, form, leading, tol, rise, rise_form, nu = _freeze_case(*case)
    assert abs(ratio - form) <= tol, (ratio, form, tol)
    # ‖g‖/‖w‖ rise: the frozen ratio's error, to the power 1/ν (+ the first-order start equilibrium, 2ηλ)
    assert abs(rise / rise_form - 1) <= (tol / form) / nu + 2 * case[4] * case[5]
    # negative controls: "the norm stops at the freeze point's equilibrium" (ratio 1) is rejected, and for shapes
    # with a correction so is the leading Γ term alone (the form without its last term)
    assert abs(ratio - 1.0) > tol
    if SHAPE_OF[case[1]] != "linear" and case[0] != "adamw":
        assert abs(ratio - leading) > tol


WARMUP_CASES = [
    # (optimizer, lr, wd, momentum/beta2, W, r0, dim)
    ("sgd", 0.1, 1e-4, 0.0, 50_000, 0.1, None),  # z = 1
    ("sgd", 0.1, 1e-4, 0.0, 5_000, 1e-4, None),  # z = 0.1 from a tiny norm
    ("sgdm", 0.01, 1e-4, 0.9, 5_000, 0.1, None),  # z = 0.1
    ("sgdm", 0.01, 1e-4, 0.9, 150_000, 3.0, None),  # z = 3 from above
    ("adamw", 1e-3, 1e-2, 0.99, 50_000, 0.1, 256),  # z = 0.5
]


def _warmup_case(opt, lr, wd, m, W, r0, dim):
    kw = dict(dim=dim, beta2=m) if opt == "adamw" else dict(momentum=m if opt == "sgdm" else None)
    kappa, nu = _slow(opt, lr, wd, m if opt == "sgdm" else 0.0, dim)
    eq = st.trajectory(opt, steps=1, lr=lr, weight_decay=wd, **kw)
    T = W + int(12 / kappa)
    tr = st.trajectory(
        opt, steps=T, lr=lr, weight_decay=wd, lr_schedule=S.Warmup(W, S.Constant(1.0)), equilibrium=False,
        sq_norm0=eq.sq_norm_equilibrium[0] * r0 ** (1 / nu), **kw,
    )  # fmt: skip
    z = kappa * W / 2
    fast = 1 / (1 - m) if opt != "adamw" else 1 / (1 - 0.9) + max(1.0, abs(1 / r0 - 1) ** 0.5) / (1 - m)
    tol = 2 * kappa * fast + 2 * lr * wd
    if opt != "adamw":  # the discrete steps: y_{t+1} gains η⁴L²/a_t² beyond the ODE (from the same trajectory)
        tol = tol + 2 * np.cumsum(tr.lr**4 / tr.sq_norm**2) / tr.sq_norm**2
    else:
        tol = np.full(T, tol)
    return tr, eq, z, kappa, nu, tol, kw


@pytest.mark.parametrize("case", WARMUP_CASES, ids=[f"{c[0]}-W{c[4]}-r{c[5]:g}" for c in WARMUP_CASES])
def test_warmup_overshoot_and_post_warmup_equilibration(case):
    opt, lr, wd, m, W, r0, dim = case
    tr, eq, z, kappa, nu, tol, kw = _warmup_case(*case)
    f = theory.get("schedule_forms.warmup_sq_norm_ratio")
    for v in (0.25, 0.5, 1.0):
        t = int(round(v * W)) - 1
        # step t has η = η_max·(t + 1)/W: its progress is (t + 1)/W
        form = float(f(warmup_relaxation=z, start_ratio=r0, warmup_progress=(t + 1) / W))
        eq_t = st.trajectory(opt, steps=1, lr=tr.lr[t], weight_decay=wd, **kw)
        it = (tr.sq_norm[t] / eq_t.sq_norm_equilibrium[0]) ** nu
        assert abs(it / form - 1) <= tol[t], (v, it, form, tol[t])
        # negative control: the large-z asymptote 1 − 1/(2zv²) (the form without its next order) is rejected
        if z * v * v < 3:
            assert abs(it / (1 - 1 / (2 * z * v * v) + r0 * np.exp(-z * v * v) / v) - 1) > tol[t]
    # the overshoot of the angular update at the end of the warmup, Δ/Δ* = (y/y*)^{-1/2}
    r_w = float(f(warmup_relaxation=z, start_ratio=r0, warmup_progress=1.0))
    lag = tr.angular_update / eq.angular_update_equilibrium[0]  # η = η_max from step W − 1 on
    assert abs(lag[W - 1] / r_w**-0.5 - 1) <= tol[W - 1] + 2 * lr * wd
    # steps after the warmup until |Δ/Δ* − 1| ≤ 1%
    rtol = 0.01
    post = theory.get("schedule_forms.post_warmup_steps")
    t_form = float(post(rate=kappa, warmup_relaxation=z, start_ratio=r0, rtol=rtol))
    bad = np.flatnonzero(np.abs(lag - 1) > rtol)
    t_iter = bad[-1] + 1 - W
    # a relative error ε of 1 − R_W shifts the time by ε/κ; an absolute error ε' of Δ/Δ* (its own O(ηλ) terms,
    # 2ηλ/(1 − α)) by ε'/(rtol·κ); the exact slow rate differs from κ by O(ηλ)·t
    m_fast = m if opt == "sgdm" else 0.0
    tol_t = (
        (tol[W - 1] / abs(1 - r_w)) / kappa
        + 2 * lr * wd / (1 - m_fast) / (rtol * kappa)
        + 2 * lr * wd * t_form / (1 - m_fast)
        + 2
    )
    assert abs(t_iter - t_form) <= tol_t, (t_iter, t_form, tol_t)
    # negative control: dropping the 1/2 of Δ ∝ y^{-1/2} (|Δ/Δ* − 1| ≈ |y/y* − 1|) is off by about ln 2/κ
    assert abs(t_iter - np.log(abs(1 - r_w) / rtol) / kappa) > tol_t


def test_warmup_ratio_numeric_matches_sympy():
    f = theory.get("schedule_forms.warmup_sq_norm_ratio")
    g = theory.get("schedule_forms.post_warmup_steps")
    for z, r0, v in [(1.0, 0.1, 1.0), (0.1, 0.0, 0.5), (5.0, 3.0, 0.3), (1e-3, 0.5, 1.0)]:
        kw = dict(warmup_relaxation=z, start_ratio=r0, warmup_progress=v)
        assert float(f(**kw)) == pytest.approx(f.evaluate_symbolic(**kw), rel=1e-10)
        kw = dict(rate=1e-4, warmup_relaxation=z, start_ratio=r0, rtol=0.01)
        assert float(g(**kw)) == pytest.approx(g.evaluate_symbolic(**kw), rel=1e-10, abs=1e-9)
