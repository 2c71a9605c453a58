"""The basic transforms: vjp, grad, value_and_grad (reverse mode) and jvp (forward mode)."""
from __future__ import annotations

import functools

import numpy as onp

from . import tree
from .forward import ForwardTrace, tangent_of
from .reverse import ReverseTrace, backward, toposort
from .tracer import Tracer, escaped, primal, shape_of


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


def _float_dtype(x):
    """x's dtype if it is floating (float32 stays float32, as in JAX), else float64."""
    dtype = onp.result_type(primal(x))
    return dtype if dtype.kind in "fc" else onp.dtype(float)


def _zeros(x):
    return onp.zeros(onp.shape(primal(x)), dtype=_float_dtype(x))


def _like(t, x):
    """Tangent or cotangent ``t`` in x's floating dtype (float32 stays float32, as in JAX, even
    where a rule computed in float64)."""
    have = getattr(x, "dtype", None)
    if have is not None and have.kind in "fc" and getattr(t, "dtype", None) == have:
        return t
    want = _float_dtype(x)
    if getattr(t, "dtype", None) == want:
        return t
    from .numpy import astype
    return astype(t, want)


def _flatten_out(out):
    """Output leaves and a rebuild function; a single array is its own leaf (the fast path)."""
    if isinstance(out, (list, tuple, dict)):
        return tree.flatten(out)
    return [out], None


def _own(leaf, trace):
    """``leaf`` if it is a tracer of ``trace``, None if it is a constant for this transform;
    a tracer of a finished transform raises."""
    if isinstance(leaf, Tracer):
        if leaf._trace is trace:
            return leaf
        if leaf._trace.finished:
            raise escaped(leaf, f"the output of {trace.transform}")
    return None


def _strip(tree_, trace):
    """``tree_`` with the tracers of ``trace`` replaced by their values (aux outputs)."""
    return tree.tree_map(lambda a: a.value if isinstance(a, Tracer) and a._trace is trace else a, tree_)


def _split_aux(out, what):
    if isinstance(out, (tuple, list)) and len(out) == 2:
        return out
    got = f"a {type(out).__name__} of length {len(out)}" if isinstance(out, (tuple, list)) else "one value"
    raise TypeError(f"{what} with has_aux=True needs f to return a pair (output, aux), got {got}")


