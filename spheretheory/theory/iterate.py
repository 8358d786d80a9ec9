"""Exact iteration of the (mean-field) norm recursions: steps to a new equilibrium after a learning-rate drop.

The recursions are the ones derived in :mod:`spheretheory.theory.sgd` (``sgd.norm_recursion``),
:mod:`spheretheory.theory.sgdm` (``sgdm.moment_recursion``) and :mod:`spheretheory.theory.nesterov`
(``nesterov.moment_recursion``, the same state); their code is *generated* from the sympy
expressions (``_generated.py``, ``*__scalar`` twins), so the iteration cannot drift from the derivation.

Definition used for "reaching" the new equilibrium (Wan et al. 2021, Corollary 3.1, left open in the paper):
starting at the old fixed point (η), run the recursion at the new rate η/k and count the steps until
|‖w_t‖² / x*_new − 1| ≤ rtol for the first time. For SGD the approach is monotone, so first entry = staying
inside; for SGDM with a real slow mode (4ηλ ≲ (1 − √α)², see ``sgdm.contraction``) it is monotone after the fast
modes decay within a few 1/(1−α) steps.

Two implementations: a numba kernel (``cache=True``; scalar loop per grid point) and a plain numpy reference
(vectorized over the grid, one Python-level step at a time); ``tests/test_theory.py`` checks they agree.
"""

from __future__ import annotations

import numpy as np

from . import _generated as G

#: Default cap on the number of iterations (a result above it is reported as inf).
MAX_STEPS = 1_000_000_000


def _start_and_target(optimizer: str, lr, weight_decay, momentum, factor, rtol):
    """Old fixed-point state (a, b, c), new η, target x*_new and rtol, broadcast to a common shape."""
    lr, weight_decay, momentum, factor, rtol = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (lr, weight_decay, momentum, factor, rtol))
    )
    new_lr = lr / factor
    if optimizer == "sgd":
        a0 = G.sgd__equilibrium_sq_norm(lr=lr, weight_decay=weight_decay, unit_grad_sq=1.0)
        b0 = np.zeros_like(a0)
        c0 = np.zeros_like(a0)
        target = G.sgd__equilibrium_sq_norm(lr=new_lr, weight_decay=weight_decay, unit_grad_sq=1.0)
    else:
        state = getattr(G, f"{optimizer}__equilibrium_state")
        a0, b0, c0 = state(lr=lr, weight_decay=weight_decay, momentum=momentum, unit_grad_sq=1.0)
        sq = getattr(G, f"{optimizer}__equilibrium_sq_norm")
        target = sq(lr=new_lr, weight_decay=weight_decay, momentum=momentum, unit_grad_sq=1.0)
    return a0, b0, c0, new_lr, weight_decay, momentum, target, rtol


def steps_to_equilibrium_numpy(
    optimizer: str, lr, weight_decay, factor, rtol, momentum=0.0, max_steps: int = MAX_STEPS
) -> np.ndarray:
    """Reference implementation (numpy, vectorized over the grid). Returns float steps (inf if > max_steps).

    The unit-gradient power L cancels (the recursion is homogeneous in (‖w‖², √L)), so L = 1 is used.
    """
    a, b, c, new_lr, wd, mom, target, rtol = _start_and_target(optimizer, lr, weight_decay, momentum, factor, rtol)
    steps = np.full(a.shape, np.inf)
    active = np.ones(a.shape, dtype=bool)
    t = 0
    while t <= max_steps:
        done = active & (np.abs(a / target - 1.0) <= rtol)
        steps[done] = t
        active &= ~done
        if not active.any():
            break
        if optimizer == "sgd":
            a = np.where(active, G.sgd__norm_recursion(sq_norm=a, lr=new_lr, weight_decay=wd, unit_grad_sq=1.0), a)
        else:
            a1, b1, c1 = getattr(G, f"{optimizer}__moment_recursion")(
                sq_norm=a, w_dot_v=b, v_sq_norm=c, lr=new_lr, weight_decay=wd, momentum=mom, unit_grad_sq=1.0
            )
            a, b, c = (np.where(active, new, old) for new, old in ((a1, a), (b1, b), (c1, c)))
        t += 1
    return steps


_KERNELS: dict[str, object] = {}


def _kernel(optimizer: str):
    """Compile (once, cached on disk across processes) the numba kernel for ``optimizer``.

    The kernel closes over the generated scalar map and its cache tag (:func:`._numeric.jitable`), not over a numba
    dispatcher, so that numba's disk cache serves it in every process.
    """
    if optimizer in _KERNELS:
        return _KERNELS[optimizer]
    from .._jit import njit
    from ._numeric import jitable

    name = "sgd__norm_recursion__scalar" if optimizer == "sgd" else f"{optimizer}__moment_recursion__scalar"
    (step,), tag = jitable(getattr(G, name))

    if optimizer == "sgd":

        @njit(cache=True)
        def kernel(a, b, c, lr, wd, mom, target, rtol, max_steps, out):  # pragma: no cover - compiled
            if tag == -1:  # never: the tag only keys numba's cache
                return
            for i in range(a.size):
                x = a[i]
                t = 0
                out[i] = np.inf
                while t <= max_steps:
                    if abs(x / target[i] - 1.0) <= rtol[i]:
                        out[i] = t
                        break
                    x = step(x, lr[i], wd[i], 1.0)
                    t += 1

    else:

        @njit(cache=True)
        def kernel(a, b, c, lr, wd, mom, target, rtol, max_steps, out):  # pragma: no cover - compiled
            if tag == -1:  # never: the tag only keys numba's cache
                return
            for i in range(a.size):
                x, y, z = a[i], b[i], c[i]
                t = 0
                out[i] = np.inf
                while t <= max_steps:
                    if abs(x / target[i] - 1.0) <= rtol[i]:
                        out[i] = t
                        break
                    x, y, z = step(x, y, z, lr[i], wd[i], mom[i], 1.0)
                    t += 1

    _KERNELS[optimizer] = kernel
    return kernel


def steps_to_equilibrium(
    optimizer: str, lr, weight_decay, factor, rtol, momentum=0.0, max_steps: int = MAX_STEPS
) -> np.ndarray:
    """Steps after dividing the LR by ``factor`` until ‖w‖² is within ``rtol`` of the new equilibrium.

    Exact iteration of ``sgd.norm_recursion`` / ``sgdm.moment_recursion`` (numba kernel); see the module
    docstring for the definition. Inputs are broadcast; returns a float array (inf where > ``max_steps``).
    """
    state = _start_and_target(optimizer, lr, weight_decay, momentum, factor, rtol)
    a = state[0]
    flat = [np.ascontiguousarray(v, dtype=np.float64).ravel() for v in state]
    out = np.empty(a.size, dtype=np.float64)
    _kernel(optimizer)(*flat, int(max_steps), out)
    return out.reshape(a.shape)
