"""The Wengert list: a trace of a function at a point, as a list of elementary steps.

    wl = ad.trace(L, 2.0, 3.0)     # inputs w1, w2; steps v1 = log(w1), v2 = w2 * v1, ...
    wl.forward(1.0, 0.0)           # fills every node's tangent (forward mode, seed dw1 = 1)
    wl.backward()                  # fills every node's adjoint (reverse mode, seed bar L = 1)
    print(wl); wl.draw()

Only the path the program took is recorded: control flow is resolved at the traced point.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import numpy as onp

from .forward import tangent_of
from .reverse import ReverseTrace
from .tracer import Tracer, add_any

_INFIX = {"add": "+", "subtract": "-", "multiply": "*", "true_divide": "/", "divide": "/",
          "power": "**", "matmul": "@"}


@dataclass
class WengertNode:
    """One step: ``name = op(parents...)`` with its primal value, tangent and adjoint."""
    index: int
    name: str
    op: str
    parents: tuple
    expr: str
    value: object
    tangent: object = None
    adjoint: object = None
    _record: object = field(default=None, repr=False)


class _RecordingTrace(ReverseTrace):
    """A reverse trace that keeps everything, and its nodes in program order."""
    __slots__ = ("nodes",)

    def __init__(self, transform):
        super().__init__(keep_all=True, transform=transform)
        self.nodes = []

    def process(self, prim, ans, args, values, argnums, kwargs):
        boxed = super().process(prim, ans, args, values, argnums, kwargs)
        self.nodes.append(boxed.node)
        return boxed


def _fmt(x):
    x = onp.asarray(x)
    if x.ndim == 0:
        return f"{float(x):.4g}"
    if x.size <= 4:
        return onp.array2string(x, precision=4, separator=", ")
    return f"<array {x.shape}>"


class WengertList:
    """The nodes of a traced function: inputs first, then each step in the order it ran."""

    def __init__(self, nodes, output):
        self.nodes = nodes
        self.output = output

    @property
    def inputs(self):
        return [n for n in self.nodes if n.op == "input"]

    def forward(self, *tangents):
        """Forward sweep: tangent of every node for input tangents; returns the output's tangent."""
        if len(tangents) != len(self.inputs):
            raise ValueError(f"forward needs one tangent per input ({len(self.inputs)})")
        seeds = iter(tangents)
        for node in self.nodes:
            if node.op == "input":
                node.tangent = onp.asarray(next(seeds), dtype=float)
                continue
            node.tangent = tangent_of(node._record, [self.nodes[p].tangent for p in node.parents])
        return self.nodes[self.output].tangent

    def backward(self, cotangent=1.0):
        """Reverse sweep: adjoint of every node for the output's cotangent; returns inputs' adjoints."""
        for node in self.nodes:
            node.adjoint = None
        self.nodes[self.output].adjoint = onp.asarray(cotangent, dtype=float)
        for node in reversed(self.nodes):
            if node.op == "input" or node.adjoint is None:
                continue
            rec = node._record
            cts = rec.prim.vjp_all(rec.argnums, node.adjoint, rec.ans, rec.args, rec.kwargs or {})
            for p, ct in zip(node.parents, cts):
                self.nodes[p].adjoint = add_any(self.nodes[p].adjoint, ct)
        for node in self.nodes:
            if node.adjoint is None:
                node.adjoint = onp.zeros_like(onp.asarray(node.value, dtype=float))
        return tuple(n.adjoint for n in self.inputs)

    def rows(self):
        """The table as a list of rows (name, expression, value, tangent, adjoint) of strings."""
        return [(n.name, n.expr, _fmt(n.value),
                 "" if n.tangent is None else _fmt(n.tangent),
                 "" if n.adjoint is None else _fmt(n.adjoint)) for n in self.nodes]

    def __str__(self):
        header = ("node", "expression", "value", "tangent", "adjoint")
        rows = [header] + self.rows()
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def __repr__(self):
        return f"<WengertList: {len(self.inputs)} inputs, {len(self.nodes)} nodes>\n{self}"

    def _repr_markdown_(self):
        lines = ["| node | expression | value | tangent | adjoint |", "|---|---|---|---|---|"]
        lines += ["| " + " | ".join(f"`{c}`" if c else "" for c in r) + " |" for r in self.rows()]
        return "\n".join(lines)

    def draw(self, ax=None, show=("value",)):
        """Draw the graph in layers with matplotlib: inputs on the left, a column per depth.

        ``show`` lists what to print in each node: any of "value", "tangent", "adjoint". Inputs are
        blue, the output orange. Each node is a patch with gid ``node:<name>``, each edge a
        ``FancyArrowPatch`` with gid ``edge:<parent>-><child>`` (see ``graph_drawing``). Returns the
        axes. Raises ImportError without matplotlib or networkx (``pip install "autodiff-course[plot]"``).
        """
        from .graph_drawing import draw_graph
        show = (show,) if isinstance(show, str) else tuple(show)
        labels, colors, edges = [], [], []
        for n in self.nodes:
            lines = [n.expr]
            if "value" in show:
                lines.append(f"= {_fmt(n.value)}")
            if "tangent" in show and n.tangent is not None:
                lines.append(f"tangent {_fmt(n.tangent)}")
            if "adjoint" in show and n.adjoint is not None:
                lines.append(f"adjoint {_fmt(n.adjoint)}")
            labels.append("\n".join(lines))
            colors.append("#cde4ff" if n.op == "input" else ("#ffd9b3" if n.index == self.output else "#eeeeee"))
            edges += [(p, n.index) for p in n.parents]
        return draw_graph(labels, edges, colors, [n.name for n in self.nodes], ax=ax)


