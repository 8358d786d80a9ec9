"""The optimizer specs (spheretheory.optimizers): registry consistency, reference steps against torch, and the new
optimizers' predictions (Nesterov, AdamC, Muon) against simulation and against torch itself.

Tolerances of the statistical tests: each measured mean comes with a standard error across independent
trajectories (sample std of per-trajectory window means / √n), so a 4·SE band has a false-alarm rate of about 6e-5
per comparison; the mean-field formulas drop terms of relative order ηλ/(1−α) and 1/d, which is added as an
allowance, exactly as in tests/test_simulation_stats.py. Each test also checks that the prediction it confirms is
distinguishable from the nearest wrong one (e.g. SGDM's Δ* for Nesterov), so it can fail.
"""

from __future__ import annotations

import argparse
import importlib.util

import numpy as np
import pytest

from spheretheory import optimizers, theory
from spheretheory.prediction import STANDARD_KEYS, lr_drop, predict

HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="needs torch")


# ------------------------------------------------------------------------------------------------ registry
@pytest.mark.parametrize("name", list(optimizers.SPECS))
def test_spec_derivations_are_registered_and_compute_standard_keys(name):
    spec = optimizers.SPECS[name]
    known = set(theory.names())
    assert set(spec.derivations) <= known, set(spec.derivations) - known
    required = {"momentum": 0.5, "rows": 16, "cols": 32}  # hyperparameters without a default
    kw = {k: hp.default if hp.default is not None else required[k] for k, hp in spec.hyperparameters.items()}
    p = predict(name, lr=0.01, weight_decay=0.1, dim=64, **kw)
    assert set(STANDARD_KEYS) <= set(p.values)
    assert np.isfinite(p.angular_update) and p.angular_update > 0


def test_cli_flags_come_from_the_specs():
    parser = argparse.ArgumentParser()
    dests = optimizers.add_cli_flags(parser)
    every = {k for spec in optimizers.SPECS.values() for k in spec.hyperparameters}
    assert set(dests) == every
    args = parser.parse_args(["--beta1", "0.8"])
    assert optimizers.collect_cli_flags(args, dests) == {"beta1": 0.8}


# ---------------------------------------------------------------------------------- Nesterov: theory
def test_nesterov_recursion_method_reproduces_sgdm_and_norm_matches_sgdm_to_first_order():
    """The Nesterov mean field reduces to Wan et al.'s recursion when the step is v_t (checked in the derivation's
    construction); here: equal first-order norms, and Δ* larger by √(1 + 2α − 2α³) to first order."""
    kw = dict(lr=0.1, weight_decay=1e-5, momentum=0.9)
    n = predict("nesterov", **kw)
    s = predict("sgdm", **kw)
    assert n.equilibrium_sq_norm_first_order == pytest.approx(s.equilibrium_sq_norm_first_order, rel=1e-12)
    assert n.equilibrium_sq_norm == pytest.approx(s.equilibrium_sq_norm, rel=1e-4)
    ratio = n.angular_update_first_order / s.angular_update_first_order
    assert ratio == pytest.approx(np.sqrt(1 + 2 * 0.9 - 2 * 0.9**3), rel=1e-12)
    assert n.angular_update == pytest.approx(n.angular_update_first_order, rel=1e-4)
    assert 1.15 < ratio < 1.17  # the "about 16% larger at α = 0.9"


def test_nesterov_fixed_point_and_contraction_are_consistent_with_iterating_the_recursion():
    """Iterate the generated recursion from a perturbed fixed point: it returns to nesterov.equilibrium_state, and the
    deviation shrinks by μ = nesterov.contraction per step (ratio of successive deviations, late in the decay)."""
    from spheretheory.theory import _generated as G

    kw = dict(lr=0.1, weight_decay=1e-2, momentum=0.5)
    a, b, c = (float(x) for x in G.nesterov__equilibrium_state(**kw, unit_grad_sq=1.0))
    x = (a * 1.01, b, c)
    devs = []
    for _ in range(1500):
        x = G.nesterov__moment_recursion(sq_norm=x[0], w_dot_v=x[1], v_sq_norm=x[2], **kw, unit_grad_sq=1.0)
        devs.append(float(x[0]) - a)
    mu = float(theory.get("nesterov.contraction")(**kw))
    assert devs[-1] / devs[-2] == pytest.approx(mu, rel=1e-5)
    assert abs(devs[-1]) < 1e-3 * abs(devs[0])


