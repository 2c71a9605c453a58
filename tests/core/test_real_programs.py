"""Issue 10: programs as people write them. Leaked tracers, pytrees in and out of every transform,
NumPy keywords that would bypass the tape, float32, logsumexp at infinities, and the errors that
must point the right way. Expected values are worked out by hand (or by SciPy / NumPy)."""
from __future__ import annotations

import gc

import numpy as onp
import pytest
import scipy.special

import autodiff_core as ad
import autodiff_core.numpy as np
from autodiff_core.reverse import Node

X3 = onp.array([1.0, 2.0, 3.0])


# ---- 1. leaked tracers ---------------------------------------------------------------------------

def test_value_stashed_in_a_list_raises_when_used_in_a_later_transform():
    stash = []

    def f(x):
        stash.append(x)
        return x * x

    assert ad.grad(f)(1.5) == pytest.approx(3.0)
    # before the fix this returned a tracer object; right: an error naming the escape
    with pytest.raises(ad.UnexpectedTracerError, match=r"ad\.grad.*finished.*stash\.append\(ad\.primal"):
        ad.grad(lambda y: y * stash[0])(2.0)
    with pytest.raises(ad.UnexpectedTracerError, match="'multiply'"):
        stash[0] * 2.0                                  # outside any transform too


def test_the_fix_the_message_proposes_gives_the_right_number():
    stash = []

    def f(x):
        stash.append(ad.primal(x))
        return x * x

    ad.grad(f)(1.5)
    assert ad.grad(lambda y: y * stash[0])(2.0) == pytest.approx(1.5)


def test_escaped_value_read_as_a_number_is_its_plain_value():
    stash = []
    ad.grad(lambda x: (stash.append(x * 2.0), x)[1])(1.5)
    assert float(stash[0]) == 3.0                          # unambiguous: nothing to differentiate
    onp.testing.assert_array_equal(onp.asarray([stash[0], 1.0]), [3.0, 1.0])


def test_running_mean_in_a_dict_and_closure_state_raise():
    stats = {"mean": 0.0}

    def loss(w):
        value = np.sum(w ** 2)
        stats["mean"] = 0.9 * stats["mean"] + 0.1 * value
        return value

    ad.grad(loss)(X3)
    with pytest.raises(ad.UnexpectedTracerError, match=r"float64\[\].*ad\.grad"):
        ad.grad(loss)(X3)

    class Model:
        def loss(self, w):
            self.last = w                               # state kept on an object
            return np.sum(w)

    m = Model()
    ad.grad(m.loss)(X3)
    with pytest.raises(ad.UnexpectedTracerError, match=r"float64\[3\]"):
        ad.jvp(lambda v: v * m.last, (X3,), (X3,))
    with pytest.raises(ad.UnexpectedTracerError):
        ad.vjp(lambda v: m.last, X3)                       # returned as the output


def test_value_leaked_from_a_wengert_trace_raises_in_a_later_transform():
    stash = []

    def f(x):
        stash.append(x)
        return np.sin(x) * x

    wl = ad.trace(f, 1.5)
    assert wl.nodes[-1].value == pytest.approx(onp.sin(1.5) * 1.5)
    # before the trace was marked finished, this "gradient" was the leaked tracer object itself
    with pytest.raises(ad.UnexpectedTracerError, match=r"trace.*finished"):
        ad.grad(lambda y: y * stash[0])(2.0)


def test_leak_from_jvp_and_from_an_inner_transform():
    stash = []
    ad.jvp(lambda x: (stash.append(x), x * 2.0)[1], (1.0,), (1.0,))
    with pytest.raises(ad.UnexpectedTracerError, match=r"ad\.jvp"):
        ad.grad(lambda y: y + stash[0])(1.0)

    inner = []

    def outer(x):
        g = ad.grad(lambda y: (inner.append(y), y * x)[1])(x)
        return g * x

    assert ad.grad(outer)(3.0) == pytest.approx(6.0)      # d/dx (x * x): nested, nothing leaked
    with pytest.raises(ad.UnexpectedTracerError):
        ad.grad(lambda z: z * inner[0])(1.0)


def _live_nodes():
    gc.collect()
    return sum(isinstance(o, Node) for o in gc.get_objects())


