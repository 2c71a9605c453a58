"""Test cases for every primitive: a function of a NumPy-like module, and random inputs.

``fn(m)`` builds the function from module ``m`` (autodiff_core.numpy, or autograd.numpy for the
oracle); ``make(rng, draw)`` draws inputs (``draw`` is hypothesis' data.draw for shapes);
``autograd=False`` where autograd has no rule or a different convention, ``jax=False`` the same
for JAX (each says why).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as onp
from hypothesis import strategies as st

shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)
nonempty_shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@dataclass
class Case:
    name: str
    fn: Callable
    make: Callable
    autograd: bool = True
    second_order: bool = False
    jax: bool = True


def real(rng, shape):
    return onp.asarray(rng.standard_normal(shape))


def positive(rng, shape):
    return onp.asarray(rng.uniform(0.3, 2.5, shape))


def away_from_zero(rng, shape):
    return onp.asarray(rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.3, 2.0, shape))


def well_conditioned(rng, n):
    """A random n x n matrix with singular values in [1, 3]."""
    q1, _ = onp.linalg.qr(rng.standard_normal((n, n)))
    q2, _ = onp.linalg.qr(rng.standard_normal((n, n)))
    return q1 @ onp.diag(rng.uniform(1.0, 3.0, n)) @ q2


def separated_svals(rng, m, n):
    """A random m x n matrix whose singular values are distinct, nonzero and well separated."""
    k = min(m, n)
    u, _ = onp.linalg.qr(rng.standard_normal((m, m)))
    v, _ = onp.linalg.qr(rng.standard_normal((n, n)))
    s = onp.arange(k, 0, -1) * 1.0 + rng.uniform(0, 0.3, k)
    return u[:, :k] @ onp.diag(s) @ v[:, :k].T


def broadcastable_pair(rng, draw):
    """Two shapes that broadcast together, e.g. (3, 1, 4) and (2, 1)."""
    base = draw(nonempty_shapes)
    def variant():
        cut = draw(st.integers(0, len(base)))
        return tuple(1 if draw(st.booleans()) else d for d in base[cut:])
    return variant(), variant()


def unary(name, domain=real, autograd=True, fn=None, jax=True):
    return Case(name, fn or (lambda m: getattr(m, name)),
                lambda rng, draw: [domain(rng, draw(shapes))], autograd, second_order=True, jax=jax)


def binary(name, dom_x=real, dom_y=real, autograd=True, jax=True):
    def make(rng, draw):
        sx, sy = broadcastable_pair(rng, draw)
        return [dom_x(rng, sx), dom_y(rng, sy)]
    return Case(name, lambda m: getattr(m, name), make, autograd, second_order=True, jax=jax)


def reduction(name):
    def make(rng, draw):
        shape = draw(nonempty_shapes)
        axis = draw(st.sampled_from([None] + list(range(len(shape)))))
        keep = draw(st.booleans())
        x = real(rng, shape)
        return [x, axis, keep]
    return Case(name, lambda m: (lambda x, axis, keep: getattr(m, name)(x, axis=axis, keepdims=keep)),
                make)


def _permutation(rng, draw):
    shape = draw(nonempty_shapes)
    return [real(rng, shape), tuple(rng.permutation(len(shape)).tolist())]


def _getitem(rng, draw):
    shape = draw(nonempty_shapes)
    x = real(rng, shape)
    kind = draw(st.sampled_from(["slice", "int_array", "mask", "int"]))
    if kind == "slice":
        index = slice(0, max(1, shape[0] - 1))
    elif kind == "int_array":
        index = rng.integers(0, shape[0], size=5)        # repeated indices accumulate
    elif kind == "mask":
        index = rng.random(shape) > 0.4
    else:
        index = int(rng.integers(0, shape[0]))
    return [x, index]


def _matmul_pair(rng, draw):
    kind = draw(st.sampled_from(["mm", "mv", "vm", "vv", "batch"]))
    n, k, p = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    shapes_ = {"mm": ((n, k), (k, p)), "mv": ((n, k), (k,)), "vm": ((k,), (k, p)),
               "vv": ((k,), (k,)), "batch": ((2, 1, n, k), (3, k, p))}[kind]
    return [real(rng, s) for s in shapes_]


def _dot_pair(rng, draw):
    kind = draw(st.sampled_from(["mm", "mv", "vv", "scalar"]))
    n, k = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    shapes_ = {"mm": ((n, k), (k, n)), "mv": ((n, k), (k,)), "vv": ((k,), (k,)),
               "scalar": ((), (n, k))}[kind]
    return [real(rng, s) for s in shapes_]


EINSUMS = {"ij,jk->ik": ((2, 3), (3, 4)), "ij,ij->": ((2, 3), (2, 3)), "i,j->ij": ((3,), (2,)),
           "bij,bjk->bik": ((2, 2, 3), (2, 3, 2)), "ij->ji": ((2, 3),), "ij->": ((2, 3),),
           "ij,j->i": ((3, 4), (4,)), "ijk,k->ij": ((2, 3, 4), (4,))}


def _einsum(rng, draw):
    spec = draw(st.sampled_from(sorted(EINSUMS)))
    return [spec] + [real(rng, s) for s in EINSUMS[spec]]


def _square(rng, draw):
    return [well_conditioned(rng, draw(st.integers(1, 4)))]


def _solve(rng, draw):
    n = draw(st.integers(1, 4))
    rhs = (n,) if draw(st.booleans()) else (n, draw(st.integers(1, 3)))
    return [well_conditioned(rng, n), real(rng, rhs)]


def _norm_1_inf(rng, draw):
    return [away_from_zero(rng, (draw(st.integers(1, 5)),)), draw(st.sampled_from([1, onp.inf]))]


def _where_same(rng, draw):
    shape = draw(shapes)
    return [onp.asarray(rng.random(shape) > 0.5), real(rng, shape), real(rng, shape)]


def _norm(rng, draw):
    kind = draw(st.sampled_from(["vec2", "fro", "axis"]))
    if kind == "vec2":
        return [real(rng, (draw(st.integers(1, 5)),)), None, None]
    if kind == "fro":
        return [real(rng, (3, 2)), "fro", None]
    if kind == "axis":
        return [real(rng, (3, 4)), None, draw(st.sampled_from([0, 1]))]


def _svd_input(rng, draw):
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return [separated_svals(rng, m, n)]


def _stack_like(rng, draw):
    shape = draw(nonempty_shapes)
    axis = draw(st.integers(0, len(shape) - 1))
    pieces = []
    for _ in range(draw(st.integers(1, 3))):
        s = list(shape)
        s[axis] = draw(st.integers(1, 3))
        pieces.append(real(rng, tuple(s)))
    return [axis] + pieces


def _stack_same(rng, draw):
    shape = draw(shapes)
    return [draw(st.integers(0, len(shape)))] + [real(rng, shape) for _ in range(draw(st.integers(1, 3)))]


def _where(rng, draw):
    sx, sy = broadcastable_pair(rng, draw)
    shape = onp.broadcast_shapes(sx, sy)
    return [rng.random(shape) > 0.5, real(rng, sx), real(rng, sy)]


def _sigmoid(m):
    """Our sigmoid primitive; for autograd and JAX (no such NumPy function), the same formula."""
    if not hasattr(m, "sigmoid"):
        return lambda x: 1.0 / (1.0 + m.exp(-x))
    return m.sigmoid


def _svd_uv_loss(m):
    """A smooth function of U, S, Vt that does not depend on their sign convention."""
    def f(x):
        u, s, vt = m.linalg.svd(x, full_matrices=False)
        k = min(2, s.shape[0])
        pu = m.dot(u[:, :k], u[:, :k].T)          # projectors onto leading singular subspaces
        pv = m.dot(vt.T[:, :k], vt[:k])
        return m.dot(u * m.sin(s), vt) + m.sum(pu * pu[0]) + 0.5 * m.sum(pv * pv[-1])
    return f


CASES = [
    unary("negative"), unary("abs", away_from_zero), unary("exp"), unary("log", positive),
    unary("log1p", positive), unary("sqrt", positive), unary("square"), unary("sin"),
    unary("cos"), unary("tan", lambda r, s: onp.asarray(r.uniform(-1.2, 1.2, s))), unary("tanh"),
    unary("sinh"), unary("cosh"), unary("arctan"), unary("sigmoid", fn=_sigmoid),
    binary("add"), binary("subtract"), binary("multiply"),
    binary("divide", real, away_from_zero), binary("power", positive, real),
    binary("maximum"), binary("minimum"),
    # autograd 1.9 does not sum where's cotangents back over broadcast axes: compare same shapes only
    Case("where", lambda m: m.where, _where, autograd=False, second_order=True),
    Case("where_same_shape", lambda m: m.where, _where_same),
    Case("pow_const", lambda m: (lambda x: x ** 3 - 2.0 ** x), lambda r, d: [real(r, d(shapes))],
         second_order=True),
    reduction("sum"), reduction("mean"), reduction("max"), reduction("min"),
    Case("reshape", lambda m: (lambda x: m.reshape(x, (-1,))), lambda r, d: [real(r, d(shapes))]),
    Case("ravel_method", lambda m: (lambda x: x.ravel()), lambda r, d: [real(r, d(shapes))]),
    Case("transpose", lambda m: (lambda x, axes: m.transpose(x, axes)), _permutation),
    Case("T", lambda m: (lambda x: x.T), lambda r, d: [real(r, d(shapes))]),
    Case("expand_dims", lambda m: (lambda x: m.expand_dims(x, 0)), lambda r, d: [real(r, d(shapes))]),
    Case("squeeze", lambda m: (lambda x: m.squeeze(x)), lambda r, d: [real(r, (1,) + d(shapes) + (1,))]),
    Case("getitem", lambda m: (lambda x, i: x[i]), _getitem),
    Case("concatenate", lambda m: (lambda axis, *xs: m.concatenate(xs, axis=axis)), _stack_like),
    Case("stack", lambda m: (lambda axis, *xs: m.stack(xs, axis=axis)), _stack_same),
    Case("matmul", lambda m: m.matmul, _matmul_pair, second_order=True),
    Case("dot", lambda m: m.dot, _dot_pair),
    Case("vdot", lambda m: m.vdot, lambda r, d: [real(r, (2, 3)), real(r, (6,))], autograd=False),
    Case("outer", lambda m: m.outer, lambda r, d: [real(r, (d(st.integers(1, 4)),)), real(r, (d(st.integers(1, 4)),))]),
    Case("outer_nd", lambda m: m.outer, lambda r, d: [real(r, d(shapes)), real(r, d(shapes))], autograd=False),
    Case("trace", lambda m: m.trace, lambda r, d: [real(r, (d(st.integers(1, 4)), d(st.integers(1, 4))))]),
    Case("diag_build", lambda m: m.diag, lambda r, d: [real(r, (d(st.integers(1, 4)),))]),
    Case("diag_extract", lambda m: m.diag, lambda r, d: [real(r, (3, 3))]),
    # autograd 1.9 returns a wrongly shaped cotangent for diag of a non-square matrix
    Case("diag_extract_rect", lambda m: m.diag, lambda r, d: [real(r, (d(st.integers(1, 4)), d(st.integers(1, 4))))],
         autograd=False),
    Case("einsum", lambda m: m.einsum, _einsum),
    Case("solve", lambda m: m.linalg.solve, _solve, second_order=True),
    Case("inv", lambda m: m.linalg.inv, _square, second_order=True),
    Case("det", lambda m: m.linalg.det, _square, second_order=True),
    Case("slogdet", lambda m: (lambda x: m.linalg.slogdet(x)[1]), _square, second_order=True),
    Case("norm", lambda m: (lambda x, o, axis: m.linalg.norm(x, ord=o, axis=axis)), _norm),
    # autograd 1.9 has no rule for the vector 1- and inf-norms
    Case("norm_1_inf", lambda m: (lambda x, o: m.linalg.norm(x, ord=o)), _norm_1_inf, autograd=False),
    Case("svd_values", lambda m: (lambda x: m.linalg.svd(x, compute_uv=False)), _svd_input,
         second_order=True),
    Case("svd_full_uv", _svd_uv_loss, _svd_input, second_order=True),
    # jax.numpy has no logsumexp (it is jax.nn.logsumexp)
    Case("logsumexp", lambda m: (lambda x: m.logsumexp(x, axis=-1)), lambda r, d: [real(r, d(nonempty_shapes))],
         autograd=False, jax=False),
]


# ---------------------------------------------------------------- issue 12: the rest of NumPy

def within(lo, hi):
    return lambda rng, shape: onp.asarray(rng.uniform(lo, hi, shape))


def spd_from(rng, n):
    return rng.standard_normal((n, n))


def _axis_case(rng, draw, domain=real):
    shape = draw(nonempty_shapes)
    return [domain(rng, shape), draw(st.sampled_from([None] + list(range(-len(shape), len(shape)))))]


def _with_zeros(rng, draw):
    shape = draw(nonempty_shapes)
    x = real(rng, shape)
    x[rng.random(shape) < 0.3] = 0.0                     # zeros: prod's rule must not divide by them
    return [x, draw(st.sampled_from([None] + list(range(len(shape))) + ([(0, -1)] if len(shape) > 1 else [])))]


def _var_case(rng, draw):
    """At least 2 entries reduced (std of one entry is 0 everywhere: tested in test_numpy_edges)."""
    shape = draw(st.lists(st.integers(2, 4), min_size=1, max_size=3).map(tuple))
    axis = draw(st.sampled_from([None, 0, -1] + ([(0, 1)] if len(shape) > 1 else [])))
    n = int(onp.prod(shape if axis is None else onp.array(shape)[list(onp.atleast_1d(axis))]))
    return [real(rng, shape), axis, draw(st.sampled_from([0, 1] if n > 1 else [0])), draw(st.booleans())]


def _matrix(rng, draw):
    return [real(rng, (draw(st.integers(1, 4)), draw(st.integers(1, 4)))), draw(st.integers(-2, 2))]


def _pad_case(rng, draw):
    shape = draw(nonempty_shapes)
    widths = [(draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape]
    mode = draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    return [real(rng, shape), widths, mode]


def _pad(m):
    def f(x, widths, mode):
        if mode == "constant":
            return m.pad(x, widths, mode, constant_values=1.5)
        return m.pad(x, widths, mode)
    return f


def _stacked_square(rng, draw):
    batch = draw(st.sampled_from([(2,), (2, 3), (1, 2)]))
    n = draw(st.integers(1, 3))
    return [onp.stack([well_conditioned(rng, n) for _ in range(int(onp.prod(batch)))]).reshape(batch + (n, n))]


def _stacked_solve(rng, draw):
    [a] = _stacked_square(rng, draw)
    n = a.shape[-1]
    b = real(rng, (n,)) if draw(st.booleans()) else real(rng, a.shape[:-1] + (draw(st.integers(1, 2)),))
    return [a, b]


def _stacked_svd(rng, draw):
    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return [onp.stack([separated_svals(rng, m, n) for _ in range(2)])]


def _sym_eig_loss(m, values_only=False):
    """A smooth, sign-invariant function of eigh's (w, V) for the symmetric part of x."""
    def f(x):
        s = 0.5 * (x + m.swapaxes(x, -1, -2))
        if values_only:
            return m.linalg.eigvalsh(s)
        w, v = m.linalg.eigh(s)
        return m.sum(m.sin(w)) + m.sum((v * v) * m.arange(v.shape[-1] * 1.0))
    return f


