"""Helpers shared by the rule files: making primitives, shapes, undoing broadcasting."""
from __future__ import annotations

import numpy as onp

from ..tracer import Primitive
from ..tracer import shape_of as shape

#: NumPy function or ufunc -> its traced primitive; used when NumPy itself meets a tracer.
TRACED = {}


def primitive(npfun, doc, name=None):
    """A primitive evaluating ``npfun``, known to NumPy's dispatch; ``doc`` states its derivative.

    On traced values it refuses NumPy's keywords that its rules do not differentiate
    (``refuse_numpy_keywords``).
    """
    prim = Primitive(npfun, name)
    prim.__doc__ = doc
    prim.check_kwargs = refuse_numpy_keywords
    TRACED[npfun] = prim
    return prim


_KEEP = object()

#: NumPy keywords that change where or how a result is computed, which no rule differentiates:
#: keyword -> (the values that change nothing, what to write instead).
NUMPY_KEYWORDS = {
    "out": ((None,), "write a new array, y = np.{name}(...), instead of writing into a buffer "
                     "that the tape does not see (JAX refuses out= too)"),
    "where": ((True,), "compute everywhere and select: np.where(mask, np.{name}(...), other)"),
    "dtype": ((None,), "cast the input first: np.{name}(x.astype(np.float32))"),
    "casting": (("same_kind",), "drop casting=; cast explicitly with .astype if needed"),
    "order": ((None, "K", "C"), "drop order=; the traced operations use C order"),
    "subok": ((True,), "drop subok="),
    "signature": ((None,), "drop signature="),
    "initial": ((_KEEP,), "combine afterwards, e.g. np.maximum(np.{name}(x), initial)"),
}


def refuse_numpy_keywords(prim, kwargs):
    """``kwargs`` without harmless NumPy keywords; TypeError for one that would bypass the rules.

    ``np.add(x, 1.0, out=buf)`` on a traced x would write into ``buf`` behind the tape's back and
    give a wrong gradient, so such keywords (``NUMPY_KEYWORDS``) are refused unless their value
    changes nothing (``out=None``, ``where=True``, ...). Other keywords (axis, keepdims, ...)
    belong to the primitive and its rules.
    """
    kept = {}
    for key, value in kwargs.items():
        spec = NUMPY_KEYWORDS.get(key)
        if spec is None:
            kept[key] = value
            continue
        if _harmless(value, spec[0]):
            continue
        raise TypeError(
            f"numpy keyword {key}= is not differentiable in '{prim.name}' on a traced value: "
            f"its derivative rules ignore it, so the gradient would be wrong. Instead, "
            + spec[1].format(name=prim.name) + ".")
    return kept


def _harmless(value, defaults):
    if isinstance(value, tuple) and all(v is None for v in value):     # out=(None,) from ufuncs
        return True
    return any(value is d or (isinstance(d, str) and value == d) for d in defaults)



def ndim(x):
    return len(shape(x))


def unbroadcast(g, target_shape):
    """Sum ``g`` over the axes that broadcasting added or stretched, so it has ``target_shape``.

    The adjoint of broadcasting is summation: if x of shape (3, 1) is broadcast to (2, 3, 4),
    its cotangent is the sum of g over axis 0 and axis 2 (keeping the latter).
    """
    gshape = shape(g)
    if gshape == tuple(target_shape):
        return g
    from . import reshape, sum as tsum
    lead = len(gshape) - len(target_shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(target_shape) if d == 1 and gshape[lead + i] != 1)
    if axes:
        g = tsum(g, axis=axes)
    return reshape(g, target_shape)
