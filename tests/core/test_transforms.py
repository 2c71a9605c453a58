"""grad, value_and_grad, vjp, jvp: API behaviour, nesting, control flow and clear errors."""
from __future__ import annotations

import numpy as onp
import pytest

import autodiff_core as ad
import autodiff_core.numpy as np
from autodiff_core import grad


def test_grad_argnums_int_and_tuple():
    f = lambda x, y: x * y ** 2
    assert grad(f)(3.0, 2.0) == pytest.approx(4.0)
    assert grad(f, argnums=1)(3.0, 2.0) == pytest.approx(12.0)
    gx, gy = grad(f, argnums=(0, 1))(3.0, 2.0)
    assert (gx, gy) == (pytest.approx(4.0), pytest.approx(12.0))


def test_value_and_grad_returns_both():
    value, g = ad.value_and_grad(lambda x: np.sum(x ** 3))(onp.array([1.0, 2.0]))
    assert value == pytest.approx(9.0)
    onp.testing.assert_allclose(g, [3.0, 12.0])


def test_vjp_returns_one_cotangent_per_primal():
    A = onp.arange(6.0).reshape(2, 3)
    out, vjp_fn = ad.vjp(lambda x, y: A @ x * y, onp.ones(3), 2.0)
    gx, gy = vjp_fn(onp.array([1.0, -1.0]))
    onp.testing.assert_allclose(gx, 2.0 * (A[0] - A[1]))
    assert gy == pytest.approx(onp.dot([1.0, -1.0], A @ onp.ones(3)))


def test_jvp_is_directional_derivative():
    out, t = ad.jvp(lambda x: np.sin(x) * x, (onp.array([0.5, 1.0]),), (onp.array([1.0, 2.0]),))
    x = onp.array([0.5, 1.0])
    onp.testing.assert_allclose(t, (onp.cos(x) * x + onp.sin(x)) * [1.0, 2.0])


def test_inputs_can_be_nested_containers():
    params = {"w": onp.array([1.0, 2.0]), "b": [3.0, onp.array([4.0])]}
    g = grad(lambda p: np.sum(p["w"] ** 2) + p["b"][0] * np.sum(p["b"][1]))(params)
    onp.testing.assert_allclose(g["w"], [2.0, 4.0])
    assert g["b"][0] == pytest.approx(4.0)
    onp.testing.assert_allclose(g["b"][1], [3.0])


def test_unused_input_gets_zero_gradient():
    assert grad(lambda x, y: x * 2.0, argnums=1)(1.0, 5.0) == 0.0
    onp.testing.assert_array_equal(grad(lambda x: 3.0)(onp.ones(2)), onp.zeros(2))


def test_higher_order_scalar_derivatives():
    f = lambda x: x ** 4
    assert grad(grad(grad(f)))(2.0) == pytest.approx(24 * 2.0)
    assert grad(grad(np.sin))(0.7) == pytest.approx(-onp.sin(0.7))


def test_jvp_of_grad_and_grad_of_jvp():
    f = lambda x: np.sum(np.exp(x) * x)
    x, v = onp.array([0.1, -0.4]), onp.array([1.0, 3.0])
    H = onp.diag(onp.exp(x) * (x + 2))
    onp.testing.assert_allclose(ad.jvp(grad(f), (x,), (v,))[1], H @ v)
    onp.testing.assert_allclose(grad(lambda y: ad.jvp(f, (y,), (v,))[1])(x), H @ v)


def test_seed_hvp_snippet_runs_verbatim():
    """grad(lambda x: np.vdot(grad(f)(x), v))(x), the lecture's one-liner (autograd 1.9 fails it)."""
    f = lambda x: np.sum(np.tanh(x) ** 2) + x[0] * x[1] ** 3
    x, v = onp.array([0.3, -0.8, 1.2]), onp.array([1.0, 0.5, -2.0])
    hv = grad(lambda x: np.vdot(grad(f)(x), v))(x)
    H = ad.numerical_jacobian(lambda y: onp.asarray(grad(f)(y)), x)
    onp.testing.assert_allclose(hv, H @ v, rtol=1e-6)


def test_closures_do_not_confuse_perturbations():
    """d/dx [x * d/dy (x + y)] = 1 (the classic perturbation-confusion test)."""
    assert grad(lambda x: x * grad(lambda y: x + y)(1.0))(2.0) == pytest.approx(1.0)
    assert grad(lambda x: grad(lambda y: x * y)(3.0))(2.0) == pytest.approx(1.0)


