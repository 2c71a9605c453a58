"""Jacobians and Hessians from the two modes, and choosing between them.

For f: R^n -> R^m, forward mode builds J one column per JVP (n sweeps), reverse mode one row per
VJP (m sweeps): "auto" picks forward when n < m, reverse otherwise.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as onp

from . import numpy as anp
from . import tree
from .tracer import primal
from .transforms import _argnums_tuple, _float_dtype, _partial, _Recording, grad, jvp


def _basis(x):
    """The unit arrays e_1, ..., e_size of x's shape and floating dtype, one at a time."""
    shape, dtype = onp.shape(primal(x)), _float_dtype(x)
    size = int(onp.prod(shape))
    for i in range(size):
        e = onp.zeros(size, dtype)
        e[i] = 1.0
        yield e.reshape(shape)


def _block(parts, axis, out_leaf, in_leaf):
    """One Jacobian block of shape out_leaf.shape + in_leaf.shape from its columns (axis 1) or
    rows (axis 0), each flattened."""
    shape = onp.shape(primal(out_leaf)) + onp.shape(primal(in_leaf))
    if not parts:                                   # an empty input or output
        return onp.zeros(shape, onp.result_type(_float_dtype(out_leaf), _float_dtype(in_leaf)))
    return anp.reshape(anp.stack([anp.reshape(p, (-1,)) for p in parts], axis=axis), shape)


def _jac(f, argnums, mode, what):
    many = not isinstance(argnums, int)
    nums = _argnums_tuple(argnums)

    def jac_f(*args):
        rec = _Recording(_partial(f, args, nums), [args[i] for i in nums], what)
        ins, outs = rec.leaves, rec.out_values
        n = sum(int(onp.size(primal(x))) for x in ins)
        m = sum(int(onp.size(primal(y))) for y in outs)
        chosen = ("fwd" if n < m else "rev") if mode == "auto" else mode
        blocks = [[None] * len(ins) for _ in outs]      # blocks[i][j] = d out_i / d in_j
        if chosen == "fwd":
            for j, x in enumerate(ins):
                cols = [rec.push([e if k == j else None for k in range(len(ins))]) for e in _basis(x)]
                for i, y in enumerate(outs):
                    blocks[i][j] = _block([c[i] for c in cols], 1, y, x)
        else:
            for i, y in enumerate(outs):
                rows = [rec.pull([e if k == i else None for k in range(len(outs))]) for e in _basis(y)]
                for j, x in enumerate(ins):
                    blocks[i][j] = _block([r[j] for r in rows], 0, y, x)
        per_out = [rec.rebuild(row) for row in blocks]  # each: the input structure (JAX's nesting)
        per_out = [tuple(r) if many else r[0] for r in per_out]
        return per_out[0] if rec.out_rebuild is None else rec.out_rebuild(per_out)

    return jac_f


def jacfwd(f, argnums=0):
    """The Jacobian of f by forward mode: one tangent sweep per input entry, over the graph
    recorded by a single evaluation of f (``linearize``). Shape: out.shape + x.shape.

    Pytrees as in JAX: for an output tree O and input tree X (a tuple over the arguments if
    ``argnums`` is a tuple) the result is O with each leaf replaced by X, whose leaves are the
    blocks d out_leaf / d in_leaf of shape out_leaf.shape + in_leaf.shape."""
    return _jac(f, argnums, "fwd", "ad.jacfwd")


def jacrev(f, argnums=0):
    """The Jacobian of f by reverse mode: one VJP per output entry. Shape and pytrees: jacfwd."""
    return _jac(f, argnums, "rev", "ad.jacrev")


def jacobian(f, argnums=0, mode="auto"):
    """The Jacobian of f; ``mode`` "fwd", "rev", or "auto" (forward iff input size < output size,
    sizes summed over pytree leaves). Shape and pytrees: jacfwd."""
    if mode not in ("auto", "fwd", "rev"):
        raise ValueError(f"mode must be 'auto', 'fwd' or 'rev', got {mode!r}")
    return _jac(f, argnums, mode, "ad.jacobian")


def hessian(f, argnums=0):
    """The Hessian of a scalar f: forward over reverse, jacfwd(jacrev(f)). For a pytree input X
    it is X of X (JAX's nesting), leaves of shape x_i.shape + x_j.shape."""
    return jacfwd(jacrev(f, argnums), argnums)


