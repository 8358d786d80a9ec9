"""Numeric functions generated from the sympy derivations. DO NOT EDIT.

Regenerate with ``python -m spheretheory.theory.codegen``; ``tests/test_theory.py`` fails when this file is out of
date. Each function is vectorized (numpy broadcasting) and named after its derivation (dots -> double underscores).
"""

# ruff: noqa
import numpy


def adam__effective_lr__adam(lr, norm, unit_v_mean, unit_sqrt_v_mean, eps):
    """Effective learning rate η_e = η/(r ν) of Adam"""
    return (lr/(norm*numpy.sqrt(eps**2*norm**2 + 2*eps*norm*unit_sqrt_v_mean + unit_v_mean))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(norm, dtype=float) + 0 * numpy.asarray(unit_v_mean, dtype=float) + 0 * numpy.asarray(unit_sqrt_v_mean, dtype=float) + 0 * numpy.asarray(eps, dtype=float))


def adam__effective_lr__adamg(lr, second_moment):
    """Effective learning rate η_e = η/(r ν) of AdamG (on the sphere, no momentum)"""
    return (lr/numpy.sqrt(second_moment)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(second_moment, dtype=float))


def adam__effective_lr__adamw(lr, weight_decay, norm, unit_v_mean, unit_sqrt_v_mean, eps):
    """Effective learning rate η_e = η/(r ν) of AdamW"""
    return (lr/(norm*(-lr*weight_decay + 1)*numpy.sqrt(eps**2*norm**2 + 2*eps*norm*unit_sqrt_v_mean + unit_v_mean))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(norm, dtype=float) + 0 * numpy.asarray(unit_v_mean, dtype=float) + 0 * numpy.asarray(unit_sqrt_v_mean, dtype=float) + 0 * numpy.asarray(eps, dtype=float))


def adam__effective_lr__sgd(lr, norm):
    """Effective learning rate η_e = η/(r ν) of SGD"""
    return (lr/norm**2) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(norm, dtype=float))


def adam__effective_lr__sgdm(lr, norm):
    """Effective learning rate η_e = η/(r ν) of SGD with heavy-ball momentum"""
    return (lr/norm**2) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(norm, dtype=float))


def adam__image_step_angle(eta_e, c_radial, c_tangential):
    """Exact angle of the image step on the sphere of the generic scheme x ← x − η a ⊘ b"""
    return (numpy.arctan2(c_tangential*eta_e, -c_radial*eta_e + 1)) + (0 * numpy.asarray(eta_e, dtype=float) + 0 * numpy.asarray(c_radial, dtype=float) + 0 * numpy.asarray(c_tangential, dtype=float))


def adam__image_step_norm_ratio(eta_e, c_radial, c_tangential):
    """Exact norm ratio r_{k+1}/r_k of the generic scheme"""
    return (numpy.sqrt(c_tangential**2*eta_e**2 + (-c_radial*eta_e + 1)**2)) + (0 * numpy.asarray(eta_e, dtype=float) + 0 * numpy.asarray(c_radial, dtype=float) + 0 * numpy.asarray(c_tangential, dtype=float))


def adam__second_moment_kappa(beta2, kurtosis):
    """κ = E‖ĝ‖²/d for a finite β₂ (first order in 1 − β₂): the factor on Adam/AdamW's E‖x‖²"""
    return ((1/2)*beta2*kurtosis - 1/2*beta2 - 1/2*kurtosis + 3/2) + (0 * numpy.asarray(beta2, dtype=float) + 0 * numpy.asarray(kurtosis, dtype=float))


def adam__sgd_adamg__beta(lr, weight_decay):
    """AdamG second-moment decay β equivalent to SGD + L2"""
    return ((-lr*weight_decay + 1)**4) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float))


def adam__sgd_adamg__lr(lr, weight_decay):
    """AdamG learning rate η' equivalent to SGD + L2 (exact; ≈ √(2ηλ))"""
    return ((1/2)*numpy.sqrt(2)*numpy.sqrt((1 - (-lr*weight_decay + 1)**4)/(-lr*weight_decay + 1)**4)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float))


def adam__sgd_adamg__relative_error(lr, weight_decay, unit_grad_sq, second_moment):
    """Relative per-step error of SGD+L2 ≡ AdamG: E_k/((1−β)‖g̃_k‖²)"""
    return (-1/4*unit_grad_sq*((lr*weight_decay - 1)**4 - 1)/(second_moment*(lr*weight_decay - 1)**2*(lr**2*weight_decay**2 - 2*lr*weight_decay + 1))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float) + 0 * numpy.asarray(second_moment, dtype=float))


def adam__sgd_adamg__v0(lr, weight_decay, norm):
    """AdamG initial second moment v_0 from SGD's initial norm r_0"""
    return ((1/2)*norm**4*(1 - (lr*weight_decay - 1)**4)/(lr**2*(lr*weight_decay - 1)**2)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(norm, dtype=float))


def adam__sgd_adamg__v0_lambda0(lr, norm):
    """λ = 0: SGD ≡ AdaGrad-norm on the sphere with η' = 1/√2 and v_0 = r_0⁴/(2η²)"""
    return ((1/2)*norm**4/lr**2) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(norm, dtype=float))


def adam_l2__angular_update_first_order(lr, weight_decay, dim, unit_grad_sq, beta1):
    """Adam + coupled L2: equilibrium angular update (depends on the gradient norm)"""
    return (2**(1/3)*dim**(1/3)*lr**(2/3)*weight_decay**(1/3)*numpy.sqrt(1 - beta1)/(unit_grad_sq**(1/6)*numpy.sqrt(beta1 + 1))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(dim, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float) + 0 * numpy.asarray(beta1, dtype=float))


def adam_l2__contraction(lr, weight_decay, dim, unit_grad_sq):
    """Adam + coupled L2: contraction of the mean norm recursion, first order"""
    return (-3/2*2**(2/3)*dim**(2/3)*lr**(4/3)*weight_decay**(2/3)/unit_grad_sq**(1/3) + 1) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(dim, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def adam_l2__contraction_lagged_v(lr, weight_decay, beta2, dim, unit_grad_sq):
    """Adam + L2: slow eigenvalue of the (norm, second moment) mean dynamics"""
    return ((1/2)*beta2 + dim*((1/2)*2**(2/3)*dim**(1/6)*lr**(4/3)*unit_grad_sq**(1/6)*weight_decay**(2/3) - numpy.sqrt(unit_grad_sq)/numpy.sqrt(dim))**2/unit_grad_sq + numpy.sqrt(-2**(1/3)*beta2*dim**(4/3)*lr**(8/3)*weight_decay**(4/3)/unit_grad_sq**(2/3) + (3/2)*2**(2/3)*beta2*dim**(2/3)*lr**(4/3)*weight_decay**(2/3)/unit_grad_sq**(1/3) - beta2 + (1/2)*2**(2/3)*dim**(2/3)*lr**(4/3)*weight_decay**(2/3)/unit_grad_sq**(1/3) + (1/4)*(beta2 + 2*dim*((1/2)*2**(2/3)*dim**(1/6)*lr**(4/3)*unit_grad_sq**(1/6)*weight_decay**(2/3) - numpy.sqrt(unit_grad_sq)/numpy.sqrt(dim))**2/unit_grad_sq - 1)**2) - 1/2) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(beta2, dtype=float) + 0 * numpy.asarray(dim, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def adam_l2__equilibrium_norm_first_order(lr, weight_decay, dim, unit_grad_sq):
    """Adam + coupled L2: equilibrium norm (η √d ‖g̃‖/(2λ))^{1/3} (needs the gradient norm)"""
    return ((1/2)*2**(2/3)*dim**(1/6)*lr**(1/3)*unit_grad_sq**(1/6)/weight_decay**(1/3)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(dim, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def adamsrt__angular_update(lr, weight_decay):
    """AdamSRT equilibrium angular update arccos(1 − ηλ) (no β₁ dependence)"""
    return (2*numpy.arcsin((1/2)*numpy.sqrt(2)*numpy.sqrt(lr)*numpy.sqrt(weight_decay))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float))


def adamsrt__equilibrium_sq_norm(lr, weight_decay, dim, beta1):
    """AdamSRT (decoupled decay) equilibrium E‖x‖²: the transported momentum has no radial part"""
    return (dim*lr*(beta1 - 1)/(weight_decay*(beta1 + 1)*(lr*weight_decay - 2))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(dim, dtype=float) + 0 * numpy.asarray(beta1, dtype=float))


def adamw__angular_update(lr, weight_decay, beta1):
    """AdamW equilibrium angular update, finite ηλ, with the radial part of the momentum"""
    return (numpy.arctan(numpy.sqrt(lr)*numpy.sqrt(weight_decay)*numpy.sqrt((beta1 - 1)**3/((lr*weight_decay - 2)*(beta1*lr*weight_decay - beta1 + 1)**2))*numpy.sqrt(beta1 + 1)*(lr*weight_decay - 2)*(beta1*lr*weight_decay - beta1 + 1)/((beta1 - 1)*(beta1 - lr*weight_decay + 1)))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(beta1, dtype=float))


def adamw__angular_update_first_order(lr, weight_decay, beta1):
    """AdamW equilibrium angular update to first order √(2ηλ(1−β₁)/(1+β₁))"""
    return (numpy.sqrt(2)*numpy.sqrt(lr)*numpy.sqrt(weight_decay)*numpy.sqrt(1 - beta1)/numpy.sqrt(beta1 + 1)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(beta1, dtype=float))


def adamw__contraction(lr, weight_decay, dim, unit_grad_sq, eps):
    """AdamW: linearised contraction μ of the mean norm recursion (relaxation ≈ −1/ln μ steps)"""
    return (-numpy.sqrt(2)*dim*eps*numpy.sqrt(lr)*(1 - (-lr*weight_decay + 1)**2)/(numpy.sqrt(unit_grad_sq)*numpy.sqrt(weight_decay)*(numpy.sqrt(2)*dim*eps*numpy.sqrt(lr)/(numpy.sqrt(unit_grad_sq)*numpy.sqrt(weight_decay)*(numpy.sqrt(2*numpy.sqrt(2)*dim*eps*numpy.sqrt(lr)/(numpy.sqrt(unit_grad_sq)*numpy.sqrt(weight_decay)) + 1) + 1)) + 1)*(numpy.sqrt(2*numpy.sqrt(2)*dim*eps*numpy.sqrt(lr)/(numpy.sqrt(unit_grad_sq)*numpy.sqrt(weight_decay)) + 1) + 1)) + (-lr*weight_decay + 1)**2) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(dim, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float) + 0 * numpy.asarray(eps, dtype=float))


def adamw__contraction_lagged_v(lr, weight_decay, beta2, dim, unit_grad_sq, eps):
    """AdamW: slow eigenvalue of the (norm, second moment) mean dynamics (relaxation ≈ −1/ln μ)"""
    return ((1/2)*beta2 + (lr*weight_decay - 1)**2 + numpy.sqrt((1/4)*(beta2 + 2*(lr*weight_decay - 1)**2 - 1)**2 - (2*numpy.sqrt(2)*beta2*numpy.sqrt(dim)*eps*lr**(5/2)*weight_decay**(3/2)/(numpy.sqrt(2*numpy.sqrt(2)*dim*eps*numpy.sqrt(lr)/(numpy.sqrt(unit_grad_sq)*numpy.sqrt(weight_decay)) + 1) + 1) - 4*numpy.sqrt(2)*beta2*numpy.sqrt(dim)*eps*lr**(3/2)*numpy.sqrt(weight_decay)/(numpy.sqrt(2*numpy.sqrt(2)*dim*eps*numpy.sqrt(lr)/(numpy.sqrt(unit_grad_sq)*numpy.sqrt(weight_decay)) + 1) + 1) + numpy.sqrt(2)*beta2*numpy.sqrt(dim)*eps*numpy.sqrt(lr)/(numpy.sqrt(weight_decay)*(numpy.sqrt(2*numpy.sqrt(2)*dim*eps*numpy.sqrt(lr)/(numpy.sqrt(unit_grad_sq)*numpy.sqrt(weight_decay)) + 1) + 1)) + beta2*lr**2*numpy.sqrt(unit_grad_sq)*weight_decay**2/numpy.sqrt(dim) - 2*beta2*lr*numpy.sqrt(unit_grad_sq)*weight_decay/numpy.sqrt(dim) + beta2*numpy.sqrt(unit_grad_sq)/numpy.sqrt(dim) + lr**2*numpy.sqrt(unit_grad_sq)*weight_decay**2/numpy.sqrt(dim) - 2*lr*numpy.sqrt(unit_grad_sq)*weight_decay/numpy.sqrt(dim))/(numpy.sqrt(2)*numpy.sqrt(dim)*eps*numpy.sqrt(lr)/(numpy.sqrt(weight_decay)*(numpy.sqrt(2*numpy.sqrt(2)*dim*eps*numpy.sqrt(lr)/(numpy.sqrt(unit_grad_sq)*numpy.sqrt(weight_decay)) + 1) + 1)) + numpy.sqrt(unit_grad_sq)/numpy.sqrt(dim))) - 1/2) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(beta2, dtype=float) + 0 * numpy.asarray(dim, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float) + 0 * numpy.asarray(eps, dtype=float))


def adamw__equilibrium_norm_eps(lr, weight_decay, dim, unit_grad_sq, eps):
    """AdamW equilibrium norm with ε > 0 (first order in ηλ)"""
    return (numpy.sqrt(2)*numpy.sqrt(dim)*numpy.sqrt(lr)/(numpy.sqrt(weight_decay)*(numpy.sqrt(2*numpy.sqrt(2)*dim*eps*numpy.sqrt(lr)/(numpy.sqrt(unit_grad_sq)*numpy.sqrt(weight_decay)) + 1) + 1))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(dim, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float) + 0 * numpy.asarray(eps, dtype=float))


def adamw__equilibrium_sq_norm(lr, weight_decay, dim, beta1):
    """AdamW equilibrium E‖x‖² (stationary, ε = 0)"""
    return (dim*lr**2*(beta1 - 1)*(beta1*(lr*weight_decay - 1) - 1)/((beta1 + 1)*(-beta1*(lr*weight_decay - 1) - 1)*((lr*weight_decay - 1)**2 - 1))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(dim, dtype=float) + 0 * numpy.asarray(beta1, dtype=float))


def adamw__equilibrium_sq_norm_first_order(lr, weight_decay, dim):
    """AdamW equilibrium E‖x‖² to first order: η d/(2λ)"""
    return ((1/2)*dim*lr/weight_decay) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(dim, dtype=float))


