"""Reductions and scans: sum, mean, max, min, prod, var, std, cumsum over an axis (or all), with keepdims."""
from __future__ import annotations

import numpy as onp

from ..tracer import primal
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
    """1/k at the k positions that attain the extremum, 0 elsewhere (ties split evenly; second
    derivatives that move a tied entry are NaN)."""
    from .elementwise import _undefined_slope
    hit = x == _restore(ans, shape(x), axis, keepdims)
    count = onp.sum(hit, axis=axis, keepdims=True)
    share = hit / count
    tied = primal(hit) & (count > 1)
    return share + _undefined_slope(x, tied) if onp.any(tied) else share


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


def _prod_of_others(x, axis):
    """prod_{j != i} x_j along ``axis`` (None: all), of x's shape, exact when x has zeros.

    Without zeros it is prod(x) / x_i. With zeros, each entry's product of the others is taken
    from a stack that puts a 1 in its place (n copies along the axis: O(n^2) work, only then).
    """
    from . import moveaxis, reshape, where
    ans = prod(x, axis=axis, keepdims=True)
    if not onp.any(primal(x) == 0):
        return ans / x
    xs = shape(x)
    if axis is None:
        flat = reshape(x, (-1,))
        return reshape(_prod_of_others(flat, 0), xs)
    axes = _axes(axis, len(xs))
    if len(axes) > 1:                                           # flatten the reduced axes into one
        back = tuple(range(len(xs) - len(axes), len(xs)))
        moved = moveaxis(x, axes, back)
        flat = reshape(moved, shape(moved)[:len(xs) - len(axes)] + (-1,))
        return moveaxis(reshape(_prod_of_others(flat, -1), shape(moved)), back, axes)
    ax = axes[0]
    last = moveaxis(x, ax, -1)                                  # (..., n)
    n = xs[ax]
    eye = onp.eye(n, dtype=bool)
    others = prod(where(eye, 1.0, _expand(last)), axis=-1)     # (..., n, n) -> (..., n)
    return moveaxis(others, -1, ax)


def _expand(x):
    """(..., n) -> (..., n, n): row i is x."""
    from . import broadcast_to, expand_dims
    return broadcast_to(expand_dims(x, -2), shape(x)[:-1] + (shape(x)[-1], shape(x)[-1]))


prod = primitive(onp.prod, "d prod(x) = sum_i (prod_{j != i} x_j) dx_i  (exact at zeros)")
prod.defvjp(lambda g, ans, x, axis=None, keepdims=False:
            _restore(g, shape(x), axis, keepdims) * _prod_of_others(x, axis))
prod.defjvp(lambda t, ans, x, axis=None, keepdims=False:
            sum(_prod_of_others(x, axis) * t, axis=axis, keepdims=keepdims))


def _cumsum(x, axis=None):
    return onp.cumsum(x, axis=axis)


def _reverse_cumsum(g, x, axis):
    """The adjoint of cumsum: sums from the end, reshaped to x."""
    from . import flip, reshape
    if axis is None:
        return reshape(flip(cumsum(flip(g, 0), 0), 0), shape(x))
    return flip(cumsum(flip(g, axis), axis), axis)


cumsum = primitive(_cumsum, "d cumsum(x) = cumsum(dx); adjoint: cumulative sums of g from the end",
                   name="cumsum").saves(ans=False, args=False)
cumsum.defvjp(lambda g, ans, x, axis=None: _reverse_cumsum(g, x, axis))
cumsum.defjvp(lambda t, ans, x, axis=None: cumsum(t, axis))


def var(x, axis=None, dtype=None, ddof=0, keepdims=False):
    """sum((x - mean(x))^2) / (n - ddof), from traced mean and sum (so every order works)."""
    d = x - mean(x, axis=axis, keepdims=True)
    return sum(d * d, axis=axis, keepdims=keepdims) / (_count(x, axis) - ddof)


def std(x, axis=None, dtype=None, ddof=0, keepdims=False):
    """sqrt(var(x)), written as ||x - mean(x)|| / sqrt(n - ddof) so that at a constant x the
    gradient is 0 (norm's subgradient at 0) and second derivatives are NaN, never inf * 0."""
    from . import moveaxis, reshape
    from .linalg import norm
    xs = shape(x)
    axes = _axes(axis, len(xs))
    d = x - mean(x, axis=axis, keepdims=True)
    rest = [i for i in range(len(xs)) if i not in axes]
    flat = reshape(moveaxis(d, axes, tuple(range(len(rest), len(xs)))) if axes else d,
                   tuple(xs[i] for i in rest) + (-1,))
    out = norm(flat, axis=-1) / onp.sqrt(_count(x, axis) - ddof)
    return _restore(out, xs, axis, False) if keepdims else out
