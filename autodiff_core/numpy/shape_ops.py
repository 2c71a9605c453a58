"""Primitives that move entries around: reshaping, transposing, indexing, joining.

Their derivatives move the tangents the same way and the cotangents back the other way.
"""
from __future__ import annotations

import numpy as onp

from ..tracer import primal
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
    """Move axes to new positions (a transpose); ``source``, ``destination``: ints or sequences."""
    nd = len(shape(x))
    src = [a % nd for a in ((source,) if onp.ndim(source) == 0 else source)]
    dst = [a % nd for a in ((destination,) if onp.ndim(destination) == 0 else destination)]
    axes = [i for i in range(nd) if i not in src]
    for d, a in sorted(zip(dst, src)):
        axes.insert(d, a)
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
    """Join along axis 1 (axis 0 for 1-D pieces); scalars become 1-D, as in NumPy."""
    arrays = [atleast_1d(a) for a in _arrays(arrays)]
    return concatenate(arrays, axis=0 if len(shape(arrays[0])) == 1 else 1)


def vstack(arrays):
    """Join along axis 0; 1-D pieces (and scalars) become rows, as in NumPy."""
    return concatenate([atleast_2d(a) for a in _arrays(arrays)], axis=0)


row_stack = vstack


def dstack(arrays):
    """Join along axis 2; pieces are made 3-D as by np.atleast_3d."""
    return concatenate([atleast_3d(a) for a in _arrays(arrays)], axis=2)


def column_stack(arrays):
    """1-D pieces become columns, then join along axis 1."""
    return concatenate([reshape(a, (-1, 1)) if len(shape(a)) < 2 else a for a in _arrays(arrays)], axis=1)


def atleast_1d(x):
    return reshape(x, (1,)) if len(shape(x)) == 0 else x


def atleast_2d(x):
    return reshape(x, (1,) * (2 - len(shape(x))) + shape(x)) if len(shape(x)) < 2 else x


def atleast_3d(x):
    """As np.atleast_3d: () -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    s = shape(x)
    new = {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}.get(len(s), s)
    return reshape(x, new)


def append(arr, values, axis=None):
    """np.append: ravel both when axis is None, then concatenate."""
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


def _along(x, axis, index):
    """x[..., index, ...] with ``index`` at position ``axis``."""
    full = [slice(None)] * len(shape(x))
    full[axis] = index
    return getitem(x, tuple(full))


def array_split(x, indices_or_sections, axis=0):
    """Pieces of x along ``axis`` (slices: each a getitem), as np.array_split."""
    n = shape(x)[axis]
    if onp.ndim(indices_or_sections) == 0:
        k = int(indices_or_sections)
        sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
        bounds = onp.concatenate([[0], onp.cumsum(sizes)]).tolist()
    else:
        bounds = [0] + list(indices_or_sections) + [n]
    return [_along(x, axis, slice(a, b)) for a, b in zip(bounds[:-1], bounds[1:])]


def split(x, indices_or_sections, axis=0):
    """As np.split (an integer must divide the axis length)."""
    if onp.ndim(indices_or_sections) == 0 and shape(x)[axis] % indices_or_sections:
        raise ValueError("array split does not result in an equal division")
    return array_split(x, indices_or_sections, axis)


def hsplit(x, sections):
    return split(x, sections, axis=1 if len(shape(x)) > 1 else 0)


def vsplit(x, sections):
    return split(x, sections, axis=0)


def dsplit(x, sections):
    return split(x, sections, axis=2)


def flip(x, axis=None):
    """Reverse the order along ``axis`` (all axes if None): a getitem with negative steps."""
    nd = len(shape(x))
    axes = range(nd) if axis is None else [a % nd for a in ((axis,) if onp.ndim(axis) == 0 else axis)]
    index = [slice(None, None, -1) if i in axes else slice(None) for i in range(nd)]
    return getitem(x, tuple(index))


def fliplr(x):
    return flip(x, 1)


def flipud(x):
    return flip(x, 0)


def rot90(x, k=1, axes=(0, 1)):
    """Rotate by 90 degrees k times in the plane ``axes`` (flips and a swap of axes)."""
    k %= 4
    if k == 0:
        return x
    if k == 2:
        return flip(flip(x, axes[0]), axes[1])
    if k == 1:
        return swapaxes(flip(x, axes[1]), axes[0], axes[1])
    return flip(swapaxes(x, axes[0], axes[1]), axes[1])


def _index_map(x_shape, numpy_op):
    """Apply a NumPy function that only moves entries to the flat indices of x: where the result
    takes each entry from (the op then becomes one gather, whose adjoint is a scatter-add)."""
    return numpy_op(onp.arange(int(onp.prod(x_shape)), dtype=onp.intp).reshape(x_shape))


def _gather(x, numpy_op):
    return getitem(ravel(x), _index_map(shape(x), numpy_op))


def roll(x, shift, axis=None):
    """np.roll: a gather of the entries (VJP: scatter back)."""
    return _gather(x, lambda i: onp.roll(i, shift, axis))


def repeat(x, repeats, axis=None):
    """np.repeat: a gather; repeated entries' cotangents add up."""
    return _gather(x, lambda i: onp.repeat(i, repeats, axis))


def tile(x, reps):
    """np.tile: a gather."""
    return _gather(x, lambda i: onp.tile(i, reps))


