"""WengertList.draw: the geometry a reader needs, read back from the drawn artists in display pixels.

For the seed graphs (L(w1, w2) = w2 log w1 + sqrt(w2 log w1), the normal pdf, a control-flow example):
no drawn edge segment enters any node's box, every arrowhead's tip touches its target's boundary and
lies in no box, arrowheads are drawn above the boxes, every label fits its box, boxes do not overlap.
"""
from __future__ import annotations

import sys

import numpy as onp
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
pytest.importorskip("networkx")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402
from matplotlib.path import Path  # noqa: E402

import autodiff_core as ad  # noqa: E402
import autodiff_core.numpy as np  # noqa: E402

TOL = 1.0   # pixels


def L(w1, w2):
    v = w2 * np.log(w1)
    return v + np.sqrt(v)


def pdf(x, mu, sigma):
    v3 = sigma ** 2
    return np.exp(-0.5 * ((x - mu) ** 2 / v3)) / np.sqrt(2 * np.pi * v3)


def pdf_twice(x, mu, sigma):          # sigma ** 2 computed twice: more nodes, longer edges
    return np.exp(-(x - mu) ** 2 / (2 * sigma ** 2)) / np.sqrt(2 * np.pi * sigma ** 2)


def control_flow(x, y):
    z = x
    for _ in range(4):
        if z > 1.0:
            z = z * y
        else:
            z = z + np.sin(y)
    return z * x + x * x                # x reused at the end: edges that skip columns, a repeated edge


SEEDS = [(L, (2.0, 3.0)), (pdf, (1.3, 0.4, 0.8)), (pdf_twice, (1.3, 0.4, 0.8)), (control_flow, (0.7, 1.6))]


def _subpaths(path):
    """Vertex arrays of the pieces of a compound path, split at MOVETO."""
    pieces = []
    for vertex, code in path.iter_segments(simplify=False, curves=False):
        if code == Path.MOVETO:
            pieces.append([])
        if code != Path.CLOSEPOLY:
            pieces[-1].append(vertex[-2:])
    return [onp.array(p) for p in pieces]


def _segment_enters(a, b, box, tol=TOL):
    """Does segment a-b pass through the interior of box (x0, y0, x1, y1) shrunk by tol? (Liang-Barsky)"""
    x0, y0, x1, y1 = box[0] + tol, box[1] + tol, box[2] - tol, box[3] - tol
    if x0 >= x1 or y0 >= y1:
        return False
    d = b - a
    t0, t1 = 0.0, 1.0
    for p, q in ((-d[0], a[0] - x0), (d[0], x1 - a[0]), (-d[1], a[1] - y0), (d[1], y1 - a[1])):
        if p == 0:
            if q < 0:
                return False
        else:
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
    return t1 - t0 > 1e-9


def _tip(head):
    """The tip of a triangular arrowhead (the vertex opposite its base, the shortest side) and its half angle."""
    side = lambda i: onp.linalg.norm(head[(i + 1) % 3] - head[(i + 2) % 3])   # the side opposite vertex i
    k = min(range(3), key=side)
    return head[k], onp.arcsin(side(k) / 2 / side((k + 1) % 3))


def _inside(point, box, tol=TOL):
    return box[0] + tol < point[0] < box[2] - tol and box[1] + tol < point[1] < box[3] - tol


def _distance_to_boundary(point, box):
    x, y = point
    dx = max(box[0] - x, 0, x - box[2])
    dy = max(box[1] - y, 0, y - box[3])
    if dx or dy:
        return float(onp.hypot(dx, dy))
    return float(min(x - box[0], box[2] - x, y - box[1], box[3] - y))


