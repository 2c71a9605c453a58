"""Estimators built on Hessian-vector products, and the zero-order gradient estimator."""
from __future__ import annotations

import numpy as onp

from .jacobians import hvp


def _rng(rng):
    return rng if isinstance(rng, onp.random.Generator) else onp.random.default_rng(rng)


def _probe(rng, shape, dist):
    if dist == "rademacher":
        return rng.choice([-1.0, 1.0], size=shape)
    if dist == "gaussian":
        return rng.standard_normal(shape)
    raise ValueError(f"dist must be 'rademacher' or 'gaussian', got {dist!r}")


def hutchinson_trace(f, x, num_probes=100, dist="rademacher", rng=None):
    """Estimate tr(H) of f's Hessian at x by Hutchinson's method: tr(H) = E[v^T H v], E[v v^T] = I.

    Each probe costs one hvp. Returns ``(estimate, running)``, ``running[k]`` the mean of the
    first k + 1 probes. Rademacher probes (+-1) have the smaller variance: 2 sum_{i!=j} H_ij^2,
    against 2 ||H||_F^2 for Gaussian ones.
    """
    rng = _rng(rng)
    x = onp.asarray(x, dtype=float)
    samples = []
    for _ in range(num_probes):
        v = _probe(rng, x.shape, dist)
        samples.append(float(onp.vdot(v, hvp(f, x, v))))
    running = onp.cumsum(samples) / onp.arange(1, num_probes + 1)
    return running[-1], running


def lanczos(matvec, dim, num_steps=30, rng=None):
    """Lanczos tridiagonalisation of a symmetric operator from ``matvec`` alone.

    Returns ``(ritz_values, weights)``: eigenvalues of the k x k tridiagonal T and the squared
    first components of its eigenvectors. They approximate the extreme eigenvalues, and the
    spectral density (1/dim) sum_i delta(t - lambda_i) by sum_j weights_j delta(t - ritz_j).
    Full reorthogonalisation keeps it stable; cost: k matvecs.
    """
    rng = _rng(rng)
    k = min(num_steps, dim)
    Q = onp.zeros((k, dim))
    alpha, beta = onp.zeros(k), onp.zeros(k)
    q = rng.standard_normal(dim)
    q /= onp.linalg.norm(q)
    for j in range(k):
        Q[j] = q
        w = onp.asarray(matvec(q), dtype=float).reshape(dim)
        alpha[j] = q @ w
        w -= Q[:j + 1].T @ (Q[:j + 1] @ w)
        w -= Q[:j + 1].T @ (Q[:j + 1] @ w)
        beta[j] = onp.linalg.norm(w)
        if beta[j] < 1e-10 * max(1.0, abs(alpha[j])):
            k = j + 1
            break
        q = w / beta[j]
    T = onp.diag(alpha[:k]) + onp.diag(beta[:k - 1], 1) + onp.diag(beta[:k - 1], -1)
    ritz, vecs = onp.linalg.eigh(T)
    return ritz, vecs[0] ** 2


def hessian_spectrum(f, x, num_steps=30, rng=None):
    """Ritz values and weights of f's Hessian at x by Lanczos on hvp (x flattened)."""
    x = onp.asarray(x, dtype=float)
    return lanczos(lambda v: hvp(f, x, v.reshape(x.shape)), x.size, num_steps, rng)


def zero_order_grad(f, x, eps=1e-4, num_samples=1, rng=None):
    """Two-point zero-order estimate of grad f(x): G = d (f(x + eps v) - f(x - eps v)) / (2 eps) v.

    v is uniform on the unit sphere in R^d; E[G] -> grad f(x) as eps -> 0, since d E[v v^T] = I.
    Averages ``num_samples`` independent estimates (2 evaluations of f each).
    """
    rng = _rng(rng)
    x = onp.asarray(x, dtype=float)
    d = x.size
    G = onp.zeros_like(x)
    for _ in range(num_samples):
        v = rng.standard_normal(x.shape)
        v /= onp.linalg.norm(v)
        G += d * (f(x + eps * v) - f(x - eps * v)) / (2 * eps) * v
    return G / num_samples
