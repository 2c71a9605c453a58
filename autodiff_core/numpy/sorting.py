"""Sorting and selection: sort, partition, and selections by argsort / argmax (gathers).

Each is a gather x[idx] with idx computed from the values (a constant: the permutation does not
change under small perturbations), so the derivative moves tangents the same way and the VJP
scatters cotangents back. At ties the permutation is that of a stable sort (NumPy's
``kind='stable'``): a tied entry's cotangent goes to the entry the stable order put there.
Sort is continuous but not differentiable at ties; this choice is one of its one-sided derivatives.
"""
from __future__ import annotations

import numpy as onp

from ..tracer import primal
from ._wrap import TRACED
from .shape_ops import ravel, take_along_axis


def sort(x, axis=-1, kind=None, order=None):
    """np.sort: x gathered by its stable argsort along ``axis`` (None: flattened)."""
    if axis is None:
        x, axis = ravel(x), 0
    return take_along_axis(x, onp.argsort(primal(x), axis=axis, kind="stable"), axis)


def msort(x):
    return sort(x, axis=0)


def partition(x, kth, axis=-1, kind="introselect", order=None):
    """np.partition: x gathered by np.argpartition, so the value is a valid partition (the order
    within each side is argpartition's) and its derivative is that gather's."""
    if axis is None:
        x, axis = ravel(x), 0
    return take_along_axis(x, onp.argpartition(primal(x), kth, axis=axis), axis)


TRACED.update({onp.sort: sort, onp.partition: partition})
