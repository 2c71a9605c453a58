"""Checkpointing: trade recomputation for memory in reverse mode.

``checkpoint(f)`` makes f one node of the graph: its forward pass keeps only f's inputs and
output, and the backward pass runs f forward again (traced) to get the VJP. Checkpointing every
~sqrt(N) layers of an N-layer chain keeps ~2 sqrt(N) activations instead of N, for one extra
forward pass.
"""
from __future__ import annotations

import functools
import math

import numpy as onp

from . import tree
from .tracer import Primitive, Tracer, primal
from .transforms import _partial, jvp, vjp


class Checkpointed(Primitive):
    """A function treated as a primitive: its VJP and JVP re-run it under the transforms.

    Everything f depends on that is being differentiated must come in as an argument: a traced
    value captured by closure would be invisible to the recomputation, so it raises.
    Arguments and results may be pytrees: the primitive sees their leaves (``_flat``), and a
    result of several leaves is a tuple, taken apart again by ``__call__``.
    """

    def __init__(self, fun, name=None):
        super().__init__(self._flat, name or getattr(fun, "__name__", None))
        self.f = fun
        self.evaluate = self._evaluate
        self._out_rebuild = None

    def _flat(self, *leaves, _in=None, **kwargs):
        out = self.f(*(leaves if _in is None else _in(leaves)), **kwargs)
        if isinstance(out, (list, tuple, dict)):
            out_leaves, self._out_rebuild = tree.flatten(out)
            return tuple(out_leaves)
        self._out_rebuild = None
        return out

    def _evaluate(self, *args, **kwargs):
        out = self.fun(*args, **kwargs)
        if any(isinstance(o, Tracer) for o in (out if isinstance(out, tuple) else (out,))):
            raise ValueError(
                f"{self.name} uses a traced value that is not one of its arguments (a variable "
                "being differentiated, captured by closure), so recomputing it in the backward "
                "pass could not give that variable's gradient. Pass such values as arguments: "
                "ad.checkpoint(lambda h, W: np.tanh(h @ W))(h, W).")
        return out

    def __call__(self, *args, **kwargs):
        if any(isinstance(a, (list, tuple, dict)) for a in args):
            leaves, rebuild = tree.flatten(list(args))
            out = super().__call__(*leaves, _in=rebuild, **kwargs)
        else:
            out = super().__call__(*args, **kwargs)
        rebuild_out = self._out_rebuild
        if rebuild_out is None:
            return out
        return rebuild_out([out[i] for i in range(len(primal(out)))])

    def vjp_all(self, argnums, g, ans, args, kwargs):
        if isinstance(ans, tuple):          # several outputs: None (no cotangent) means zero
            g = tuple(onp.zeros_like(a) if c is None else c for c, a in zip(g, ans))
        _, vjp_fn = vjp(_partial(self.fun, args, argnums, kwargs), *[args[i] for i in argnums])
        return list(vjp_fn(g))

    def jvp_all(self, argnums, tangents, ans, args, kwargs):
        return jvp(_partial(self.fun, args, argnums, kwargs), [args[i] for i in argnums], tangents)[1]


def checkpoint(f):
    """f, but reverse mode stores only its inputs and recomputes its inside during the backward pass.

    Arguments and results may be arrays or pytrees of them (nested lists, tuples, dicts).
    """
    wrapped = Checkpointed(f, name=f"checkpoint({getattr(f, '__name__', 'f')})")
    functools.update_wrapper(wrapped, f, updated=())
    return wrapped


def _compose(layers):
    def composed(x):
        for layer in layers:
            x = layer(x)
        return x
    return composed


def checkpoint_sequential(layers, segments=None):
    """Compose ``layers`` (one-argument functions), checkpointing runs of them.

    Layers must not close over values being differentiated (e.g. trainable weights); for those,
    write the runs as ``ad.checkpoint(run)(h, *weights)``.

    The N layers are cut into ``segments`` runs (default round(sqrt(N))); every run but the last
    is checkpointed (the last is used by the backward pass right away, so storing it costs nothing
    extra). Peak memory of a backward pass: about N / segments + segments activations.
    """
    layers = list(layers)
    if not layers:
        raise ValueError("checkpoint_sequential needs at least one layer")
    segments = segments or max(1, round(math.sqrt(len(layers))))
    size = math.ceil(len(layers) / segments)
    runs = [layers[i:i + size] for i in range(0, len(layers), size)]
    stages = [checkpoint(_compose(run)) for run in runs[:-1]] + [_compose(runs[-1])]
    return _compose(stages)