def adamw__equilibrium_sq_norm_hyperball(lr, weight_decay, dim, beta1):
    """AdamW ‖W_∞‖² in the exact discrete 'hyperball' form (a = 1 − ηλ), side by side with ours"""
    return (dim*lr**2*(1 - beta1)*(beta1*(-lr*weight_decay + 1) + 1)/((1 - (-lr*weight_decay + 1)**2)*(beta1 + 1)*(-beta1*(-lr*weight_decay + 1) + 1))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(dim, dtype=float) + 0 * numpy.asarray(beta1, dtype=float))


def ema__timescale(lr, weight_decay):
    """EMA timescale of weight decay, τ_iter = 1/(ηλ) iterations (Wang & Aitchison 2024)"""
    return (1/(lr*weight_decay)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float))


def finite_d__nesterov_hessian(sq_norm, w_dot_v, v_sq_norm, lr, weight_decay, momentum, unit_grad_sq):
    """Second derivatives of the Nesterov mean map (flattened 3×3×3), at any state"""
    _z = 0 * numpy.asarray(sq_norm, dtype=float) + 0 * numpy.asarray(w_dot_v, dtype=float) + 0 * numpy.asarray(v_sq_norm, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float)
    return tuple(_e + _z for _e in (2*lr**2*unit_grad_sq*(momentum**2 + 2*momentum + 1)/sq_norm**3, 0, 0, 0, 0, 0, 0, 0, 0, -2*lr*unit_grad_sq*(momentum + 1)/sq_norm**3, 0, 0, 0, 0, 0, 0, 0, 0, 2*unit_grad_sq/sq_norm**3, 0, 0, 0, 0, 0, 0, 0, 0,))


def finite_d__nesterov_jacobian(sq_norm, w_dot_v, v_sq_norm, lr, weight_decay, momentum, unit_grad_sq):
    """Jacobian of the Nesterov mean map (row-major 3×3), at any state"""
    _z = 0 * numpy.asarray(sq_norm, dtype=float) + 0 * numpy.asarray(w_dot_v, dtype=float) + 0 * numpy.asarray(v_sq_norm, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float)
    return tuple(_e + _z for _e in (lr**2*momentum**2*weight_decay**2 - lr**2*momentum**2*unit_grad_sq/sq_norm**2 + 2*lr**2*momentum*weight_decay**2 - 2*lr**2*momentum*unit_grad_sq/sq_norm**2 + lr**2*weight_decay**2 - lr**2*unit_grad_sq/sq_norm**2 - 2*lr*momentum*weight_decay - 2*lr*weight_decay + 1, 2*lr**2*momentum**3*weight_decay + 2*lr**2*momentum**2*weight_decay - 2*lr*momentum**2, lr**2*momentum**4, -lr*momentum*weight_decay**2 + lr*momentum*unit_grad_sq/sq_norm**2 - lr*weight_decay**2 + lr*unit_grad_sq/sq_norm**2 + weight_decay, -2*lr*momentum**2*weight_decay - lr*momentum*weight_decay + momentum, -lr*momentum**3, weight_decay**2 - unit_grad_sq/sq_norm**2, 2*momentum*weight_decay, momentum**2,))


def finite_d__nesterov_noise(sq_norm, w_dot_v, v_sq_norm, lr, weight_decay, momentum, unit_grad_sq, dim):
    """Nesterov at width d: noise vectors k_G, k_X and variances of the exact (‖w‖², ⟨w,v⟩, ‖v‖²) chain"""
    _z = 0 * numpy.asarray(sq_norm, dtype=float) + 0 * numpy.asarray(w_dot_v, dtype=float) + 0 * numpy.asarray(v_sq_norm, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float) + 0 * numpy.asarray(dim, dtype=float)
    return tuple(_e + _z for _e in (lr**2*(momentum**2 + 2*momentum + 1), lr*(-momentum - 1), 1, 2*lr**2*momentum**2*(momentum + 1), lr*momentum*(-2*momentum - 1), 2*momentum, 2*unit_grad_sq**2/(sq_norm**2*(dim - 1)), unit_grad_sq*(v_sq_norm - w_dot_v**2/sq_norm)/(sq_norm*(dim - 1)),))


def finite_d__nesterov_tan_angle(sq_norm, w_dot_v, v_sq_norm, lr, weight_decay, momentum, unit_grad_sq, dim):
    """Nesterov at width d: tan Δ_t = K√Z, Z ~ χ′²_{d−1}(μ²) given the state; returns (K, μ²)"""
    _z = 0 * numpy.asarray(sq_norm, dtype=float) + 0 * numpy.asarray(w_dot_v, dtype=float) + 0 * numpy.asarray(v_sq_norm, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float) + 0 * numpy.asarray(dim, dtype=float)
    return tuple(_e + _z for _e in (-lr*numpy.sqrt(unit_grad_sq)*(momentum + 1)*numpy.sqrt((dim - 1)**(-1.0))/(lr*momentum**2*w_dot_v + lr*momentum*sq_norm*weight_decay + lr*sq_norm*weight_decay - sq_norm), momentum**4*(dim - 1)*(sq_norm*v_sq_norm - w_dot_v**2)/(unit_grad_sq*(momentum + 1)**2),))


def finite_d__sgd_log_cos(lr, weight_decay):
    """SGD, any width and noise law: E[ln cos Δ_t] = ln(1 − ηλ) at equilibrium"""
    return (numpy.log(-lr*weight_decay + 1)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float))


def finite_d__sgd_sq_norm_moments(lr, weight_decay, unit_grad_sq, dim):
    """SGD at width d: (E‖w‖², Var‖w‖², lag-1 autocorrelation, integrated autocorrelation time)"""
    _z = 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float) + 0 * numpy.asarray(dim, dtype=float)
    return tuple(_e + _z for _e in (numpy.sqrt(lr)*numpy.sqrt(unit_grad_sq)*(dim*lr**2*weight_decay**2 - 2*dim*lr*weight_decay + dim - 5/4*lr**2*weight_decay**2 + (5/2)*lr*weight_decay - 1)/(numpy.sqrt(weight_decay)*(-1/(lr*weight_decay - 2))**(3/2)*(dim - 1)*(lr*weight_decay - 2)**2*(lr*weight_decay - 1)**2), (1/2)*lr**2*unit_grad_sq/((dim - 1)*(lr*weight_decay - 1)**2), 2*lr**2*weight_decay**2 - 4*lr*weight_decay + 1, -(lr*weight_decay - 1)**2/(lr*weight_decay*(lr*weight_decay - 2)),))


def finite_d__sgd_tan_angle(lr, weight_decay):
    """SGD at width d: tan Δ_t = tan Δ*·(x*/‖w_t‖²)·χ_{d−1}/√(d−1) (returns tan Δ*)"""
    return (-numpy.sqrt(lr)*numpy.sqrt(weight_decay)/(numpy.sqrt(-1/(lr*weight_decay - 2))*(lr*weight_decay - 1))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float))


def finite_d__sgdm_hessian(sq_norm, w_dot_v, v_sq_norm, lr, weight_decay, momentum, unit_grad_sq):
    """Second derivatives of the SGDM mean map (flattened 3×3×3), at any state"""
    _z = 0 * numpy.asarray(sq_norm, dtype=float) + 0 * numpy.asarray(w_dot_v, dtype=float) + 0 * numpy.asarray(v_sq_norm, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float)
    return tuple(_e + _z for _e in (2*lr**2*unit_grad_sq/sq_norm**3, 0, 0, 0, 0, 0, 0, 0, 0, -2*lr*unit_grad_sq/sq_norm**3, 0, 0, 0, 0, 0, 0, 0, 0, 2*unit_grad_sq/sq_norm**3, 0, 0, 0, 0, 0, 0, 0, 0,))


def finite_d__sgdm_jacobian(sq_norm, w_dot_v, v_sq_norm, lr, weight_decay, momentum, unit_grad_sq):
    """Jacobian of the SGDM mean map (row-major 3×3), at any state"""
    _z = 0 * numpy.asarray(sq_norm, dtype=float) + 0 * numpy.asarray(w_dot_v, dtype=float) + 0 * numpy.asarray(v_sq_norm, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float)
    return tuple(_e + _z for _e in (lr**2*weight_decay**2 - lr**2*unit_grad_sq/sq_norm**2 - 2*lr*weight_decay + 1, 2*lr**2*momentum*weight_decay - 2*lr*momentum, lr**2*momentum**2, -lr*weight_decay**2 + lr*unit_grad_sq/sq_norm**2 + weight_decay, -2*lr*momentum*weight_decay + momentum, -lr*momentum**2, weight_decay**2 - unit_grad_sq/sq_norm**2, 2*momentum*weight_decay, momentum**2,))


def finite_d__sgdm_noise(sq_norm, w_dot_v, v_sq_norm, lr, weight_decay, momentum, unit_grad_sq, dim):
    """SGDM at width d: noise vector k and Var(h_t | state) of the exact (‖w‖², ⟨w,v⟩, ‖v‖²) chain"""
    _z = 0 * numpy.asarray(sq_norm, dtype=float) + 0 * numpy.asarray(w_dot_v, dtype=float) + 0 * numpy.asarray(v_sq_norm, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float) + 0 * numpy.asarray(dim, dtype=float)
    return tuple(_e + _z for _e in (lr**2, -lr, 1, 2*unit_grad_sq*(2*momentum**2*(sq_norm*v_sq_norm - w_dot_v**2) + unit_grad_sq)/(sq_norm**2*(dim - 1)),))


def finite_d__sgdm_tan_angle(sq_norm, w_dot_v, v_sq_norm, lr, weight_decay, momentum, unit_grad_sq, dim):
    """SGDM at width d: tan Δ_t = K√Z, Z ~ χ′²_{d−1}(μ²) given the state; returns (K, μ²)"""
    _z = 0 * numpy.asarray(sq_norm, dtype=float) + 0 * numpy.asarray(w_dot_v, dtype=float) + 0 * numpy.asarray(v_sq_norm, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float) + 0 * numpy.asarray(dim, dtype=float)
    return tuple(_e + _z for _e in (-lr*numpy.sqrt(unit_grad_sq)*numpy.sqrt((dim - 1)**(-1.0))/(lr*momentum*w_dot_v + lr*sq_norm*weight_decay - sq_norm), momentum**2*(dim - 1)*(sq_norm*v_sq_norm - w_dot_v**2)/unit_grad_sq,))


def kunin__momentum_continuous_error(lr, weight_decay, momentum):
    """Error of Kunin et al.'s oscillator against the discrete recursion: (slow, fast) mode rate ratio − 1"""
    _z = 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float)
    return tuple(_e + _z for _e in (-4*lr*weight_decay/((1 - momentum)*(numpy.sqrt(-4*lr*weight_decay*(momentum + 1)/(1 - momentum)**2 + 1) + 1)*numpy.log1p(-lr*weight_decay - 1/2*(-4*lr**2*weight_decay**2 + 4*lr*weight_decay*(momentum + 1))/((1 - momentum)*(numpy.sqrt(1 - (-4*lr**2*weight_decay**2 + 4*lr*weight_decay*(momentum + 1))/(1 - momentum)**2) + 1)))) - 1, -(1 - momentum)*(numpy.sqrt(-4*lr*weight_decay*(momentum + 1)/(1 - momentum)**2 + 1) + 1)/((momentum + 1)*numpy.log(-lr*weight_decay + (1/2)*momentum - 1/2*(1 - momentum)*numpy.sqrt(1 - (-4*lr**2*weight_decay**2 + 4*lr*weight_decay*(momentum + 1))/(1 - momentum)**2) + 1/2)) - 1,))


