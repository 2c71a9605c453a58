"""Controlling differentiation from inside a function: ``stop_gradient``."""
from __future__ import annotations

from .tracer import primal
from .tree import tree_map


def stop_gradient(x):
    """``x`` as a constant: its value, with every derivative through it taken as zero (JAX's name).

    Works on arrays, scalars and nested lists / tuples / dicts of them (same structure back). Under
    nested transforms it cuts every level, as ``jax.lax.stop_gradient`` does. Typical uses: a
    target held fixed (``(y - stop_gradient(f(x)))**2``), the straight-through estimator
    ``x + stop_gradient(round(x) - x)``.
    """
    return tree_map(primal, x)
