"""Conversions between full-d vectors and the reduced state of :mod:`.reduced` (numpy only).

The state of the chain is the Gram matrix of (w_t, v_{t−1}, w_0), stored through the parts orthogonal to w_t
(p = v_{t−1}⊥, q = w_0⊥) as (a, b, P, m, R, Q, D) — see :mod:`.reduced` and ``docs/reduced_state.md``.
"""

from __future__ import annotations

import numpy as np

#: names of the state components, in the order of the ``(7, N)`` state array
STATE_NAMES: tuple[str, ...] = ("a", "b", "P", "m", "R", "Q", "D")


def state_from_vectors(w: np.ndarray, v: np.ndarray, w0: np.ndarray) -> np.ndarray:
    """The reduced state ``(7, N)`` of full-d vectors (rows of ``(N, d)`` arrays): (a, b, P, m, R, Q, D).

    P, R, Q are computed from the explicit projections p = v − ⟨v, u⟩u, q = w_0 − ⟨w_0, u⟩u (u = w/‖w‖),
    D = PQ − R² = P·‖q − (R/P)p‖² by Gram–Schmidt (0 where p = 0).
    """
    w, v, w0 = (np.atleast_2d(np.asarray(x, dtype=np.float64)) for x in (w, v, w0))
    a = np.einsum("nd,nd->n", w, w)
    u = w / np.sqrt(a)[:, None]
    p = v - np.einsum("nd,nd->n", v, u)[:, None] * u
    q = w0 - np.einsum("nd,nd->n", w0, u)[:, None] * u
    dot = lambda x, y: np.einsum("nd,nd->n", x, y)  # noqa: E731
    P, R = dot(p, p), dot(p, q)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = q - np.where(P > 0, R / np.where(P > 0, P, 1.0), 0.0)[:, None] * p
    D = np.where(P > 0, P * dot(r, r), 0.0)
    return np.stack([a, dot(w, v), P, dot(w, w0), R, dot(q, q), D])


def gram_from_state(state: np.ndarray) -> dict[str, np.ndarray]:
    """The Gram entries of (w_t, v_{t−1}, w_0) from a reduced state: ‖w‖², ⟨w,v⟩, ‖v‖², ⟨w,w_0⟩, ⟨v,w_0⟩."""
    a, b, P, m, R = np.asarray(state, dtype=np.float64)[:5]
    return {"sq_norm": a, "w_dot_v": b, "v_sq_norm": b * b / a + P, "w_dot_w0": m, "v_dot_w0": b * m / a + R}


def draws_from_full(w: np.ndarray, v: np.ndarray, w0: np.ndarray, xi: np.ndarray) -> np.ndarray:
    """The reduced draws (z₁, z₂, χ) that a full-d draw ξ amounts to at the state (w_t, v_{t−1}, w_0).

    With the basis of eq. R3 (e₁ = p/‖p‖, e₂ ∝ q − ⟨q, e₁⟩e₁ where p, q are the parts of v_{t−1} and w_0
    orthogonal to w_t): z₁ = ⟨ξ, e₁⟩, z₂ = ⟨ξ, e₂⟩, χ = ‖P⊥ξ‖² − z₁² − z₂². Feeding these to
    :func:`reduced_step` reproduces the inner products of one full-d step to round-off (for d = 2, z₂ = χ = 0;
    for d = 3, χ = 0). Rows are trajectories: arrays of shape ``(N, d)``; returns ``(N, 3)``.
    """
    w, v, w0, xi = (np.atleast_2d(np.asarray(x, dtype=np.float64)) for x in (w, v, w0, xi))
    N, d = w.shape
    out = np.zeros((N, 3))
    for i in range(N):
        u = w[i] / np.linalg.norm(w[i])
        basis = [u]

        def add_direction(x: np.ndarray, basis: list[np.ndarray] = basis) -> bool:
            """Gram–Schmidt (twice, for round-off) against ``basis``; keep x if it is not in their span."""
            norm0 = np.linalg.norm(x)
            for _ in range(2):
                for e in basis:
                    x = x - np.dot(x, e) * e
            if norm0 == 0.0 or np.linalg.norm(x) <= 1e-10 * norm0:
                return False
            basis.append(x / np.linalg.norm(x))
            return True

        # e₁ ∥ p (the part of v_{t−1} orthogonal to w_t), then e₂ from q (the part of w_0), completed by
        # coordinate vectors where p or q vanish (their coefficients are then zero in eq. R3)
        candidates = [v[i], w0[i], *np.eye(d)]
        for x in candidates:
            if len(basis) == min(d, 3):
                break
            add_direction(x)
        xp = xi[i] - np.dot(xi[i], u) * u
        z1 = np.dot(xp, basis[1])
        z2 = np.dot(xp, basis[2]) if d > 2 else 0.0
        chi = max(np.dot(xp, xp) - z1 * z1 - z2 * z2, 0.0) if d > 3 else 0.0
        out[i] = (z1, z2, chi)
    return out