def test_nesterov_lr_drop_numba_and_numpy_iterations_agree():
    from spheretheory.theory.iterate import steps_to_equilibrium, steps_to_equilibrium_numpy

    kw = dict(lr=np.array([0.1, 0.05]), weight_decay=1e-3, factor=10.0, rtol=0.01, momentum=0.9)
    a = steps_to_equilibrium("nesterov", **kw)
    b = steps_to_equilibrium_numpy("nesterov", **kw)
    np.testing.assert_array_equal(a, b)
    r = lr_drop("nesterov", lr=0.1, weight_decay=1e-3, factor=10, momentum=0.9)
    assert r.steps_continuous == pytest.approx(r.steps, rel=0.02)
    assert "paper_bound" not in r.values  # no printed bound for Nesterov
    s = lr_drop("sgdm", lr=0.1, weight_decay=1e-3, factor=10, momentum=0.9)
    assert r.steps != s.steps


# ---------------------------------------------------------------------------- Nesterov: simulation
def _rms_angle(r):
    m, v = r.summary["angular_update_mean"][0], r.summary["angular_update_var"][0]
    rms = np.sqrt(m**2 + v)
    return rms.mean(), rms.std(ddof=1) / np.sqrt(rms.size)


@pytest.mark.parametrize("method", ["numba", "reduced"])
def test_nesterov_prediction_matches_simulation(method):
    from spheretheory.simulation import simulate

    lr, wd, mom = 0.1, 1e-3, 0.9
    kw = dict(dim=128, steps=6000, trajectories=48, seed=3, record="summary")
    r = simulate("nesterov", lr, wd, mom, backend="numba", method="full" if method == "numba" else "reduced", **kw)
    st = r.equilibrium_stats()
    p = predict("nesterov", lr=lr, weight_decay=wd, momentum=mom)
    allowance = lr * wd / (1 - mom) + 1 / kw["dim"]
    sim, se = st["sq_norm"].mean[0], st["sq_norm"].se[0]
    assert abs(sim - p.equilibrium_sq_norm) < 4 * se + p.equilibrium_sq_norm * lr * wd / (1 - mom)
    rms, se = _rms_angle(r)
    assert abs(rms - p.angular_update) < 4 * se + p.angular_update * allowance, (rms, p.angular_update)
    wrong = predict("sgdm", lr=lr, weight_decay=wd, momentum=mom).angular_update
    assert abs(rms - wrong) > 4 * se + wrong * allowance  # SGDM's Δ* is rejected


@needs_torch
def test_nesterov_prediction_matches_torch_sgd_nesterov():
    """torch.optim.SGD(nesterov=True) on N independent rows w ∈ R^d with scale-invariant gradients: isotropic
    Gaussian noise projected ⟂ w, divided by ‖w‖ (E‖g̃‖² = 1). RMS angle and ‖w‖² over the second half vs predict."""
    import torch

    lr, wd, mom, d, n, steps = 0.1, 5e-3, 0.9, 64, 64, 2000  # relaxation ≈ (1 − α)/(4ηλ) = 50 steps
    out = _torch_run(torch.optim.SGD, dict(lr=lr, momentum=mom, nesterov=True, weight_decay=wd), d, n, steps)
    p = predict("nesterov", lr=lr, weight_decay=wd, momentum=mom)
    allowance = lr * wd / (1 - mom) + 1 / d
    assert abs(out["sq_norm"][0] - p.equilibrium_sq_norm) < 4 * out["sq_norm"][1] + p.equilibrium_sq_norm * allowance
    rms, se = out["rms_angle"]
    assert abs(rms - p.angular_update) < 4 * se + p.angular_update * allowance, (rms, p.angular_update)
    wrong = predict("sgdm", lr=lr, weight_decay=wd, momentum=mom).angular_update
    assert abs(rms - wrong) > 4 * se + wrong * allowance


