"""The basic transforms: vjp, grad, value_and_grad (reverse mode) and jvp (forward mode)."""
from __future__ import annotations

import functools

import numpy as onp

from . import tree
from .forward import ForwardTrace, tangent_of
from .reverse import ReverseTrace, backward, toposort
from .tracer import Tracer, primal, shape_of


def _check_float(x, what):
    x = primal(x)
    if isinstance(x, float):
        return
    dtype = x.dtype if isinstance(x, onp.ndarray) else onp.result_type(x)
    if dtype.kind not in "fc":
        raise TypeError(
            f"{what} has dtype {dtype}: derivatives need floating-point inputs. Pass floats, "
            f"e.g. 3.0 instead of 3, or x.astype(float).")


def _numpy_scalar(x):
    """Python floats become NumPy floats, so that 1 / 0.0 gives inf (as NumPy does), not an error."""
    return onp.float64(x) if type(x) is float else x


def _zeros(x):
    return onp.zeros(onp.shape(primal(x)), dtype=onp.result_type(primal(x), float))


class _Recording:
    """f evaluated once on reverse-trace inputs: the graph that both sweeps run over."""

    def __init__(self, f, primals, what):
        if any(isinstance(p, (list, tuple, dict)) for p in primals):
            self.leaves, self.rebuild = tree.flatten(list(primals))
        else:
            self.leaves, self.rebuild = list(primals), list
        for i, leaf in enumerate(self.leaves):
            _check_float(leaf, f"input {i} of {what}")
        self.leaves = [_numpy_scalar(x) for x in self.leaves]
        trace = ReverseTrace()
        self.inputs = [trace.input(leaf) for leaf in self.leaves]
        out = f(*self.rebuild(self.inputs))
        self.is_ours = isinstance(out, Tracer) and out.trace is trace
        self.out = out.node if self.is_ours else None
        self.out_value = out.value if self.is_ours else out
        self.inputs = [x.node for x in self.inputs]
        self._order = None

    def order(self):
        """The recorded nodes, output first (computed once)."""
        if self._order is None:
            self._order = toposort(self.out) if self.is_ours else []
        return self._order

    def vjp_fn(self, cotangent):
        if onp.shape(primal(cotangent)) != onp.shape(primal(self.out_value)):
            raise ValueError(f"cotangent has shape {onp.shape(primal(cotangent))}, but the output "
                             f"has shape {onp.shape(primal(self.out_value))}")
        return self.backward(cotangent)

    def backward(self, cotangent):
        """vjp_fn without the check of the cotangent's shape."""
        adjoints = backward(self.out, cotangent, self.order()) if self.is_ours else {}
        grads = [adjoints.get(id(x)) for x in self.inputs]
        grads = [_zeros(leaf) if g is None else g for g, leaf in zip(grads, self.leaves)]
        return tuple(self.rebuild(grads))

    def jvp_fn(self, *tangents):
        tleaves, _ = tree.flatten(list(tangents))
        tangent = {id(x): t for x, t in zip(self.inputs, tleaves)}
        for node in reversed(self.order()):
            if node.prim is not None:
                tangent[id(node)] = tangent_of(node, [tangent.get(id(p)) for p in node.parents])
        t = tangent.get(id(self.out)) if self.is_ours else None
        return _zeros(self.out_value) if t is None else t


def vjp(f, *primals):
    """Evaluate ``f(*primals)`` and return ``(out, vjp_fn)``.

    ``vjp_fn(u)`` returns the tuple ``(u^T df/dx_1, ..., u^T df/dx_k)``: one reverse sweep for all
    inputs. Inputs may be arrays, floats, or nested lists / tuples / dicts of them.
    """
    rec = _Recording(f, primals, "vjp")
    return rec.out_value, rec.vjp_fn


def linearize(f, *primals):
    """Evaluate ``f(*primals)`` once and return ``(out, jvp_fn)``; ``jvp_fn(*tangents)`` = J v.

    The graph is recorded on the way (as for vjp), and each call of ``jvp_fn`` pushes tangents
    forward through it with the JVP rules, without evaluating f again: forward-mode accumulation
    for many tangents at one point (what jacfwd needs).
    """
    rec = _Recording(f, primals, "linearize")
    return rec.out_value, rec.jvp_fn


def _argnums_tuple(argnums):
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def _partial(f, args, argnums, kwargs=None):
    """f as a function of the arguments ``argnums`` only, the others held fixed."""
    def g(*chosen):
        full = list(args)
        for i, x in zip(argnums, chosen):
            full[i] = x
        return f(*full, **(kwargs or {}))
    return g


def value_and_grad(f, argnums=0):
    """``f`` -> a function returning ``(f(*args), gradient)``; gradient is a tuple if argnums is."""
    many = not isinstance(argnums, int)
    nums = _argnums_tuple(argnums)

    @functools.wraps(f)
    def value_and_grad_f(*args):
        if max(nums) >= len(args):
            raise ValueError(f"argnums={argnums} but the function got {len(args)} arguments")
        rec = _Recording(_partial(f, args, nums), [args[i] for i in nums], "grad")
        out = rec.out_value
        if shape_of(primal(out)) != ():
            raise TypeError(
                f"grad requires a function with a scalar output, got shape {onp.shape(primal(out))}. "
                "For a non-scalar output use ad.jacobian (the whole Jacobian) or ad.vjp "
                "(a vector-Jacobian product).")
        grads = rec.backward(onp.float64(1.0))
        return out, grads if many else grads[0]

    return value_and_grad_f


def grad(f, argnums=0):
    """``f`` -> its gradient function (reverse mode); ``f`` must return a scalar.

    Example: ``grad(lambda x: np.sum(x ** 2))(x) == 2 * x``.
    """
    vg = value_and_grad(f, argnums)

    @functools.wraps(f)
    def grad_f(*args):
        return vg(*args)[1]

    return grad_f


def jvp(f, primals, tangents):
    """Evaluate ``f(*primals)`` and its directional derivative: returns ``(out, J @ tangents)``.

    One forward sweep; ``primals`` and ``tangents`` are tuples (or lists) of the same structure.
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp(f, primals, tangents) takes primals and tangents as tuples, "
                        "e.g. jvp(f, (x,), (v,))")
    leaves, rebuild = tree.flatten(list(primals))
    tleaves, _ = tree.flatten(list(tangents))
    if len(leaves) != len(tleaves):
        raise ValueError(f"jvp got {len(leaves)} primal arrays but {len(tleaves)} tangent arrays")
    trace = ForwardTrace()
    inputs = []
    for i, (x, t) in enumerate(zip(leaves, tleaves)):
        _check_float(x, f"primal {i} of jvp")
        if onp.shape(primal(x)) != onp.shape(primal(t)):
            raise ValueError(f"tangent {i} has shape {onp.shape(primal(t))}, but its primal has "
                             f"shape {onp.shape(primal(x))}")
        inputs.append(trace.input(_numpy_scalar(x), _numpy_scalar(t)))
    out = f(*rebuild(inputs))
    if isinstance(out, Tracer) and out.trace is trace:
        return out.value, out.tangent
    return out, _zeros(out)