def test_control_flow_is_traced_along_the_path_taken():
    """The seeds' example: f(a, b) = log(ab) if ab > 5 else sin(ab)."""
    def f(a, b):
        c = a * b
        return np.log(c) if c > 5 else np.sin(c)
    assert f(2.0, 3.0) == pytest.approx(1.7918, abs=1e-4)
    ga, gb = grad(f, argnums=(0, 1))(2.0, 3.0)
    assert (ga, gb) == (pytest.approx(0.5), pytest.approx(1 / 3))
    ga, gb = grad(f, argnums=(0, 1))(1.0, 2.0)             # the other branch: cos(ab) b, cos(ab) a
    assert (ga, gb) == (pytest.approx(onp.cos(2.0) * 2), pytest.approx(onp.cos(2.0)))


def test_loops_and_recursion():
    def power(x, n):
        return 1.0 if n == 0 else x * power(x, n - 1)

    def newton_sqrt(a):
        x = a
        while abs(ad.primal(x * x - a)) > 1e-12:
            x = 0.5 * (x + a / x)
        return x
    assert grad(power)(1.5, 5) == pytest.approx(5 * 1.5 ** 4)
    assert grad(newton_sqrt)(2.0) == pytest.approx(0.5 / onp.sqrt(2.0))


def test_primal_reads_the_value_under_tracing():
    seen = []

    def f(x):
        seen.append((ad.primal(x), x.primal))
        return x * 2.0
    grad(grad(lambda x: f(x) * x))(3.0)
    assert all(isinstance(p, float) or onp.ndim(p) == 0 for p, _ in seen)
    assert all(p == 3.0 and q == 3.0 for p, q in seen)


def test_plain_numpy_functions_dispatch_to_traced_rules():
    """np (plain NumPy) called on a traced value uses the traced rule through NumPy's protocols."""
    g = grad(lambda x: onp.sum(onp.exp(x) * onp.ones(2)))(onp.array([0.0, 1.0]))
    onp.testing.assert_allclose(g, onp.exp([0.0, 1.0]))
    g = grad(lambda x: onp.sum(onp.array([1.0, 2.0]) * x))(onp.array([1.0, 1.0]))
    onp.testing.assert_allclose(g, [1.0, 2.0])


def test_tracer_methods_and_array_of_tracers():
    def f(x):
        y = x.reshape(2, 2).T @ x.reshape((2, 2))
        z = np.array([y[0, 0], y.sum(), x.mean()])
        return z.max() + z.min() + x.ravel()[0]
    x = onp.array([1.0, 2.0, 3.0, 4.0])
    onp.testing.assert_allclose(grad(f)(x), ad.numerical_grad(f, x), rtol=1e-6)


# ---------------------------------------------------------------- clear errors on bad input

def test_no_rule_raises_type_error_naming_the_function():
    with pytest.raises(TypeError, match="cumprod"):
        grad(lambda x: np.sum(np.cumprod(x)))(onp.ones(3))
    with pytest.raises(TypeError, match="spacing"):
        grad(lambda x: onp.spacing(x))(1.0)


def test_grad_of_non_scalar_says_use_jacobian_or_vjp():
    with pytest.raises(TypeError, match="jacobian.*vjp|vjp.*jacobian"):
        grad(lambda x: x * 2.0)(onp.ones(3))


def test_integer_inputs_are_rejected_clearly():
    with pytest.raises(TypeError, match="floating-point.*3.0"):
        grad(lambda x: x * x)(3)
    with pytest.raises(TypeError, match="int"):
        grad(lambda x: np.sum(x))(onp.arange(3))
    with pytest.raises(TypeError, match="floating-point"):
        ad.jvp(lambda x: x, (onp.arange(2),), (onp.ones(2),))


def test_integer_and_boolean_arrays_are_constants():
    idx, mask = onp.array([2, 0, 2]), onp.array([True, False, True])
    f = lambda x: np.sum(x[idx] * onp.arange(3)) + np.sum(np.where(mask, x, 0.0))
    onp.testing.assert_allclose(grad(f)(onp.ones(3)), [2.0, 0.0, 3.0])


def test_in_place_assignment_raises_clearly():
    def f(x):
        x[0] = 1.0
        return np.sum(x)
    with pytest.raises(TypeError, match="in-place"):
        grad(f)(onp.ones(3))


def test_converting_a_tracer_to_float_or_array_raises():
    with pytest.raises(TypeError, match="primal"):
        grad(lambda x: float(x))(1.0)
    with pytest.raises(TypeError, match="primal"):
        grad(lambda x: x * onp.array([x, 1.0]).sum())(1.0)


