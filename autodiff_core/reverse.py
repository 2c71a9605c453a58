"""Reverse mode: record the graph on the way forward, sweep adjoints back through it.

For y = f(x) and a cotangent u the sweep returns the vector-Jacobian product u^T J:
each node v_i receives its adjoint  bar v_i = sum over children c of  vjp_c(bar v_c)
in reverse topological order, starting from bar y = u.
"""
from __future__ import annotations

import numpy as onp

from .tracer import Trace, Tracer, add_any, is_array_like, primal, rule_result_error, shape_of


class Node:
    """One recorded step of the graph: ``ans = prim(*args, **kwargs)``.

    ``parents`` are the nodes of the arguments at positions ``argnums``. To keep memory down, a
    node keeps only what its primitive's rules read (``Primitive.save_ans`` / ``save_args``):
    the rest is replaced by ``Shape`` stand-ins, so intermediates nobody needs are freed.
    """

    __slots__ = ("prim", "args", "kwargs", "argnums", "parents", "ans")

    def __init__(self, prim=None, args=(), kwargs=None, argnums=(), parents=(), ans=None):
        self.prim = prim
        self.args = args
        self.kwargs = kwargs
        self.argnums = argnums
        self.parents = parents
        self.ans = ans


class Shape:
    """Stands in for an array when a rule needs only its shape."""

    __slots__ = ("shape",)

    def __init__(self, x):
        self.shape = shape_of(x)


def _shape_only(x):
    if isinstance(x, Tracer) or (isinstance(x, onp.ndarray) and x.dtype.kind in "fc"):
        return Shape(x)
    return x


class Boxed(Tracer):
    """A traced value in a reverse trace: its value, and the graph node that made it."""

    __slots__ = ("node",)

    def __init__(self, value, trace, node):
        self.value = value
        self._trace = trace
        self.node = node


class ReverseTrace(Trace):
    """Records a graph node for every primitive applied to its values."""

    __slots__ = ("keep_all",)

    def __init__(self, keep_all=False, transform="reverse mode"):
        super().__init__(transform)
        self.keep_all = keep_all

    def process(self, prim, ans, args, values, argnums, kwargs):
        parents = [args[i].node for i in argnums]
        if self.keep_all:
            return Boxed(ans, self, Node(prim, values, kwargs, argnums, parents, ans))
        saved_args = values if prim.save_args else [_shape_only(v) for v in values]
        saved_ans = ans if prim.save_ans else Shape(ans)
        return Boxed(ans, self, Node(prim, saved_args, kwargs, argnums, parents, saved_ans))

    def input(self, value):
        return Boxed(value, self, Node(ans=value))


def toposort(roots):
    """Nodes reachable from the node list ``roots``, each after all of its children."""
    children = {}
    for node in roots:
        children[id(node)] = 0
    stack = list(roots)
    while stack:
        node = stack.pop()
        for p in node.parents:
            k = id(p)
            if k in children:
                children[k] += 1
            else:
                children[k] = 1
                stack.append(p)
    order = []
    ready = []
    for node in roots:
        if children[id(node)] == 0 and node not in ready:
            ready.append(node)
    while ready:
        node = ready.pop()
        order.append(node)
        for p in node.parents:
            k = id(p)
            children[k] -= 1
            if children[k] == 0:
                ready.append(p)
    return order


def backward(roots, cotangents, order=None):
    """Adjoints of every node reachable from the nodes ``roots`` whose adjoints are ``cotangents``.

    Returns a dict id(node) -> adjoint (None = zero). ``order`` is ``toposort(roots)`` if the
    caller already has it (one sweep per cotangent).
    """
    if len(roots) == 1:
        adjoints = {id(roots[0]): cotangents[0]}
    else:
        adjoints = {}
        for root, ct in zip(roots, cotangents):
            old = adjoints.get(id(root))
            adjoints[id(root)] = ct if old is None else add_any(old, ct)
    for node in order or toposort(roots):
        g = adjoints.get(id(node))
        if g is None or node.prim is None:
            continue
        del adjoints[id(node)]
        cts = node.prim.vjp_all(node.argnums, g, node.ans, node.args, node.kwargs or {})
        for i, parent, ct in zip(node.argnums, node.parents, cts):
            check_shape(node.prim, i, ct, node.args[i], "VJP")
            k = id(parent)
            old = adjoints.get(k)
            adjoints[k] = ct if old is None else add_any(old, ct)
    return adjoints


def check_shape(prim, argnum, result, like, kind):
    """Raise if a rule's ``result`` is not an array of ``like``'s shape (None means zero)."""
    try:
        if result.shape == like.shape:
            return
    except AttributeError:
        pass
    if result is None:
        return
    if isinstance(primal(like), tuple):          # the cotangent of a tuple (svd's result)
        if isinstance(result, tuple) and len(result) == len(primal(like)):
            return
    elif is_array_like(result) and not isinstance(primal(result), tuple) and \
            shape_of(result) == shape_of(like):
        return
    target = "that argument" if kind == "VJP" else "the result"
    raise rule_result_error(prim, argnum, result, like, kind, target)
