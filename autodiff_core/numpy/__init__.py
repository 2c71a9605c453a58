"""The traced NumPy namespace: ``import autodiff_core.numpy as np``.

Functions with derivative rules are primitives defined in the modules of this package, each
with its VJP and JVP rules side by side:

* ``elementwise``: arithmetic, exp, log, sqrt, trigonometric and hyperbolic functions and their
  inverses, sigmoid, logaddexp, maximum, clip, remainder, where, ...
* ``reductions``: sum, mean, max, min, prod, var, std, cumsum
* ``shape_ops``: reshape, transpose, indexing, concatenate, stack, split, flip, roll, repeat,
  tile, pad, diff, diagonal, tril / triu, astype, ...
* ``contractions``: matmul / dot, vdot, outer, inner, tensordot, cross, trace, diag, einsum
* ``sorting``: sort, partition (gathers by argsort / argpartition)
* ``linalg``: solve, inv, det, slogdet, norm, svd, cholesky, eigh, eigvalsh, eig, pinv (stacks
  of matrices too)

Piecewise-constant functions (sign, floor, round, comparisons, argmax, ...) are declared once,
in ``CONSTANT``: they are evaluated on the plain value and have zero derivative.

Every other name (``np.zeros``, ``np.pi``, ``np.random``, ...) is NumPy's own: those functions
make constants. Calling one of them on a traced value raises a TypeError that names it.
"""
from __future__ import annotations

import numpy as onp

from ..tracer import Primitive, Tracer, primal, shape_of
from . import linalg
from ._wrap import TRACED, shape
from .contractions import cross, diag, dot, einsum, inner, matmul, outer, tensordot, trace, vdot
from .elementwise import (abs, absolute, add, arccos, arccosh, arcsin, arcsinh, arctan, arctan2,
                          arctanh, cbrt, clip, conj, conjugate, copysign, cos, cosh, deg2rad,
                          degrees, divide, exp, exp2, expit, expm1, fabs, fmax, fmin, fmod, hypot,
                          log, log1p, log2, log10, logaddexp, logaddexp2, maximum, minimum, mod,
                          multiply, nan_to_num, negative, power, rad2deg, radians, real,
                          real_if_close, reciprocal, remainder, sigmoid, sin, sinc, sinh, sqrt,
                          square, subtract, tan, tanh, true_divide, where)
from .reductions import amax, amin, cumsum, max, mean, min, prod, std, sum, var
from .shape_ops import (append, array_split, atleast_1d, atleast_2d, atleast_3d,
                        broadcast_to, column_stack, concatenate, diagonal, diff, dsplit, dstack,
                        expand_dims, flip, fliplr, flipud, full, getitem, gradient, hsplit, hstack,
                        kron, moveaxis, pad, ravel, repeat, reshape, roll, rollaxis, rot90,
                        row_stack, split, squeeze, stack, swapaxes, take, take_along_axis, tile,
                        transpose, tril, triu, vsplit, vstack)
from .sorting import msort, partition, sort


def array(obj, dtype=None, **kwargs):
    """np.array that also accepts (nested) lists of traced values, by stacking them."""
    if isinstance(obj, Tracer):
        return obj
    if isinstance(obj, (list, tuple)) and _has_tracer(obj):
        return stack([array(o) for o in obj])
    return onp.array(obj, dtype=dtype, **kwargs)


def _has_tracer(obj):
    if isinstance(obj, Tracer):
        return True
    return isinstance(obj, (list, tuple)) and any(_has_tracer(o) for o in obj)


asarray = array


def zeros_like(x, dtype=None):
    """Zeros of x's shape (a constant; x may be traced)."""
    p = primal(x)
    return onp.zeros(shape_of(p), dtype=dtype or (p.dtype if isinstance(p, onp.ndarray) else float))


