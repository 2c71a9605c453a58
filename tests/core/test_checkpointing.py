"""checkpoint and checkpoint_sequential: same derivatives, less memory, one recomputation."""
from __future__ import annotations

import tracemalloc

import numpy as onp
import pytest

import autodiff_core as ad
import autodiff_core.numpy as np

rng = onp.random.default_rng(0)


def tanh_layers(n, width=32):
    Ws = [rng.standard_normal((width, width)) / onp.sqrt(width) for _ in range(n)]
    return [lambda x, W=W: np.tanh(x @ W) for W in Ws]


def chain(layers):
    def f(x):
        for layer in layers:
            x = layer(x)
        return x
    return f


def test_checkpoint_gives_the_same_gradient_and_recomputes_once():
    calls = []

    def block(x, w):
        calls.append(1)
        return np.sin(x * w) + x ** 2

    f = lambda x, w: np.sum(ad.checkpoint(block)(x, w) ** 2)
    g = lambda x, w: np.sum(block(x, w) ** 2)
    x, w = rng.standard_normal(5), rng.standard_normal(5)
    calls.clear()
    got = ad.grad(f, argnums=(0, 1))(x, w)
    assert len(calls) == 2                       # forward, then once more in the backward pass
    want = ad.grad(g, argnums=(0, 1))(x, w)
    for a, b in zip(got, want):
        onp.testing.assert_allclose(a, b, rtol=1e-12)


def test_checkpoint_under_forward_mode_and_second_order():
    block = ad.checkpoint(lambda x: np.tanh(x) * x)
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    plain = lambda x: np.sum(np.tanh(x) * x * x)
    ckpt = lambda x: np.sum(block(x) * x)
    onp.testing.assert_allclose(ad.jvp(ckpt, (x,), (v,))[1], ad.jvp(plain, (x,), (v,))[1])
    onp.testing.assert_allclose(ad.hvp(ckpt, x, v), ad.hvp(plain, x, v), rtol=1e-12)
    onp.testing.assert_allclose(ad.hvp(ckpt, x, v, mode="rev-rev"), ad.hvp(plain, x, v), rtol=1e-12)


@pytest.mark.parametrize("n, segments", [(1, None), (7, None), (16, 4), (10, 3)])
def test_checkpoint_sequential_matches_plain_chain(n, segments):
    layers = tanh_layers(n, width=6)
    x = rng.standard_normal((3, 6))
    f_plain = lambda x: np.sum(chain(layers)(x) ** 2)
    f_ckpt = lambda x: np.sum(ad.checkpoint_sequential(layers, segments)(x) ** 2)
    onp.testing.assert_allclose(ad.grad(f_ckpt)(x), ad.grad(f_plain)(x), rtol=1e-12)


def peak_bytes(f, x):
    tracemalloc.start()
    try:
        ad.value_and_grad(f)(x)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_checkpointing_memory_grows_like_sqrt_n():
    """Peak memory of value_and_grad: plain ~ N activations; sqrt(N) segments ~ 2 sqrt(N)."""
    x = rng.standard_normal((256, 32))
    peaks = {}
    for n in (16, 64):
        layers = tanh_layers(n)
        peaks["plain", n] = peak_bytes(lambda x: np.sum(chain(layers)(x)), x)
        peaks["ckpt", n] = peak_bytes(lambda x: np.sum(ad.checkpoint_sequential(layers)(x)), x)
    plain_growth = peaks["plain", 64] / peaks["plain", 16]
    ckpt_growth = peaks["ckpt", 64] / peaks["ckpt", 16]
    assert plain_growth > 3.0, peaks                 # ~ 4 for 4x the layers
    assert ckpt_growth < 2.6, peaks                  # ~ 2 = sqrt(4)
    # kept: 7 segment boundaries + the last (uncheckpointed) segment's 8 + one recomputed
    # segment's 8 activations, about 3 sqrt(N) = 24 of the plain pass's N = 64
    assert peaks["ckpt", 64] < 0.5 * peaks["plain", 64], peaks


def test_checkpoint_sequential_rejects_empty():
    with pytest.raises(ValueError, match="at least one layer"):
        ad.checkpoint_sequential([])


def test_checkpoint_over_a_closure_of_a_traced_value_raises_clearly():
    """A weight captured by closure would get no gradient from the recomputation: refuse it."""
    x, W0 = onp.ones((2, 2)), onp.eye(2) * 0.5

    def loss(W1, W2):
        h = ad.checkpoint(lambda h: np.tanh(h @ W1))(x)
        h = ad.checkpoint(lambda h: np.tanh(h @ W2))(h)
        return np.sum(h)
    with pytest.raises(ValueError, match="Pass such values as arguments"):
        ad.grad(loss, argnums=(0, 1))(W0, W0)

    def loss_args(W1, W2):
        block = ad.checkpoint(lambda h, W: np.tanh(h @ W))
        return np.sum(block(block(x, W1), W2))
    ref = lambda W1, W2: np.sum(np.tanh(np.tanh(x @ W1) @ W2))
    for a, b in zip(ad.grad(loss_args, argnums=(0, 1))(W0, W0), ad.grad(ref, argnums=(0, 1))(W0, W0)):
        onp.testing.assert_allclose(a, b, rtol=1e-12)
