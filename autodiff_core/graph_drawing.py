"""Draw a Wengert list as a layered graph: inputs on the left, one column per depth (Sugiyama style).

Layers are networkx's topological generations, so a node's column is the length of its longest
path from an input. As in Sugiyama, Tagawa & Toda (1981), an edge spanning several columns gets one
dummy node per column it crosses, and the nodes of each column are ordered by barycenter sweeps to
reduce crossings. Each dummy node is a lane of its own in its column, so every drawn segment runs
either along its own port or lane inside a column, or through the empty gap between two columns:
no edge passes behind a node. Each edge ends in an arrowhead whose tip is on the left side of its
target's box, drawn above the boxes.

Sizes are in "em" (the font size): a box is as wide as its longest line in a monospaced font.
"""
from __future__ import annotations

CHAR, LINE, PAD = 0.62, 1.3, 0.8         # monospaced character width, line height, box padding (em)
COLUMN_GAP, ROW_GAP, LANE = 4.0, 1.2, 0.5  # gap between columns, between boxes of a column; dummy lane height
SWEEPS = 4


def _libraries():
    try:
        import matplotlib.pyplot as plt
        import networkx as nx
    except ImportError as err:
        raise ImportError('WengertList.draw needs matplotlib and networkx: '
                          'pip install "autodiff-course[plot]"') from err
    return plt, nx


def layered_layout(labels, edges, nx):
    """Boxes and edge routes of a layered drawing.

    labels: one string per node (lines separated by newlines); edges: (parent, child) index pairs,
    repeated pairs allowed (``x * x``). Returns ``(boxes, routes, bounds)``: ``boxes[i] = (cx, cy, w, h)`` in em,
    ``routes[e]`` the polyline (list of (x, y)) of edge e from the parent's right side to the tip on
    the child's left side, ``bounds = (xmin, xmax, ymin, ymax)`` of everything drawn.
    """
    n = len(labels)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edges)
    layer = {v: k for k, gen in enumerate(nx.topological_generations(graph)) for v in gen}
    size = {}
    for i, text in enumerate(labels):
        lines = text.split("\n")
        size[i] = (CHAR * max(map(len, lines)) + 2 * PAD, LINE * len(lines) + PAD)
    chains = []                                            # each edge as parent, dummies..., child
    for e, (p, c) in enumerate(edges):
        dummies = [("dummy", e, k) for k in range(layer[p] + 1, layer[c])]
        for d in dummies:
            layer[d], size[d] = d[2], (0.0, LANE)
        chains.append([p, *dummies, c])
    columns = [[] for _ in range(max(layer.values()) + 1)]
    for v in sorted(layer, key=lambda v: (isinstance(v, tuple), v)):
        columns[layer[v]].append(v)
    before = {v: [] for v in layer}
    after = {v: [] for v in layer}
    for chain in chains:
        for a, b in zip(chain, chain[1:]):
            after[a].append(b)
            before[b].append(a)

    def sweep(cols, neighbours, side):
        """Order each column by its nodes' mean neighbour position in column col + side (barycenter)."""
        for col in cols:
            rank = {v: k for k, v in enumerate(columns[col + side])}
            key = {}
            for k, v in enumerate(columns[col]):
                near = [rank[u] for u in neighbours[v]]
                key[v] = sum(near) / len(near) if near else k
            columns[col].sort(key=key.get)

    for _ in range(SWEEPS):                                # inputs keep their signature order
        sweep(range(1, len(columns)), before, -1)
        sweep(range(len(columns) - 2, 0, -1), after, +1)
    sweep(range(1, len(columns)), before, -1)

    width = [max(size[v][0] for v in col) for col in columns]
    x, centre = 0.0, []
    for w in width:
        centre.append(x + w / 2)
        x += w + COLUMN_GAP
    pos = {}
    for col, vs in enumerate(columns):
        total = sum(size[v][1] for v in vs) + ROW_GAP * (len(vs) - 1)
        y = total / 2
        for v in vs:
            pos[v] = (centre[col], y - size[v][1] / 2)
            y -= size[v][1] + ROW_GAP
    boxes = [(*pos[i], *size[i]) for i in range(n)]

    def ports(v, others, side):
        """One port per edge end on the box side, ordered like the other ends (top first)."""
        cx, cy, w, h = *pos[v], *size[v]
        order = sorted(range(len(others)), key=lambda k: -pos[others[k]][1])
        ys = {k: cy + h / 2 - h * (r + 1) / (len(others) + 1) for r, k in enumerate(order)}
        return [(cx + side * w / 2, ys[k]) for k in range(len(others))]

    out_port = {v: ports(v, after[v], +1) for v in range(n)}
    in_port = {v: ports(v, before[v], -1) for v in range(n)}
    used_out, used_in = {v: 0 for v in range(n)}, {v: 0 for v in range(n)}
    routes = []
    for chain in chains:
        p, c = chain[0], chain[-1]
        start = out_port[p][used_out[p]]
        end = in_port[c][used_in[c]]
        used_out[p] += 1
        used_in[c] += 1
        pts = [start, (centre[layer[p]] + width[layer[p]] / 2, start[1])]
        for d in chain[1:-1]:
            col = layer[d]
            pts += [(centre[col] - width[col] / 2, pos[d][1]), (centre[col] + width[col] / 2, pos[d][1])]
        pts += [(centre[layer[c]] - width[layer[c]] / 2, end[1]), end]
        routes.append([q for k, q in enumerate(pts) if k == 0 or q != pts[k - 1]])
    bounds = (-width[0] / 2, centre[-1] + width[-1] / 2,
              min(pos[v][1] - size[v][1] / 2 for v in pos), max(pos[v][1] + size[v][1] / 2 for v in pos))
    return boxes, routes, bounds