def _train(loss, steps=30):
    w = {"W": onp.full((4, 3), 0.1), "b": onp.zeros(3)}
    x = onp.linspace(-1.0, 1.0, 8).reshape(2, 4)
    counts = []
    for _ in range(steps):
        g = ad.grad(loss)(w, x)
        w = {k: w[k] - 0.1 * g[k] for k in w}
        counts.append(_live_nodes())
    return w, counts


def test_training_loop_with_running_mean_raises_at_the_second_step():
    stats = {"mean": 0.0}

    def loss(w, x):
        value = np.sum(np.tanh(x @ w["W"] + w["b"]) ** 2)
        stats["mean"] = 0.9 * stats["mean"] + 0.1 * value      # the leak
        return value

    with pytest.raises(ad.UnexpectedTracerError):
        _train(loss)


def test_training_loop_done_right_keeps_plain_weights_and_no_graph():
    stats = {"mean": 0.0}

    def loss(w, x):
        value = np.sum(np.tanh(x @ w["W"] + w["b"]) ** 2)
        stats["mean"] = 0.9 * stats["mean"] + 0.1 * ad.primal(value)
        return value

    before = _live_nodes()
    w, counts = _train(loss)
    assert all(type(v) is onp.ndarray for v in w.values())
    assert type(stats["mean"]) in (float, onp.float64)
    assert counts[-1] == counts[0] == before              # no graph node survives a step


# ---- 2. pytrees ----------------------------------------------------------------------------------

@pytest.mark.parametrize("out", [lambda x: {"a": x}, lambda x: (x, x), lambda x: [x * 2.0]])
def test_grad_of_a_structured_output_is_a_scalar_output_error(out):
    with pytest.raises(TypeError, match="scalar output.*has_aux"):
        ad.grad(out)(1.0)


def _f_tree(p):
    """dict in, dict of (array, list) out: f = {'y': a * b, 'z': [sum(a) * b]}."""
    a, b = p["a"], p["b"]
    return {"y": a * b, "z": [np.sum(a) * b]}


P = {"a": onp.array([1.0, 2.0]), "b": 3.0}


def test_vjp_jvp_linearize_with_pytrees_in_and_out():
    out, vjp_fn = ad.vjp(_f_tree, P)
    onp.testing.assert_allclose(out["y"], [3.0, 6.0])
    (ct,) = vjp_fn({"y": onp.array([1.0, 1.0]), "z": [1.0]})
    # d/da: b * 1 + b * 1 = [6, 6];  d/db: sum(a) + sum(a) = 6
    onp.testing.assert_allclose(ct["a"], [6.0, 6.0])
    assert ct["b"] == pytest.approx(6.0)
    t = {"a": onp.array([1.0, 0.0]), "b": 1.0}
    out2, tan = ad.jvp(_f_tree, (P,), (t,))
    # dy = da b + a db = [3 + 1, 2];  dz = sum(da) b + sum(a) db = 3 + 3
    onp.testing.assert_allclose(tan["y"], [4.0, 2.0])
    assert tan["z"][0] == pytest.approx(6.0)
    _, jvp_fn = ad.linearize(_f_tree, P)
    lin = jvp_fn(t)
    onp.testing.assert_allclose(lin["y"], tan["y"])
    assert lin["z"][0] == pytest.approx(6.0)


@pytest.mark.parametrize("jac", [ad.jacfwd, ad.jacrev, ad.jacobian])
def test_jacobian_of_dict_output_wrt_tuple_input_is_a_dict_of_tuples(jac):
    f = lambda x, s: {"p": x * s, "q": np.sum(x) + s}
    J = jac(f, argnums=(0, 1))(onp.array([1.0, 2.0]), 3.0)
    assert set(J) == {"p", "q"} and all(isinstance(J[k], tuple) for k in J)
    onp.testing.assert_allclose(J["p"][0], 3.0 * onp.eye(2))
    onp.testing.assert_allclose(J["p"][1], [1.0, 2.0])
    onp.testing.assert_allclose(J["q"][0], [1.0, 1.0])
    assert J["q"][1] == pytest.approx(1.0)