def _sym_separated(rng, draw):
    n = draw(st.integers(1, 4))
    q, _ = onp.linalg.qr(rng.standard_normal((n, n)))
    w = onp.arange(n) * 1.0 + rng.uniform(0, 0.3, n)
    return [q @ onp.diag(w) @ q.T + 0.1 * rng.standard_normal((n, n))]


def _real_eig(rng, draw):
    n = draw(st.integers(1, 4))
    p = well_conditioned(rng, n)
    return [p @ onp.diag(onp.arange(1.0, n + 1) + rng.uniform(0, 0.3, n)) @ onp.linalg.inv(p)]


def _eig_loss(m):
    def f(x):
        w, v = m.linalg.eig(x)
        return m.sum(w ** 2) + m.sum((v * v) * m.arange(v.shape[-1] * 1.0))
    return f


def _chol_loss(m):
    return lambda b: m.linalg.cholesky(m.dot(b, b.T) + b.shape[0] * m.eye(b.shape[0]))


def _pinv_case(rng, draw):
    return [separated_svals(rng, draw(st.integers(1, 4)), draw(st.integers(1, 4)))]


def _vector_norm(rng, draw):
    return [away_from_zero(rng, (draw(st.integers(1, 5)),)), draw(st.sampled_from([3, 4, 1.5, -onp.inf]))]


