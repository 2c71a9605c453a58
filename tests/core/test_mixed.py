"""Jacobians in both modes and the automatic choice, Hessians, the three hvp modes (through
linear algebra too), and chain-Jacobian ordering."""
from __future__ import annotations

import itertools

import numpy as onp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_core as ad
import autodiff_core.numpy as np
from autodiff_core.jacobians import _chain_order

rng = onp.random.default_rng(0)


def f_vec(x):
    return np.concatenate([np.sin(x) * x[0], np.array([np.sum(x ** 2)])])


@pytest.mark.parametrize("mode", ["fwd", "rev", "auto"])
def test_jacobian_modes_agree_with_finite_differences(mode):
    x = rng.standard_normal(4)
    J = ad.jacobian(f_vec, mode=mode)(x)
    onp.testing.assert_allclose(J, ad.numerical_jacobian(lambda y: onp.asarray(f_vec(y)), x), rtol=1e-6, atol=1e-8)
    onp.testing.assert_allclose(ad.jacfwd(f_vec)(x), ad.jacrev(f_vec)(x), rtol=1e-12)


def test_jacobian_shape_is_output_then_input():
    x = rng.standard_normal((2, 3))
    J = ad.jacobian(lambda x: x.T @ x)(x)
    assert J.shape == (3, 3, 2, 3)
    onp.testing.assert_allclose(J, ad.jacrev(lambda x: x.T @ x)(x))


def test_auto_mode_picks_forward_for_tall_and_reverse_for_wide(monkeypatch):
    from autodiff_core.transforms import _Recording
    sweeps = []
    for kind in ("push", "pull"):
        real = getattr(_Recording, kind)
        monkeypatch.setattr(_Recording, kind,
                            lambda self, *a, real=real, kind=kind: (sweeps.append(kind), real(self, *a))[1])
    A_tall, A_wide = rng.standard_normal((10, 3)), rng.standard_normal((3, 10))
    ad.jacobian(lambda x: A_tall @ x)(onp.ones(3))
    assert sweeps == ["push"] * 3                     # n = 3 < m = 10: three forward sweeps
    sweeps.clear()
    ad.jacobian(lambda x: A_wide @ x)(onp.ones(10))
    assert sweeps == ["pull"] * 3                   # n = 10 > m = 3: three reverse sweeps


def test_jacobian_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        ad.jacobian(f_vec, mode="sideways")


def test_hessian_matches_analytic():
    A = rng.standard_normal((3, 3))
    A = A + A.T
    x = rng.standard_normal(3)
    H = ad.hessian(lambda x: 0.5 * x @ A @ x + np.sum(np.sin(x)))(x)
    onp.testing.assert_allclose(H, A - onp.diag(onp.sin(x)), rtol=1e-10, atol=1e-12)


def _loss_through_linalg(x):
    n = 3
    M = np.reshape(x[:n * n], (n, n)) + 4.0 * onp.eye(n)
    b = x[n * n:]
    y = np.linalg.solve(M, b)
    s = np.linalg.svd(M, compute_uv=False)
    u, s2, vt = np.linalg.svd(M, full_matrices=False)
    return (np.sum(y ** 2) + np.log(np.linalg.det(M)) + np.sum(np.linalg.inv(M) ** 2)
            + np.sum(s ** 3) + np.sum((u * s2) @ vt * M))


@pytest.mark.parametrize("mode", ["fwd-rev", "rev-rev", "rev-fwd"])
def test_hvp_modes_through_linear_algebra(mode):
    """Forward-over-reverse needs JVPs of the linalg rules' own operations (solve, inv, det, svd)."""
    x = rng.standard_normal(12) * 0.3
    v = rng.standard_normal(12)
    g = lambda y: onp.asarray(ad.grad(_loss_through_linalg)(y))
    expected = ad.numerical_jvp(g, x, v, h=1e-5)
    onp.testing.assert_allclose(ad.hvp(_loss_through_linalg, x, v, mode=mode), expected, rtol=1e-5, atol=1e-6)


def test_hvp_rejects_unknown_mode():
    with pytest.raises(ValueError, match="fwd-rev"):
        ad.hvp(np.sum, onp.ones(2), onp.ones(2), mode="fwd-fwd")


def _brute_force_chain_cost(dims):
    """Cheapest multiplication order by trying every binary tree."""
    def best(lo, hi):
        if lo == hi:
            return 0
        return min(best(s + 1, hi) + best(lo, s) + dims[hi] * dims[s] * dims[lo - 1] for s in range(lo, hi))
    return best(1, len(dims) - 1)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 30), min_size=2, max_size=7))
def test_chain_order_is_optimal(dims):
    split, cost = _chain_order(tuple(dims))
    assert cost[1, len(dims) - 1] == _brute_force_chain_cost(tuple(dims))


def test_chain_jacobian_wide_narrow_wide():
    """R^10 -> R^100 -> R^2 -> R^100 -> R^10: neither pure mode's order is best. Forward order
    J4 (J3 (J2 J1)) and reverse order ((J4 J3) J2) J1 cost 14000 multiplications each; meeting
    at the narrow middle, (J4 J3) (J2 J1), costs 2000 + 2000 + 200 = 4200."""
    W = [rng.standard_normal(s) for s in [(100, 10), (2, 100), (100, 2), (10, 100)]]
    stages = [lambda x: np.tanh(W[0] @ x), lambda h: np.sin(W[1] @ h),
              lambda z: np.tanh(W[2] @ z), lambda y: W[3] @ y]
    x = rng.standard_normal(10)

    def full(x):
        for f in stages:
            x = f(x)
        return x
    J, plan = ad.chain_jacobian(stages, x)
    onp.testing.assert_allclose(J, ad.jacfwd(full)(x), rtol=1e-10, atol=1e-12)
    assert plan.dims == (10, 100, 2, 100, 10)
    assert plan.order == "((J4 J3) (J2 J1))"
    assert (plan.cost, plan.cost_forward, plan.cost_reverse) == (4200, 14000, 14000)
    assert plan.cost == _brute_force_chain_cost(plan.dims)