def test_hessian_and_hvp_of_a_dict_input():
    f = lambda p: np.sum(p["x"] ** 2) * p["y"]
    p = {"x": onp.array([1.0, 2.0]), "y": 3.0}
    H = ad.hessian(f)(p)
    onp.testing.assert_allclose(H["x"]["x"], 6.0 * onp.eye(2))     # 2 y I
    onp.testing.assert_allclose(H["x"]["y"], [2.0, 4.0])            # 2 x
    onp.testing.assert_allclose(H["y"]["x"], [2.0, 4.0])
    assert H["y"]["y"] == pytest.approx(0.0)
    v = {"x": onp.array([1.0, 0.0]), "y": 1.0}
    for mode in ("fwd-rev", "rev-rev", "rev-fwd"):
        Hv = ad.hvp(f, p, v, mode=mode)
        onp.testing.assert_allclose(Hv["x"], [6.0 + 2.0, 4.0])
        assert Hv["y"] == pytest.approx(2.0)


def test_checkpoint_with_pytree_arguments_and_results():
    def block(p, x):
        h = np.tanh(x @ p["W"])
        return {"h": h, "n": [np.sum(h ** 2)]}

    def loss(p, x, wrap):
        o = wrap(block)(p, x)
        return np.sum(o["h"]) + o["n"][0]

    rng = onp.random.default_rng(1)
    p, x = {"W": rng.standard_normal((3, 3))}, rng.standard_normal((2, 3))
    plain = ad.grad(loss)(p, x, lambda f: f)
    onp.testing.assert_allclose(ad.grad(loss)(p, x, ad.checkpoint)["W"], plain["W"])
    h = lambda W, wrap: ad.hessian(lambda W: loss({"W": W}, x, wrap))(W)
    onp.testing.assert_allclose(h(p["W"], ad.checkpoint), h(p["W"], lambda f: f), rtol=1e-10)


def test_has_aux_as_in_jax():
    f = lambda x: (np.sum(x ** 2), {"norm": np.sqrt(np.sum(x ** 2)), "x": x})
    g, aux = ad.grad(f, has_aux=True)(X3)
    onp.testing.assert_allclose(g, 2 * X3)
    assert type(aux["x"]) is onp.ndarray and aux["norm"] == pytest.approx(onp.sqrt(14.0))
    (value, aux), g = ad.value_and_grad(f, has_aux=True)(X3)
    assert value == pytest.approx(14.0)
    # aux of an inner grad carries the outer trace: d/dx of aux works under nesting
    d = ad.grad(lambda x: ad.grad(lambda y: (y * x, x * x), has_aux=True)(x)[1])(3.0)
    assert d == pytest.approx(6.0)
    with pytest.raises(TypeError, match="pair"):
        ad.grad(lambda x: x * 2.0, has_aux=True)(1.0)


def test_matrix_methods_on_traced_arrays():
    A = onp.arange(4.0).reshape(2, 2)
    onp.testing.assert_allclose(ad.grad(lambda A: A.trace())(A), onp.eye(2))
    onp.testing.assert_allclose(ad.grad(lambda A: A.T.dot(A).sum())(A), 2 * A @ onp.ones((2, 2)))
    g = ad.grad(lambda A: np.sum(A.astype(onp.float32) ** 2))(A)
    assert g.dtype == onp.float64
    onp.testing.assert_allclose(g, 2 * A)
    assert ad.grad(lambda x: x * x.astype(int))(2.5) == pytest.approx(2.0)   # int cast: constant
    assert ad.grad(lambda A: onp.trace(A))(A).tolist() == onp.eye(2).tolist()


# ---- 3. NumPy keywords ---------------------------------------------------------------------------

def test_out_keyword_is_refused_and_the_proposed_rewrite_is_right():
    buf = onp.zeros(3)
    for add in (np.add, onp.add):
        with pytest.raises(TypeError, match=r"out=.*y = np\.add"):
            ad.grad(lambda x: np.sum(add(x, 1.0, out=buf) * x))(X3)
    # the right gradient of sum((x + 1) x) is 2x + 1 (writing into buf gave x + 1 = [2, 3, 4])
    onp.testing.assert_allclose(ad.grad(lambda x: np.sum(np.add(x, 1.0) * x))(X3), [3.0, 5.0, 7.0])