def _matrix_norm(rng, draw):
    ord_ = draw(st.sampled_from(["nuc", 2, -2, 1, -1, onp.inf, -onp.inf]))
    x = separated_svals(rng, draw(st.integers(2, 4)), draw(st.integers(2, 4)))
    return [x, ord_]


EINSUMS_MORE = {"...ij,...jk->...ik": ((2, 2, 3), (3, 4)), "ii->i": ((3, 3),), "ii": ((3, 3),),
                "...i,...i": ((2, 3), (2, 3)), "ij,jk": ((2, 3), (3, 2)), "i...->...": ((3, 2),),
                "bii->b": ((2, 3, 3),)}


def _einsum_more(rng, draw):
    spec = draw(st.sampled_from(sorted(EINSUMS_MORE)))
    return [spec] + [real(rng, s) for s in EINSUMS_MORE[spec]]


def _tensordot_case(rng, draw):
    kind = draw(st.sampled_from(["int1", "int2", "pairs"]))
    if kind == "int1":
        return [real(rng, (2, 3)), real(rng, (3, 4)), 1]
    if kind == "int2":
        return [real(rng, (2, 3, 4)), real(rng, (3, 4, 2)), 2]
    return [real(rng, (3, 2, 4)), real(rng, (4, 3)), ((0, 2), (1, 0))]