def _torch_run(cls, kwargs, d, n, steps, seed=0, shape=None):
    """Rows (or matrices, ``shape``) with scale-invariant noise gradients; per-row window means of ‖w‖² and Δ²."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    shape = shape or (n, d)
    w = torch.nn.Parameter(torch.randn(*shape, generator=gen, dtype=torch.float64))
    opt = cls([w], **kwargs)
    axes = tuple(range(1, len(shape)))
    sq, ang2, count = torch.zeros(shape[0], dtype=torch.float64), torch.zeros(shape[0], dtype=torch.float64), 0
    for t in range(steps):
        with torch.no_grad():
            z = torch.randn(*shape, generator=gen, dtype=torch.float64)
            w2 = (w * w).sum(dim=axes, keepdim=True)
            z = z - (z * w).sum(dim=axes, keepdim=True) / w2 * w  # ⟂ w
            size = int(np.prod(shape[1:]))
            w.grad = z / np.sqrt(size - 1) / w2.sqrt()  # ‖g̃‖² = ‖z‖²/(size − 1), mean 1
            before = w.detach().clone()
        opt.step()
        if t >= steps // 2:
            with torch.no_grad():
                b2 = (before * before).sum(dim=axes)
                a2 = (w * w).sum(dim=axes)
                cos = (before * w).sum(dim=axes) / (b2 * a2).sqrt()
                sq += b2
                ang2 += torch.arccos(cos.clamp(-1, 1)) ** 2
                count += 1
    sq, rms = (sq / count).numpy(), np.sqrt((ang2 / count).numpy())
    return {
        "sq_norm": (sq.mean(), sq.std(ddof=1) / np.sqrt(sq.size)),
        "rms_angle": (rms.mean(), rms.std(ddof=1) / np.sqrt(rms.size)),
    }


# ------------------------------------------------------------------------------------------------------ AdamC
def test_adamc_is_adamw_at_constant_lr_and_scales_the_decay_with_the_lr():
    kw = dict(lr=1e-3, weight_decay=0.1, dim=256, beta1=0.9)
    a, w = predict("adamc", **kw), predict("adamw", **kw)
    assert a.optimizer == "adamc" and a.values.keys() == w.values.keys()
    for k, v in a.values.items():  # NaN-aware (finite-d keys without a value are NaN with a note)
        assert v == w.values[k] or (isinstance(v, float) and np.isnan(v) and np.isnan(w.values[k])), k
    spec = optimizers.SPECS["adamc"]
    assert spec.alias_of == "adamw" and spec.weight_decay_convention == "decoupled_lr_ratio"
    rng = np.random.default_rng(0)
    x, g = rng.normal(size=(4, 8)), rng.normal(size=(4, 8))
    same, _ = spec.step(x, g, {}, 1e-2, 0.1)
    ref, _ = optimizers.SPECS["adamw"].step(x, g, {}, 1e-2, 0.1)
    np.testing.assert_array_equal(same, ref)
    half, _ = spec.step(x, g, {}, 1e-2, 0.1, lr_max=2e-2)  # λ_t = λ η_t/η_max = 0.05
    ref, _ = optimizers.SPECS["adamw"].step(x, g, {}, 1e-2, 0.05)
    np.testing.assert_array_equal(half, ref)
    assert not np.array_equal(half, same)


# ---------------------------------------------------------------------------------------------- torch mapping
@needs_torch
def test_monitor_maps_torch_optimizers_through_the_specs():
    import torch

    from spheretheory.integrations.pytorch.monitor import optimizer_family

    p = [torch.nn.Parameter(torch.zeros(3))]

    def fam(opt):
        return optimizer_family(opt, opt.param_groups[0])

    assert fam(torch.optim.SGD(p, lr=0.1)) == ("sgd", {}, "")
    assert fam(torch.optim.SGD(p, lr=0.1, momentum=0.9)) == ("sgdm", {"momentum": 0.9}, "")
    assert fam(torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)) == ("nesterov", {"momentum": 0.9}, "")
    damped = {"momentum": 0.9, "dampening": 0.1}
    assert fam(torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1)) == ("sgdm_dampened", damped, "")
    assert fam(torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, maximize=True))[0] is None
    assert fam(torch.optim.AdamW(p, betas=(0.8, 0.99)))[:2] == ("adamw", {"beta1": 0.8, "beta2": 0.99, "eps": 1e-8})
    assert fam(torch.optim.Adam(p))[0] is None

    class AdamC(torch.optim.AdamW):
        pass

    assert fam(AdamC(p))[0] == "adamc"
    assert fam(torch.optim.RMSprop(p))[0] is None


@needs_torch
@pytest.mark.parametrize(
    "name,cls,kw",
    [
        ("sgd", "SGD", dict(lr=0.1, weight_decay=0.01)),
        ("sgdm", "SGD", dict(lr=0.1, weight_decay=0.01, momentum=0.9)),
        ("nesterov", "SGD", dict(lr=0.1, weight_decay=0.01, momentum=0.9, nesterov=True)),
        ("sgdm_dampened", "SGD", dict(lr=0.1, weight_decay=0.01, momentum=0.9, dampening=0.3)),
        ("adamw", "AdamW", dict(lr=0.01, weight_decay=0.1, betas=(0.8, 0.99), eps=1e-6)),
        ("adam", "Adam", dict(lr=0.01, weight_decay=0.1, betas=(0.8, 0.99), eps=1e-6)),
    ],
)
def test_reference_steps_match_torch(name, cls, kw):
    """Five steps of the spec's numpy step against torch.optim on the same gradients (float64, exact to rounding)."""
    import torch

    rng = np.random.default_rng(1)
    w = rng.normal(size=(4, 6))
    t = torch.nn.Parameter(torch.tensor(w))
    opt = getattr(torch.optim, cls)([t], **kw)
    fam, hyper, reason = optimizers.from_torch(opt, opt.param_groups[0])
    if name == "adam":  # mapped with a reason (no hyperparameter-only equilibrium): read the betas directly
        assert fam is None and "coupled" in reason
        hyper = optimizers.adamw.adam_group(opt.param_groups[0])
    else:
        assert fam == name
    state: dict = {}
    for _ in range(5):
        g = rng.normal(size=w.shape)
        t.grad = torch.tensor(g)
        opt.step()
        w, state = optimizers.SPECS[name].step(w, g, state, kw["lr"], kw["weight_decay"], **hyper)
    np.testing.assert_allclose(w, t.detach().numpy(), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------------------------------------- Muon
def test_muon_orth_moments_match_monte_carlo():
    """κ and s² from the Marchenko–Pastur quadrature against 200 Gaussian 32×64 matrices (exact polar and
    Newton–Schulz). Allowance: 4 SE of the Monte Carlo plus 1/k for the finite size the MP law neglects."""
    from spheretheory.optimizers.muon import orthogonalise

    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 32, 64))
    for ns_steps in (0, 5):
        kap, s2 = theory.get("muon.orth_moments")(rows=32, cols=64, ns_steps=ns_steps)
        o = orthogonalise(a, ns_steps)
        o2 = np.einsum("kij,kij->k", o, o) / 32
        assert abs(o2.mean() - s2) < 4 * o2.std(ddof=1) / np.sqrt(o2.size) + 1 / 32 + 1e-12
        ip = np.einsum("kij,kij->k", o, a)
        kap_mc = ip.mean() ** 2 / (np.einsum("kij,kij->k", o, o).mean() * np.einsum("kij,kij->k", a, a).mean())
        assert abs(kap_mc - kap) < 1 / 32
    assert theory.get("muon.orth_moments")(rows=32, cols=64, ns_steps=5)[1] < 0.8  # NS spread lowers the power


