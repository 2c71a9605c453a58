"""stop_gradient: the value passes, the derivative is zero, at every nesting level and in pytrees."""
import numpy as onp

import autodiff_core as ad
import autodiff_core.numpy as np


def test_stop_gradient_blocks_first_order():
    # d/dx [x * sg(x)] = sg(x) = x (the product rule's second term is cut); at x = 3: 3, not 6
    assert ad.grad(lambda x: x * ad.stop_gradient(x))(3.0) == 3.0


def test_stop_gradient_value_unchanged_and_pytree():
    x = {"a": onp.arange(3.0), "b": [1.0, (2.0,)]}
    out = ad.stop_gradient(x)
    assert onp.array_equal(out["a"], x["a"]) and out["b"][0] == 1.0 and out["b"][1] == (2.0,)


def test_stop_gradient_forward_mode_and_second_order():
    f = lambda x: np.sin(x) + ad.stop_gradient(x ** 3)
    _, tangent = ad.jvp(f, (0.5,), (1.0,))
    assert onp.isclose(tangent, onp.cos(0.5))
    assert onp.isclose(ad.grad(ad.grad(f))(0.5), -onp.sin(0.5))


def test_straight_through_estimator():
    # forward value rounds, gradient is the identity
    ste = lambda x: x + ad.stop_gradient(onp.round(ad.primal(x)) - x)
    assert ste(1.3) == 1.0
    assert ad.grad(lambda x: 2.0 * ste(x))(1.3) == 2.0