def _cross_case(rng, draw):
    kind = draw(st.sampled_from(["3", "stack", "2", "32"]))
    shapes_ = {"3": ((3,), (3,)), "stack": ((4, 3), (1, 3)), "2": ((2,), (2,)), "32": ((3,), (2,))}[kind]
    return [real(rng, s) for s in shapes_]


def _dot_nd(rng, draw):
    kind = draw(st.sampled_from(["3x2", "3x1", "2x3", "3x3"]))
    shapes_ = {"3x2": ((2, 3, 4), (4, 2)), "3x1": ((2, 3, 4), (4,)), "2x3": ((2, 4), (3, 4, 2)),
               "3x3": ((2, 2, 3), (2, 3, 2))}[kind]
    return [real(rng, s) for s in shapes_]


def _sort_case(rng, draw):
    shape = draw(nonempty_shapes)
    return [real(rng, shape), draw(st.sampled_from([None, 0, -1]))]


def _partition_case(rng, draw):
    n = draw(st.integers(1, 6))
    return [real(rng, (2, n)), draw(st.integers(0, n - 1))]


def _split_case(rng, draw):
    n = draw(st.integers(2, 6))
    return [real(rng, (3, n)), draw(st.sampled_from([1, [1], [1, 2]]))]


def _split_loss(m):
    def f(x, sections):
        pieces = m.split(x, sections, axis=1) if onp.ndim(sections) else m.array_split(x, 2, axis=1)
        return m.concatenate([p * (k + 1.0) for k, p in enumerate(pieces)], axis=1)
    return f


