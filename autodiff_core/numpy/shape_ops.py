"""Primitives that move entries around: reshaping, transposing, indexing, joining.

Their derivatives move the tangents the same way and the cotangents back the other way.
"""
from __future__ import annotations

import numpy as onp

from ._wrap import ndim, primitive, shape, unbroadcast


def _reshape(x, newshape):
    return onp.reshape(x, newshape)


reshape = primitive(_reshape, "d reshape(x) = reshape(dx); adjoint: reshape g back", name="reshape")
reshape.saves(ans=False, args=False)
reshape.defvjp(lambda g, ans, x, newshape: reshape(g, shape(x)))
reshape.defjvp(lambda t, ans, x, newshape: reshape(t, newshape))


def ravel(x):
    """Flatten to 1-D (a reshape)."""
    return reshape(x, (-1,))


def _transpose(x, axes=None):
    return onp.transpose(x, axes)


transpose = primitive(_transpose, "d transpose(x) = transpose(dx); adjoint: the inverse permutation",
                      name="transpose").saves(ans=False, args=False)
transpose.defvjp(lambda g, ans, x, axes=None:
                 transpose(g, None if axes is None else tuple(onp.argsort(axes))))
transpose.defjvp(lambda t, ans, x, axes=None: transpose(t, axes))


def swapaxes(x, axis1, axis2):
    """Exchange two axes (a transpose)."""
    axes = list(range(len(shape(x))))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, tuple(axes))


def moveaxis(x, source, destination):
    """Move one axis to a new position (a transpose)."""
    axes = [i for i in range(len(shape(x))) if i != source % len(shape(x))]
    axes.insert(destination % len(shape(x)), source % len(shape(x)))
    return transpose(x, tuple(axes))


def expand_dims(x, axis):
    """Insert axes of length 1 (a reshape)."""
    old = list(shape(x))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    nd = len(old) + len(axes)
    axes = sorted(a % nd for a in axes)
    for a in axes:
        old.insert(a, 1)
    return reshape(x, tuple(old))


def squeeze(x, axis=None):
    """Remove axes of length 1 (a reshape)."""
    old = shape(x)
    if axis is None:
        drop = {i for i, d in enumerate(old) if d == 1}
    else:
        drop = {a % len(old) for a in ((axis,) if isinstance(axis, int) else axis)}
        if any(old[a] != 1 for a in drop):
            raise ValueError(f"cannot squeeze axis {axis} of shape {old}: its length is not 1")
    return reshape(x, tuple(d for i, d in enumerate(old) if i not in drop))


broadcast_to = primitive(onp.broadcast_to, "d broadcast_to(x) = broadcast_to(dx); adjoint: sum g "
                                           "over the broadcast axes").saves(ans=False, args=False)
broadcast_to.defvjp(lambda g, ans, x, shape_: unbroadcast(g, shape(x)))
broadcast_to.defjvp(lambda t, ans, x, shape_: broadcast_to(t, shape_))


def _getitem(x, index):
    return x[index]


def _scatter_add(g, index, x_shape):
    """zeros(x_shape) with g added at ``index`` (repeated indices accumulate)."""
    out = onp.zeros(x_shape, dtype=onp.result_type(g, float))
    onp.add.at(out, index, g)
    return out


getitem = primitive(_getitem, "d x[i] = dx[i]; adjoint: scatter-add g into zeros at i", name="getitem")
getitem.saves(ans=False, args=False)
scatter_add = primitive(_scatter_add, "linear in g: its adjoint gathers g[i]", name="scatter_add")
getitem.defvjp(lambda g, ans, x, index: scatter_add(g, index, shape(x)))
getitem.defjvp(lambda t, ans, x, index: getitem(t, index))
scatter_add.defvjp(lambda g, ans, u, index, x_shape: getitem(g, index))
scatter_add.defjvp(lambda t, ans, u, index, x_shape: scatter_add(t, index, x_shape))


def _concatenate(axis, *arrays):
    return onp.concatenate(arrays, axis=axis)


def _slice_along(g, axis, start, stop):
    index = [slice(None)] * len(shape(g))
    index[axis] = slice(start, stop)
    return getitem(g, tuple(index))


concatenate_p = primitive(_concatenate, "d concatenate(xs) = concatenate(dxs); adjoint: slice g "
                                        "back into the pieces", name="concatenate")


def _concatenate_vjp(argnum, g, ans, axis, *arrays):
    sizes = [shape(a)[axis] for a in arrays]
    start = int(onp.sum(sizes[:argnum - 1]))
    return _slice_along(g, axis, start, start + sizes[argnum - 1])


def _concatenate_jvp(argnum, t, ans, axis, *arrays):
    from . import zeros_like
    return concatenate_p(axis, *[t if j == argnum - 1 else zeros_like(a) for j, a in enumerate(arrays)])


concatenate_p.vjp_argnum = _concatenate_vjp
concatenate_p.jvp_argnum = _concatenate_jvp


def _arrays(arrays):
    """The pieces to join, nested lists of traced values made arrays (np.concatenate([[x0], x]))."""
    from . import array
    return [array(a) if isinstance(a, (list, tuple)) else a for a in arrays]


def concatenate(arrays, axis=0):
    """Join arrays along an existing axis."""
    arrays = _arrays(arrays)
    nd = len(shape(arrays[0]))
    return concatenate_p(axis % nd if nd else 0, *arrays)


def stack(arrays, axis=0):
    """Join arrays along a new axis."""
    arrays = list(arrays)
    nd = len(shape(arrays[0])) + 1
    axis = axis % nd
    return concatenate_p(axis, *[expand_dims(a, axis) for a in arrays])


def hstack(arrays):
    """Join horizontally, as NumPy: scalars count as 1-D, 1-D arrays join along axis 0."""
    arrays = [reshape(a, (1,)) if ndim(a) == 0 else a for a in _arrays(arrays)]
    return concatenate(arrays, axis=0 if ndim(arrays[0]) == 1 else 1)


def vstack(arrays):
    """Join vertically, as NumPy: scalars and 1-D arrays count as rows."""
    return concatenate([reshape(a, (1, -1)) if ndim(a) <= 1 else a for a in _arrays(arrays)], axis=0)
