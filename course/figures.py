"""Hand-drawn computational graphs shared by the lectures (matplotlib only).

Nodes are circles of radius ``RADIUS`` (data units, axes with equal aspect). Every edge runs from
the boundary of one circle to the boundary of the other, so its arrowhead is never hidden under a
node; ``passes_over`` names the nodes an edge would cross (empty for every graph drawn here).

    fig, ax = plt.subplots(figsize=(9, 3))
    draw_L(ax, notes={"v1": "$\\dot v_1 = 0.5$"}, active="v1")
"""
from __future__ import annotations

import numpy as onp

RADIUS = 0.32

# The running example of lectures 6 and 7, named as ad.trace names it:
# L(w1, w2) = w2 log w1 + sqrt(w2 log w1);  v1 = log w1, v2 = w2 v1, v3 = sqrt v2, v4 = v2 + v3 = L.
L_POS = {"w1": (0, 1), "w2": (0, 0), "v1": (1.5, 1), "v2": (3, 0), "v3": (4.5, 1), "v4": (6, 0)}
L_EDGES = [("w1", "v1"), ("v1", "v2"), ("w2", "v2"), ("v2", "v3"), ("v2", "v4"), ("v3", "v4")]
L_LABELS = {"w1": "$w_1$", "w2": "$w_2$", "v1": "$v_1$\nlog", "v2": "$v_2$\n×", "v3": "$v_3$\n√",
            "v4": "$v_4$\n+"}
L_TEX = {"w1": "w_1", "w2": "w_2", "v1": "v_1", "v2": "v_2", "v3": "v_3", "v4": "v_4"}


def edge_segment(p, q, radius=RADIUS):
    """The part of the segment p -> q outside both circles: (tail, tip), each a point (x, y)."""
    p, q = onp.asarray(p, float), onp.asarray(q, float)
    u = (q - p) / onp.linalg.norm(q - p)
    return tuple(p + radius * u), tuple(q - radius * u)


def passes_over(pos, edges, radius=RADIUS):
    """(edge, node) pairs where an edge comes within ``radius`` of a node it does not join."""
    hits = []
    for a, b in edges:
        p, q = onp.asarray(pos[a], float), onp.asarray(pos[b], float)
        for name, c in pos.items():
            if name in (a, b):
                continue
            t = onp.clip(onp.dot(onp.asarray(c) - p, q - p) / onp.dot(q - p, q - p), 0, 1)
            if onp.linalg.norm(p + t * (q - p) - onp.asarray(c)) < radius:
                hits.append(((a, b), name))
    return hits


def draw_graph(ax, pos, edges, labels, notes=None, active=None, reverse=False, radius=RADIUS):
    """Draw nodes at ``pos`` and arrows for ``edges`` (parent, child).

    ``notes`` maps a node to a text written above it (below it for nodes on the lowest row);
    ``active`` is highlighted; ``reverse=True`` draws red arrows child -> parent (adjoint flow).
    Returns ``ax``.
    """
    import matplotlib.pyplot as plt

    notes = notes or {}
    bottom = min(y for _, y in pos.values())
    for a, b in edges:
        tail, tip = edge_segment(pos[b], pos[a], radius) if reverse else edge_segment(pos[a], pos[b], radius)
        ax.annotate("", xy=tip, xytext=tail, zorder=2,
                    arrowprops=dict(arrowstyle="-|>", mutation_scale=14, shrinkA=0, shrinkB=0,
                                    color="tab:red" if reverse else "0.35", lw=1.3))
    for name, (x, y) in pos.items():
        face = "gold" if name == active else ("lightgreen" if name in notes else "white")
        ax.add_patch(plt.Circle((x, y), radius, facecolor=face, edgecolor="k", zorder=3))
        ax.text(x, y, labels[name], ha="center", va="center", fontsize=9, zorder=4)
        if name in notes:
            below = y == bottom
            ax.text(x, y + (-1.25 if below else 1.25) * radius, notes[name], ha="center",
                    va="top" if below else "bottom", fontsize=10, color="darkred")
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.9, max(xs) + 0.9)
    ax.set_ylim(min(ys) - 0.9, max(ys) + 0.9)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def draw_L(ax, notes=None, active=None, reverse=False):
    """The graph of the running example L of lectures 6 and 7 (see ``L_POS``); v4 is labelled L."""
    draw_graph(ax, L_POS, L_EDGES, L_LABELS, notes, active, reverse)
    x, y = L_POS["v4"]
    ax.text(x + 1.3 * RADIUS, y, "$= L$", ha="left", va="center", fontsize=10)
    return ax


def draw_chain_rule(ax, reverse=False):
    """Forward chain rule (a node v_i collects its parents' tangents) or, with ``reverse=True``,
    the reverse one (v_i collects its children's adjoints)."""
    side = 1 if reverse else -1
    names = ["x_1", "x_2", "x_{t_i}"]
    pos = {"v": (0, 0), **{n: (2.6 * side, 1.5 - 1.5 * k) for k, n in enumerate(names)}}
    labels = {"v": "$v_i$", **{n: f"${n}$" for n in names}}
    edges = [(n, "v") for n in names] if not reverse else [("v", n) for n in names]
    draw_graph(ax, pos, edges, labels, active="v", reverse=reverse)
    for k, n in enumerate(names):                   # each label beside its own edge, clear of the others
        (x, y), (at, lift) = pos[n], [(0.5, 0.4), (0.68, 0.32), (0.5, -0.4)][k]
        text = f"$\\bar{{{n}}}\\,\\frac{{\\partial {n}}}{{\\partial v_i}}$" if reverse \
            else f"$\\frac{{\\partial v_i}}{{\\partial {n}}}\\,\\dot {n}$"
        ax.text(at * x, at * y + lift, text, ha="center", va="center", fontsize=12)
    formula = ("$\\bar v_i = \\sum_j \\bar x_j\\,\\frac{\\partial x_j}{\\partial v_i}$" if reverse
               else "$\\dot v_i = \\sum_j \\frac{\\partial v_i}{\\partial x_j}\\,\\dot x_j$")
    ax.text(-0.6 * side, 0, formula, ha="right" if reverse else "left", va="center", fontsize=13)
    ax.set_xlim(-3.4 if not reverse else -3.8, 3.8 if not reverse else 3.4)
    return ax