@pytest.mark.parametrize("rows, cols, ns_steps", [(16, 32, 5), (16, 16, 0), (16, 16, 5), (64, 8, 1), (3, 100, 0)])
def test_muon_orth_moments_midpoint_rule_matches_adaptive_quadrature(rows, cols, ns_steps):
    """The midpoint rule in θ against scipy's adaptive quad of the Marchenko–Pastur integrals in λ: 1e-10, or 1e-7
    for square matrices with the polar factor (√λ has a kink at λ₋ = 0 there: error ∝ 1/n², 3e-8 at n = 4000)."""
    from scipy.integrate import quad

    from spheretheory.theory.muon import newton_schulz_scalar, orth_moments

    k, big = min(rows, cols), max(rows, cols)
    q = k / big
    lo, hi = (1 - np.sqrt(q)) ** 2, (1 + np.sqrt(q)) ** 2

    def dens(lam):
        return np.sqrt(max((hi - lam) * (lam - lo), 0.0)) / (2 * np.pi * q * lam)

    def p(lam):
        return 1.0 if ns_steps == 0 else newton_schulz_scalar(np.sqrt(lam / k), ns_steps)

    e_pl = quad(lambda lam: p(lam) * np.sqrt(lam) * dens(lam), lo, hi, limit=200)[0]
    e_p2 = quad(lambda lam: p(lam) ** 2 * dens(lam), lo, hi, limit=200)[0]
    e_l = quad(lambda lam: lam * dens(lam), lo, hi, limit=200)[0]
    tol = 1e-7 if (rows == cols and ns_steps == 0) else 1e-10
    np.testing.assert_allclose(orth_moments(rows, cols, ns_steps), (e_pl**2 / (e_p2 * e_l), e_p2), atol=tol)


