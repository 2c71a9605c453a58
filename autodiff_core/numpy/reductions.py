"""Reductions: sum, mean, max, min over an axis (or all), with keepdims."""
from __future__ import annotations

import numpy as onp

from ._wrap import primitive, shape


def _axes(axis, nd):
    if axis is None:
        return tuple(range(nd))
    axis = (axis,) if onp.ndim(axis) == 0 else tuple(axis)
    return tuple(a % nd for a in axis)


def _restore(g, x_shape, axis, keepdims):
    """Reshape a reduced cotangent so it broadcasts against the input (put back reduced axes)."""
    from . import reshape
    if keepdims:
        return g
    kept = [1 if i in _axes(axis, len(x_shape)) else d for i, d in enumerate(x_shape)]
    return reshape(g, kept)


def _spread(g, x, axis, keepdims):
    """The adjoint of summation over ``axis``: copy g along the summed axes."""
    from . import broadcast_to
    return broadcast_to(_restore(g, shape(x), axis, keepdims), shape(x))


def _count(x, axis):
    xs = shape(x)
    return int(onp.prod([xs[i] for i in _axes(axis, len(xs))]))


sum = primitive(onp.sum, "d sum(x) = sum(dx); its adjoint copies g along the summed axes").saves(ans=False, args=False)
sum.defvjp(lambda g, ans, x, axis=None, keepdims=False: _spread(g, x, axis, keepdims))
sum.defjvp(lambda t, ans, x, axis=None, keepdims=False: sum(t, axis=axis, keepdims=keepdims))

mean = primitive(onp.mean, "d mean(x) = mean(dx) = sum(dx) / n").saves(ans=False, args=False)
mean.defvjp(lambda g, ans, x, axis=None, keepdims=False: _spread(g, x, axis, keepdims) / _count(x, axis))
mean.defjvp(lambda t, ans, x, axis=None, keepdims=False: mean(t, axis=axis, keepdims=keepdims))


def _argmax_share(x, ans, axis, keepdims):
    """1/k at the k positions that attain the extremum, 0 elsewhere (ties split evenly)."""
    hit = x == _restore(ans, shape(x), axis, keepdims)
    return hit / onp.sum(hit, axis=axis, keepdims=True)


def _extremum(npfun, name, word):
    prim = primitive(npfun, f"d {name}(x) = the dx at the position of the {word} (ties split evenly)",
                     name=name)
    prim.defvjp(lambda g, ans, x, axis=None, keepdims=False:
                _restore(g, shape(x), axis, keepdims) * _argmax_share(x, ans, axis, keepdims))
    prim.defjvp(lambda t, ans, x, axis=None, keepdims=False:
                sum(t * _argmax_share(x, ans, axis, keepdims), axis=axis, keepdims=keepdims))
    return prim


max = _extremum(onp.max, "max", "maximum")
min = _extremum(onp.min, "min", "minimum")
amax, amin = max, min
