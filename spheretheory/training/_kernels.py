"""Compiled kernel for sphere training of a diagonal Noisy Rayleigh Quotient, with its numpy reference.

Both take injected standard normals ``noise`` of shape ``(steps, runs, d)`` (drawn outside, so the two paths
can be compared on identical draws) and fill ``out_loss``, ``out_angle``, ``out_cos`` of shape
``(steps, runs)`` with the loss R(u_{t+1}), the angle ∠(u_t, u_{t+1}) and cos∠(u_{t+1}, u_0); ``u`` (shape
``(runs, d)``, unit rows) is updated in place. The update is the sphere step of
:func:`spheretheory.training.train_sphere` with the NRQ's noisy gradient
g = 2(Hu − R(u)u) + σ(z − ⟨u, z⟩u) at ‖u‖ = 1.
"""

from __future__ import annotations

import numpy as np


def sphere_nrq_numpy(u, evals, sigma, elr, noise, u0, out_loss, out_angle, out_cos) -> None:
    """Pure-numpy reference of :func:`_sphere_nrq_kernel` (same arithmetic, vectorized over runs)."""
    for t in range(noise.shape[0]):
        z = noise[t]
        R = np.sum(evals * u * u, axis=1, keepdims=True)
        g = 2.0 * (evals * u - R * u) + sigma * (z - np.sum(u * z, axis=1, keepdims=True) * u)
        v = u - elr * g
        v /= np.sqrt(np.sum(v * v, axis=1, keepdims=True))
        out_angle[t] = 2.0 * np.arctan2(np.linalg.norm(u - v, axis=1), np.linalg.norm(u + v, axis=1))
        out_loss[t] = np.sum(evals * v * v, axis=1)
        out_cos[t] = np.sum(v * u0, axis=1)
        u[:] = v


def _make_kernel():
    from .._jit import njit

    @njit(cache=True)
    def _sphere_nrq_kernel(u, evals, sigma, elr, noise, u0, out_loss, out_angle, out_cos):  # pragma: no cover
        steps, runs, d = noise.shape
        v = np.empty(d)
        for r in range(runs):
            for t in range(steps):
                R = 0.0
                uz = 0.0
                for i in range(d):
                    R += evals[i] * u[r, i] * u[r, i]
                    uz += u[r, i] * noise[t, r, i]
                nv = 0.0
                for i in range(d):
                    g = 2.0 * (evals[i] * u[r, i] - R * u[r, i]) + sigma * (noise[t, r, i] - uz * u[r, i])
                    v[i] = u[r, i] - elr * g
                    nv += v[i] * v[i]
                nv = np.sqrt(nv)
                dm = 0.0
                dp = 0.0
                loss = 0.0
                c = 0.0
                for i in range(d):
                    v[i] /= nv
                    dm += (u[r, i] - v[i]) ** 2
                    dp += (u[r, i] + v[i]) ** 2
                    loss += evals[i] * v[i] * v[i]
                    c += v[i] * u0[r, i]
                    u[r, i] = v[i]
                out_angle[t, r] = 2.0 * np.arctan2(np.sqrt(dm), np.sqrt(dp))
                out_loss[t, r] = loss
                out_cos[t, r] = c

    return _sphere_nrq_kernel


_KERNEL = None


def sphere_nrq_numba(u, evals, sigma, elr, noise, u0, out_loss, out_angle, out_cos) -> None:
    """Numba version (compiled on first use, cached on disk)."""
    global _KERNEL
    if _KERNEL is None:
        _KERNEL = _make_kernel()
    _KERNEL(u, evals, float(sigma), float(elr), noise, u0, out_loss, out_angle, out_cos)