def diagonal(x, offset=0, axis1=0, axis2=1):
    """np.diagonal: a gather; the diagonal's axis comes last, as in NumPy."""
    return _gather(x, lambda i: onp.diagonal(i, offset, axis1, axis2))


def take(x, indices, axis=None):
    return _gather(x, lambda i: onp.take(i, indices, axis))


def take_along_axis(x, indices, axis):
    return _gather(x, lambda i: onp.take_along_axis(i, indices, axis))


def _linear_mode_pad(x, pad_width, mode, **kwargs):
    return _gather(x, lambda i: onp.pad(i, pad_width, mode=mode, **kwargs))


def pad(x, pad_width, mode="constant", **kwargs):
    """np.pad for the modes that copy entries (constant, edge, reflect, symmetric, wrap): a gather;
    the constants of mode 'constant' (``constant_values``, default 0) are constants."""
    if mode not in ("constant", "edge", "reflect", "symmetric", "wrap"):
        raise NotImplementedError(f"np.pad with mode={mode!r} has no derivative rule here; the modes "
                                  "constant, edge, reflect, symmetric and wrap have one")
    if mode != "constant":
        return _linear_mode_pad(x, pad_width, mode, **kwargs)
    from . import where
    xs = shape(x)
    inside = onp.pad(onp.ones(xs, dtype=bool), pad_width)
    idx = onp.pad(onp.arange(int(onp.prod(xs)), dtype=onp.intp).reshape(xs), pad_width)
    constants = onp.pad(onp.zeros(xs), pad_width, constant_values=kwargs.get("constant_values", 0))
    return where(inside, getitem(ravel(x), idx), constants)


def diff(x, n=1, axis=-1, prepend=None, append=None):
    """n-th differences along ``axis``: x[1:] - x[:-1], n times (prepend / append joined first)."""
    axis %= len(shape(x))
    pieces = [p for p in (prepend, x, append) if p is not None]
    if len(pieces) > 1:
        expand = lambda p: broadcast_to(p, shape(x)[:axis] + (1,) + shape(x)[axis + 1:]) \
            if len(shape(p)) == 0 else p
        x = concatenate([expand(p) for p in pieces], axis=axis)
    for _ in range(n):
        x = _along(x, axis, slice(1, None)) - _along(x, axis, slice(None, -1))
    return x


def _tri(npfun, word):
    prim = primitive(npfun, f"{npfun.__name__}(x, k) keeps the {word} triangle: linear, its own adjoint")
    prim.saves(ans=False, args=False)
    prim.defvjp(lambda g, ans, x, k=0: prim(g, k))
    prim.defjvp(lambda t, ans, x, k=0: prim(t, k))
    return prim


tril = _tri(onp.tril, "lower")
triu = _tri(onp.triu, "upper")


def rollaxis(x, axis, start=0):
    """np.rollaxis (a transpose)."""
    nd = len(shape(x))
    axis, start = axis % nd, start % (nd + 1)
    return moveaxis(x, axis, start - 1 if start > axis else start)


def full(shape_, fill_value, dtype=None):
    """np.full; a traced fill_value is broadcast (its cotangent is the sum)."""
    from ..tracer import Tracer
    value = fill_value if isinstance(fill_value, Tracer) else onp.asarray(fill_value, dtype=dtype)
    return broadcast_to(value, tuple(shape_) if onp.ndim(shape_) else (shape_,))


def kron(a, b):
    """np.kron: the outer product of a and b, axes interleaved and merged."""
    from . import reshape as rs
    nd = max(len(shape(a)), len(shape(b)))
    a, b = rs(a, (1,) * (nd - len(shape(a))) + shape(a)), rs(b, (1,) * (nd - len(shape(b))) + shape(b))
    ia = [slice(None) if k % 2 == 0 else None for k in range(2 * nd)]
    ib = [None if k % 2 == 0 else slice(None) for k in range(2 * nd)]
    prod = getitem(a, tuple(ia)) * getitem(b, tuple(ib))
    return rs(prod, tuple(p * q for p, q in zip(shape(a), shape(b))))


def gradient(f, *varargs, axis=None, edge_order=1):
    """np.gradient with scalar spacings and edge_order=1: central differences inside, one-sided at
    the ends (linear in f, from slices)."""
    if edge_order != 1:
        raise NotImplementedError("np.gradient with edge_order=2 has no derivative rule here")
    nd = len(shape(f))
    axes = list(range(nd)) if axis is None else [a % nd for a in ((axis,) if onp.ndim(axis) == 0 else axis)]
    h = list(varargs) * len(axes) if len(varargs) == 1 else (list(varargs) or [1.0] * len(axes))
    out = []
    for ax, dx in zip(axes, h):
        if onp.ndim(dx) != 0:
            raise NotImplementedError("np.gradient with coordinate arrays has no derivative rule here")
        mid = (_along(f, ax, slice(2, None)) - _along(f, ax, slice(None, -2))) / (2.0 * dx)
        first = (_along(f, ax, slice(1, 2)) - _along(f, ax, slice(0, 1))) / dx
        last = (_along(f, ax, slice(-1, None)) - _along(f, ax, slice(-2, -1))) / dx
        out.append(concatenate([first, mid, last], axis=ax))
    return out[0] if len(out) == 1 else out