def kunin__momentum_continuous_error_leading(lr, weight_decay, momentum):
    """Leading errors of Kunin et al.'s oscillator: slow mode (2/3)(ηλ/(1 − α))² (no first-order term), fast mode 2(1 − α)/((1 + α)(−ln α)) − 1"""
    _z = 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float)
    return tuple(_e + _z for _e in ((2/3)*lr**2*weight_decay**2/(momentum - 1)**2, (2*momentum - (momentum + 1)*numpy.log(momentum) - 2)/((momentum + 1)*numpy.log(momentum)),))


def kunin__momentum_norm_recursion(sq_norm, sq_norm_prev, v_sq_norm, v_sq_norm_prev, lr, weight_decay, momentum):
    """Exact discrete norm recursion of heavy-ball SGD: a_{k+1} from (a_k, a_{k−1}, ‖v_k‖², ‖v_{k−1}‖²)"""
    return (lr**2*momentum*v_sq_norm_prev + lr**2*v_sq_norm - 2*lr*sq_norm*weight_decay + momentum*sq_norm - momentum*sq_norm_prev + sq_norm) + (0 * numpy.asarray(sq_norm, dtype=float) + 0 * numpy.asarray(sq_norm_prev, dtype=float) + 0 * numpy.asarray(v_sq_norm, dtype=float) + 0 * numpy.asarray(v_sq_norm_prev, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float))


def kunin__momentum_oscillator(lr, weight_decay, momentum):
    """Kunin et al.: |θ|² of heavy-ball SGD as a damped oscillator N̈ + 2γṄ + ω²N = 2|θ̇|², (γ, ω²) per unit t"""
    _z = 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float)
    return tuple(_e + _z for _e in ((1 - momentum)/(lr*(momentum + 1)), 4*weight_decay/(lr*(momentum + 1)),))


def kunin__sgd_continuous_error(lr, weight_decay):
    """Error of Kunin et al.'s continuous-time SGD norm: (equilibrium a*/N* − 1, relaxation-rate ratio − 1)"""
    _z = 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float)
    return tuple(_e + _z for _e in (numpy.sqrt(2)*numpy.sqrt(-1/(lr*weight_decay - 2)) - 1, -4*lr*weight_decay/numpy.log1p(2*lr**2*weight_decay**2 - 4*lr*weight_decay) - 1,))


def kunin__sgd_continuous_error_first_order(lr, weight_decay):
    """First-order terms of the error of Kunin et al.'s SGD form: equilibrium ηλ/4, relaxation rate −3ηλ/2"""
    _z = 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float)
    return tuple(_e + _z for _e in ((1/4)*lr*weight_decay, -3/2*lr*weight_decay,))


def kunin__sgd_sq_norm(sq_norm0, lr, weight_decay, unit_grad_sq, step):
    """Kunin et al.: continuous-time |θ(t)|² of SGD, closed with |g|² = L/|θ|², at t = η·step"""
    return (numpy.sqrt((1/2)*lr*unit_grad_sq/weight_decay - 1/2*lr*unit_grad_sq*numpy.exp(-4*lr*step*weight_decay)/weight_decay + sq_norm0**2*numpy.exp(-4*lr*step*weight_decay))) + (0 * numpy.asarray(sq_norm0, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float) + 0 * numpy.asarray(step, dtype=float))


def li_arora__growth_root(lr, weight_decay, momentum):
    """Li & Arora: the root r of r² − (1 + γ − ηλ)r + γ = 0 that maps SGD+WD+momentum to WD-free exp-LR SGD"""
    return (-1/2*lr*weight_decay + (1/2)*momentum + (1/2)*numpy.sqrt(lr**2*weight_decay**2 - 2*lr*momentum*weight_decay - 2*lr*weight_decay + momentum**2 - 2*momentum + 1) + 1/2) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float))


def li_arora__initial_buffer(lr, weight_decay, momentum):
    """Li & Arora: the WD-free run's initial momentum buffer, per unit w₀, that makes the equivalence exact"""
    return ((-1/2*lr*weight_decay + (1/2)*momentum + (1/2)*numpy.sqrt(lr**2*weight_decay**2 - 2*lr*momentum*weight_decay - 2*lr*weight_decay + momentum**2 - 2*momentum + 1) - 1/2)/(lr*(-1/2*lr*weight_decay + (1/2)*momentum + (1/2)*numpy.sqrt(lr**2*weight_decay**2 - 2*lr*momentum*weight_decay - 2*lr*weight_decay + momentum**2 - 2*momentum + 1) + 1/2))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float))


def li_arora__lr_schedule(lr, weight_decay, momentum, step):
    """Li & Arora: the WD-free learning rate η̃_t = η·r^{−2t−1} equivalent to SGD+WD (η, λ, momentum γ)"""
    return (lr*(-1/2*lr*weight_decay + (1/2)*momentum + (1/2)*numpy.sqrt(lr**2*weight_decay**2 - 2*lr*momentum*weight_decay - 2*lr*weight_decay + momentum**2 - 2*momentum + 1) + 1/2)**(-2.0*step - 1.0)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(step, dtype=float))


def lion__angular_update_linearized(lr, weight_decay, beta1, beta2):
    """Lion Δ* with sign() linearized (Bussgang): √(π/2)·√(2ηλ)·√V"""
    return (numpy.sqrt(numpy.pi)*numpy.sqrt(lr)*numpy.sqrt(weight_decay)*numpy.sqrt(2*beta1**2 - 2*beta1*beta2 - 2*beta1 + beta2 + 1)/numpy.sqrt(beta2 + 1)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(beta1, dtype=float) + 0 * numpy.asarray(beta2, dtype=float))


def muon__angular_update(lr, weight_decay, momentum, nesterov, orth_gain):
    """Muon equilibrium angular update Δ* (finite ηλ, with the radial part of the update)"""
    return (numpy.arctan(numpy.sqrt(-(orth_gain*(-lr*weight_decay + 1)*(momentum**2*nesterov*(momentum**2 - momentum - 1)/(2*momentum**3 - 2*momentum - 1) + momentum*(1 - nesterov))/(-momentum*(-lr*weight_decay + 1) + 1) + (1 - orth_gain)*(-lr*weight_decay + 1)*(momentum**2*nesterov*(momentum**2 - momentum - 1)/(2*momentum**3 - 2*momentum - 1) + momentum*(1 - nesterov))**3/(-momentum**3*(-lr*weight_decay + 1) + 1))**2/(-lr*weight_decay + 1)**2 + (2*orth_gain*(-lr*weight_decay + 1)*(momentum**2*nesterov*(momentum**2 - momentum - 1)/(2*momentum**3 - 2*momentum - 1) + momentum*(1 - nesterov))/(-momentum*(-lr*weight_decay + 1) + 1) + 2*(1 - orth_gain)*(-lr*weight_decay + 1)*(momentum**2*nesterov*(momentum**2 - momentum - 1)/(2*momentum**3 - 2*momentum - 1) + momentum*(1 - nesterov))**3/(-momentum**3*(-lr*weight_decay + 1) + 1) + 1)/(1 - (-lr*weight_decay + 1)**2))/((orth_gain*(-lr*weight_decay + 1)*(momentum**2*nesterov*(momentum**2 - momentum - 1)/(2*momentum**3 - 2*momentum - 1) + momentum*(1 - nesterov))/(-momentum*(-lr*weight_decay + 1) + 1) + (1 - orth_gain)*(-lr*weight_decay + 1)*(momentum**2*nesterov*(momentum**2 - momentum - 1)/(2*momentum**3 - 2*momentum - 1) + momentum*(1 - nesterov))**3/(-momentum**3*(-lr*weight_decay + 1) + 1))/(-lr*weight_decay + 1) + (-lr*weight_decay + 1)*(2*orth_gain*(-lr*weight_decay + 1)*(momentum**2*nesterov*(momentum**2 - momentum - 1)/(2*momentum**3 - 2*momentum - 1) + momentum*(1 - nesterov))/(-momentum*(-lr*weight_decay + 1) + 1) + 2*(1 - orth_gain)*(-lr*weight_decay + 1)*(momentum**2*nesterov*(momentum**2 - momentum - 1)/(2*momentum**3 - 2*momentum - 1) + momentum*(1 - nesterov))**3/(-momentum**3*(-lr*weight_decay + 1) + 1) + 1)/(1 - (-lr*weight_decay + 1)**2)))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(nesterov, dtype=float) + 0 * numpy.asarray(orth_gain, dtype=float))


def muon__angular_update_first_order(lr, weight_decay, momentum, nesterov, orth_gain):
    """Muon equilibrium angular update to first order in ηλ: √(2ηλ/(1 + 2Σ_k φ(c_k)))"""
    return (numpy.sqrt(2)*numpy.sqrt(lr)*numpy.sqrt(weight_decay)*numpy.sqrt((2*orth_gain*(momentum**2*nesterov*(momentum**2 - momentum - 1)/(2*momentum**3 - 2*momentum - 1) + momentum*(1 - nesterov))/(1 - momentum) + 1 + 2*(1 - orth_gain)*(momentum**2*nesterov*(momentum**2 - momentum - 1)/(2*momentum**3 - 2*momentum - 1) + momentum*(1 - nesterov))**3/(1 - momentum**3))**(-1.0))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(nesterov, dtype=float) + 0 * numpy.asarray(orth_gain, dtype=float))


def muon__equilibrium_sq_norm(lr, weight_decay, momentum, nesterov, rank, lr_scale, orth_gain, orth_sq_scale):
    """Muon equilibrium E‖W‖² of a scale-invariant matrix (finite ηλ)"""
    return (lr**2*lr_scale**2*orth_sq_scale*rank*(2*orth_gain*(-lr*weight_decay + 1)*(momentum**2*nesterov*(momentum**2 - momentum - 1)/(2*momentum**3 - 2*momentum - 1) + momentum*(1 - nesterov))/(-momentum*(-lr*weight_decay + 1) + 1) + 2*(1 - orth_gain)*(-lr*weight_decay + 1)*(momentum**2*nesterov*(momentum**2 - momentum - 1)/(2*momentum**3 - 2*momentum - 1) + momentum*(1 - nesterov))**3/(-momentum**3*(-lr*weight_decay + 1) + 1) + 1)/(1 - (-lr*weight_decay + 1)**2)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(nesterov, dtype=float) + 0 * numpy.asarray(rank, dtype=float) + 0 * numpy.asarray(lr_scale, dtype=float) + 0 * numpy.asarray(orth_gain, dtype=float) + 0 * numpy.asarray(orth_sq_scale, dtype=float))


def muon__equilibrium_sq_norm_first_order(lr, weight_decay, momentum, nesterov, rank, lr_scale, orth_gain, orth_sq_scale):
    """Muon equilibrium E‖W‖² to first order in ηλ"""
    return ((1/2)*lr*lr_scale**2*orth_sq_scale*rank*(2*orth_gain*(momentum**2*nesterov*(momentum**2 - momentum - 1)/(2*momentum**3 - 2*momentum - 1) + momentum*(1 - nesterov))/(1 - momentum) + 1 + 2*(1 - orth_gain)*(momentum**2*nesterov*(momentum**2 - momentum - 1)/(2*momentum**3 - 2*momentum - 1) + momentum*(1 - nesterov))**3/(1 - momentum**3))/weight_decay) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(nesterov, dtype=float) + 0 * numpy.asarray(rank, dtype=float) + 0 * numpy.asarray(lr_scale, dtype=float) + 0 * numpy.asarray(orth_gain, dtype=float) + 0 * numpy.asarray(orth_sq_scale, dtype=float))


def muon__equilibrium_sq_norm_hyperball(lr, weight_decay, momentum, rank, lr_scale, orth_sq_scale):
    """Muon E‖W‖² in the exact discrete 'hyperball' form (update correlation β^k), side by side with ours"""
    return (lr**2*lr_scale**2*orth_sq_scale*rank*(momentum*(-lr*weight_decay + 1) + 1)/((1 - (-lr*weight_decay + 1)**2)*(-momentum*(-lr*weight_decay + 1) + 1))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(rank, dtype=float) + 0 * numpy.asarray(lr_scale, dtype=float) + 0 * numpy.asarray(orth_sq_scale, dtype=float))


def muon__momentum_correlation(momentum, nesterov):
    """Lag-1 correlation c₁ of Muon's momentum, Nesterov or heavy ball (c_k = c₁β^{k−1})"""
    return (momentum**2*nesterov*(momentum**2 - momentum - 1)/(2*momentum**3 - 2*momentum - 1) + momentum*(1 - nesterov)) + (0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(nesterov, dtype=float))


def muon__update_correlation(momentum, nesterov, orth_gain):
    """Correlation ⟨O_t, O_{t+1}⟩/‖O‖² of consecutive orthogonalised momentum updates"""
    return (orth_gain*(momentum**2*nesterov*(momentum**2 - momentum - 1)/(2*momentum**3 - 2*momentum - 1) + momentum*(1 - nesterov)) + (1 - orth_gain)*(momentum**2*nesterov*(momentum**2 - momentum - 1)/(2*momentum**3 - 2*momentum - 1) + momentum*(1 - nesterov))**3) + (0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(nesterov, dtype=float) + 0 * numpy.asarray(orth_gain, dtype=float))