MUON = dict(lr=0.02, weight_decay=0.5, momentum=0.95)  # ηλ = 0.01: relaxation 50 steps, momentum memory 20


def _muon_window(res):
    """Per-trajectory window means of ‖W‖², RMS Δ and the update correlation (shape (n,) each, grid point 0)."""
    s = res.summary
    rms = np.sqrt(s["angular_update_mean"][0] ** 2 + s["angular_update_var"][0])
    return s["sq_norm_mean"][0], rms, res.extra["update_correlation_mean"][0]


def _mean_se(x):
    return x.mean(), x.std(ddof=1) / np.sqrt(x.size)


@pytest.mark.parametrize("ns_steps, nesterov", [(0, 1), (5, 1), (5, 0)])
def test_simulate_muon_matches_predict(ns_steps, nesterov):
    """``simulate("muon")`` against ``predict("muon")`` on 16×32 matrices, 16 trajectories × 800 steps (16 norm
    relaxation times 1/(2ηλ); the second half measured).

    Tolerance: 4·SE + a/k·prediction. SE = sample std (ddof=1) of the 16 independent per-trajectory window means
    / √16, i.e. the measured spread of the estimate itself, so a 4·SE band rejects a correct prediction with
    probability ≈ 6e-5; a = 1 and k = min(m, n) = 16 is the stated model error of the prediction (finite-size
    corrections of the Marchenko–Pastur moments and of the mean field, O(1/k)). The naive uncorrelated √(2ηλ) and
    Wen et al.'s hyperball norm (update correlation β^k) lie outside that band, so the test can fail; so does the
    prediction for the other momentum convention (heavy ball c₁ = β vs Nesterov's c₁)."""
    import spheretheory as st

    rows, cols = 16, 32
    res = st.simulate(
        "muon",
        **MUON,
        dim=(rows, cols),
        options={"ns_steps": ns_steps, "nesterov": nesterov},
        steps=800,
        trajectories=16,
        seed=4,
        record="summary",
        summary_fraction=0.5,
    )
    assert res.config["backend"] == "numba" and res.config["shape"] == (rows, cols)
    p = predict("muon", **MUON, rows=rows, cols=cols, ns_steps=ns_steps, nesterov=nesterov)
    other = predict("muon", **MUON, rows=rows, cols=cols, ns_steps=ns_steps, nesterov=1 - nesterov)
    allowance = 1 / min(rows, cols)
    sq, rms, corr = (_mean_se(x) for x in _muon_window(res))
    band = 4 * sq[1] + allowance * p.equilibrium_sq_norm
    assert abs(sq[0] - p.equilibrium_sq_norm) < band, (sq, p.equilibrium_sq_norm)
    if nesterov:  # the hyperball form is rejected (for the heavy ball its β^k is close to φ(β^k): not asserted)
        assert abs(sq[0] - p.equilibrium_sq_norm_hyperball) > band
    assert abs(sq[0] - other.equilibrium_sq_norm) > band
    assert abs(rms[0] - other.angular_update) > 4 * rms[1] + allowance * other.angular_update
    assert abs(corr[0] - other.update_correlation) > 4 * corr[1] + allowance
    assert abs(rms[0] - p.angular_update) < 4 * rms[1] + allowance * p.angular_update, (rms, p.angular_update)
    assert rms[0] < 0.5 * p.angular_update_uncorrelated
    assert abs(corr[0] - p.update_correlation) < 4 * corr[1] + allowance, (corr, p.update_correlation)
    elr = res.equilibrium_stats(quantities=("effective_lr",))["effective_lr"]
    assert abs(elr.mean[0] - p.effective_lr) < 4 * elr.se[0] + allowance * p.effective_lr


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(method="reduced"), "not available for optimizer='muon'"),
        (dict(backend="cupy"), "runs on the numba and numpy backends"),
        (dict(noise="anisotropic", spectrum=np.ones(12)), "noise='anisotropic' is not available"),
        (dict(decoupled=False), "decoupled"),
        (dict(dtype=np.float32), "float64"),
        (dict(dim=12), "pair (rows, cols)"),
        (dict(options={"ns_step": 3}), "options for optimizer='muon' are"),
        (dict(options={"adjust_lr_fn": "rms"}), "adjust_lr_fn must be None or one of"),
        (dict(options={"ns_steps": -1}), "ns_steps must be"),
        (dict(optimizer="sgd", options={"ns_steps": 3}), "options= is used only by muon"),
        (dict(optimizer="sgd", dim=(3, 4)), "dim=(rows, cols) is for muon"),
    ],
)
def test_simulate_muon_rejects_what_it_does_not_cover(kw, message):
    from spheretheory import simulate
    from spheretheory._validation import InputError

    call = dict(optimizer="muon", lr=0.02, weight_decay=0.5, dim=(3, 4), steps=3, trajectories=2, seed=0)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        simulate(**{**call, **kw})