def _geometry(ax):
    """Boxes, texts and arrows of a drawing, in display pixels, read from the artists."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = {p.get_gid()[5:]: p for p in ax.patches if (p.get_gid() or "").startswith("node:")}
    extents = {k: tuple(p.get_window_extent(renderer).extents) for k, p in boxes.items()}
    texts = {t.get_gid()[5:]: tuple(t.get_window_extent(renderer).extents) for t in ax.texts
             if (t.get_gid() or "").startswith("text:")}
    arrows = []
    for p in ax.patches:
        if isinstance(p, FancyArrowPatch):
            src, dst = p.get_gid()[5:].split("->")
            pieces = _subpaths(ax.transData.transform_path(p.get_path()))
            arrows.append((src, dst, pieces[0], onp.concatenate(pieces[1:]), p))
    return boxes, extents, texts, arrows


def _problems(ax, expected_edges):
    """Every geometric fault of a drawing, as readable strings (empty: the drawing is right)."""
    boxes, extents, texts, arrows = _geometry(ax)
    faults = []
    drawn = sorted((s, d) for s, d, *_ in arrows)
    if drawn != sorted(expected_edges):
        faults.append(f"edges drawn {drawn} != edges of the graph {sorted(expected_edges)}")
    for src, dst, line, head, patch in arrows:
        for a, b in zip(line, line[1:]):
            for name, box in extents.items():
                if _segment_enters(a, b, box):
                    faults.append(f"edge {src}->{dst}: segment {a.round(1)}-{b.round(1)} passes through box {name}")
        if len(head) != 3:
            faults.append(f"edge {src}->{dst}: no triangular arrowhead")
            continue
        tip, half_angle = _tip(head)
        gap = _distance_to_boundary(tip, extents[dst])
        # matplotlib sets the head's vertex back by (lw / 2) / sin(half angle), so its stroke ends at the path's end
        set_back = patch.get_linewidth() * ax.figure.dpi / 72 / 2 / onp.sin(half_angle)
        if gap > set_back + TOL:
            faults.append(f"edge {src}->{dst}: arrow tip {tip.round(1)} is {gap:.1f} px from {dst}'s boundary")
        for name, box in extents.items():
            if _inside(tip, box):
                faults.append(f"edge {src}->{dst}: arrow tip hidden inside box {name}")
        if patch.get_zorder() <= boxes[dst].get_zorder():
            faults.append(f"edge {src}->{dst}: arrowhead drawn below the boxes")
    for name, box in extents.items():
        t = texts[name]
        if t[0] < box[0] - TOL or t[1] < box[1] - TOL or t[2] > box[2] + TOL or t[3] > box[3] + TOL:
            faults.append(f"label of {name} does not fit its box")
        for other, box2 in extents.items():
            if name < other and min(box[2], box2[2]) > max(box[0], box2[0]) and min(box[3], box2[3]) > max(box[1], box2[1]):
                faults.append(f"boxes {name} and {other} overlap")
    return faults


def _edges(wl):
    return [(wl.nodes[p].name, n.name) for n in wl.nodes for p in n.parents]


@pytest.mark.parametrize("f, args", SEEDS, ids=[f.__name__ for f, _ in SEEDS])
@pytest.mark.parametrize("show", ["value", ("value", "tangent", "adjoint")], ids=["value", "all"])
def test_drawing_geometry(f, args, show):
    wl = ad.trace(f, *args)
    wl.forward(*[1.0] * len(args))
    wl.backward()
    ax = wl.draw(show=show)
    try:
        assert _problems(ax, _edges(wl)) == []
    finally:
        plt.close(ax.figure)


@pytest.mark.parametrize("figsize", [(11, 5), (5, 3)])
def test_drawing_on_a_given_axes(figsize):
    """The lectures pass their own axes (lecture 12: 11 x 5 inches); a small one shrinks the font."""
    wl = ad.trace(pdf, 1.3, 0.4, 0.8)
    wl.backward()
    fig, ax = plt.subplots(figsize=figsize)
    try:
        assert wl.draw(ax=ax, show="adjoint") is ax
        assert _problems(ax, _edges(wl)) == []
    finally:
        plt.close(fig)


def test_the_check_catches_an_edge_behind_a_node_and_a_hidden_arrowhead():
    """The geometry check itself can fail: an arrow between box centres, as the old draw() made, is reported."""
    wl = ad.trace(control_flow, 0.7, 1.6)
    ax = wl.draw()
    _, extents, _, _ = _geometry(ax)
    inv = ax.transData.inverted()

    def centre(name):
        x0, y0, x1, y1 = extents[name]
        return inv.transform([(x0 + x1) / 2, (y0 + y1) / 2])

    target = wl.nodes[wl.nodes[wl.output].parents[0]].name          # z * x: x reaches it across columns
    [old] = [p for p in ax.patches if p.get_gid() == f"edge:x->{target}"]
    old.remove()
    ax.add_patch(FancyArrowPatch(path=Path([centre("x"), centre(target)]), arrowstyle="-|>", zorder=3,
                                 mutation_scale=9, gid=f"edge:x->{target}"))
    faults = _problems(ax, _edges(wl))
    plt.close(ax.figure)
    assert any("passes through box" in f for f in faults), faults
    assert any("hidden inside box" in f for f in faults), faults


def test_without_networkx_draw_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "networkx", None)
    wl = ad.trace(L, 2.0, 3.0)
    with pytest.raises(ImportError, match=r'pip install "autodiff-course\[plot\]"'):
        wl.draw()