class _Recording:
    """f evaluated once on reverse-trace inputs: the graph that both sweeps run over.

    Inputs and outputs may be pytrees; ``leaves`` / ``rebuild`` are the input leaves and the list
    of primals rebuilt from leaves, ``out_values`` / ``out_rebuild`` the same for the output.
    """

    def __init__(self, f, primals, what, has_aux=False):
        if any(isinstance(p, (list, tuple, dict)) for p in primals):
            self.leaves, self.rebuild = tree.flatten(list(primals))
        else:
            self.leaves, self.rebuild = list(primals), list
        for i, leaf in enumerate(self.leaves):
            _check_float(leaf, f"input {i} of {what}")
        self.leaves = [_numpy_scalar(x) for x in self.leaves]
        trace = ReverseTrace(transform=what)
        inputs = [trace.input(leaf) for leaf in self.leaves]
        try:
            out = f(*self.rebuild(inputs))
        finally:
            trace.finished = True
        self.aux = None
        if has_aux:
            out, aux = _split_aux(out, what)
            self.aux = _strip(aux, trace)
        self.out_tree = out
        leaves, self.out_rebuild = _flatten_out(out)
        self.out_nodes, self.out_values, self.roots = [], [], []
        for y in leaves:
            o = _own(y, trace)
            self.out_nodes.append(None if o is None else o.node)
            self.out_values.append(y if o is None else o.value)
            if o is not None:
                self.roots.append(o.node)
        self.out_value = (self.out_values[0] if self.out_rebuild is None
                          else self.out_rebuild(self.out_values))
        self.inputs = [x.node for x in inputs]
        self._order = None

    def order(self):
        """The recorded nodes, outputs first (computed once)."""
        if self._order is None:
            self._order = toposort(self.roots) if self.roots else []
        return self._order

    def vjp_fn(self, cotangent):
        if self.out_rebuild is None:
            cts = [cotangent]
        else:
            cts, _ = tree.flatten(cotangent)
            if len(cts) != len(self.out_values):
                raise ValueError(f"the cotangent has {len(cts)} arrays, but the output has "
                                 f"{len(self.out_values)}: give one per output array, in the "
                                 f"output's structure")
        for ct, y in zip(cts, self.out_values):
            if onp.shape(primal(ct)) != onp.shape(primal(y)):
                raise ValueError(f"cotangent has shape {onp.shape(primal(ct))}, but the output "
                                 f"has shape {onp.shape(primal(y))}")
        return tuple(self.rebuild(self.pull(cts)))

    def backward(self, cotangent):
        """vjp_fn of a single-array output, without the check of the cotangent's shape."""
        return tuple(self.rebuild(self.pull([cotangent])))

    def pull(self, cts):
        """Input leaves' cotangents for the output leaves' cotangents ``cts`` (None = zero)."""
        roots, given = [], []
        for n, c in zip(self.out_nodes, cts):
            if n is not None and c is not None:
                roots.append(n)
                given.append(c)
        adjoints = backward(roots, given, self.order()) if roots else {}
        grads = []
        for x, leaf in zip(self.inputs, self.leaves):
            g = adjoints.get(id(x))
            grads.append(_zeros(leaf) if g is None else _like(g, leaf))
        return grads

    def push(self, tleaves):
        """Output leaves' tangents for the input leaves' tangents ``tleaves`` (None = zero)."""
        tangent = {id(x): t for x, t in zip(self.inputs, tleaves) if t is not None}
        for node in reversed(self.order()):
            if node.prim is not None:
                tangent[id(node)] = tangent_of(node, [tangent.get(id(p)) for p in node.parents])
        out = [None if n is None else tangent.get(id(n)) for n in self.out_nodes]
        return [_zeros(y) if t is None else _like(t, y) for t, y in zip(out, self.out_values)]

    def jvp_fn(self, *tangents):
        tleaves, _ = tree.flatten(list(tangents))
        if len(tleaves) != len(self.leaves):
            raise ValueError(f"jvp_fn got {len(tleaves)} tangent arrays for {len(self.leaves)} "
                             f"primal arrays")
        out = self.push(tleaves)
        return out[0] if self.out_rebuild is None else self.out_rebuild(out)


def vjp(f, *primals, has_aux=False):
    """Evaluate ``f(*primals)`` and return ``(out, vjp_fn)`` (``(out, vjp_fn, aux)`` with has_aux).

    ``vjp_fn(u)`` returns the tuple ``(u^T df/dx_1, ..., u^T df/dx_k)``: one reverse sweep for all
    inputs. Inputs and outputs may be arrays, floats, or nested lists / tuples / dicts of them
    (pytrees); ``u`` has the output's structure, each cotangent its primal's (as in JAX).
    """
    rec = _Recording(f, primals, "ad.vjp", has_aux)
    return (rec.out_value, rec.vjp_fn) + ((rec.aux,) if has_aux else ())


def linearize(f, *primals):
    """Evaluate ``f(*primals)`` once and return ``(out, jvp_fn)``; ``jvp_fn(*tangents)`` = J v.

    The graph is recorded on the way (as for vjp), and each call of ``jvp_fn`` pushes tangents
    forward through it with the JVP rules, without evaluating f again: forward-mode accumulation
    for many tangents at one point (what jacfwd needs). Pytrees in and out, as for vjp.
    """
    rec = _Recording(f, primals, "ad.linearize")
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


_ONE = onp.float64(1.0)