def _input_names(f, count):
    try:
        params = [p.name for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return params[:count] if len(params) >= count else [f"x{i + 1}" for i in range(count)]


def trace(f, *args):
    """Run f at ``args`` and return its WengertList (nodes that the output depends on)."""
    rt = _RecordingTrace(transform="trace")
    inputs = [rt.input(onp.asarray(a, dtype=float) if not isinstance(a, Tracer) else a) for a in args]
    try:
        out = f(*inputs)
    finally:
        rt.finished = True
    if not (isinstance(out, Tracer) and out._trace is rt):
        raise ValueError("the traced function's output does not depend on its inputs")
    out, values = out.node, [x.value for x in inputs]
    inputs = [x.node for x in inputs]
    needed, stack = {id(out)}, [out]
    while stack:
        for p in stack.pop().parents:
            if id(p) not in needed:
                needed.add(id(p))
                stack.append(p)
    steps = [n for n in rt.nodes if id(n) in needed]
    index = {id(x): i for i, x in enumerate(inputs + steps)}
    names = _input_names(f, len(inputs)) + [f"v{k + 1}" for k in range(len(steps))]
    nodes = [WengertNode(i, names[i], "input", (), names[i], v) for i, v in enumerate(values)]
    for k, rec in enumerate(steps):
        i = len(inputs) + k
        parents = tuple(index[id(p)] for p in rec.parents)
        shown = list(rec.args)
        for a, p in zip(rec.argnums, parents):
            shown[a] = names[p]
        shown = [s if isinstance(s, str) else _fmt(s) if onp.ndim(s) == 0 else "const"
                 for s in shown]
        op = rec.prim.name
        if op in _INFIX and len(shown) == 2:
            expr = f"{names[i]} = {shown[0]} {_INFIX[op]} {shown[1]}"
        else:
            extra = [f"{k}={v}" for k, v in (rec.kwargs or {}).items() if v is not None]
            expr = f"{names[i]} = {op}({', '.join(shown + extra)})"
        nodes.append(WengertNode(i, names[i], op, parents, expr, rec.ans, _record=rec))
    return WengertList(nodes, index[id(out)])
