"""Hutchinson trace, Lanczos spectrum and the zero-order gradient estimator, on problems whose
answers are known in closed form."""
from __future__ import annotations

import numpy as onp
import pytest

import autodiff_core as ad
import autodiff_core.numpy as np

rng = onp.random.default_rng(0)
Q, _ = onp.linalg.qr(rng.standard_normal((20, 20)))
EIGS = onp.linspace(-3.0, 5.0, 20)
H = Q @ onp.diag(EIGS) @ Q.T


def quadratic(x):
    return 0.5 * x @ H @ x


@pytest.mark.parametrize("dist", ["rademacher", "gaussian"])
def test_hutchinson_converges_to_the_trace(dist):
    est, running = ad.hutchinson_trace(quadratic, onp.zeros(20), num_probes=3000, dist=dist, rng=1)
    assert len(running) == 3000 and running[-1] == est
    # standard error: sqrt(2 ||H||_F^2 / N) for Gaussian probes (less for Rademacher)
    se = onp.sqrt(2 * onp.sum(H ** 2) / 3000)
    assert abs(est - onp.trace(H)) < 4 * se


def test_rademacher_has_smaller_variance_than_gaussian():
    def spread(dist):
        ests = [ad.hutchinson_trace(quadratic, onp.zeros(20), 10, dist, rng=s)[0] for s in range(60)]
        return onp.std(ests)
    assert spread("rademacher") < spread("gaussian")


def test_lanczos_finds_extreme_eigenvalues_and_weights_sum_to_one():
    ritz, weights = ad.hessian_spectrum(quadratic, onp.zeros(20), num_steps=20, rng=0)
    assert ritz.min() == pytest.approx(-3.0, abs=1e-8) and ritz.max() == pytest.approx(5.0, abs=1e-8)
    assert weights.sum() == pytest.approx(1.0)
    ritz10, _ = ad.lanczos(lambda v: H @ v, 20, num_steps=10, rng=0)
    assert ritz10.max() == pytest.approx(5.0, abs=0.3)


def test_zero_order_estimator_is_unbiased_up_to_eps():
    g_true = ad.grad(lambda x: np.sum(np.sin(x)) + quadratic(x))(onp.ones(20))
    G = ad.zero_order_grad(lambda x: onp.sum(onp.sin(x)) + quadratic(x), onp.ones(20), eps=1e-5,
                           num_samples=20000, rng=0)
    cos = G @ g_true / (onp.linalg.norm(G) * onp.linalg.norm(g_true))
    assert cos > 0.97
    assert onp.linalg.norm(G - g_true) / onp.linalg.norm(g_true) < 0.25


def test_bad_probe_distribution_is_rejected():
    with pytest.raises(ValueError, match="rademacher"):
        ad.hutchinson_trace(quadratic, onp.zeros(20), 2, dist="uniform")