def _roll_case(rng, draw):
    shape = draw(nonempty_shapes)
    return [real(rng, shape), draw(st.integers(-3, 3)), draw(st.sampled_from([None] + list(range(len(shape)))))]


def _repeat_case(rng, draw):
    shape = draw(nonempty_shapes)
    axis = draw(st.sampled_from([None] + list(range(len(shape)))))
    n = int(onp.prod(shape)) if axis is None else shape[axis]
    return [real(rng, shape), rng.integers(0, 3, n), axis]


def _tile_case(rng, draw):
    return [real(rng, draw(shapes)), draw(st.sampled_from([2, (2, 1), (1, 2, 2)]))]


def _diff_case(rng, draw):
    shape = draw(nonempty_shapes)
    return [real(rng, shape), draw(st.integers(1, 2)), draw(st.integers(-len(shape), len(shape) - 1))]


def _diff(m):
    return lambda x, n, axis: m.diff(x, n=n, axis=axis, prepend=0.5)


def _flip_case(rng, draw):
    shape = draw(nonempty_shapes)
    return [real(rng, shape), draw(st.sampled_from([None] + list(range(len(shape)))))]


def _diagonal_case(rng, draw):
    return [real(rng, (3, 2, 4)), draw(st.integers(-1, 1)), draw(st.sampled_from([(0, 2), (2, 0), (1, 2)]))]


