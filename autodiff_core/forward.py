"""Forward mode: carry a tangent with every value.

For y = f(x) and a tangent v of x, each intermediate v_i carries dot v_i = sum over parents p of
jvp_p(dot v_p); at the output dot y = J v, the Jacobian-vector product, in one sweep.
"""
from __future__ import annotations

import numpy as onp

from .reverse import check_shape
from .tracer import Trace, Tracer, primal, shape_of


class Dual(Tracer):
    """A traced value in a forward trace: a primal value and its tangent."""

    __slots__ = ("tangent",)

    def __init__(self, value, trace, tangent):
        self.value = value
        self._trace = trace
        self.tangent = tangent


class ForwardTrace(Trace):
    __slots__ = ()

    def __init__(self, transform="forward mode"):
        super().__init__(transform)

    def process(self, prim, ans, args, values, argnums, kwargs):
        tangent = push_tangents(prim, argnums, [args[i].tangent for i in argnums], ans, values, kwargs)
        return Dual(ans, self, tangent)

    def input(self, value, tangent):
        return Dual(value, self, tangent)


def push_tangents(prim, argnums, tangents, ans, args, kwargs):
    """Tangent of ``ans = prim(*args)``: the JVP rules summed, of ans's shape (checked)."""
    tangent = prim.jvp_all(argnums, tangents, ans, args, kwargs)
    if not isinstance(primal(ans), tuple):
        tangent = _broadcast(tangent, ans)
        check_shape(prim, argnums[0], tangent, ans, "JVP")
    return tangent


def tangent_of(node, parent_tangents):
    """Tangent of a recorded graph node from its parents' tangents (None means zero)."""
    pairs = [(i, t) for i, t in zip(node.argnums, parent_tangents) if t is not None]
    if not pairs:
        return None
    return push_tangents(node.prim, [i for i, _ in pairs], [t for _, t in pairs], node.ans,
                         node.args, node.kwargs or {})


def _broadcast(t, like):
    """Rules for broadcasting operations may return a tangent of an argument's smaller shape."""
    shape = shape_of(primal(like))
    if shape_of(primal(t)) == shape:
        return t
    from .numpy import broadcast_to
    try:
        return broadcast_to(t, shape)
    except ValueError:
        return t