def draw_graph(labels, edges, colors, names, ax=None, fontsize=9.0):
    """Draw boxes with ``labels`` and arrows along ``edges`` on ``ax`` (a new figure if None).

    Node i is a ``FancyBboxPatch`` with gid ``node:<names[i]>`` (its text: gid ``text:<names[i]>``);
    edge (p, c) is a ``FancyArrowPatch`` with gid ``edge:<names[p]>-><names[c]>``. The font shrinks
    below ``fontsize`` points if the axes are too small for the text to fit its box. Returns ``ax``.
    Raises ImportError without matplotlib or networkx.
    """
    plt, nx = _libraries()
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path

    boxes, routes, (xmin, xmax, ymin, ymax) = layered_layout(labels, edges, nx)
    xmin, xmax, ymin, ymax = xmin - 1, xmax + 1, ymin - 1, ymax + 1      # a margin of one em
    if ax is None:
        scale = min(fontsize, 16 * 72 / (xmax - xmin))         # at most 16 inches wide
        _, ax = plt.subplots(figsize=((xmax - xmin) * scale / 72, (ymax - ymin) * scale / 72))
        ax.set_position([0, 0, 1, 1])
    frame = ax.get_window_extent()                              # pixels
    em = min(frame.width / (xmax - xmin), frame.height / (ymax - ymin))
    grow_x, grow_y = frame.width / em - (xmax - xmin), frame.height / em - (ymax - ymin)
    ax.set_xlim(xmin - grow_x / 2, xmax + grow_x / 2)         # equal scales: boxes keep the text's shape
    ax.set_ylim(ymin - grow_y / 2, ymax + grow_y / 2)
    ax.axis("off")
    em *= 72 / ax.figure.dpi                                    # points per em
    size = min(fontsize, em)                                    # points: the text fits its box
    for (cx, cy, w, h), text, color, name in zip(boxes, labels, colors, names):
        ax.add_patch(FancyBboxPatch((cx - w / 2, cy - h / 2), w, h, gid=f"node:{name}", zorder=2, fc=color,
                                    ec="0.3", boxstyle=f"round,pad=0,rounding_size={min(0.5, h / 4)}"))
        ax.text(cx, cy, text, ha="center", va="center", family="monospace", fontsize=size,
                linespacing=1.15, zorder=4, gid=f"text:{name}")
    for (p, c), route in zip(edges, routes):
        ax.add_patch(FancyArrowPatch(path=Path(route), arrowstyle="-|>", mutation_scale=max(size, 4),
                                     lw=1.0, color="0.35", zorder=3, gid=f"edge:{names[p]}->{names[c]}"))
    return ax