def test_simulate_muon_options_and_defaults():
    """momentum=None is Muon's 0.95 (as predict); adjust_lr_fn="match_rms_adamw" is adjust_lr=1 (η' = 0.2·√max(m, n)
    η: with the polar factor ‖O‖² = min(m, n), so the recorded η'‖O‖/‖W‖ checks the scale exactly)."""
    from spheretheory import simulate

    res = simulate(
        "muon",
        lr=0.01,
        weight_decay=0.1,
        dim=(3, 5),
        steps=4,
        trajectories=2,
        seed=1,
        options={"adjust_lr_fn": "match_rms_adamw", "ns_steps": 0},
    )
    assert res.params["momentum"][0] == optimizers.SPECS["muon"].hyperparameters["momentum"].default
    assert res.config["options"] == {"nesterov": 1, "ns_steps": 0, "adjust_lr": 1}
    eta_prime = 0.01 * 0.2 * np.sqrt(5)
    expect = eta_prime * np.sqrt(3 / res.sq_norm)
    np.testing.assert_allclose(res.effective_lr, expect, rtol=1e-10)


@needs_torch
@pytest.mark.parametrize("nesterov", [True, False])
def test_simulate_muon_matches_torch_muon_step_by_step(nesterov):
    """simulate("muon") against torch.optim.Muon on the same weights and the same gradients (injected noise),
    12 steps on four 8×12 scale-invariant matrices. torch's Newton–Schulz runs in bfloat16 (unit roundoff 2⁻⁸): each
    step's update may differ by up to (5 iterations × 2⁻⁸) × its largest singular value (≤ 1.5) × η', and the
    differences add up over the steps (the gradient of W/‖W‖ is rescaled, not amplified, by the small changes of W)."""
    import torch

    from spheretheory import simulate

    rows, cols, n, steps, lr, wd, beta = 8, 12, 4, 12, 0.05, 0.2, 0.9
    rng = np.random.default_rng(3)
    w0 = rng.normal(size=(1, n, rows * cols))
    xi = rng.normal(size=(steps, 1, n, rows * cols))
    res = simulate(
        "muon",
        lr,
        wd,
        beta,
        dim=(rows, cols),
        steps=steps,
        trajectories=n,
        w0=w0,
        noise_draws=xi,
        seed=0,
        options={"nesterov": int(nesterov)},
    )
    ws = [torch.nn.Parameter(torch.tensor(w0[0, j].reshape(rows, cols))) for j in range(n)]
    opt = torch.optim.Muon(ws, lr=lr, weight_decay=wd, momentum=beta, nesterov=nesterov)
    assert optimizers.from_torch(opt, opt.param_groups[0])[1]["nesterov"] == int(nesterov)
    for t in range(steps):
        for j, w in enumerate(ws):
            x = w.detach().numpy().reshape(-1)
            z = xi[t, 0, j] / np.sqrt(rows * cols - 1)
            z = z - (z @ x) / (x @ x) * x  # the simulator's isotropic unit gradient ⟂ W, then G = g̃/‖W‖
            w.grad = torch.tensor((z / np.linalg.norm(x)).reshape(rows, cols))
        opt.step()
    torch_w = np.stack([w.detach().numpy().reshape(-1) for w in ws])
    step_size = lr * np.sqrt(max(1, rows / cols))
    np.testing.assert_allclose(res.w_final[0], torch_w, atol=steps * step_size * 5 * 2**-8 * 1.5)
    assert np.abs(res.w_final[0] - w0[0]).max() > 10 * steps * step_size * 5 * 2**-8 * 1.5  # the weights moved
    flipped = simulate(
        "muon",
        lr,
        wd,
        beta,
        dim=(rows, cols),
        steps=steps,
        trajectories=n,
        w0=w0,
        noise_draws=xi,
        seed=0,
        options={"nesterov": int(not nesterov)},
    )  # the other momentum convention is told apart by the tolerance
    assert np.abs(flipped.w_final[0] - torch_w).max() > 4 * steps * step_size * 5 * 2**-8 * 1.5