def ones_like(x, dtype=None):
    p = primal(x)
    return onp.ones(shape_of(p), dtype=dtype or (p.dtype if isinstance(p, onp.ndarray) else float))


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over ``axis``, as ``scipy.special.logsumexp``; shape: x's, reduced.

    Computed stably as m + log(sum(exp(x - m))), m = max(x) held constant (the result does not
    depend on m, so its derivative through m is zero). m is taken as 0 where it is not finite
    or the input is empty, as SciPy does: [-inf, -inf] -> -inf, [inf, 1] -> inf, [] -> -inf.
    Gradient: softmax(x) = exp(x - logsumexp(x)) (NaN where that is 0/0 or inf/inf).
    """
    p = primal(x)
    if onp.size(p) == 0:
        m = onp.zeros(onp.sum(p, axis=axis, keepdims=True).shape, onp.result_type(p, onp.float16))
    else:
        m = onp.max(p, axis=axis, keepdims=True)
        m = onp.where(onp.isfinite(m), m, 0).astype(m.dtype)
    with onp.errstate(divide="ignore"):                 # log(0) = -inf is the right value
        out = log(sum(exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else squeeze(out, axis=axis)


def _astype(x, dtype):
    return onp.asarray(x).astype(dtype)


_astype_p = Primitive(_astype, "astype")
_astype_p.__doc__ = "d astype(x) = astype(dx); adjoint: g cast back to x's dtype"
_astype_p.defvjp(lambda g, ans, x, dtype: astype(g, onp.result_type(primal(x))))
_astype_p.defjvp(lambda t, ans, x, dtype: astype(t, dtype))


def astype(x, dtype):
    """x cast to ``dtype``; differentiable for a floating dtype, a constant for any other."""
    dtype = onp.dtype(dtype)
    if dtype.kind not in "fc":
        return onp.asarray(primal(x)).astype(dtype)
    if onp.result_type(primal(x)) == dtype:
        return x
    return _astype_p(x, dtype)


# NumPy functions that reach a tracer through NumPy's own dispatch (np.exp(x) with plain NumPy,
# or array + tracer) are sent to the traced versions.
TRACED.update({
    onp.amax: max, onp.amin: min, onp.reshape: reshape, onp.ravel: ravel, onp.transpose: transpose,
    onp.swapaxes: swapaxes, onp.moveaxis: moveaxis, onp.expand_dims: expand_dims,
    onp.squeeze: squeeze, onp.concatenate: concatenate, onp.stack: stack, onp.hstack: hstack,
    onp.vstack: vstack, onp.einsum: einsum, onp.zeros_like: zeros_like, onp.ones_like: ones_like,
    onp.broadcast_to: broadcast_to, onp.array: array, onp.asarray: array, onp.trace: trace,
})
TRACED.update({getattr(onp, name): globals()[name] for name in (
    "clip", "real", "conj", "conjugate", "real_if_close", "nan_to_num", "var", "std", "append",
    "array_split", "atleast_1d", "atleast_2d", "atleast_3d", "column_stack", "diagonal", "diff",
    "dsplit", "dstack", "flip", "fliplr", "flipud", "full", "gradient", "hsplit", "kron", "pad",
    "repeat", "roll", "rollaxis", "rot90", "split", "take", "take_along_axis", "tile", "vsplit")})

# Functions whose result is constant in x (shapes, comparisons, signs, rounding): evaluated on
# the primal value, with zero derivative.
CONSTANT = {
    onp.shape, onp.ndim, onp.size, onp.result_type, onp.sign, onp.floor, onp.ceil, onp.round,
    onp.rint, onp.trunc, onp.isfinite, onp.isnan, onp.isinf, onp.argmax, onp.argmin, onp.argsort,
    onp.allclose, onp.isclose, onp.array_equal, onp.any, onp.all, onp.nonzero, onp.count_nonzero,
    onp.equal, onp.not_equal, onp.less, onp.less_equal, onp.greater, onp.greater_equal,
    onp.logical_and, onp.logical_or, onp.logical_not, onp.heaviside, onp.empty_like, onp.iscomplexobj,
    onp.isscalar, onp.signbit, onp.around, onp.fix, onp.floor_divide, onp.logical_xor, onp.argpartition,
    onp.argwhere, onp.flatnonzero, onp.searchsorted, onp.digitize, onp.isneginf, onp.isposinf,
    onp.array_equiv, onp.iscomplex, onp.isreal, onp.angle, onp.imag,
}


def _no_rule(func):
    name = getattr(func, "__name__", repr(func))
    return TypeError(
        f"numpy.{name} has no derivative rule in autodiff_core, but it was called on a traced value. "
        f"Use a function of autodiff_core.numpy that has one, write it from those, or declare a "
        f"primitive with ad.primitive(...).defvjp(...).defjvp(...).")


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    out = kwargs.get("out")
    if out and any(o is not None for o in out):
        if any(o is i for o in out for i in inputs) and not isinstance(out[0], Tracer):
            raise TypeError(
                f"an in-place numpy.{ufunc.__name__} (such as y += x or y *= x) of a traced value "
                f"into the NumPy array y: NumPy would write into y, which the tape does not see, "
                f"and the derivative would be lost. Write y = y + x (a new traced array) instead.")
        if ufunc in TRACED:         # the primitive's keyword check refuses out= with a clear message
            return TRACED[ufunc](*inputs, **kwargs)
    if method == "__call__":
        if ufunc in TRACED:
            return TRACED[ufunc](*inputs, **kwargs)
        if ufunc in CONSTANT:
            return ufunc(*[primal(x) for x in inputs], **kwargs)
    if method != "__call__":
        raise TypeError(
            f"numpy.{ufunc.__name__}.{method} has no derivative rule in autodiff_core, but it met a "
            f"traced value. Write it with functions of autodiff_core.numpy (e.g. np.sum for "
            f"np.add.reduce; build a new array instead of np.add.at into a buffer).")
    raise _no_rule(ufunc)


def _array_function(self, func, types, args, kwargs):
    if func in TRACED:
        return TRACED[func](*args, **kwargs)
    if func in CONSTANT:
        return func(*[primal(a) for a in args], **kwargs)
    raise _no_rule(func)


def _compare(op):
    return lambda self, other: op(primal(self), primal(other))


def _item(self, index):
    if isinstance(primal(self), tuple):          # the result of svd or slogdet
        return _tuple_item(self, index)
    if isinstance(index, Tracer):
        raise TypeError("a traced value cannot be used as an index; use ad.primal(i) for a constant")
    return getitem(self, index)


def _iter(self):
    return (_item(self, i) for i in range(len(primal(self))))


def _tuple_getitem(t, i):
    return t[i]


def _tuple_vjp(g, ans, t, i):
    return tuple(g if j == i else None for j in range(len(primal(t))))


_tuple_item = Primitive(_tuple_getitem, "tuple_item")
_tuple_item.defvjp(_tuple_vjp)
_tuple_item.defjvp(lambda t, ans, tup, i: t[i])


def _reshape_method(self, *newshape, **kwargs):
    if len(newshape) == 1 and not isinstance(newshape[0], int):
        newshape = newshape[0]
    return reshape(self, kwargs.get("shape", newshape))


def _transpose_method(self, *axes):
    if len(axes) == 1 and not isinstance(axes[0], int):
        axes = axes[0]
    return transpose(self, tuple(axes) if axes else None)


_METHODS = {
    "__add__": lambda s, o: add(s, o), "__radd__": lambda s, o: add(o, s),
    "__sub__": lambda s, o: subtract(s, o), "__rsub__": lambda s, o: subtract(o, s),
    "__mul__": lambda s, o: multiply(s, o), "__rmul__": lambda s, o: multiply(o, s),
    "__truediv__": lambda s, o: divide(s, o), "__rtruediv__": lambda s, o: divide(o, s),
    "__pow__": lambda s, o: power(s, o), "__rpow__": lambda s, o: power(o, s),
    "__matmul__": lambda s, o: matmul(s, o), "__rmatmul__": lambda s, o: matmul(o, s),
    "__neg__": lambda s: negative(s), "__pos__": lambda s: s, "__abs__": lambda s: absolute(s),
    "__lt__": _compare(onp.less), "__le__": _compare(onp.less_equal),
    "__gt__": _compare(onp.greater), "__ge__": _compare(onp.greater_equal),
    "__eq__": _compare(onp.equal), "__ne__": _compare(onp.not_equal),
    "__getitem__": _item, "__iter__": _iter,
    "__array_ufunc__": _array_ufunc, "__array_function__": _array_function,
    "T": property(lambda s: transpose(s)),
    "reshape": _reshape_method, "transpose": _transpose_method,
    "ravel": lambda s: ravel(s), "flatten": lambda s: ravel(s),
    "squeeze": lambda s, axis=None: squeeze(s, axis),
    "sum": lambda s, axis=None, keepdims=False: sum(s, axis=axis, keepdims=keepdims),
    "mean": lambda s, axis=None, keepdims=False: mean(s, axis=axis, keepdims=keepdims),
    "max": lambda s, axis=None, keepdims=False: max(s, axis=axis, keepdims=keepdims),
    "min": lambda s, axis=None, keepdims=False: min(s, axis=axis, keepdims=keepdims),
    "dot": lambda s, o: dot(s, o),
    "trace": lambda s: trace(s),
    "astype": lambda s, dtype, **kwargs: astype(s, dtype),
    "swapaxes": lambda s, a, b: swapaxes(s, a, b),
    "__mod__": lambda s, o: remainder(s, o), "__rmod__": lambda s, o: remainder(o, s),
    "__floordiv__": lambda s, o: onp.floor_divide(primal(s), primal(o)),
    "__rfloordiv__": lambda s, o: onp.floor_divide(primal(o), primal(s)),
    "prod": lambda s, axis=None, keepdims=False: prod(s, axis=axis, keepdims=keepdims),
    "var": lambda s, axis=None, ddof=0, keepdims=False: var(s, axis=axis, ddof=ddof, keepdims=keepdims),
    "std": lambda s, axis=None, ddof=0, keepdims=False: std(s, axis=axis, ddof=ddof, keepdims=keepdims),
    "cumsum": lambda s, axis=None: cumsum(s, axis),
    "clip": lambda s, a_min=None, a_max=None: clip(s, a_min, a_max),
    "repeat": lambda s, repeats, axis=None: repeat(s, repeats, axis),
    "diagonal": lambda s, offset=0, axis1=0, axis2=1: diagonal(s, offset, axis1, axis2),
    "round": lambda s, decimals=0: onp.round(primal(s), decimals),
    "argmax": lambda s, axis=None: onp.argmax(primal(s), axis), "argmin": lambda s, axis=None: onp.argmin(primal(s), axis),
    "argsort": lambda s, axis=-1: onp.argsort(primal(s), axis), "conj": lambda s: s,
}
for _name, _method in _METHODS.items():
    setattr(Tracer, _name, _method)


def __getattr__(name):
    """Names without derivative rules are NumPy's own (constants, array creation, random, ...)."""
    return getattr(onp, name)