@pytest.mark.parametrize("call, key", [
    (lambda x: np.add(x, 1.0, where=onp.array([True, False, True])), "where"),
    (lambda x: onp.multiply(x, x, dtype=onp.float32), "dtype"),
    (lambda x: np.exp(x, casting="unsafe"), "casting"),
    (lambda x: onp.negative(x, order="F"), "order"),
    (lambda x: np.sin(x, subok=False), "subok"),
    (lambda x: np.sum(x, initial=5.0), "initial"),
    (lambda x: onp.sum(x, where=onp.array([True, False, True])), "where"),
])
def test_numpy_keywords_that_rules_ignore_are_refused(call, key):
    with pytest.raises(TypeError, match=f"{key}="):
        ad.grad(lambda x: np.sum(call(x)))(X3)
    with pytest.raises(TypeError, match=f"{key}="):
        ad.jvp(lambda x: call(x), (X3,), (X3,))


def test_harmless_keyword_values_are_accepted():
    g = ad.grad(lambda x: np.sum(onp.multiply(x, x, out=None, where=True, casting="same_kind")))(X3)
    onp.testing.assert_allclose(g, 2 * X3)


# ---- 4. float32 ----------------------------------------------------------------------------------

F32 = X3.astype(onp.float32)


def _f32(x):
    return np.sum(np.tanh(x) * x ** 2) + np.linalg.norm(x)


@pytest.mark.parametrize("transform", [
    lambda x: ad.grad(_f32)(x),
    lambda x: ad.value_and_grad(_f32)(x)[1],
    lambda x: ad.value_and_grad(_f32)(x)[0],
    lambda x: ad.vjp(lambda x: x ** 2 * 2.0, x)[1](onp.ones(3, onp.float32))[0],
    lambda x: ad.jvp(_f32, (x,), (onp.ones(3, onp.float32),))[1],
    lambda x: ad.jacfwd(lambda x: x ** 2)(x),
    lambda x: ad.jacrev(lambda x: x ** 2)(x),
    lambda x: ad.jacobian(lambda x: x ** 2)(x),
    lambda x: ad.hessian(_f32)(x),
    lambda x: ad.hvp(_f32, x, onp.ones(3, onp.float32)),
    lambda x: ad.hvp(_f32, x, onp.ones(3, onp.float32), mode="rev-rev"),
    lambda x: ad.grad(lambda x: np.sum(ad.checkpoint(lambda h: np.tanh(h) ** 2)(x)))(x),
    lambda x: ad.linearize(_f32, x)[1](onp.ones(3, onp.float32)),
    lambda x: ad.grad(lambda x: np.logsumexp(x))(x),
])
def test_float32_stays_float32(transform):
    assert onp.result_type(transform(F32)) == onp.float32


def test_float32_values_match_float64_to_float32_precision():
    onp.testing.assert_allclose(ad.hessian(_f32)(F32), ad.hessian(_f32)(X3), rtol=2e-5)
    assert onp.result_type(ad.numerical_grad(_f32, F32)) == onp.float64   # differences need float64


# ---- 6. logsumexp --------------------------------------------------------------------------------

@pytest.mark.parametrize("x", [[-onp.inf, -onp.inf], [onp.inf, 1.0], [], [0.0, -onp.inf],
                               [1e308, 1e308], [-1000.0, -1000.5]])
def test_logsumexp_matches_scipy(x):
    x = onp.asarray(x, dtype=float)
    assert np.logsumexp(x) == scipy.special.logsumexp(x)


def test_logsumexp_axes_empty_and_gradients():
    x = onp.array([[0.0, -onp.inf], [-onp.inf, -onp.inf], [1.0, 2.0]])
    onp.testing.assert_array_equal(np.logsumexp(x, axis=1), scipy.special.logsumexp(x, axis=1))
    onp.testing.assert_array_equal(np.logsumexp(onp.zeros((0, 3)), axis=0), [-onp.inf] * 3)
    # gradient: softmax, where defined; -inf entries get exactly 0
    onp.testing.assert_array_equal(ad.grad(np.logsumexp)(onp.array([0.0, -onp.inf])), [1.0, 0.0])
    g = ad.grad(np.logsumexp)(onp.array([1000.0, 1000.0]))
    onp.testing.assert_allclose(g, [0.5, 0.5])
    onp.testing.assert_allclose(ad.jvp(np.logsumexp, (onp.array([0.0, 0.0]),),
                                       (onp.array([1.0, 3.0]),))[1], 2.0)


# ---- errors that must point the right way --------------------------------------------------------

