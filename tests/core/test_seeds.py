"""The seed lectures' worked examples, with expected numbers derived by hand from their formulas."""
from __future__ import annotations

import math

import numpy as onp
import pytest

import autodiff_core as ad
import autodiff_core.numpy as np


def L(w1, w2):
    """The lectures' running example L(w1, w2) = w2 log w1 + sqrt(w2 log w1)."""
    v2 = w2 * np.log(w1)
    return v2 + np.sqrt(v2)


def L_grad_by_hand(w1, w2):
    v2 = w2 * math.log(w1)
    dv2 = 1 + 1 / (2 * math.sqrt(v2))            # dL/dv2 (the seeds' last step needs this, not dL/dv1)
    return dv2 * w2 / w1, dv2 * math.log(w1)


@pytest.mark.parametrize("w", [(2.0, 3.0), (1.5, 0.7), (5.0, 2.0)])
def test_L_gradient_forward_reverse_and_by_hand(w):
    expected = L_grad_by_hand(*w)
    assert ad.grad(L, argnums=(0, 1))(*w) == pytest.approx(expected, rel=1e-12)
    fwd = [ad.jvp(L, w, seed)[1] for seed in [(1.0, 0.0), (0.0, 1.0)]]
    assert fwd == pytest.approx(expected, rel=1e-12)


def test_L_wengert_list_forward_and_reverse_sweeps():
    wl = ad.trace(L, 2.0, 3.0)
    assert [n.name for n in wl.nodes] == ["w1", "w2", "v1", "v2", "v3", "v4"]
    assert [n.op for n in wl.nodes[2:]] == ["log", "multiply", "sqrt", "add"]
    assert wl.nodes[3].parents == (1, 2)                   # v2 = w2 * v1
    assert wl.nodes[-1].value == pytest.approx(L(2.0, 3.0))
    dL_dw1, dL_dw2 = L_grad_by_hand(2.0, 3.0)
    assert wl.forward(1.0, 0.0) == pytest.approx(dL_dw1)
    assert wl.nodes[2].tangent == pytest.approx(0.5)        # d log(w1) / dw1 = 1 / w1
    assert wl.backward() == pytest.approx((dL_dw1, dL_dw2))
    v2 = 3.0 * math.log(2.0)
    assert wl.nodes[3].adjoint == pytest.approx(1 + 1 / (2 * math.sqrt(v2)))   # bar v2
    assert wl.nodes[2].adjoint == pytest.approx(3.0 * (1 + 1 / (2 * math.sqrt(v2))))  # bar v1 = bar v2 w2
    text = str(wl)
    assert "v2 = w2 * v1" in text and "v3 = sqrt(v2)" in text and "adjoint" in text
    assert wl._repr_markdown_().count("\n") == len(wl.nodes) + 1


def test_wengert_list_draws_with_matplotlib():
    import matplotlib
    matplotlib.use("Agg")
    wl = ad.trace(L, 2.0, 3.0)
    wl.forward(1.0, 0.0)
    wl.backward()
    ax = wl.draw(show=("value", "tangent", "adjoint"))
    texts = [t.get_text() for t in ax.texts if t.get_text()]   # arrows are empty annotations
    assert len(texts) == len(wl.nodes) and any("adjoint" in t for t in texts)


def test_control_flow_example_values():
    """f(a, b) = log(ab) if ab > 5 else sin(ab): f(2, 3) = log 6 = 1.7918, grad = [1/a, 1/b]."""
    def f(a, b):
        c = a * b
        return np.log(c) if c > 5 else np.sin(c)
    assert f(2.0, 3.0) == pytest.approx(1.7918, abs=5e-5)
    assert ad.grad(f, argnums=(0, 1))(2.0, 3.0) == pytest.approx((0.5, 0.3333), abs=5e-5)
    wl = ad.trace(f, 2.0, 3.0)
    assert [n.op for n in wl.nodes[2:]] == ["multiply", "log"]     # only the branch taken


def normal_pdf(x, mu, sigma):
    return np.exp(-(x - mu) ** 2 / (2 * sigma ** 2)) / np.sqrt(2 * np.pi * sigma ** 2)


@pytest.mark.parametrize("x, mu, sigma", [(0.3, -0.2, 0.8), (1.0, 1.0, 2.0), (-2.0, 0.5, 1.3)])
def test_normal_pdf_partials_match_the_seeds_formulas(x, mu, sigma):
    e = math.exp(-(mu - x) ** 2 / (2 * sigma ** 2))
    df_dx = (mu - x) * e / (math.sqrt(2 * math.pi) * sigma ** 3)
    df_dmu = (x - mu) * e / (math.sqrt(2 * math.pi) * sigma ** 3)
    df_dsigma = -(sigma - x + mu) * (sigma + x - mu) * e / (math.sqrt(2 * math.pi) * sigma ** 4)
    got = ad.grad(normal_pdf, argnums=(0, 1, 2))(x, mu, sigma)
    assert got == pytest.approx((df_dx, df_dmu, df_dsigma), rel=1e-10)