def nesterov__angular_update(lr, weight_decay, momentum, unit_grad_sq):
    """Exact equilibrium angular update Δ* under Nesterov SGD (mean field)"""
    return (2*numpy.arcsin((1/2)*numpy.sqrt(2)*numpy.sqrt(lr)*numpy.sqrt(weight_decay)*numpy.sqrt(2*lr*momentum**3*weight_decay + 3*lr*momentum**2*weight_decay + lr*momentum*weight_decay - 2*momentum**3 + 2*momentum + 1)/numpy.sqrt(2*lr*momentum**2*weight_decay + lr*momentum*weight_decay + momentum + 1))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def nesterov__angular_update_first_order(lr, weight_decay, momentum, unit_grad_sq):
    """First-order equilibrium angular update under Nesterov SGD: √(2ηλ(1 + 2α − 2α³)/(1 + α))"""
    return (numpy.sqrt(2)*numpy.sqrt(lr)*numpy.sqrt(weight_decay)*numpy.sqrt(-2*momentum**3 + 2*momentum + 1)/numpy.sqrt(momentum + 1)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def nesterov__effective_lr(lr, weight_decay, momentum, unit_grad_sq):
    """Equilibrium effective learning rate η/‖w*‖² under Nesterov SGD"""
    return (numpy.sqrt(lr)*numpy.sqrt(weight_decay)/(numpy.sqrt(unit_grad_sq)*numpy.sqrt(-1/((lr*momentum*weight_decay - momentum + 1)*(2*lr*momentum*weight_decay + lr*weight_decay - 2*momentum - 2)))*numpy.sqrt(2*lr*momentum**2*weight_decay + lr*momentum*weight_decay + momentum + 1))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def nesterov__effective_lr_first_order(lr, weight_decay, momentum, unit_grad_sq):
    """First-order effective learning rate (Nesterov)"""
    return (numpy.sqrt(2)*numpy.sqrt(lr)*numpy.sqrt(weight_decay)*numpy.sqrt(1 - momentum)/numpy.sqrt(unit_grad_sq)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def nesterov__equilibrium_sq_norm(lr, weight_decay, momentum, unit_grad_sq):
    """Exact equilibrium squared weight norm ‖w*‖² under Nesterov SGD (mean field)"""
    return (numpy.sqrt(lr)*numpy.sqrt(unit_grad_sq)*numpy.sqrt(-1/((lr*momentum*weight_decay - momentum + 1)*(2*lr*momentum*weight_decay + lr*weight_decay - 2*momentum - 2)))*numpy.sqrt(2*lr*momentum**2*weight_decay + lr*momentum*weight_decay + momentum + 1)/numpy.sqrt(weight_decay)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def nesterov__equilibrium_sq_norm_first_order(lr, weight_decay, momentum, unit_grad_sq):
    """First-order equilibrium squared norm ‖w*‖² under Nesterov SGD (leading term in ηλ)"""
    return ((1/2)*numpy.sqrt(2)*numpy.sqrt(lr)*numpy.sqrt(unit_grad_sq)/(numpy.sqrt(weight_decay)*numpy.sqrt(1 - momentum))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def nesterov__equilibrium_state(lr, weight_decay, momentum, unit_grad_sq):
    """Fixed point (‖w*‖², ⟨w, v⟩*, ‖v‖*²) of the mean-field Nesterov recursion"""
    _z = 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float)
    return tuple(_e + _z for _e in (numpy.sqrt(lr)*numpy.sqrt(unit_grad_sq)*numpy.sqrt(-1/((lr*momentum*weight_decay - momentum + 1)*(2*lr*momentum*weight_decay + lr*weight_decay - 2*momentum - 2)))*numpy.sqrt(2*lr*momentum**2*weight_decay + lr*momentum*weight_decay + momentum + 1)/numpy.sqrt(weight_decay), numpy.sqrt(lr)*numpy.sqrt(unit_grad_sq)*numpy.sqrt(weight_decay)*numpy.sqrt(1/((-lr*weight_decay*(1 - momentum) + lr*weight_decay - momentum + 1)*(2*lr*weight_decay*(1 - momentum) - 3*lr*weight_decay + 2*momentum + 2)))*(-2*momentum - 1)/numpy.sqrt(2*lr*weight_decay*(1 - momentum)**2 - 5*lr*weight_decay*(1 - momentum) + 3*lr*weight_decay + momentum + 1), 2*numpy.sqrt(unit_grad_sq)*numpy.sqrt(weight_decay)*numpy.sqrt(1/((-lr*weight_decay*(1 - momentum) + lr*weight_decay - momentum + 1)*(2*lr*weight_decay*(1 - momentum) - 3*lr*weight_decay + 2*momentum + 2)))/(numpy.sqrt(lr)*numpy.sqrt(2*lr*weight_decay*(1 - momentum)**2 - 5*lr*weight_decay*(1 - momentum) + 3*lr*weight_decay + momentum + 1)),))


def nesterov__jacobian(lr, weight_decay, momentum):
    """Jacobian (row-major, 9 entries) of the mean-field Nesterov recursion at its fixed point"""
    _z = 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float)
    return tuple(_e + _z for _e in ((4*lr**3*momentum**4*weight_decay**3 + 10*lr**3*momentum**3*weight_decay**3 + 8*lr**3*momentum**2*weight_decay**3 + 2*lr**3*momentum*weight_decay**3 - 4*lr**2*momentum**4*weight_decay**2 - 12*lr**2*momentum**3*weight_decay**2 - 8*lr**2*momentum**2*weight_decay**2 + 2*lr**2*momentum*weight_decay**2 + 2*lr**2*weight_decay**2 + 2*lr*momentum**4*weight_decay + 4*lr*momentum**3*weight_decay - 7*lr*momentum*weight_decay - 4*lr*weight_decay + momentum + 1)/(2*lr*momentum**2*weight_decay + lr*momentum*weight_decay + momentum + 1), 2*lr*momentum**2*(lr*momentum*weight_decay + lr*weight_decay - 1), lr**2*momentum**4, weight_decay*(-momentum*(lr*momentum*weight_decay - momentum + 1)*(2*lr*momentum*weight_decay + lr*weight_decay - 2*momentum - 2) + (-lr*momentum*weight_decay - lr*weight_decay + 1)*(2*lr*momentum**2*weight_decay + lr*momentum*weight_decay + momentum + 1) - (lr*momentum*weight_decay - momentum + 1)*(2*lr*momentum*weight_decay + lr*weight_decay - 2*momentum - 2))/(2*lr*momentum**2*weight_decay + lr*momentum*weight_decay + momentum + 1), momentum*(-2*lr*momentum*weight_decay - lr*weight_decay + 1), -lr*momentum**3, 2*weight_decay*(2*lr**2*momentum**2*weight_decay**2 + lr**2*momentum*weight_decay**2 - 2*lr*momentum**2*weight_decay + lr*weight_decay + momentum**2 - 1)/(lr*(2*lr*momentum**2*weight_decay + lr*momentum*weight_decay + momentum + 1)), 2*momentum*weight_decay, momentum**2,))


def nesterov__moment_recursion(sq_norm, w_dot_v, v_sq_norm, lr, weight_decay, momentum, unit_grad_sq):
    """Mean-field one-step map of (‖w‖², ⟨w, v⟩, ‖v‖²) under Nesterov SGD with weight decay (PyTorch)"""
    _z = 0 * numpy.asarray(sq_norm, dtype=float) + 0 * numpy.asarray(w_dot_v, dtype=float) + 0 * numpy.asarray(v_sq_norm, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float)
    return tuple(_e + _z for _e in (lr**2*momentum**4*v_sq_norm + 2*lr**2*momentum**3*w_dot_v*weight_decay + lr**2*momentum**2*sq_norm*weight_decay**2 + 2*lr**2*momentum**2*w_dot_v*weight_decay + lr**2*momentum**2*unit_grad_sq/sq_norm + 2*lr**2*momentum*sq_norm*weight_decay**2 + 2*lr**2*momentum*unit_grad_sq/sq_norm + lr**2*sq_norm*weight_decay**2 + lr**2*unit_grad_sq/sq_norm - 2*lr*momentum**2*w_dot_v - 2*lr*momentum*sq_norm*weight_decay - 2*lr*sq_norm*weight_decay + sq_norm, -lr*momentum**3*v_sq_norm - 2*lr*momentum**2*w_dot_v*weight_decay - lr*momentum*sq_norm*weight_decay**2 - lr*momentum*w_dot_v*weight_decay - lr*momentum*unit_grad_sq/sq_norm - lr*sq_norm*weight_decay**2 - lr*unit_grad_sq/sq_norm + momentum*w_dot_v + sq_norm*weight_decay, momentum**2*v_sq_norm + 2*momentum*w_dot_v*weight_decay + sq_norm*weight_decay**2 + unit_grad_sq/sq_norm,))


def nesterov__moment_recursion__scalar(sq_norm, w_dot_v, v_sq_norm, lr, weight_decay, momentum, unit_grad_sq):
    """Mean-field one-step map of (‖w‖², ⟨w, v⟩, ‖v‖²) under Nesterov SGD with weight decay (PyTorch) (scalar, numba-compilable)"""
    return (lr**2*momentum**4*v_sq_norm + 2*lr**2*momentum**3*w_dot_v*weight_decay + lr**2*momentum**2*sq_norm*weight_decay**2 + 2*lr**2*momentum**2*w_dot_v*weight_decay + lr**2*momentum**2*unit_grad_sq/sq_norm + 2*lr**2*momentum*sq_norm*weight_decay**2 + 2*lr**2*momentum*unit_grad_sq/sq_norm + lr**2*sq_norm*weight_decay**2 + lr**2*unit_grad_sq/sq_norm - 2*lr*momentum**2*w_dot_v - 2*lr*momentum*sq_norm*weight_decay - 2*lr*sq_norm*weight_decay + sq_norm, -lr*momentum**3*v_sq_norm - 2*lr*momentum**2*w_dot_v*weight_decay - lr*momentum*sq_norm*weight_decay**2 - lr*momentum*w_dot_v*weight_decay - lr*momentum*unit_grad_sq/sq_norm - lr*sq_norm*weight_decay**2 - lr*unit_grad_sq/sq_norm + momentum*w_dot_v + sq_norm*weight_decay, momentum**2*v_sq_norm + 2*momentum*w_dot_v*weight_decay + sq_norm*weight_decay**2 + unit_grad_sq/sq_norm,)


def schedule_forms__cosine_freeze_steps(rate, decay_steps):
    """Freeze point of the norm at the end of a cosine decay (Cosine to 0; WSD kind='cosine'): steps left when ∫κ (rest) = 1"""
    return (12**(1/3)*decay_steps**(2/3)/(numpy.pi**(2/3)*rate**(1/3))) + (0 * numpy.asarray(rate, dtype=float) + 0 * numpy.asarray(decay_steps, dtype=float))


def schedule_forms__cosine_frozen_ratio(freeze_fraction):
    """Final slow variable over the equilibrium at the freeze point, cosine decay (Cosine to 0; WSD kind='cosine')"""
    return (0.1549212751998372035*freeze_fraction**2 + 0.9027452929509336113) + (0 * numpy.asarray(freeze_fraction, dtype=float))


def schedule_forms__cosine_grad_norm_rise(freeze_fraction, norm_power):
    """Late-run rise of ‖g‖/‖w‖ from the start to the end of a cosine decay (Cosine to 0; WSD kind='cosine')"""
    return (((0.1549212751998372035*freeze_fraction**2 + 0.9027452929509336113)*((1/2)*numpy.cos(numpy.pi*(1 - freeze_fraction)) + 1/2))**(-1/norm_power)) + (0 * numpy.asarray(freeze_fraction, dtype=float) + 0 * numpy.asarray(norm_power, dtype=float))


def schedule_forms__linear_freeze_steps(rate, decay_steps):
    """Freeze point of the norm at the end of a linear decay (Linear to 0; WSD kind='linear'): steps left when ∫κ (rest) = 1"""
    return (numpy.sqrt(2)*numpy.sqrt(decay_steps)/numpy.sqrt(rate)) + (0 * numpy.asarray(rate, dtype=float) + 0 * numpy.asarray(decay_steps, dtype=float))


def schedule_forms__linear_frozen_ratio(freeze_fraction):
    """Final slow variable over the equilibrium at the freeze point, linear decay (Linear to 0; WSD kind='linear')"""
    return (0.88622692545275801365) + (0 * numpy.asarray(freeze_fraction, dtype=float))


def schedule_forms__linear_grad_norm_rise(freeze_fraction, norm_power):
    """Late-run rise of ‖g‖/‖w‖ from the start to the end of a linear decay (Linear to 0; WSD kind='linear')"""
    return ((0.88622692545275801365*freeze_fraction)**(-1/norm_power)) + (0 * numpy.asarray(freeze_fraction, dtype=float) + 0 * numpy.asarray(norm_power, dtype=float))


def schedule_forms__slow_mode_adamw(lr, weight_decay, dim):
    """AdamW slow mode: y = ‖x‖² relaxes as dy/dt = −κ_t(y − y*_t); returns (κ, y*)"""
    _z = 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(dim, dtype=float)
    return tuple(_e + _z for _e in (2*lr*weight_decay, (1/2)*dim*lr/weight_decay,))


def schedule_forms__slow_mode_sgdm(lr, weight_decay, momentum, unit_grad_sq):
    """SGD/SGDM slow mode: y = ‖w‖⁴ relaxes as dy/dt = −κ_t(y − y*_t); returns (κ, y*)"""
    _z = 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float)
    return tuple(_e + _z for _e in (-4*lr*weight_decay/(momentum - 1), -1/2*lr*unit_grad_sq/(weight_decay*(momentum - 1)),))


def schedule_forms__sqrt_freeze_steps(rate, decay_steps):
    """Freeze point of the norm at the end of a 1 − √ decay (WSD kind='sqrt'): steps left when ∫κ (rest) = 1"""
    return (2*numpy.sqrt(decay_steps)/numpy.sqrt(rate)) + (0 * numpy.asarray(rate, dtype=float) + 0 * numpy.asarray(decay_steps, dtype=float))


def schedule_forms__sqrt_frozen_ratio(freeze_fraction):
    """Final slow variable over the equilibrium at the freeze point, 1 − √ decay (WSD kind='sqrt')"""
    return (0.88622692545275801365 - 0.054890064696522836746*freeze_fraction) + (0 * numpy.asarray(freeze_fraction, dtype=float))


def schedule_forms__sqrt_grad_norm_rise(freeze_fraction, norm_power):
    """Late-run rise of ‖g‖/‖w‖ from the start to the end of a 1 − √ decay (WSD kind='sqrt')"""
    return (((0.88622692545275801365 - 0.054890064696522836746*freeze_fraction)*(1 - numpy.sqrt(1 - freeze_fraction)))**(-1/norm_power)) + (0 * numpy.asarray(freeze_fraction, dtype=float) + 0 * numpy.asarray(norm_power, dtype=float))


def sgd__angular_update(lr, weight_decay, unit_grad_sq):
    """Exact equilibrium angular update Δ* (Def. 3 at the fixed point)"""
    return (2*numpy.arcsin((1/2)*numpy.sqrt(2)*numpy.sqrt(lr)*numpy.sqrt(weight_decay))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def sgd__angular_update_first_order(lr, weight_decay, unit_grad_sq):
    """First-order equilibrium angular update (leading term in ηλ)"""
    return (numpy.sqrt(2)*numpy.sqrt(lr)*numpy.sqrt(weight_decay)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def sgd__contraction(lr, weight_decay):
    """Linearised contraction μ of the norm recursion at equilibrium (deviation of ‖w‖² ∝ μ^t)"""
    return (2*lr**2*weight_decay**2 - 4*lr*weight_decay + 1) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float))


def sgd__contraction_paper(lr, weight_decay):
    """The paper's printed contraction rate (a claim, compared with the linearisation)"""
    return (-2*lr*weight_decay + 1) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float))


def sgd__effective_lr(lr, weight_decay, unit_grad_sq):
    """Equilibrium effective learning rate η/‖w*‖²"""
    return (numpy.sqrt(lr)*numpy.sqrt(weight_decay)/(numpy.sqrt(unit_grad_sq)*numpy.sqrt(-1/(lr*weight_decay - 2)))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def sgd__effective_lr_first_order(lr, weight_decay, unit_grad_sq):
    """First-order equilibrium effective learning rate"""
    return (numpy.sqrt(2)*numpy.sqrt(lr)*numpy.sqrt(weight_decay)/numpy.sqrt(unit_grad_sq)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def sgd__equilibrium_sq_norm(lr, weight_decay, unit_grad_sq):
    """Exact equilibrium squared weight norm ‖w*‖² (fixed point of the norm recursion)"""
    return (numpy.sqrt(lr)*numpy.sqrt(unit_grad_sq)*numpy.sqrt(-1/(lr*weight_decay - 2))/numpy.sqrt(weight_decay)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def sgd__equilibrium_sq_norm_first_order(lr, weight_decay, unit_grad_sq):
    """First-order equilibrium squared norm ‖w*‖² (leading term in ηλ)"""
    return ((1/2)*numpy.sqrt(2)*numpy.sqrt(lr)*numpy.sqrt(unit_grad_sq)/numpy.sqrt(weight_decay)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def sgd__lr_drop_critical_rtol(factor):
    """Tolerance below which Wan et al. Corollary 3.1, read with the new rate η/k, is a valid lower bound (first order in ηλ)"""
    return ((1 - 1/factor)/(factor*(numpy.sqrt(1 + (1 - 1/factor)/factor) + 1))) + (0 * numpy.asarray(factor, dtype=float))


def sgd__lr_drop_paper_bound(lr, weight_decay, factor):
    """Wan et al. Corollary 3.1 as printed: ⌈log(k)(1−α)/(2λη)⌉ iterations after dividing the LR by k"""
    return (numpy.ceil((1/2)*numpy.log(factor)/(lr*weight_decay))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(factor, dtype=float))


def sgd__lr_drop_steps_continuous(lr, weight_decay, factor, rtol):
    """Steps from the old to the new equilibrium after dividing the LR by k (continuous time)"""
    with numpy.errstate(invalid='ignore', divide='ignore'):
        return (numpy.select([numpy.less(rtol*(rtol + 2), (-2*factor + lr*weight_decay)/(lr*weight_decay - 2) - 1),True], [(1/2)*factor*numpy.log(((-2*factor + lr*weight_decay)/(lr*weight_decay - 2) - 1)/(rtol*(rtol + 2)))/(lr*weight_decay*(2 - lr*weight_decay/factor)),0], default=numpy.nan)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(factor, dtype=float) + 0 * numpy.asarray(rtol, dtype=float))


def sgd__norm_recursion(sq_norm, lr, weight_decay, unit_grad_sq):
    """One-step recursion of ‖w‖² under SGD with weight decay"""
    return (lr**2*sq_norm*weight_decay**2 + lr**2*unit_grad_sq/sq_norm - 2*lr*sq_norm*weight_decay + sq_norm) + (0 * numpy.asarray(sq_norm, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def sgd__norm_recursion__scalar(sq_norm, lr, weight_decay, unit_grad_sq):
    """One-step recursion of ‖w‖² under SGD with weight decay (scalar, numba-compilable)"""
    return lr**2*sq_norm*weight_decay**2 + lr**2*unit_grad_sq/sq_norm - 2*lr*sq_norm*weight_decay + sq_norm


def sgd__relaxation_steps(lr, weight_decay):
    """Relaxation time τ (steps) of ‖w‖² towards equilibrium: deviation ∝ exp(−t/τ)"""
    return (-1/numpy.log1p(-2*lr*weight_decay*(-lr*weight_decay + 2))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float))


def sgdm__angular_update(lr, weight_decay, momentum, unit_grad_sq):
    """Exact equilibrium angular update Δ* under SGDM (mean field)"""
    return (2*numpy.arcsin((1/2)*numpy.sqrt(2)*numpy.sqrt(lr)*numpy.sqrt(weight_decay)/numpy.sqrt(momentum + 1))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def sgdm__angular_update_first_order(lr, weight_decay, momentum, unit_grad_sq):
    """First-order equilibrium angular update (leading term in ηλ)"""
    return (numpy.sqrt(2)*numpy.sqrt(lr)*numpy.sqrt(weight_decay)/numpy.sqrt(momentum + 1)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def sgdm__contraction(lr, weight_decay, momentum):
    """Slowest linearised contraction μ of the SGDM recursion at equilibrium"""
    with numpy.errstate(invalid='ignore', divide='ignore'):
        return (numpy.select([numpy.less_equal(4*momentum - (2*lr**2*weight_decay**2 - 4*lr*momentum*weight_decay - 4*lr*weight_decay + momentum**2 + 2*momentum + 1)**2/(momentum + 1)**2, 0),True], [(1/2)*numpy.sqrt(-4*momentum + (2*lr**2*weight_decay**2 - 4*lr*momentum*weight_decay - 4*lr*weight_decay + momentum**2 + 2*momentum + 1)**2/(momentum + 1)**2) + (1/2)*(2*lr**2*weight_decay**2 - 4*lr*momentum*weight_decay - 4*lr*weight_decay + momentum**2 + 2*momentum + 1)/(momentum + 1),numpy.sqrt(momentum)], default=numpy.nan)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float))


def sgdm__contraction_paper(lr, weight_decay, momentum):
    """The paper's printed contraction rate (a claim, compared with the linearisation)"""
    return (-2*lr*weight_decay/(1 - momentum) + 1) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float))


def sgdm__effective_lr(lr, weight_decay, momentum, unit_grad_sq):
    """Equilibrium effective learning rate η/‖w*‖²"""
    return (numpy.sqrt(lr)*numpy.sqrt(weight_decay)/(numpy.sqrt(unit_grad_sq)*numpy.sqrt(-1/((momentum - 1)*(-lr*weight_decay + 2*momentum + 2)))*numpy.sqrt(momentum + 1))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def sgdm__effective_lr_first_order(lr, weight_decay, momentum, unit_grad_sq):
    """First-order equilibrium effective learning rate"""
    return (numpy.sqrt(2)*numpy.sqrt(lr)*numpy.sqrt(weight_decay)*numpy.sqrt(1 - momentum)/numpy.sqrt(unit_grad_sq)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def sgdm__equilibrium_sq_norm(lr, weight_decay, momentum, unit_grad_sq):
    """Exact equilibrium squared weight norm ‖w*‖² under SGDM (mean field)"""
    return (numpy.sqrt(lr)*numpy.sqrt(unit_grad_sq)*numpy.sqrt(-1/((momentum - 1)*(-lr*weight_decay + 2*momentum + 2)))*numpy.sqrt(momentum + 1)/numpy.sqrt(weight_decay)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def sgdm__equilibrium_sq_norm_first_order(lr, weight_decay, momentum, unit_grad_sq):
    """First-order equilibrium squared norm ‖w*‖² (leading term in ηλ)"""
    return ((1/2)*numpy.sqrt(2)*numpy.sqrt(lr)*numpy.sqrt(unit_grad_sq)/(numpy.sqrt(weight_decay)*numpy.sqrt(1 - momentum))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float))


def sgdm__equilibrium_state(lr, weight_decay, momentum, unit_grad_sq):
    """Fixed point (‖w*‖², ⟨w, v⟩*, ‖v‖*²) of the mean-field SGDM recursion"""
    _z = 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float)
    return tuple(_e + _z for _e in (numpy.sqrt(lr)*numpy.sqrt(unit_grad_sq)*numpy.sqrt(-1/((momentum - 1)*(-lr*weight_decay + 2*momentum + 2)))*numpy.sqrt(momentum + 1)/numpy.sqrt(weight_decay), -numpy.sqrt(lr)*numpy.sqrt(unit_grad_sq)*numpy.sqrt(weight_decay)*numpy.sqrt(-1/((momentum - 1)*(-lr*weight_decay + 2*momentum + 2)))/numpy.sqrt(momentum + 1), -2*numpy.sqrt(unit_grad_sq)*numpy.sqrt(weight_decay)/(numpy.sqrt(lr)*numpy.sqrt(-1/((momentum - 1)*(-lr*weight_decay + 2*momentum + 2)))*(momentum - 1)*numpy.sqrt(momentum + 1)*(-lr*weight_decay + 2*momentum + 2)),))


def sgdm__lr_drop_critical_rtol(factor):
    """Tolerance below which Wan et al. Corollary 3.1, read with the new rate η/k, is a valid lower bound (first order in ηλ)"""
    return ((1 - 1/factor)/(factor*(numpy.sqrt(1 + (1 - 1/factor)/factor) + 1))) + (0 * numpy.asarray(factor, dtype=float))


def sgdm__lr_drop_paper_bound(lr, weight_decay, momentum, factor):
    """Wan et al. Corollary 3.1 as printed: ⌈log(k)(1−α)/(2λη)⌉ iterations after dividing the LR by k"""
    return (numpy.ceil((1/2)*(1 - momentum)*numpy.log(factor)/(lr*weight_decay))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(factor, dtype=float))


def sgdm__lr_drop_steps_continuous(lr, weight_decay, momentum, factor, rtol):
    """Steps from the old to the new equilibrium after dividing the LR by k (continuous time)"""
    with numpy.errstate(invalid='ignore', divide='ignore'):
        return (numpy.select([numpy.less(rtol*(rtol + 2), (2*factor*momentum + 2*factor - lr*weight_decay)/(-lr*weight_decay + 2*momentum + 2) - 1),True], [numpy.select([numpy.less_equal(4*momentum - (momentum**2 + 2*momentum + 1 - 4*lr*momentum*weight_decay/factor - 4*lr*weight_decay/factor + 2*lr**2*weight_decay**2/factor**2)**2/(momentum + 1)**2, 0),True], [(1/4)*factor*(momentum + 1)*(numpy.sqrt(-4*momentum + (momentum**2 + 2*momentum + 1 - 4*lr*momentum*weight_decay/factor - 4*lr*weight_decay/factor + 2*lr**2*weight_decay**2/factor**2)**2/(momentum + 1)**2) + 2 - (momentum**2 + 2*momentum + 1 - 4*lr*momentum*weight_decay/factor - 4*lr*weight_decay/factor + 2*lr**2*weight_decay**2/factor**2)/(momentum + 1))/(lr*weight_decay*(2*momentum + 2 - lr*weight_decay/factor)),(1 - numpy.sqrt(momentum))**(-1.0)], default=numpy.nan)*numpy.log(((2*factor*momentum + 2*factor - lr*weight_decay)/(-lr*weight_decay + 2*momentum + 2) - 1)/(rtol*(rtol + 2))),0], default=numpy.nan)) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(factor, dtype=float) + 0 * numpy.asarray(rtol, dtype=float))


def sgdm__moment_recursion(sq_norm, w_dot_v, v_sq_norm, lr, weight_decay, momentum, unit_grad_sq):
    """Mean-field one-step map of (‖w‖², ⟨w, v⟩, ‖v‖²) under heavy-ball SGDM with weight decay"""
    _z = 0 * numpy.asarray(sq_norm, dtype=float) + 0 * numpy.asarray(w_dot_v, dtype=float) + 0 * numpy.asarray(v_sq_norm, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float)
    return tuple(_e + _z for _e in (lr**2*momentum**2*v_sq_norm + 2*lr**2*momentum*w_dot_v*weight_decay + lr**2*sq_norm*weight_decay**2 + lr**2*unit_grad_sq/sq_norm - 2*lr*momentum*w_dot_v - 2*lr*sq_norm*weight_decay + sq_norm, -lr*momentum**2*v_sq_norm - 2*lr*momentum*w_dot_v*weight_decay - lr*sq_norm*weight_decay**2 - lr*unit_grad_sq/sq_norm + momentum*w_dot_v + sq_norm*weight_decay, momentum**2*v_sq_norm + 2*momentum*w_dot_v*weight_decay + sq_norm*weight_decay**2 + unit_grad_sq/sq_norm,))


def sgdm__moment_recursion__scalar(sq_norm, w_dot_v, v_sq_norm, lr, weight_decay, momentum, unit_grad_sq):
    """Mean-field one-step map of (‖w‖², ⟨w, v⟩, ‖v‖²) under heavy-ball SGDM with weight decay (scalar, numba-compilable)"""
    return (lr**2*momentum**2*v_sq_norm + 2*lr**2*momentum*w_dot_v*weight_decay + lr**2*sq_norm*weight_decay**2 + lr**2*unit_grad_sq/sq_norm - 2*lr*momentum*w_dot_v - 2*lr*sq_norm*weight_decay + sq_norm, -lr*momentum**2*v_sq_norm - 2*lr*momentum*w_dot_v*weight_decay - lr*sq_norm*weight_decay**2 - lr*unit_grad_sq/sq_norm + momentum*w_dot_v + sq_norm*weight_decay, momentum**2*v_sq_norm + 2*momentum*w_dot_v*weight_decay + sq_norm*weight_decay**2 + unit_grad_sq/sq_norm,)


def sgdm__relaxation_steps(lr, weight_decay, momentum):
    """Relaxation time τ (steps) of ‖w‖² towards equilibrium: deviation ∝ exp(−t/τ)"""
    with numpy.errstate(invalid='ignore', divide='ignore'):
        return (-1/numpy.log1p(-numpy.select([numpy.less_equal(4*momentum - (2*lr**2*weight_decay**2 - 4*lr*momentum*weight_decay - 4*lr*weight_decay + momentum**2 + 2*momentum + 1)**2/(momentum + 1)**2, 0),True], [4*lr*weight_decay*(-lr*weight_decay + 2*momentum + 2)/((momentum + 1)*(numpy.sqrt(-4*momentum + (2*lr**2*weight_decay**2 - 4*lr*momentum*weight_decay - 4*lr*weight_decay + momentum**2 + 2*momentum + 1)**2/(momentum + 1)**2) + 2 - (2*lr**2*weight_decay**2 - 4*lr*momentum*weight_decay - 4*lr*weight_decay + momentum**2 + 2*momentum + 1)/(momentum + 1))),1 - numpy.sqrt(momentum)], default=numpy.nan))) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float))


def trajectory__adam_map(sq_norm, w_dot_v, v_sq_norm, second_moment, lr, weight_decay, decoupled_weight_decay, beta1, beta2, eps, unit_grad_sq, dim, bias1, bias2):
    """Mean-field one-step map of (‖x‖², ⟨x, m⟩, ‖m‖², q), the step's angle parts and η_e for Adam / AdamW"""
    _z = 0 * numpy.asarray(sq_norm, dtype=float) + 0 * numpy.asarray(w_dot_v, dtype=float) + 0 * numpy.asarray(v_sq_norm, dtype=float) + 0 * numpy.asarray(second_moment, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(decoupled_weight_decay, dtype=float) + 0 * numpy.asarray(beta1, dtype=float) + 0 * numpy.asarray(beta2, dtype=float) + 0 * numpy.asarray(eps, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float) + 0 * numpy.asarray(dim, dtype=float) + 0 * numpy.asarray(bias1, dtype=float) + 0 * numpy.asarray(bias2, dtype=float)
    return tuple(_e + _z for _e in (decoupled_weight_decay**2*lr**2*sq_norm - 2*decoupled_weight_decay*lr*sq_norm + sq_norm + (-2*beta1*decoupled_weight_decay*lr**2*sq_norm*weight_decay + 2*beta1*decoupled_weight_decay*lr**2*w_dot_v + 2*beta1*lr*sq_norm*weight_decay - 2*beta1*lr*w_dot_v + 2*decoupled_weight_decay*lr**2*sq_norm*weight_decay - 2*lr*sq_norm*weight_decay)/(bias1*(eps + numpy.sqrt(beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim)/numpy.sqrt(bias2))) + (beta1**2*lr**2*sq_norm*weight_decay**2 + beta1**2*lr**2*v_sq_norm - 2*beta1**2*lr**2*w_dot_v*weight_decay + beta1**2*lr**2*unit_grad_sq/sq_norm - 2*beta1*lr**2*sq_norm*weight_decay**2 + 2*beta1*lr**2*w_dot_v*weight_decay - 2*beta1*lr**2*unit_grad_sq/sq_norm + lr**2*sq_norm*weight_decay**2 + lr**2*unit_grad_sq/sq_norm)/(bias1**2*(eps + numpy.sqrt(beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim)/numpy.sqrt(bias2))**2), beta1*decoupled_weight_decay*lr*sq_norm*weight_decay - beta1*decoupled_weight_decay*lr*w_dot_v - beta1*sq_norm*weight_decay + beta1*w_dot_v - decoupled_weight_decay*lr*sq_norm*weight_decay + sq_norm*weight_decay + (-beta1**2*lr*sq_norm*weight_decay**2 - beta1**2*lr*v_sq_norm + 2*beta1**2*lr*w_dot_v*weight_decay - beta1**2*lr*unit_grad_sq/sq_norm + 2*beta1*lr*sq_norm*weight_decay**2 - 2*beta1*lr*w_dot_v*weight_decay + 2*beta1*lr*unit_grad_sq/sq_norm - lr*sq_norm*weight_decay**2 - lr*unit_grad_sq/sq_norm)/(bias1*(eps + numpy.sqrt(beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim)/numpy.sqrt(bias2))), beta1**2*sq_norm*weight_decay**2 + beta1**2*v_sq_norm - 2*beta1**2*w_dot_v*weight_decay + beta1**2*unit_grad_sq/sq_norm - 2*beta1*sq_norm*weight_decay**2 + 2*beta1*w_dot_v*weight_decay - 2*beta1*unit_grad_sq/sq_norm + sq_norm*weight_decay**2 + unit_grad_sq/sq_norm, beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim, -decoupled_weight_decay*lr*numpy.sqrt(sq_norm) + numpy.sqrt(sq_norm) + (beta1*lr*numpy.sqrt(sq_norm)*weight_decay - beta1*lr*w_dot_v/numpy.sqrt(sq_norm) - lr*numpy.sqrt(sq_norm)*weight_decay)/(bias1*(eps + numpy.sqrt(beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim)/numpy.sqrt(bias2))), (beta1**2*lr**2*v_sq_norm + beta1**2*lr**2*unit_grad_sq/sq_norm - beta1**2*lr**2*w_dot_v**2/sq_norm - 2*beta1*lr**2*unit_grad_sq/sq_norm + lr**2*unit_grad_sq/sq_norm)/(bias1**2*(eps + numpy.sqrt(beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim)/numpy.sqrt(bias2))**2), lr/(bias1*sq_norm*(eps + numpy.sqrt(beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim)/numpy.sqrt(bias2))),))


def trajectory__adam_map__scalar(sq_norm, w_dot_v, v_sq_norm, second_moment, lr, weight_decay, decoupled_weight_decay, beta1, beta2, eps, unit_grad_sq, dim, bias1, bias2):
    """Mean-field one-step map of (‖x‖², ⟨x, m⟩, ‖m‖², q), the step's angle parts and η_e for Adam / AdamW (scalar, numba-compilable)"""
    return (decoupled_weight_decay**2*lr**2*sq_norm - 2*decoupled_weight_decay*lr*sq_norm + sq_norm + (-2*beta1*decoupled_weight_decay*lr**2*sq_norm*weight_decay + 2*beta1*decoupled_weight_decay*lr**2*w_dot_v + 2*beta1*lr*sq_norm*weight_decay - 2*beta1*lr*w_dot_v + 2*decoupled_weight_decay*lr**2*sq_norm*weight_decay - 2*lr*sq_norm*weight_decay)/(bias1*(eps + numpy.sqrt(beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim)/numpy.sqrt(bias2))) + (beta1**2*lr**2*sq_norm*weight_decay**2 + beta1**2*lr**2*v_sq_norm - 2*beta1**2*lr**2*w_dot_v*weight_decay + beta1**2*lr**2*unit_grad_sq/sq_norm - 2*beta1*lr**2*sq_norm*weight_decay**2 + 2*beta1*lr**2*w_dot_v*weight_decay - 2*beta1*lr**2*unit_grad_sq/sq_norm + lr**2*sq_norm*weight_decay**2 + lr**2*unit_grad_sq/sq_norm)/(bias1**2*(eps + numpy.sqrt(beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim)/numpy.sqrt(bias2))**2), beta1*decoupled_weight_decay*lr*sq_norm*weight_decay - beta1*decoupled_weight_decay*lr*w_dot_v - beta1*sq_norm*weight_decay + beta1*w_dot_v - decoupled_weight_decay*lr*sq_norm*weight_decay + sq_norm*weight_decay + (-beta1**2*lr*sq_norm*weight_decay**2 - beta1**2*lr*v_sq_norm + 2*beta1**2*lr*w_dot_v*weight_decay - beta1**2*lr*unit_grad_sq/sq_norm + 2*beta1*lr*sq_norm*weight_decay**2 - 2*beta1*lr*w_dot_v*weight_decay + 2*beta1*lr*unit_grad_sq/sq_norm - lr*sq_norm*weight_decay**2 - lr*unit_grad_sq/sq_norm)/(bias1*(eps + numpy.sqrt(beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim)/numpy.sqrt(bias2))), beta1**2*sq_norm*weight_decay**2 + beta1**2*v_sq_norm - 2*beta1**2*w_dot_v*weight_decay + beta1**2*unit_grad_sq/sq_norm - 2*beta1*sq_norm*weight_decay**2 + 2*beta1*w_dot_v*weight_decay - 2*beta1*unit_grad_sq/sq_norm + sq_norm*weight_decay**2 + unit_grad_sq/sq_norm, beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim, -decoupled_weight_decay*lr*numpy.sqrt(sq_norm) + numpy.sqrt(sq_norm) + (beta1*lr*numpy.sqrt(sq_norm)*weight_decay - beta1*lr*w_dot_v/numpy.sqrt(sq_norm) - lr*numpy.sqrt(sq_norm)*weight_decay)/(bias1*(eps + numpy.sqrt(beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim)/numpy.sqrt(bias2))), (beta1**2*lr**2*v_sq_norm + beta1**2*lr**2*unit_grad_sq/sq_norm - beta1**2*lr**2*w_dot_v**2/sq_norm - 2*beta1*lr**2*unit_grad_sq/sq_norm + lr**2*unit_grad_sq/sq_norm)/(bias1**2*(eps + numpy.sqrt(beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim)/numpy.sqrt(bias2))**2), lr/(bias1*sq_norm*(eps + numpy.sqrt(beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim)/numpy.sqrt(bias2))),)


def trajectory__adam_map_increment(sq_norm, w_dot_v, v_sq_norm, second_moment, lr, weight_decay, decoupled_weight_decay, beta1, beta2, eps, unit_grad_sq, dim, bias1, bias2):
    """E‖x_{t+1}‖² − ‖x_t‖² of trajectory.adam_map without cancellation (the Adam fixed-point residual)"""
    return (decoupled_weight_decay**2*lr**2*sq_norm - 2*decoupled_weight_decay*lr*sq_norm + (-2*beta1*decoupled_weight_decay*lr**2*sq_norm*weight_decay + 2*beta1*decoupled_weight_decay*lr**2*w_dot_v + 2*beta1*lr*sq_norm*weight_decay - 2*beta1*lr*w_dot_v + 2*decoupled_weight_decay*lr**2*sq_norm*weight_decay - 2*lr*sq_norm*weight_decay)/(bias1*(eps + numpy.sqrt(beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim)/numpy.sqrt(bias2))) + (beta1**2*lr**2*sq_norm*weight_decay**2 + beta1**2*lr**2*v_sq_norm - 2*beta1**2*lr**2*w_dot_v*weight_decay + beta1**2*lr**2*unit_grad_sq/sq_norm - 2*beta1*lr**2*sq_norm*weight_decay**2 + 2*beta1*lr**2*w_dot_v*weight_decay - 2*beta1*lr**2*unit_grad_sq/sq_norm + lr**2*sq_norm*weight_decay**2 + lr**2*unit_grad_sq/sq_norm)/(bias1**2*(eps + numpy.sqrt(beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim)/numpy.sqrt(bias2))**2)) + (0 * numpy.asarray(sq_norm, dtype=float) + 0 * numpy.asarray(w_dot_v, dtype=float) + 0 * numpy.asarray(v_sq_norm, dtype=float) + 0 * numpy.asarray(second_moment, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(decoupled_weight_decay, dtype=float) + 0 * numpy.asarray(beta1, dtype=float) + 0 * numpy.asarray(beta2, dtype=float) + 0 * numpy.asarray(eps, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float) + 0 * numpy.asarray(dim, dtype=float) + 0 * numpy.asarray(bias1, dtype=float) + 0 * numpy.asarray(bias2, dtype=float))


def trajectory__adam_map_increment__scalar(sq_norm, w_dot_v, v_sq_norm, second_moment, lr, weight_decay, decoupled_weight_decay, beta1, beta2, eps, unit_grad_sq, dim, bias1, bias2):
    """E‖x_{t+1}‖² − ‖x_t‖² of trajectory.adam_map without cancellation (the Adam fixed-point residual) (scalar, numba-compilable)"""
    return decoupled_weight_decay**2*lr**2*sq_norm - 2*decoupled_weight_decay*lr*sq_norm + (-2*beta1*decoupled_weight_decay*lr**2*sq_norm*weight_decay + 2*beta1*decoupled_weight_decay*lr**2*w_dot_v + 2*beta1*lr*sq_norm*weight_decay - 2*beta1*lr*w_dot_v + 2*decoupled_weight_decay*lr**2*sq_norm*weight_decay - 2*lr*sq_norm*weight_decay)/(bias1*(eps + numpy.sqrt(beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim)/numpy.sqrt(bias2))) + (beta1**2*lr**2*sq_norm*weight_decay**2 + beta1**2*lr**2*v_sq_norm - 2*beta1**2*lr**2*w_dot_v*weight_decay + beta1**2*lr**2*unit_grad_sq/sq_norm - 2*beta1*lr**2*sq_norm*weight_decay**2 + 2*beta1*lr**2*w_dot_v*weight_decay - 2*beta1*lr**2*unit_grad_sq/sq_norm + lr**2*sq_norm*weight_decay**2 + lr**2*unit_grad_sq/sq_norm)/(bias1**2*(eps + numpy.sqrt(beta2*second_moment + (1 - beta2)*(sq_norm*weight_decay**2 + unit_grad_sq/sq_norm)/dim)/numpy.sqrt(bias2))**2)


def trajectory__angular_update_lag_first_order(lr, weight_decay, momentum, lr_log_rate):
    """Lag Δ_t/Δ*_t of SGDM behind the instantaneous equilibrium, first order in the LR's rate of change"""
    with numpy.errstate(invalid='ignore', divide='ignore'):
        return (lr_log_rate*(momentum + 1)*numpy.select([numpy.less_equal(4*momentum - (2*lr**2*weight_decay**2 - 4*lr*momentum*weight_decay - 4*lr*weight_decay + momentum**2 + 2*momentum + 1)**2/(momentum + 1)**2, 0),True], [(1/4)*(momentum + 1)*(numpy.sqrt(-4*momentum + (2*lr**2*weight_decay**2 - 4*lr*momentum*weight_decay - 4*lr*weight_decay + momentum**2 + 2*momentum + 1)**2/(momentum + 1)**2) + 2 - (2*lr**2*weight_decay**2 - 4*lr*momentum*weight_decay - 4*lr*weight_decay + momentum**2 + 2*momentum + 1)/(momentum + 1))/(lr*weight_decay*(-lr*weight_decay + 2*momentum + 2)),(1 - numpy.sqrt(momentum))**(-1.0)], default=numpy.nan)/(-lr*weight_decay + 2*momentum + 2) + 1) + (0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(lr_log_rate, dtype=float))


def trajectory__heavy_ball_equilibrium(lr, weight_decay, decoupled_weight_decay, momentum, unit_grad_sq):
    """Fixed point (‖w*‖², ⟨w, v⟩*, ‖v‖*²) of trajectory.heavy_ball_map (SGD/SGDM, coupled and decoupled λ)"""
    _z = 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(decoupled_weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float)
    return tuple(_e + _z for _e in (numpy.sqrt(lr)*numpy.sqrt(unit_grad_sq)*numpy.sqrt(-(decoupled_weight_decay*lr*momentum - momentum - 1)/((decoupled_weight_decay*momentum - decoupled_weight_decay - weight_decay)*(decoupled_weight_decay*lr*momentum - momentum + 1)*(decoupled_weight_decay*lr*momentum + decoupled_weight_decay*lr + lr*weight_decay - 2*momentum - 2))), numpy.sqrt(lr)*numpy.sqrt(unit_grad_sq)*(decoupled_weight_decay**2*lr + decoupled_weight_decay*lr*weight_decay - 2*decoupled_weight_decay - weight_decay)/(numpy.sqrt(-(decoupled_weight_decay*lr*momentum - momentum - 1)/(decoupled_weight_decay**3*lr**2*momentum**3 - decoupled_weight_decay**3*lr**2*momentum - 2*decoupled_weight_decay**2*lr**2*momentum*weight_decay - 3*decoupled_weight_decay**2*lr*momentum**3 + decoupled_weight_decay**2*lr*momentum**2 + 3*decoupled_weight_decay**2*lr*momentum - decoupled_weight_decay**2*lr - decoupled_weight_decay*lr**2*momentum*weight_decay**2 + 2*decoupled_weight_decay*lr*momentum**2*weight_decay + 4*decoupled_weight_decay*lr*momentum*weight_decay - 2*decoupled_weight_decay*lr*weight_decay + 2*decoupled_weight_decay*momentum**3 - 2*decoupled_weight_decay*momentum**2 - 2*decoupled_weight_decay*momentum + 2*decoupled_weight_decay + lr*momentum*weight_decay**2 - lr*weight_decay**2 - 2*momentum**2*weight_decay + 2*weight_decay))*(decoupled_weight_decay*momentum - decoupled_weight_decay - weight_decay)*(decoupled_weight_decay*lr*momentum - momentum + 1)*(decoupled_weight_decay*lr*momentum + decoupled_weight_decay*lr + lr*weight_decay - 2*momentum - 2)), -numpy.sqrt(unit_grad_sq)*(decoupled_weight_decay**3*lr**2*momentum - 3*decoupled_weight_decay**2*lr*momentum + decoupled_weight_decay**2*lr + 2*decoupled_weight_decay*lr*weight_decay + 2*decoupled_weight_decay*momentum - 2*decoupled_weight_decay - 2*weight_decay)/(numpy.sqrt(lr)*numpy.sqrt(-(decoupled_weight_decay*lr*momentum - momentum - 1)/(decoupled_weight_decay**3*lr**2*momentum**3 - decoupled_weight_decay**3*lr**2*momentum - 2*decoupled_weight_decay**2*lr**2*momentum*weight_decay - 3*decoupled_weight_decay**2*lr*momentum**3 + decoupled_weight_decay**2*lr*momentum**2 + 3*decoupled_weight_decay**2*lr*momentum - decoupled_weight_decay**2*lr - decoupled_weight_decay*lr**2*momentum*weight_decay**2 + 2*decoupled_weight_decay*lr*momentum**2*weight_decay + 4*decoupled_weight_decay*lr*momentum*weight_decay - 2*decoupled_weight_decay*lr*weight_decay + 2*decoupled_weight_decay*momentum**3 - 2*decoupled_weight_decay*momentum**2 - 2*decoupled_weight_decay*momentum + 2*decoupled_weight_decay + lr*momentum*weight_decay**2 - lr*weight_decay**2 - 2*momentum**2*weight_decay + 2*weight_decay))*(decoupled_weight_decay*momentum - decoupled_weight_decay - weight_decay)*(decoupled_weight_decay*lr*momentum - momentum + 1)*(decoupled_weight_decay*lr*momentum + decoupled_weight_decay*lr + lr*weight_decay - 2*momentum - 2)),))


def trajectory__heavy_ball_map(sq_norm, w_dot_v, v_sq_norm, lr, weight_decay, decoupled_weight_decay, momentum, unit_grad_sq):
    """Mean-field one-step map of (‖w‖², ⟨w, v⟩, ‖v‖²) and the step's angle for SGD/SGDM (coupled/decoupled λ)"""
    _z = 0 * numpy.asarray(sq_norm, dtype=float) + 0 * numpy.asarray(w_dot_v, dtype=float) + 0 * numpy.asarray(v_sq_norm, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(decoupled_weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float)
    return tuple(_e + _z for _e in (decoupled_weight_decay**2*lr**2*sq_norm + 2*decoupled_weight_decay*lr**2*momentum*w_dot_v + 2*decoupled_weight_decay*lr**2*sq_norm*weight_decay - 2*decoupled_weight_decay*lr*sq_norm + lr**2*momentum**2*v_sq_norm + 2*lr**2*momentum*w_dot_v*weight_decay + lr**2*sq_norm*weight_decay**2 + lr**2*unit_grad_sq/sq_norm - 2*lr*momentum*w_dot_v - 2*lr*sq_norm*weight_decay + sq_norm, -decoupled_weight_decay*lr*momentum*w_dot_v - decoupled_weight_decay*lr*sq_norm*weight_decay - lr*momentum**2*v_sq_norm - 2*lr*momentum*w_dot_v*weight_decay - lr*sq_norm*weight_decay**2 - lr*unit_grad_sq/sq_norm + momentum*w_dot_v + sq_norm*weight_decay, momentum**2*v_sq_norm + 2*momentum*w_dot_v*weight_decay + sq_norm*weight_decay**2 + unit_grad_sq/sq_norm, -decoupled_weight_decay*lr*numpy.sqrt(sq_norm) - lr*momentum*w_dot_v/numpy.sqrt(sq_norm) - lr*numpy.sqrt(sq_norm)*weight_decay + numpy.sqrt(sq_norm), lr**2*momentum**2*v_sq_norm - lr**2*momentum**2*w_dot_v**2/sq_norm + lr**2*unit_grad_sq/sq_norm,))


def trajectory__heavy_ball_map__scalar(sq_norm, w_dot_v, v_sq_norm, lr, weight_decay, decoupled_weight_decay, momentum, unit_grad_sq):
    """Mean-field one-step map of (‖w‖², ⟨w, v⟩, ‖v‖²) and the step's angle for SGD/SGDM (coupled/decoupled λ) (scalar, numba-compilable)"""
    return (decoupled_weight_decay**2*lr**2*sq_norm + 2*decoupled_weight_decay*lr**2*momentum*w_dot_v + 2*decoupled_weight_decay*lr**2*sq_norm*weight_decay - 2*decoupled_weight_decay*lr*sq_norm + lr**2*momentum**2*v_sq_norm + 2*lr**2*momentum*w_dot_v*weight_decay + lr**2*sq_norm*weight_decay**2 + lr**2*unit_grad_sq/sq_norm - 2*lr*momentum*w_dot_v - 2*lr*sq_norm*weight_decay + sq_norm, -decoupled_weight_decay*lr*momentum*w_dot_v - decoupled_weight_decay*lr*sq_norm*weight_decay - lr*momentum**2*v_sq_norm - 2*lr*momentum*w_dot_v*weight_decay - lr*sq_norm*weight_decay**2 - lr*unit_grad_sq/sq_norm + momentum*w_dot_v + sq_norm*weight_decay, momentum**2*v_sq_norm + 2*momentum*w_dot_v*weight_decay + sq_norm*weight_decay**2 + unit_grad_sq/sq_norm, -decoupled_weight_decay*lr*numpy.sqrt(sq_norm) - lr*momentum*w_dot_v/numpy.sqrt(sq_norm) - lr*numpy.sqrt(sq_norm)*weight_decay + numpy.sqrt(sq_norm), lr**2*momentum**2*v_sq_norm - lr**2*momentum**2*w_dot_v**2/sq_norm + lr**2*unit_grad_sq/sq_norm,)


def trajectory__lion_map(sq_norm, x_dot_update, lr, weight_decay, dim):
    """Lion: E‖x_{t+1}‖² and the step's angle parts given the radial memory X_t = E⟨x_t, sign(c_t)⟩"""
    _z = 0 * numpy.asarray(sq_norm, dtype=float) + 0 * numpy.asarray(x_dot_update, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(dim, dtype=float)
    return tuple(_e + _z for _e in (dim*lr**2 + lr**2*sq_norm*weight_decay**2 + 2*lr**2*weight_decay*x_dot_update - 2*lr*sq_norm*weight_decay - 2*lr*x_dot_update + sq_norm, -lr*numpy.sqrt(sq_norm)*weight_decay - lr*x_dot_update/numpy.sqrt(sq_norm) + numpy.sqrt(sq_norm), dim*lr**2 - lr**2*x_dot_update**2/sq_norm,))


def trajectory__lion_map__scalar(sq_norm, x_dot_update, lr, weight_decay, dim):
    """Lion: E‖x_{t+1}‖² and the step's angle parts given the radial memory X_t = E⟨x_t, sign(c_t)⟩ (scalar, numba-compilable)"""
    return (dim*lr**2 + lr**2*sq_norm*weight_decay**2 + 2*lr**2*weight_decay*x_dot_update - 2*lr*sq_norm*weight_decay - 2*lr*x_dot_update + sq_norm, -lr*numpy.sqrt(sq_norm)*weight_decay - lr*x_dot_update/numpy.sqrt(sq_norm) + numpy.sqrt(sq_norm), dim*lr**2 - lr**2*x_dot_update**2/sq_norm,)


def trajectory__nesterov_equilibrium(lr, weight_decay, decoupled_weight_decay, momentum, unit_grad_sq):
    """Fixed point (‖w*‖², ⟨w, v⟩*, ‖v‖*²) of trajectory.nesterov_map (PyTorch Nesterov SGD)"""
    _z = 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(decoupled_weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float)
    return tuple(_e + _z for _e in (numpy.sqrt(lr)*numpy.sqrt(unit_grad_sq)*numpy.sqrt(-(2*decoupled_weight_decay*lr*momentum**3 - decoupled_weight_decay*lr*momentum - 2*lr*momentum**2*weight_decay - lr*momentum*weight_decay - momentum - 1)/((decoupled_weight_decay*momentum - decoupled_weight_decay - weight_decay)*(decoupled_weight_decay*lr*momentum + lr*momentum*weight_decay - momentum + 1)*(decoupled_weight_decay*lr*momentum + decoupled_weight_decay*lr + 2*lr*momentum*weight_decay + lr*weight_decay - 2*momentum - 2))), -numpy.sqrt(lr)*numpy.sqrt(unit_grad_sq)*(decoupled_weight_decay**2*lr*momentum**2 - decoupled_weight_decay**2*lr*momentum - decoupled_weight_decay**2*lr - 2*decoupled_weight_decay*lr*momentum*weight_decay - decoupled_weight_decay*lr*weight_decay - 2*decoupled_weight_decay*momentum**2 + 2*decoupled_weight_decay*momentum + 2*decoupled_weight_decay + 2*momentum*weight_decay + weight_decay)/(numpy.sqrt(-(2*decoupled_weight_decay*lr*momentum**3 - decoupled_weight_decay*lr*momentum - 2*lr*momentum**2*weight_decay - lr*momentum*weight_decay - momentum - 1)/(decoupled_weight_decay**3*lr**2*momentum**3 - decoupled_weight_decay**3*lr**2*momentum + 3*decoupled_weight_decay**2*lr**2*momentum**3*weight_decay - 2*decoupled_weight_decay**2*lr**2*momentum**2*weight_decay - 3*decoupled_weight_decay**2*lr**2*momentum*weight_decay - 3*decoupled_weight_decay**2*lr*momentum**3 + decoupled_weight_decay**2*lr*momentum**2 + 3*decoupled_weight_decay**2*lr*momentum - decoupled_weight_decay**2*lr + 2*decoupled_weight_decay*lr**2*momentum**3*weight_decay**2 - 4*decoupled_weight_decay*lr**2*momentum**2*weight_decay**2 - 3*decoupled_weight_decay*lr**2*momentum*weight_decay**2 - 4*decoupled_weight_decay*lr*momentum**3*weight_decay + 6*decoupled_weight_decay*lr*momentum**2*weight_decay + 4*decoupled_weight_decay*lr*momentum*weight_decay - 2*decoupled_weight_decay*lr*weight_decay + 2*decoupled_weight_decay*momentum**3 - 2*decoupled_weight_decay*momentum**2 - 2*decoupled_weight_decay*momentum + 2*decoupled_weight_decay - 2*lr**2*momentum**2*weight_decay**3 - lr**2*momentum*weight_decay**3 + 4*lr*momentum**2*weight_decay**2 + lr*momentum*weight_decay**2 - lr*weight_decay**2 - 2*momentum**2*weight_decay + 2*weight_decay))*(decoupled_weight_decay*momentum - decoupled_weight_decay - weight_decay)*(decoupled_weight_decay*lr*momentum + lr*momentum*weight_decay - momentum + 1)*(decoupled_weight_decay*lr*momentum + decoupled_weight_decay*lr + 2*lr*momentum*weight_decay + lr*weight_decay - 2*momentum - 2)), -numpy.sqrt(unit_grad_sq)*(decoupled_weight_decay**3*lr**2*momentum + decoupled_weight_decay**2*lr**2*momentum*weight_decay - 3*decoupled_weight_decay**2*lr*momentum + decoupled_weight_decay**2*lr + 2*decoupled_weight_decay*lr*weight_decay + 2*decoupled_weight_decay*momentum - 2*decoupled_weight_decay - 2*weight_decay)/(numpy.sqrt(lr)*numpy.sqrt(-(2*decoupled_weight_decay*lr*momentum**3 - decoupled_weight_decay*lr*momentum - 2*lr*momentum**2*weight_decay - lr*momentum*weight_decay - momentum - 1)/(decoupled_weight_decay**3*lr**2*momentum**3 - decoupled_weight_decay**3*lr**2*momentum + 3*decoupled_weight_decay**2*lr**2*momentum**3*weight_decay - 2*decoupled_weight_decay**2*lr**2*momentum**2*weight_decay - 3*decoupled_weight_decay**2*lr**2*momentum*weight_decay - 3*decoupled_weight_decay**2*lr*momentum**3 + decoupled_weight_decay**2*lr*momentum**2 + 3*decoupled_weight_decay**2*lr*momentum - decoupled_weight_decay**2*lr + 2*decoupled_weight_decay*lr**2*momentum**3*weight_decay**2 - 4*decoupled_weight_decay*lr**2*momentum**2*weight_decay**2 - 3*decoupled_weight_decay*lr**2*momentum*weight_decay**2 - 4*decoupled_weight_decay*lr*momentum**3*weight_decay + 6*decoupled_weight_decay*lr*momentum**2*weight_decay + 4*decoupled_weight_decay*lr*momentum*weight_decay - 2*decoupled_weight_decay*lr*weight_decay + 2*decoupled_weight_decay*momentum**3 - 2*decoupled_weight_decay*momentum**2 - 2*decoupled_weight_decay*momentum + 2*decoupled_weight_decay - 2*lr**2*momentum**2*weight_decay**3 - lr**2*momentum*weight_decay**3 + 4*lr*momentum**2*weight_decay**2 + lr*momentum*weight_decay**2 - lr*weight_decay**2 - 2*momentum**2*weight_decay + 2*weight_decay))*(decoupled_weight_decay*momentum - decoupled_weight_decay - weight_decay)*(decoupled_weight_decay*lr*momentum + lr*momentum*weight_decay - momentum + 1)*(decoupled_weight_decay*lr*momentum + decoupled_weight_decay*lr + 2*lr*momentum*weight_decay + lr*weight_decay - 2*momentum - 2)),))


def trajectory__nesterov_map(sq_norm, w_dot_v, v_sq_norm, lr, weight_decay, decoupled_weight_decay, momentum, unit_grad_sq):
    """Mean-field one-step map of (‖w‖², ⟨w, v⟩, ‖v‖²) and the step's angle parts for Nesterov SGD (PyTorch)"""
    _z = 0 * numpy.asarray(sq_norm, dtype=float) + 0 * numpy.asarray(w_dot_v, dtype=float) + 0 * numpy.asarray(v_sq_norm, dtype=float) + 0 * numpy.asarray(lr, dtype=float) + 0 * numpy.asarray(weight_decay, dtype=float) + 0 * numpy.asarray(decoupled_weight_decay, dtype=float) + 0 * numpy.asarray(momentum, dtype=float) + 0 * numpy.asarray(unit_grad_sq, dtype=float)
    return tuple(_e + _z for _e in (decoupled_weight_decay**2*lr**2*sq_norm + 2*decoupled_weight_decay*lr**2*momentum**2*w_dot_v + 2*decoupled_weight_decay*lr**2*momentum*sq_norm*weight_decay + 2*decoupled_weight_decay*lr**2*sq_norm*weight_decay - 2*decoupled_weight_decay*lr*sq_norm + lr**2*momentum**4*v_sq_norm + 2*lr**2*momentum**3*w_dot_v*weight_decay + lr**2*momentum**2*sq_norm*weight_decay**2 + 2*lr**2*momentum**2*w_dot_v*weight_decay + lr**2*momentum**2*unit_grad_sq/sq_norm + 2*lr**2*momentum*sq_norm*weight_decay**2 + 2*lr**2*momentum*unit_grad_sq/sq_norm + lr**2*sq_norm*weight_decay**2 + lr**2*unit_grad_sq/sq_norm - 2*lr*momentum**2*w_dot_v - 2*lr*momentum*sq_norm*weight_decay - 2*lr*sq_norm*weight_decay + sq_norm, -decoupled_weight_decay*lr*momentum*w_dot_v - decoupled_weight_decay*lr*sq_norm*weight_decay - lr*momentum**3*v_sq_norm - 2*lr*momentum**2*w_dot_v*weight_decay - lr*momentum*sq_norm*weight_decay**2 - lr*momentum*w_dot_v*weight_decay - lr*momentum*unit_grad_sq/sq_norm - lr*sq_norm*weight_decay**2 - lr*unit_grad_sq/sq_norm + momentum*w_dot_v + sq_norm*weight_decay, momentum**2*v_sq_norm + 2*momentum*w_dot_v*weight_decay + sq_norm*weight_decay**2 + unit_grad_sq/sq_norm, -decoupled_weight_decay*lr*numpy.sqrt(sq_norm) - lr*momentum**2*w_dot_v/numpy.sqrt(sq_norm) - lr*momentum*numpy.sqrt(sq_norm)*weight_decay - lr*numpy.sqrt(sq_norm)*weight_decay + numpy.sqrt(sq_norm), lr**2*momentum**4*v_sq_norm - lr**2*momentum**4*w_dot_v**2/sq_norm + lr**2*momentum**2*unit_grad_sq/sq_norm + 2*lr**2*momentum*unit_grad_sq/sq_norm + lr**2*unit_grad_sq/sq_norm,))


def trajectory__nesterov_map__scalar(sq_norm, w_dot_v, v_sq_norm, lr, weight_decay, decoupled_weight_decay, momentum, unit_grad_sq):
    """Mean-field one-step map of (‖w‖², ⟨w, v⟩, ‖v‖²) and the step's angle parts for Nesterov SGD (PyTorch) (scalar, numba-compilable)"""
    return (decoupled_weight_decay**2*lr**2*sq_norm + 2*decoupled_weight_decay*lr**2*momentum**2*w_dot_v + 2*decoupled_weight_decay*lr**2*momentum*sq_norm*weight_decay + 2*decoupled_weight_decay*lr**2*sq_norm*weight_decay - 2*decoupled_weight_decay*lr*sq_norm + lr**2*momentum**4*v_sq_norm + 2*lr**2*momentum**3*w_dot_v*weight_decay + lr**2*momentum**2*sq_norm*weight_decay**2 + 2*lr**2*momentum**2*w_dot_v*weight_decay + lr**2*momentum**2*unit_grad_sq/sq_norm + 2*lr**2*momentum*sq_norm*weight_decay**2 + 2*lr**2*momentum*unit_grad_sq/sq_norm + lr**2*sq_norm*weight_decay**2 + lr**2*unit_grad_sq/sq_norm - 2*lr*momentum**2*w_dot_v - 2*lr*momentum*sq_norm*weight_decay - 2*lr*sq_norm*weight_decay + sq_norm, -decoupled_weight_decay*lr*momentum*w_dot_v - decoupled_weight_decay*lr*sq_norm*weight_decay - lr*momentum**3*v_sq_norm - 2*lr*momentum**2*w_dot_v*weight_decay - lr*momentum*sq_norm*weight_decay**2 - lr*momentum*w_dot_v*weight_decay - lr*momentum*unit_grad_sq/sq_norm - lr*sq_norm*weight_decay**2 - lr*unit_grad_sq/sq_norm + momentum*w_dot_v + sq_norm*weight_decay, momentum**2*v_sq_norm + 2*momentum*w_dot_v*weight_decay + sq_norm*weight_decay**2 + unit_grad_sq/sq_norm, -decoupled_weight_decay*lr*numpy.sqrt(sq_norm) - lr*momentum**2*w_dot_v/numpy.sqrt(sq_norm) - lr*momentum*numpy.sqrt(sq_norm)*weight_decay - lr*numpy.sqrt(sq_norm)*weight_decay + numpy.sqrt(sq_norm), lr**2*momentum**4*v_sq_norm - lr**2*momentum**4*w_dot_v**2/sq_norm + lr**2*momentum**2*unit_grad_sq/sq_norm + 2*lr**2*momentum*unit_grad_sq/sq_norm + lr**2*unit_grad_sq/sq_norm,)
