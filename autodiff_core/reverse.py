"""Reverse mode: record the graph on the way forward, sweep adjoints back through it.

For y = f(x) and a cotangent u the sweep returns the vector-Jacobian product u^T J:
each node v_i receives its adjoint  bar v_i = sum over children c of  vjp_c(bar v_c)
in reverse topological order, starting from bar y = u.
"""
from __future__ import annotations

from .tracer import Trace, Tracer, add_any, primal, shape_of


class Node(Tracer):
    """A traced value in a reverse trace: a graph node that remembers how it was made.

    ``parents`` are the nodes of the same trace among the arguments of ``prim``; ``argnums``
    their positions; ``args`` all arguments with those nodes unwrapped.
    """

    __slots__ = ("prim", "args", "kwargs", "argnums", "parents")

    def __init__(self, value, trace, prim=None, args=(), kwargs=None, argnums=(), parents=()):
        self.value = value
        self.trace = trace
        self.prim = prim
        self.args = args
        self.kwargs = kwargs
        self.argnums = argnums
        self.parents = parents


class ReverseTrace(Trace):
    __slots__ = ()

    def process(self, prim, ans, args, values, argnums, kwargs):
        return Node(ans, self, prim, values, kwargs, argnums, [args[i] for i in argnums])

    def input(self, value):
        return Node(value, self)


def toposort(out):
    """Nodes reachable from ``out``, each after all of its children (output first)."""
    children = {}
    stack = [out]
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
    ready = [out]
    while ready:
        node = ready.pop()
        order.append(node)
        for p in node.parents:
            k = id(p)
            children[k] -= 1
            if children[k] == 0:
                ready.append(p)
    return order


def backward(out, cotangent, order=None):
    """Adjoints of every node reachable from ``out``: dict id(node) -> adjoint (None = zero).

    ``order`` is ``toposort(out)`` if the caller already has it (one sweep per cotangent).
    """
    adjoints = {id(out): cotangent}
    for node in order or toposort(out):
        g = adjoints.get(id(node))
        if g is None or node.prim is None:
            continue
        del adjoints[id(node)]
        cts = node.prim.vjp_all(node.argnums, g, node.value, node.args, node.kwargs or {})
        for i, parent, ct in zip(node.argnums, node.parents, cts):
            check_shape(node.prim, i, ct, node.args[i], "VJP")
            k = id(parent)
            adjoints[k] = add_any(adjoints.get(k), ct)
    return adjoints


def check_shape(prim, argnum, result, like, kind):
    if result is None or isinstance(result, tuple) or isinstance(primal(like), tuple):
        return
    got, want = shape_of(result), shape_of(like)
    if got != want:
        raise ValueError(
            f"the {kind} rule of '{prim.name}' for argument {argnum} returned shape {got}, "
            f"but that argument has shape {want}")

