"""Jacobians and Hessians from the two modes, and choosing between them.

For f: R^n -> R^m, forward mode builds J one column per JVP (n sweeps), reverse mode one row per
VJP (m sweeps): "auto" picks forward when n < m, reverse otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as onp

from . import numpy as anp
from .tracer import primal
from .transforms import _partial, _Recording, grad, jvp


def _basis(shape):
    """The unit arrays e_1, ..., e_size of the given shape, one at a time."""
    size = int(onp.prod(shape))
    for i in range(size):
        e = onp.zeros(size)
        e[i] = 1.0
        yield e.reshape(shape)


def _jac(f, argnums, mode):
    if not isinstance(argnums, int):
        raise TypeError("jacfwd / jacrev / jacobian take one integer argnums")

    def jac_f(*args):
        x = args[argnums]
        fx = _partial(f, args, (argnums,))
        x_shape = onp.shape(primal(x))
        n = int(onp.prod(x_shape))
        rec = _Recording(fx, (x,), "jacobian")      # one evaluation; both modes sweep its graph
        out_shape = onp.shape(primal(rec.out_value))
        m = int(onp.prod(out_shape))
        chosen = ("fwd" if n < m else "rev") if mode == "auto" else mode
        if chosen == "fwd":
            cols = [rec.jvp_fn(e) for e in _basis(x_shape)]
            J = anp.stack([anp.reshape(t, (-1,)) for t in cols], axis=1)
        else:
            rows = [rec.backward(e)[0] for e in _basis(out_shape)]
            J = anp.stack([anp.reshape(r, (-1,)) for r in rows], axis=0)
        return anp.reshape(J, out_shape + x_shape)

    return jac_f


def jacfwd(f, argnums=0):
    """The Jacobian of f by forward mode: one tangent sweep per input entry, over the graph
    recorded by a single evaluation of f (``linearize``). Shape: out.shape + x.shape."""
    return _jac(f, argnums, "fwd")


def jacrev(f, argnums=0):
    """The Jacobian of f by reverse mode: one VJP per output entry. Shape: out.shape + x.shape."""
    return _jac(f, argnums, "rev")


def jacobian(f, argnums=0, mode="auto"):
    """The Jacobian of f; ``mode`` "fwd", "rev", or "auto" (forward iff input size < output size)."""
    if mode not in ("auto", "fwd", "rev"):
        raise ValueError(f"mode must be 'auto', 'fwd' or 'rev', got {mode!r}")
    return _jac(f, argnums, mode)


def hessian(f, argnums=0):
    """The Hessian of a scalar f: forward over reverse, jacfwd(jacrev(f))."""
    return jacfwd(jacrev(f, argnums), argnums)


def hvp(f, x, v, mode="fwd-rev"):
    """The Hessian-vector product H(x) v of a scalar f, without forming H.

    * "fwd-rev" (default): a JVP of the gradient, d/de grad f(x + e v) at e = 0;
    * "rev-rev": the gradient of <grad f(x), v>;
    * "rev-fwd": the gradient of the directional derivative <grad f(x), v> computed by a JVP.
    Each costs a small constant times one evaluation of f.
    """
    if mode == "fwd-rev":
        return jvp(grad(f), (x,), (v,))[1]
    if mode == "rev-rev":
        return grad(lambda y: anp.vdot(grad(f)(y), v))(x)
    if mode == "rev-fwd":
        return grad(lambda y: jvp(f, (y,), (v,))[1])(x)
    raise ValueError(f"hvp mode must be 'fwd-rev', 'rev-rev' or 'rev-fwd', got {mode!r}")


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