def test_rule_returning_wrong_shape_names_the_primitive():
    bad = ad.primitive(lambda x: x * 2.0, name="doubler")
    bad.defvjp(lambda g, ans, x: onp.ones(7))
    bad.defjvp(lambda t, ans, x: onp.ones(7))
    with pytest.raises(ValueError, match="doubler.*shape"):
        grad(lambda x: np.sum(bad(x)))(onp.ones(3))
    with pytest.raises(ValueError, match="doubler.*shape"):
        ad.jvp(bad, (onp.ones(3),), (onp.ones(3),))


def test_missing_rule_is_reported():
    p = ad.primitive(lambda x: x + 1.0, name="plus_one")
    with pytest.raises(NotImplementedError, match="plus_one.*VJP"):
        grad(p)(1.0)
    with pytest.raises(NotImplementedError, match="plus_one.*JVP"):
        ad.jvp(p, (1.0,), (1.0,))


def test_tangent_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match="tangent 0 has shape"):
        ad.jvp(np.sin, (onp.ones(3),), (onp.ones(2),))


def test_cotangent_shape_mismatch_is_reported():
    _, vjp_fn = ad.vjp(np.sin, onp.ones(3))
    with pytest.raises(ValueError, match="cotangent"):
        vjp_fn(onp.ones(2))


# ---------------------------------------------------------------- user-defined rules

def test_custom_primitive_with_rules():
    softplus = ad.primitive(lambda x: onp.log1p(onp.exp(x)), name="softplus")
    softplus.defvjp(lambda g, ans, x: g * np.sigmoid(x))
    softplus.defjvp(lambda t, ans, x: t * np.sigmoid(x))
    ad.check_grads(softplus, (onp.array([-1.0, 0.5, 2.0]),), order=2)


def test_override_rules_swaps_and_restores():
    reference = np.log.vjp_rule(0)
    calls = []

    def student(g, ans, x):
        calls.append(1)
        return g / x
    with ad.override_rules(np.log, vjp=student):
        assert grad(np.log)(4.0) == pytest.approx(0.25)
        assert np.log.vjp_rule(0) is student
    assert calls and np.log.vjp_rule(0) is reference
    with pytest.raises(RuntimeError):
        with ad.override_rules(np.log, vjp=lambda g, ans, x: -g / x):
            assert grad(np.log)(4.0) == pytest.approx(-0.25)
            raise RuntimeError
    assert grad(np.log)(4.0) == pytest.approx(0.25)


def test_linearize_evaluates_once_and_matches_jvp():
    calls = []

    def f(x):
        calls.append(1)
        return np.sin(x) * np.sum(x ** 2)
    x = onp.array([0.3, -1.0, 2.0])
    out, jvp_fn = ad.linearize(f, x)
    rng = onp.random.default_rng(0)
    for _ in range(4):
        v = rng.standard_normal(3)
        onp.testing.assert_allclose(jvp_fn(v), ad.jvp(f, (x,), (v,))[1], rtol=1e-12)
    onp.testing.assert_allclose(out, f(x))
    assert len(calls) == 1 + 4 + 1          # linearize once, then only the jvp and f(x) checks


def test_replaced_rules_see_ans_and_args_even_where_the_reference_needs_only_one():
    """sqrt's reference VJP reads only ans and log's only x; other correct rules read the other."""
    f = lambda x: np.sum(np.sqrt(x) * np.log(x))
    x = onp.array([0.5, 2.0, 3.0])
    want = ad.grad(f)(x)
    with ad.override_rules(np.sqrt, vjp=lambda g, ans, x: g / (2 * np.sqrt(x)),
                           jvp=lambda t, ans, x: t / (2 * np.sqrt(x))), \
            ad.override_rules(np.log, vjp=lambda g, ans, x: g * np.exp(-ans),
                              jvp=lambda t, ans, x: t * np.exp(-ans)):
        onp.testing.assert_allclose(ad.grad(f)(x), want, rtol=1e-12)
        onp.testing.assert_allclose(ad.jacfwd(f)(x), want, rtol=1e-12)     # tangent sweeps too
    assert (np.sqrt.save_ans, np.sqrt.save_args, np.log.save_ans) == (True, False, False)
    softplus = ad.primitive(lambda x: onp.log1p(onp.exp(x)), name="softplus2").saves(ans=False)
    softplus.defvjp(lambda g, ans, x: g * np.sigmoid(x))
    softplus.defvjp(lambda g, ans, x: g * (1 - np.exp(-ans)))             # replaced: reads ans
    assert ad.grad(lambda x: np.sum(softplus(x)))(onp.array([0.3])) == pytest.approx(1 / (1 + onp.exp(-0.3)))
