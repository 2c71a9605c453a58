"""course/figures.py: every arrow of the hand-drawn graphs ends on a node's boundary (its head outside
the circle, so visible) and no edge crosses a node it does not join."""
from __future__ import annotations

import sys
from pathlib import Path

import matplotlib
import numpy as onp
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "course"))
import figures  # noqa: E402


def _arrows(ax):
    return [(onp.asarray(a.xyann, float), onp.asarray(a.xy, float)) for a in ax.texts if isinstance(a, Annotation)]


@pytest.mark.parametrize("reverse", [False, True])
def test_L_graph_arrows_end_on_node_boundaries(reverse):
    fig, ax = plt.subplots()
    figures.draw_L(ax, notes={"v2": "note"}, active="v2", reverse=reverse)
    arrows = _arrows(ax)
    assert len(arrows) == len(figures.L_EDGES)
    centers = [onp.asarray(p, float) for p in figures.L_POS.values()]
    for tail, tip in arrows:
        # the tip and the tail each touch exactly one circle from outside, never reach into it
        for point in (tail, tip):
            dist = sorted(onp.linalg.norm(point - c) for c in centers)
            assert dist[0] == pytest.approx(figures.RADIUS) and dist[1] > figures.RADIUS
    heads = {tuple(onp.round(tip, 6)) for _, tip in arrows}
    assert len(heads) == len(arrows)                      # no two arrowheads drawn on top of each other
    plt.close(fig)


def test_no_edge_crosses_a_node():
    assert figures.passes_over(figures.L_POS, figures.L_EDGES) == []


def test_passes_over_finds_a_crossing():
    pos = {"a": (0, 0), "b": (2, 0), "c": (1, 0.1)}
    assert figures.passes_over(pos, [("a", "b")]) == [(("a", "b"), "c")]
    assert figures.passes_over({**pos, "c": (1, 1)}, [("a", "b")]) == []


@pytest.mark.parametrize("reverse", [False, True])
def test_chain_rule_figure_arrows_point_at_v(reverse):
    fig, ax = plt.subplots()
    figures.draw_chain_rule(ax, reverse=reverse)
    arrows = _arrows(ax)
    assert len(arrows) == 3
    for tail, tip in arrows:
        assert onp.linalg.norm(tip) == pytest.approx(figures.RADIUS)          # v_i sits at the origin
        assert onp.linalg.norm(tail) > 2 * figures.RADIUS
    plt.close(fig)
