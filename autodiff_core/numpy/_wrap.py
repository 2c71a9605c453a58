"""Helpers shared by the rule files: making primitives, shapes, undoing broadcasting."""
from __future__ import annotations

import numpy as onp

from ..tracer import Primitive
from ..tracer import shape_of as shape

#: NumPy function or ufunc -> its traced primitive; used when NumPy itself meets a tracer.
TRACED = {}


def primitive(npfun, doc, name=None):
    """A primitive evaluating ``npfun``, known to NumPy's dispatch; ``doc`` states its derivative."""
    prim = Primitive(npfun, name)
    prim.__doc__ = doc
    TRACED[npfun] = prim
    return prim




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