def test_simulate_cli_muon(monkeypatch, capsys):
    """``spheretheory simulate --optimizer muon`` with the spec's flags: JSON with the predictions beside the
    simulation; an unsupported method is a one-line error with exit code 2."""
    import json

    from spheretheory import cli

    monkeypatch.setattr("sys.argv", ["spheretheory"])
    argv = ["simulate", "--optimizer", "muon", "--rows", "4", "--cols", "6", "--lr", "0.02", "--wd", "0.5"]
    rc = cli.main([*argv, "--steps", "40", "--trajectories", "4", "--ns-steps", "0", "--json", "--no-progress"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["config"]["shape"] == [4, 6] and out["config"]["options"]["ns_steps"] == 0
    p = predict("muon", lr=0.02, weight_decay=0.5, rows=4, cols=6, ns_steps=0)
    assert out["predicted_sq_norm"] == pytest.approx(float(p.equilibrium_sq_norm))
    assert out["momentum"] == 0.95 and out["update_correlation_mean"] is not None
    rc = cli.main([*argv, "--steps", "4", "--method", "reduced"])
    err = capsys.readouterr().err
    assert rc == 2 and "method='reduced' is not available for optimizer='muon'" in err and "Traceback" not in err


@needs_torch
@pytest.mark.slow  # torch's bfloat16 Newton–Schulz is slow on CPU: minutes on a shared 2-core machine
def test_muon_prediction_matches_torch_muon():
    """torch.optim.Muon itself (bfloat16 Newton–Schulz) on independent 32×64 scale-invariant matrices:
    gradient = isotropic noise ⟂ W (Frobenius) / ‖W‖. Same tolerances as the numpy simulation test (8 matrices,
    600 steps: 12 relaxation times of the norm, 30 momentum memories)."""
    import torch

    rows, cols, n, steps = 32, 64, 8, 600
    gen = torch.Generator().manual_seed(5)
    ws = [torch.nn.Parameter(torch.randn(rows, cols, generator=gen, dtype=torch.float64) / 45) for _ in range(n)]
    opt = torch.optim.Muon(ws, lr=MUON["lr"], weight_decay=MUON["weight_decay"], momentum=MUON["momentum"])
    fam, hyper, _ = optimizers.from_torch(opt, opt.param_groups[0])
    assert fam == "muon" and hyper["rows"] == rows and hyper["cols"] == cols
    sq, ang2, count = np.zeros(n), np.zeros(n), 0
    for t in range(steps):
        before = []
        with torch.no_grad():
            for w in ws:
                z = torch.randn(rows, cols, generator=gen, dtype=torch.float64)
                z -= (z * w).sum() / (w * w).sum() * w
                w.grad = z / np.sqrt(rows * cols - 1) / w.norm()
                before.append(w.detach().clone())
        opt.step()
        if t >= steps // 2:
            with torch.no_grad():
                for i, (w, b) in enumerate(zip(ws, before, strict=True)):
                    sq[i] += float((b * b).sum())
                    cos = float((b * w).sum() / (b.norm() * w.norm()))
                    ang2[i] += np.arccos(min(cos, 1.0)) ** 2
            count += 1
    p = predict("muon", **hyper, lr=MUON["lr"], weight_decay=MUON["weight_decay"])
    allowance = 1 / rows
    sq, rms = sq / count, np.sqrt(ang2 / count)
    se_sq, se_rms = sq.std(ddof=1) / np.sqrt(n), rms.std(ddof=1) / np.sqrt(n)
    assert abs(sq.mean() - p.equilibrium_sq_norm) < 4 * se_sq + allowance * p.equilibrium_sq_norm
    assert abs(rms.mean() - p.angular_update) < 4 * se_rms + allowance * p.angular_update
    assert rms.mean() < 0.5 * p.angular_update_uncorrelated


@needs_torch
def test_muon_reference_step_matches_torch_with_exact_arithmetic_orthogonalisation():
    """The spec's numpy step against torch.optim.Muon: torch's Newton–Schulz runs in bfloat16 (unit roundoff 2⁻⁸),
    so each step's update may differ by up to (iterations × 2⁻⁸) × its largest singular value (≤ 1.5 after
    Newton–Schulz) × η'; the bound adds up over the 3 steps."""
    import torch

    rng = np.random.default_rng(2)
    w = rng.normal(size=(8, 12))
    t = torch.nn.Parameter(torch.tensor(w))
    opt = torch.optim.Muon([t], lr=0.05, weight_decay=0.1, momentum=0.9, adjust_lr_fn="match_rms_adamw")
    fam, hyper, _ = optimizers.from_torch(opt, opt.param_groups[0])
    assert fam == "muon" and hyper["adjust_lr"] == 1
    state: dict = {}
    for _ in range(3):
        g = rng.normal(size=w.shape)
        t.grad = torch.tensor(g)
        opt.step()
        w, state = optimizers.SPECS["muon"].step(w, g, state, 0.05, 0.1, **hyper)
    step_size = 0.05 * 0.2 * np.sqrt(12)
    np.testing.assert_allclose(w, t.detach().numpy(), atol=3 * step_size * 5 * 2**-8 * 1.5)


# ------------------------------------------------------------------------------------------------ sgdm_dampened
def test_sgdm_dampened_lr_drop_is_sgdm_at_the_damped_rate():
    """lr_drop("sgdm_dampened") is SGDM's recursion at η(1 − τ); the undamped reading (SGDM at η) differs."""
    from spheretheory._validation import InputError

    lr, wd, k, alpha, tau = 0.1, 1e-3, 10.0, 0.9, 0.5
    damped = lr_drop("sgdm_dampened", lr, wd, k, momentum=alpha, dampening=tau)
    same = lr_drop("sgdm", lr * (1 - tau), wd, k, momentum=alpha)
    for key in ("steps", "steps_continuous", "rescale_factor_exact", "old_equilibrium_sq_norm_per_L", "paper_bound"):
        assert damped.values[key] == same.values[key], key
    assert damped.values["new_lr"] == lr / k and damped.inputs["dampening"] == tau
    assert damped.values["steps"] != lr_drop("sgdm", lr, wd, k, momentum=alpha).values["steps"]
    with pytest.raises(InputError, match="dampening"):
        lr_drop("sgdm_dampened", lr, wd, k, momentum=alpha, dampening=1.0)
    with pytest.raises(InputError, match="takes no hyperparameters besides momentum"):
        lr_drop("sgdm", lr, wd, k, momentum=alpha, dampening=tau)


def test_sgdm_dampened_lr_drop_matches_its_reference_step():
    """The spec's torch-equivalent step (v_1 = d_1, v_t = αv_{t−1} + (1 − τ)d_t) on 512 scale-invariant vectors
    (d = 64, isotropic unit gradient ⟂ w over ‖w‖): equilibrate 400 steps at η, divide η by k = 4 and count the
    steps until the mean ‖w‖² is within rtol = 5% of the new equilibrium. Tolerance ±10% of the predicted count:
    near the crossing the mean moves ≈ 0.6% of x* per step while its standard error over 512 trajectories is
    ≈ √(2/d)/√512 ≈ 0.8% and the mean-field bias ≈ 0.6% (measured at the old equilibrium), i.e. a jitter of a few
    steps out of ≈ 56. The undamped reading (SGDM's recursion at η: ≈ 30 steps) is far outside."""
    lr, wd, k, alpha, tau, rtol = 0.5, 0.02, 4.0, 0.9, 0.5, 0.05
    pred = lr_drop("sgdm_dampened", lr, wd, k, rtol, momentum=alpha, dampening=tau)
    undamped = lr_drop("sgdm", lr, wd, k, rtol, momentum=alpha).values["steps"]
    step = optimizers.SPECS["sgdm_dampened"].step
    rng = np.random.default_rng(0)
    n, d = 512, 64

    def grad(w):
        z = rng.normal(size=w.shape) / np.sqrt(d - 1)
        z -= (np.sum(z * w, 1) / np.sum(w * w, 1))[:, None] * w
        return z / np.linalg.norm(w, axis=1)[:, None]

    w = rng.normal(size=(n, d))
    w *= np.sqrt(pred.values["old_equilibrium_sq_norm_per_L"] / np.sum(w * w, 1))[:, None]
    state: dict = {}
    for _ in range(400):
        w, state = step(w, grad(w), state, lr, wd, alpha, tau)
    x_new = pred.values["new_equilibrium_sq_norm_per_L"]
    crossed = None
    for t in range(1, 400):
        w, state = step(w, grad(w), state, lr / k, wd, alpha, tau)
        if abs(np.mean(np.sum(w * w, 1)) / x_new - 1) <= rtol:
            crossed = t
            break
    assert crossed is not None and abs(crossed - pred.values["steps"]) <= 0.1 * pred.values["steps"], crossed
    assert abs(undamped - pred.values["steps"]) > 0.3 * pred.values["steps"]
