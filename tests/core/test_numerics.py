"""Finite differences (their error orders) and check_grads (it must catch wrong rules)."""
from __future__ import annotations

import numpy as onp
import pytest

import autodiff_core as ad
import autodiff_core.numpy as np


def f(x):
    """The lectures' test polynomial 64x(1-x)(1-2x)^2(1-8x+8x^2)^2 (the logistic map, 4 steps)."""
    return 64 * x * (1 - x) * (1 - 2 * x) ** 2 * (1 - 8 * x + 8 * x ** 2) ** 2


def exact_derivative(x, h=1e-3):
    # an independent reference: the derivative of the expanded polynomial's coefficients
    coeffs = onp.polynomial.polynomial.Polynomial([0, 64]) * onp.polynomial.polynomial.Polynomial([1, -1]) \
        * onp.polynomial.polynomial.Polynomial([1, -2]) ** 2 * onp.polynomial.polynomial.Polynomial([1, -8, 8]) ** 2
    return coeffs.deriv()(x)


@pytest.mark.parametrize("method, order", [("forward", 1), ("central", 2), ("richardson", 4)])
def test_finite_difference_error_order(method, order):
    x, d = 0.2, exact_derivative(0.2)
    e1 = abs(ad.finite_difference(f, x, 1e-2, method) - d)
    e2 = abs(ad.finite_difference(f, x, 5e-3, method) - d)
    assert e1 / e2 == pytest.approx(2 ** order, rel=0.25)


def test_autodiff_is_exact_where_finite_differences_are_not():
    assert ad.grad(f)(0.2) == pytest.approx(exact_derivative(0.2), rel=1e-13)


def test_numerical_grad_and_jacobian():
    x = onp.array([0.3, -1.2, 2.0])
    onp.testing.assert_allclose(ad.numerical_grad(lambda x: onp.sum(onp.sin(x)), x), onp.cos(x), rtol=1e-8)
    J = ad.numerical_jacobian(lambda x: onp.outer(x, x).ravel(), x)
    assert J.shape == (9, 3)


def test_unknown_method_is_rejected():
    with pytest.raises(ValueError, match="richardson"):
        ad.finite_difference(f, 0.2, method="backward")


def test_check_grads_passes_correct_rules_and_catches_wrong_ones():
    x = (onp.array([0.5, 1.5]),)
    ad.check_grads(lambda x: np.sin(x) * x, x, order=2)
    wrong_vjp = ad.primitive(onp.sin, name="sin_wrong_vjp")
    wrong_vjp.defvjp(lambda g, ans, x: -g * np.cos(x))          # sign error
    wrong_vjp.defjvp(lambda t, ans, x: t * np.cos(x))
    with pytest.raises(AssertionError, match="reverse"):
        ad.check_grads(wrong_vjp, x, order=1)
    ad.check_grads(wrong_vjp, x, modes=("fwd",), order=1)       # its JVP is right
    wrong_second = ad.primitive(onp.sin, name="sin_wrong_second")
    wrong_second.defvjp(lambda g, ans, x: g * onp.cos(ad.primal(x)))   # constant in x: no 2nd order
    wrong_second.defjvp(lambda t, ans, x: t * onp.cos(ad.primal(x)))
    ad.check_grads(wrong_second, x, order=1)
    with pytest.raises(AssertionError, match="order 1"):
        ad.check_grads(wrong_second, x, order=2)


def test_forward_difference_gradient_costs_d_plus_one_evaluations():
    calls = []

    def f(x):
        calls.append(1)
        return onp.sum(x ** 2)
    g = ad.numerical_grad(f, onp.ones(5), h=1e-7, method="forward")
    assert len(calls) == 6
    onp.testing.assert_allclose(g, 2 * onp.ones(5), rtol=1e-5)