def hvp(f, x, v, mode="fwd-rev"):
    """The Hessian-vector product H(x) v of a scalar f, without forming H.

    * "fwd-rev" (default): a JVP of the gradient, d/de grad f(x + e v) at e = 0;
    * "rev-rev": the gradient of <grad f(x), v>;
    * "rev-fwd": the gradient of the directional derivative <grad f(x), v> computed by a JVP.
    Each costs a small constant times one evaluation of f. ``x`` and ``v`` may be pytrees of the
    same structure; the result has that structure.
    """
    if mode == "fwd-rev":
        return jvp(grad(f), (x,), (v,))[1]
    if mode == "rev-rev":
        return grad(lambda y: _tree_vdot(grad(f)(y), v))(x)
    if mode == "rev-fwd":
        return grad(lambda y: jvp(f, (y,), (v,))[1])(x)
    raise ValueError(f"hvp mode must be 'fwd-rev', 'rev-rev' or 'rev-fwd', got {mode!r}")


def _tree_vdot(a, b):
    """<a, b> summed over the leaves of two pytrees of the same structure."""
    pairs = zip(tree.flatten(a)[0], tree.flatten(b)[0])
    return functools.reduce(anp.add, [anp.vdot(x, y) for x, y in pairs])


@dataclass
class ChainPlan:
    """How chain_jacobian multiplied the stage Jacobians J_1 (first stage) ... J_k (last).

    ``order`` is the parenthesisation, ``cost`` its number of scalar multiplications;
    ``cost_forward`` is J_k (... (J_2 J_1)) (forward mode's order), ``cost_reverse`` is
    ((J_k J_{k-1}) ...) J_1 (reverse mode's order). ``dims`` are n, then each stage's output size.
    """
    order: str
    cost: int
    cost_forward: int
    cost_reverse: int
    dims: tuple


def _chain_order(dims):
    """Matrix-chain ordering by dynamic programming; J_i (1-based) has shape dims[i] x dims[i-1].

    Returns (split, cost): the product J_hi ... J_lo is best taken as
    (J_hi ... J_{s+1}) (J_s ... J_lo) with s = split[lo, hi], costing cost[lo, hi] multiplications.
    """
    k = len(dims) - 1
    cost = {(i, i): 0 for i in range(1, k + 1)}
    split = {}
    for length in range(2, k + 1):
        for lo in range(1, k - length + 2):
            hi = lo + length - 1
            cost[lo, hi], split[lo, hi] = min(
                (cost[s + 1, hi] + cost[lo, s] + dims[hi] * dims[s] * dims[lo - 1], s)
                for s in range(lo, hi))
    return split, cost


def chain_jacobian(stages, x):
    """Jacobian of f = f_k o ... o f_1 at x, multiplying the stage Jacobians in the cheapest order.

    Each stage Jacobian J_i comes from ``jacobian`` (mode "auto"); their product is taken in the
    order that minimises scalar multiplications (matrix-chain ordering on the shapes). Returns
    ``(J, plan)``: J of shape (m, n) for flattened input and output, ``plan`` a ChainPlan.
    """
    xs, jacs = [x], []
    for f in stages:
        J = jacobian(f)(xs[-1])
        xs.append(f(xs[-1]))
        jacs.append(onp.reshape(primal(J), (int(onp.size(primal(xs[-1]))), -1)))
    dims = (jacs[0].shape[1],) + tuple(J.shape[0] for J in jacs)
    k = len(jacs)
    split, cost = _chain_order(dims)

    def product(lo, hi):
        if lo == hi:
            return jacs[lo - 1], f"J{lo}"
        s = split[lo, hi]
        (left, lt), (right, rt) = product(s + 1, hi), product(lo, s)
        return left @ right, f"({lt} {rt})"

    J, order = product(1, k)
    cost_fwd = sum(dims[i] * dims[i - 1] * dims[0] for i in range(2, k + 1))
    cost_rev = sum(dims[k] * dims[i] * dims[i - 1] for i in range(1, k))
    return J, ChainPlan(order, cost[1, k], cost_fwd, cost_rev, dims)
