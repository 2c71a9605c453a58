"""Test cases for every primitive: a function of a NumPy-like module, and random inputs.

``fn(m)`` builds the function from module ``m`` (autodiff_core.numpy, or autograd.numpy for the
oracle); ``make(rng, draw)`` draws inputs (``draw`` is hypothesis' data.draw for shapes);
``autograd=False`` where autograd has no rule or a different convention.
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


def unary(name, domain=real, autograd=True, fn=None):
    return Case(name, fn or (lambda m: getattr(m, name)),
                lambda rng, draw: [domain(rng, draw(shapes))], autograd, second_order=True)


def binary(name, dom_x=real, dom_y=real, autograd=True):
    def make(rng, draw):
        sx, sy = broadcastable_pair(rng, draw)
        return [dom_x(rng, sx), dom_y(rng, sy)]
    return Case(name, lambda m: getattr(m, name), make, autograd, second_order=True)


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
    """Our sigmoid primitive; for autograd (no such primitive without scipy), the same formula."""
    if m.__name__.startswith("autograd"):
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
    Case("logsumexp", lambda m: (lambda x: m.logsumexp(x, axis=-1)), lambda r, d: [real(r, d(nonempty_shapes))],
         autograd=False),
]