def test_writing_a_traced_value_into_a_numpy_buffer_says_what_to_write():
    def f(x):
        B = onp.zeros(3)
        for i in range(3):
            B[i] = x[i]
        return np.sum(B)

    with pytest.raises(ValueError) as info:     # NumPy raises its own error from ours ...
        ad.grad(f)(X3)
    ours = str(info.value.__cause__)                # ... which the traceback shows first
    assert "B[i] = x" in ours and "np.stack(values)" in ours
    with pytest.raises(TypeError, match="B\\[i\\] = x"):
        ad.grad(lambda x: np.sum(onp.zeros(3).__setitem__(slice(0, 3), x)))(X3)


def test_in_place_add_into_a_numpy_array_says_write_y_plus_x():
    def f(x):
        y = onp.zeros(3)
        y += x
        return np.sum(y)

    with pytest.raises(TypeError, match=r"in-place.*y = y \+ x"):
        ad.grad(f)(X3)


def test_concatenate_of_nested_lists_and_hstack_of_a_scalar_work_as_numpy():
    f = lambda x: np.concatenate([[x[0]], x])
    onp.testing.assert_array_equal(f(X3), onp.concatenate([[X3[0]], X3]))
    onp.testing.assert_allclose(ad.grad(lambda x: np.sum(f(x) * onp.arange(4.0)))(X3), [1.0, 2.0, 3.0])
    onp.testing.assert_array_equal(np.hstack([X3, 1.0]), onp.hstack([X3, 1.0]))
    onp.testing.assert_array_equal(np.vstack([X3, X3]), onp.vstack([X3, X3]))
    onp.testing.assert_array_equal(np.vstack([1.0, 2.0]), onp.vstack([1.0, 2.0]))
    g = ad.grad(lambda x: np.sum(np.hstack([x, 1.0]) * onp.array([1.0, 2.0, 3.0, 4.0])))(X3)
    onp.testing.assert_allclose(g, [1.0, 2.0, 3.0])


def _bad_rules(vjp_result, jvp_result):
    p = ad.primitive(lambda x: 2.0 * x, "doubler")
    p.defvjp(lambda g, ans, x: vjp_result(2.0 * g))
    p.defjvp(lambda t, ans, x: jvp_result(2.0 * t))
    return p


@pytest.mark.parametrize("wrap, said", [
    (lambda a: (a,), "tuple of length 1"),
    (lambda a: [a], "list of length 1"),
    (lambda a: "oops", "a str"),
    (lambda a: {"g": a}, "a dict"),
    (lambda a: np.sum(a), r"shape \(\)"),
])
def test_every_rule_result_is_checked_for_type_and_shape(wrap, said):
    p = _bad_rules(wrap, wrap)
    with pytest.raises(ValueError, match=f"VJP rule of 'doubler'.*{said}"):
        ad.grad(lambda x: np.sum(p(x)))(X3)
    with pytest.raises(ValueError, match=f"JVP rule of 'doubler'.*{said}"):
        ad.jvp(p, (X3,), (X3,))
    with pytest.raises(ValueError, match=f"JVP rule of 'doubler'.*{said}"):
        ad.jacfwd(p)(X3)


def test_ufunc_methods_name_themselves():
    with pytest.raises(TypeError, match=r"numpy\.add\.reduce"):
        ad.grad(lambda x: onp.add.reduce(x))(X3)


# ---- the untaken branch of np.where (README's edge-case table) -----------------------------------

def test_untaken_where_branch_sends_nan_through_reverse_mode_and_double_where_fixes_it():
    x = onp.array([0.0, 4.0])
    f = lambda x: np.sum(np.where(x > 0, np.sqrt(x), 0.0))
    with onp.errstate(divide="ignore", invalid="ignore"):
        g = ad.grad(f)(x)
        t = ad.jvp(f, (x,), (onp.array([1.0, 0.0]),))[1]
    # d sqrt at 0 is inf, and the cotangent 0 that where sends to the untaken branch gives
    # 0 * inf = NaN (JAX and autograd do the same); forward mode selects tangents, so no NaN
    assert onp.isnan(g[0]) and g[1] == 0.25
    assert t == 0.0
    safe = lambda x: np.sum(np.where(x > 0, np.sqrt(np.where(x > 0, x, 1.0)), 0.0))
    onp.testing.assert_array_equal(ad.grad(safe)(x), [0.0, 0.25])