NEW_CASES = [
    unary("expm1"), unary("exp2"), unary("log2", positive), unary("log10", positive),
    unary("reciprocal", away_from_zero), unary("arcsin", within(-0.9, 0.9)),
    unary("arccos", within(-0.9, 0.9)), unary("arcsinh"), unary("arccosh", within(1.2, 3.0)),
    unary("arctanh", within(-0.9, 0.9)), unary("deg2rad"), unary("rad2deg"), unary("fabs", away_from_zero),
    # autograd 1.9 has no cbrt or sinc rule
    unary("cbrt", away_from_zero, autograd=False), unary("sinc", autograd=False),
    binary("logaddexp"), binary("logaddexp2"), binary("arctan2", real, away_from_zero),
    binary("hypot", away_from_zero, away_from_zero), binary("remainder", real, away_from_zero),
    # autograd 1.9 has no fmod rule
    binary("fmod", real, away_from_zero, autograd=False),
    Case("clip", lambda m: (lambda x: m.clip(x, -0.5, 0.7)), lambda r, d: [real(r, d(shapes))], second_order=True),
    Case("mod_operator", lambda m: (lambda x, y: x % y + 2.0 % y), lambda r, d: [real(r, (3,)), away_from_zero(r, (3,))]),
    Case("comparison_mask", lambda m: (lambda x: (x > 0) * x + m.sign(x) * x ** 2 + m.floor(x)),
         lambda r, d: [away_from_zero(r, d(shapes))], second_order=True),
    Case("prod", lambda m: (lambda x, axis: m.prod(x, axis=axis)), _axis_case, second_order=True),
    # autograd 1.9 divides by x: nan at zeros
    Case("prod_with_zeros", lambda m: (lambda x, axis: m.prod(x, axis=axis)), _with_zeros, autograd=False,
         second_order=True),
    Case("cumsum", lambda m: (lambda x, axis: m.cumsum(x, axis=axis)), _axis_case),
    Case("var", lambda m: (lambda x, axis, ddof, keep: m.var(x, axis=axis, ddof=ddof, keepdims=keep)), _var_case,
         second_order=True),
    Case("std", lambda m: (lambda x, axis, ddof, keep: m.std(x, axis=axis, ddof=ddof, keepdims=keep)), _var_case,
         second_order=True),
    Case("tril", lambda m: (lambda x, k: m.tril(x, k)), _matrix),
    Case("triu", lambda m: (lambda x, k: m.triu(x, k)), _matrix),
    Case("roll", lambda m: (lambda x, s, axis: m.roll(x, s, axis)), _roll_case),
    Case("repeat", lambda m: (lambda x, axis: m.repeat(x, 2, axis)), _flip_case),
    # autograd 1.9's repeat rule takes an integer count only
    Case("repeat_counts", lambda m: (lambda x, r, axis: m.repeat(x, r, axis)), _repeat_case, autograd=False),
    # autograd 1.9's tile VJP fails on these shapes (KeyError)
    Case("tile", lambda m: (lambda x, reps: m.tile(x, reps)), _tile_case, autograd=False),
    # autograd 1.9's diff has no prepend
    Case("diff", _diff, _diff_case, autograd=False),
    # autograd 1.9 has no flip VJP
    Case("flip", lambda m: (lambda x, axis: m.flip(x, axis)), _flip_case, autograd=False),
    Case("rot90", lambda m: (lambda x: m.rot90(x, 3)), lambda r, d: [real(r, (2, 3))]),
    # autograd 1.9's pad rule handles mode='constant' only
    Case("pad", _pad, _pad_case, autograd=False),
    Case("append", lambda m: (lambda x, y: m.append(x, y)), lambda r, d: [real(r, d(shapes)), real(r, d(shapes))]),
    Case("split", _split_loss, _split_case),
    Case("column_stack", lambda m: (lambda x, y: m.column_stack([x, y])), lambda r, d: [real(r, (3,)), real(r, (3, 2))]),
    Case("hstack_one_vector", lambda m: (lambda x: m.hstack(x) + m.vstack(x)), lambda r, d: [real(r, (3,))]),
    # autograd 1.9's diagonal VJP takes offset 0 and the last two axes only
    Case("diagonal", lambda m: (lambda x, k, axes: m.diagonal(x, k, *axes)), _diagonal_case, autograd=False),
    Case("astype", lambda m: (lambda x: m.sin(x).astype(onp.float64) * 2.0), lambda r, d: [real(r, d(shapes))]),
    Case("kron", lambda m: m.kron, lambda r, d: [real(r, (2, 3)), real(r, (3, 1))]),
    # autograd 1.9 has no take_along_axis VJP
    Case("take_along_axis", lambda m: (lambda x: m.take_along_axis(x, m.argsort(x, axis=1), axis=1)),
         lambda r, d: [real(r, (3, d(st.integers(1, 4))))], autograd=False),
    Case("argsort_selection", lambda m: (lambda x: x[m.argsort(x)[:2]] * 3.0), lambda r, d: [real(r, (5,))]),
    # autograd 1.9's gradient takes no spacing
    Case("gradient", lambda m: (lambda x: m.gradient(x, 0.5, axis=-1)), lambda r, d: [real(r, (2, 5))], autograd=False),
    Case("trace_offset", lambda m: (lambda x, k: m.trace(x, offset=k)), _matrix),
    # autograd 1.9's trace takes no axis arguments
    Case("trace_3d", lambda m: (lambda x: m.trace(x, 1, 1, 2)), lambda r, d: [real(r, (2, 3, 3))], autograd=False),
    Case("tensordot", lambda m: m.tensordot, _tensordot_case, second_order=True),
    Case("inner", lambda m: m.inner, lambda r, d: [real(r, (2, 3)), real(r, (4, 3))]),
    # autograd 1.9's cross VJP fails on these shapes (KeyError)
    Case("cross", lambda m: m.cross, _cross_case, autograd=False),
    # autograd 1.9's einsum VJP builds invalid subscripts with '...' and repeated indices
    Case("einsum_more", lambda m: m.einsum, _einsum_more, autograd=False),
    Case("einsum_sublist", lambda m: (lambda x, y: m.einsum(x, [0, 1], y, [1, 2], [0, 2])),
         lambda r, d: [real(r, (2, 3)), real(r, (3, 4))]),
    Case("dot_nd", lambda m: m.dot, _dot_nd),
    # autograd 1.9 sorts 1-D arrays only
    Case("sort", lambda m: (lambda x, axis: m.sort(x, axis=axis)), _sort_case, autograd=False),
    # autograd 1.9 partitions 1-D arrays only
    Case("partition", lambda m: (lambda x, k: m.sort(m.partition(x, k, axis=-1), axis=-1)), _partition_case, autograd=False),
    Case("sort_1d", lambda m: (lambda x: m.sort(x) * m.arange(x.shape[0] * 1.0)), lambda r, d: [real(r, (d(st.integers(1, 6)),))]),
    Case("partition_1d", lambda m: (lambda x: m.sort(m.partition(x, 1))), lambda r, d: [real(r, (d(st.integers(2, 6)),))]),
    Case("inv_stacked", lambda m: m.linalg.inv, _stacked_square, second_order=True),
    Case("det_stacked", lambda m: m.linalg.det, _stacked_square, second_order=True),
    Case("slogdet_stacked", lambda m: (lambda x: m.linalg.slogdet(x)[1]), _stacked_square),
    # autograd 1.9's solve VJP fails for a shared 1-D right-hand side of a stack
    Case("solve_stacked", lambda m: m.linalg.solve, _stacked_solve, autograd=False),
    # autograd 1.9's svd rule is for single matrices
    Case("svd_stacked", lambda m: (lambda x: m.linalg.svd(x, compute_uv=False)), _stacked_svd, autograd=False),
    Case("cholesky", _chol_loss, lambda r, d: [spd_from(r, d(st.integers(1, 4)))], second_order=True),
    Case("eigh", _sym_eig_loss, _sym_separated, second_order=True),
    # autograd 1.9 has no eigvalsh
    Case("eigvalsh", lambda m: _sym_eig_loss(m, values_only=True), _sym_separated, autograd=False),
    # JAX's eig returns complex arrays
    Case("eig_real", _eig_loss, _real_eig, second_order=True, jax=False),
    Case("pinv", lambda m: m.linalg.pinv, _pinv_case, second_order=True),
    # autograd 1.9 has no rule for ord=-inf
    Case("norm_p", lambda m: (lambda x, o: m.linalg.norm(x, ord=o)), _vector_norm, second_order=True, autograd=False),
    # autograd 1.9 has no rule for the matrix norms other than 'fro' and 'nuc'
    Case("norm_matrix", lambda m: (lambda x, o: m.linalg.norm(x, ord=o)), _matrix_norm, autograd=False),
]

