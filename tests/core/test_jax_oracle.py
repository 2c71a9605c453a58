"""The engine against JAX (CPU, float64) on every primitive case of ``cases.py`` and every
transform: vjp, jvp, jacfwd, jacrev, grad, hessian, hvp (second order), float32 and pytrees.
Where the two differ on purpose, a test below says which is right and why."""
from __future__ import annotations

import functools

import numpy as onp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autodiff_core as ad
import autodiff_core.numpy as np

from .cases import CASES
from .jax_oracle import assert_agree, jax, jnp, jnp_like
from .test_rules import bind

SETTINGS = settings(max_examples=1, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BY_NAME = {c.name: c for c in CASES}


def _setup(case, data):
    rng = onp.random.default_rng(data.draw(st.integers(0, 2 ** 16), label="seed"))
    args = case.make(rng, data.draw)
    diff = [i for i, a in enumerate(args) if isinstance(a, onp.ndarray) and a.dtype.kind == "f"]
    xs = [args[i] for i in diff]
    return (bind(case.fn(np), args, diff), bind(case.fn(jnp_like), args, diff), xs,
            [rng.standard_normal(x.shape) for x in xs], rng)


def _f32(tree):
    return jax.tree_util.tree_map(lambda x: onp.asarray(x, onp.float32), tree)


def _jax_results(fj, xs, u, ts, w, second_order):
    """All of JAX's results for one case in one jitted function: JAX compiles for every new shape,
    and one compilation per example is several times faster than running the transforms op by op.
    float64: value, vjp, jvp, Jacobian (every argument); float32: the same but the Jacobian, and
    value_and_grad of <f, u>; second order: grad, hessian and hvp of sum(sin(f) w) in x_0."""
    argnums = tuple(range(len(xs)))

    def first(xs, u, ts):
        out, vjp_j = jax.vjp(fj, *xs)
        return {"value": out, "vjp": vjp_j(u), "jvp": jax.jvp(fj, xs, ts)}

    def results(xs, u, ts, xs32, u32, ts32):
        r = first(xs, u, ts)
        r["jac"] = jax.jacrev(fj, argnums)(*xs)
        r["f32"] = first(xs32, u32, ts32)
        r["f32"]["value_and_grad"] = jax.value_and_grad(
            lambda *xs: jnp.sum(fj(*xs) * u32), argnums)(*xs32)
        if second_order:
            hj = lambda x: jnp.sum(jnp.sin(fj(x, *xs[1:])) * w)
            x, v = xs[0], ts[0]
            r["grad"], r["hessian"] = jax.grad(hj)(x), jax.hessian(hj)(x)
            r["hvp"] = jax.jvp(jax.grad(hj), (x,), (v,))[1]
        return r
    return jax.jit(results)(xs, u, ts, *_f32((xs, u, ts)))


@pytest.mark.parametrize("name", sorted(BY_NAME))
@SETTINGS
@given(data=st.data())
def test_every_transform_agrees_with_jax(name, data):
    case = BY_NAME[name]
    f, fj, xs, ts, rng = _setup(case, data)
    out, vjp_fn = ad.vjp(f, *xs)
    u = rng.standard_normal(onp.shape(out))
    w = rng.standard_normal(onp.shape(out))
    want = _jax_results(fj, xs, u, ts, w, case.second_order)

    assert_agree(out, want["value"], f"{name}: value")
    assert_agree(vjp_fn(u), want["vjp"], f"{name}: vjp")
    assert_agree(ad.jvp(f, xs, ts), want["jvp"], f"{name}: jvp")
    argnums = tuple(range(len(xs)))
    assert_agree(ad.jacfwd(f, argnums)(*xs), want["jac"], f"{name}: jacfwd")
    assert_agree(ad.jacrev(f, argnums)(*xs), want["jac"], f"{name}: jacrev")

    xs32, u32, ts32 = _f32((xs, u, ts))
    tol = dict(rtol=2e-3, atol=2e-4)
    out32, vjp32 = ad.vjp(f, *xs32)
    assert_agree(out32, want["f32"]["value"], f"{name}: float32 value", **tol)
    assert_agree(vjp32(u32), want["f32"]["vjp"], f"{name}: float32 vjp", **tol)
    assert_agree(ad.jvp(f, xs32, ts32), want["f32"]["jvp"], f"{name}: float32 jvp", **tol)
    assert_agree(ad.value_and_grad(lambda *xs: np.sum(f(*xs) * u32), argnums)(*xs32),
                 want["f32"]["value_and_grad"], f"{name}: float32 value_and_grad", **tol)

    if case.second_order:
        h = lambda x: np.sum(np.sin(f(x, *xs[1:])) * w)
        x, v = xs[0], ts[0]
        tol = dict(rtol=1e-6, atol=1e-8)
        assert_agree(ad.grad(h)(x), want["grad"], f"{name}: grad", **tol)
        assert_agree(ad.hessian(h)(x), want["hessian"], f"{name}: hessian", **tol)
        for mode in ("fwd-rev", "rev-rev", "rev-fwd"):
            assert_agree(ad.hvp(h, x, v, mode=mode), want["hvp"], f"{name}: hvp {mode}", **tol)


# ---- pytrees: JAX's nesting of results ----------------------------------------------------------

def _model(m):
    """dict and tuple in, dict of (array, list, tuple) out."""
    def f(p, xs):
        a, b = p["a"], p["b"]
        h = m.tanh(xs[0] * a + b)
        return {"h": h, "s": [m.sum(h ** 2)], "t": (xs[1] * m.sum(a), b)}
    return f


def _scalar(m):
    f = _model(m)
    return lambda p, xs: f(p, xs)["s"][0] + m.sum(f(p, xs)["t"][0]) * p["b"]


def _inputs(dtype):
    p = {"a": onp.array([0.5, -1.0, 2.0], dtype), "b": dtype(0.3)}
    xs = (onp.array([1.0, 2.0, -0.5], dtype), onp.array([[1.0, 2.0], [0.5, 0.1]], dtype))
    return p, xs


def _cotangents(out):
    return jax.tree_util.tree_map(lambda y: onp.full(onp.shape(y), 0.7, onp.result_type(y)), out)


def _tangents(tree):
    return jax.tree_util.tree_map(lambda x: onp.ones(onp.shape(x), onp.result_type(x)), tree)


@functools.lru_cache(maxsize=None)
def _jax_pytree_results(dtype):
    """Every JAX result the pytree tests compare with, in one jitted function (one compilation)."""
    fj, sj = _model(jnp), _scalar(jnp)
    ckj = lambda p, xs: jnp.sum(jax.checkpoint(fj)(p, xs)["h"] * jax.checkpoint(fj)(p, xs)["t"][1])
    auxj = lambda p, xs: (sj(p, xs), fj(p, xs)["t"])

    def results(p, xs):
        out, vjp_j = jax.vjp(fj, p, xs)
        t = _tangents((p, xs))
        return {"value": out, "vjp": vjp_j(_cotangents(out)), "jvp": jax.jvp(fj, (p, xs), t),
                "linearize": jax.linearize(fj, p, xs)[1](*t),
                "jac": {str(a): jax.jacrev(fj, a)(p, xs) for a in (0, 1, (0, 1))},
                "value_and_grad": jax.value_and_grad(sj, (0, 1))(p, xs),
                "hessian": jax.hessian(sj)(p, xs),
                "hvp": jax.jvp(jax.grad(lambda p: sj(p, xs)), (p,), (t[0],))[1],
                "checkpoint": jax.grad(ckj)(p, xs), "has_aux": jax.grad(auxj, has_aux=True)(p, xs)}
    return jax.jit(results)(*_inputs(dtype))


@pytest.mark.parametrize("dtype", [onp.float64, onp.float32])
def test_pytree_vjp_jvp_linearize_agree_with_jax(dtype):
    want, (p, xs) = _jax_pytree_results(dtype), _inputs(dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == onp.float32 else {}
    f = _model(np)
    out, vjp_fn = ad.vjp(f, p, xs)
    assert_agree(out, want["value"], "value", **tol)
    assert_agree(vjp_fn(_cotangents(out)), want["vjp"], "vjp", **tol)
    t = _tangents((p, xs))
    assert_agree(ad.jvp(f, (p, xs), t), want["jvp"], "jvp", **tol)
    assert_agree(ad.linearize(f, p, xs)[1](*t), want["linearize"], "linearize", **tol)


@pytest.mark.parametrize("dtype", [onp.float64, onp.float32])
@pytest.mark.parametrize("ours", [ad.jacfwd, ad.jacrev, ad.jacobian])
@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_pytree_jacobians_agree_with_jax(ours, argnums, dtype):
    want, (p, xs) = _jax_pytree_results(dtype), _inputs(dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == onp.float32 else {}
    assert_agree(ours(_model(np), argnums)(p, xs), want["jac"][str(argnums)],
                 f"{ours.__name__} argnums={argnums}", **tol)


@pytest.mark.parametrize("dtype", [onp.float64, onp.float32])
def test_pytree_grad_hessian_hvp_checkpoint_has_aux_agree_with_jax(dtype):
    want, (p, xs) = _jax_pytree_results(dtype), _inputs(dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == onp.float32 else {}
    s, f = _scalar(np), _model(np)
    assert_agree(ad.value_and_grad(s, (0, 1))(p, xs), want["value_and_grad"], "grad", **tol)
    assert_agree(ad.hessian(s)(p, xs), want["hessian"], "hessian", **tol)
    v = _tangents(p)
    for mode in ("fwd-rev", "rev-rev", "rev-fwd"):
        assert_agree(ad.hvp(lambda p: s(p, xs), p, v, mode=mode), want["hvp"], f"hvp {mode}", **tol)
    ck = lambda p, xs: np.sum(ad.checkpoint(f)(p, xs)["h"] * ad.checkpoint(f)(p, xs)["t"][1])
    assert_agree(ad.grad(ck)(p, xs), want["checkpoint"], "checkpoint", **tol)
    aux = lambda p, xs: (s(p, xs), f(p, xs)["t"])
    assert_agree(ad.grad(aux, has_aux=True)(p, xs), want["has_aux"], "has_aux", **tol)


# ---- where the engine and JAX differ on purpose -------------------------------------------------

def test_abs_at_zero_engine_gives_the_minimum_norm_subgradient_jax_the_right_derivative():
    # |x| has no derivative at 0; every value in [-1, 1] is a subgradient. The engine returns 0,
    # the one of minimum norm (a minimiser of |x| then has a zero gradient, as optimality needs);
    # JAX returns 1 (its rule is select(x >= 0, 1, -1)). Both agree away from 0.
    assert ad.grad(np.abs)(0.0) == 0.0 and jax.grad(jnp.abs)(0.0) == 1.0
    assert ad.grad(np.abs)(-2.0) == jax.grad(jnp.abs)(-2.0) == -1.0


def test_norm_at_zero_engine_gives_zero_jax_gives_nan():
    # d||x||/dx = x / ||x|| is 0/0 at x = 0; the engine returns 0, the minimum-norm subgradient
    # (the subdifferential there is the unit ball), so ridge-like penalties stay finite; JAX
    # returns NaN.
    x = onp.zeros(3)
    onp.testing.assert_array_equal(ad.grad(np.linalg.norm)(x), onp.zeros(3))
    assert onp.isnan(jax.grad(jnp.linalg.norm)(x)).all()