def _scalar_output_error(out):
    if isinstance(out, (list, tuple, dict)):
        got = f"a {type(out).__name__}" + (f" of {len(out)} values" if len(out) != 1 else " of one value")
    else:
        got = f"shape {onp.shape(primal(out))}"
    return TypeError(
        f"grad requires a function with a scalar output, got {got}. For a non-scalar output use "
        "ad.jacobian (the whole Jacobian) or ad.vjp (a vector-Jacobian product); to return extra "
        "values with the loss, return (loss, extra) and pass has_aux=True.")


def value_and_grad(f, argnums=0, has_aux=False):
    """``f`` -> a function returning ``(f(*args), gradient)``; gradient is a tuple if argnums is.

    ``f`` must return a scalar (an array of shape ()); with ``has_aux=True`` it returns a pair
    ``(scalar, aux)`` and the result is ``((value, aux), gradient)``, aux holding plain values
    (JAX's convention). Each gradient has its argument's structure and floating dtype.
    Raises TypeError for a non-scalar output (a dict, tuple or list included).
    """
    many = not isinstance(argnums, int)
    nums = _argnums_tuple(argnums)

    @functools.wraps(f)
    def value_and_grad_f(*args):
        if max(nums) >= len(args):
            raise ValueError(f"argnums={argnums} but the function got {len(args)} arguments")
        rec = _Recording(_partial(f, args, nums), [args[i] for i in nums], "ad.grad", has_aux)
        out = rec.out_value
        if rec.out_rebuild is not None or shape_of(primal(out)) != ():
            raise _scalar_output_error(rec.out_tree)
        seed = _ONE if getattr(out, "dtype", None) == _ONE.dtype else onp.ones((), _float_dtype(out))
        grads = rec.backward(seed)
        value = (out, rec.aux) if has_aux else out
        return value, grads if many else grads[0]

    return value_and_grad_f


def grad(f, argnums=0, has_aux=False):
    """``f`` -> its gradient function (reverse mode); ``f`` must return a scalar.

    Example: ``grad(lambda x: np.sum(x ** 2))(x) == 2 * x``. With ``has_aux=True``, f returns
    ``(loss, aux)`` and the result is ``(gradient, aux)``.
    """
    vg = value_and_grad(f, argnums, has_aux)

    @functools.wraps(f)
    def grad_f(*args):
        value, g = vg(*args)
        return (g, value[1]) if has_aux else g

    return grad_f


def jvp(f, primals, tangents):
    """Evaluate ``f(*primals)`` and its directional derivative: returns ``(out, J @ tangents)``.

    One forward sweep; ``primals`` and ``tangents`` are tuples (or lists) of the same structure,
    whose entries may be pytrees; the tangent has the output's structure and dtypes.
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp(f, primals, tangents) takes primals and tangents as tuples, "
                        "e.g. jvp(f, (x,), (v,))")
    leaves, rebuild = tree.flatten(list(primals))
    tleaves, _ = tree.flatten(list(tangents))
    if len(leaves) != len(tleaves):
        raise ValueError(f"jvp got {len(leaves)} primal arrays but {len(tleaves)} tangent arrays")
    trace = ForwardTrace(transform="ad.jvp")
    inputs = []
    for i, (x, t) in enumerate(zip(leaves, tleaves)):
        _check_float(x, f"primal {i} of jvp")
        if onp.shape(primal(x)) != onp.shape(primal(t)):
            raise ValueError(f"tangent {i} has shape {onp.shape(primal(t))}, but its primal has "
                             f"shape {onp.shape(primal(x))}")
        inputs.append(trace.input(_numpy_scalar(x), _numpy_scalar(t)))
    try:
        out = f(*rebuild(inputs))
    finally:
        trace.finished = True
    leaves, out_rebuild = _flatten_out(out)
    owned = [_own(y, trace) for y in leaves]
    values = [y if o is None else o.value for y, o in zip(leaves, owned)]
    tangents = [_zeros(y) if o is None else _like(o.tangent, y) for y, o in zip(values, owned)]
    if out_rebuild is None:
        return values[0], tangents[0]
    return out_rebuild(values), out_rebuild(tangents)
