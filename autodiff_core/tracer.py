"""The tracing machinery: traces, traced values and primitives.

Every call of a transform (``vjp`` or ``jvp``) opens a *trace* with a level higher than every
trace opened before it. Its inputs are wrapped in *tracers* of that trace. A *primitive* called
on tracers unwraps the tracers of the highest level among its arguments, evaluates itself on
what is underneath (which may be tracers of lower levels: this is how derivatives nest), and
hands the result to that trace, which wraps it again:

* a reverse trace records a graph node (the primitive, its arguments, its result);
* a forward trace pushes the tangents of the arguments through the primitive's JVP rules.

Derivative rules live with the primitives in :mod:`autodiff_core.numpy`, not here.
"""
from __future__ import annotations

import contextlib
import dis
import functools
import itertools
import sys

import numpy as onp

_levels = itertools.count()


class UnexpectedTracerError(Exception):
    """A traced value of a transform that has finished was used (JAX's name for the same error)."""


class Trace:
    """One transform in progress. Traces opened later have higher levels and are unwrapped first.

    ``transform`` names it in error messages; the transform sets ``finished`` when it returns, so
    that a traced value that escaped it (stored in a list, a dict, an attribute) raises
    :class:`UnexpectedTracerError` when it is used later instead of acting as a live value.
    """

    __slots__ = ("level", "transform", "finished")

    def __init__(self, transform="a transform"):
        self.level = next(_levels)
        self.transform = transform
        self.finished = False

    def process(self, prim, ans, args, values, argnums, kwargs):
        raise NotImplementedError


class Tracer:
    """A value being traced by one trace.

    ``x.primal`` (or ``ad.primal(x)``) is the plain NumPy value underneath every level of tracing.
    Comparisons and ``bool()`` act on that value, so Python control flow works: the trace is the
    path the program took.
    """

    __slots__ = ("value", "_trace")
    # NumPy defers to these methods instead of converting the tracer into an array.
    __array_priority__ = 1000

    @property
    def primal(self):
        return primal(self)

    @property
    def shape(self):
        return shape_of(primal(self))

    @property
    def ndim(self):
        return onp.ndim(primal(self))

    @property
    def size(self):
        return onp.size(primal(self))

    @property
    def dtype(self):
        return onp.result_type(primal(self))

    def __len__(self):
        return len(primal(self))

    def __bool__(self):
        return bool(primal(self))

    def __float__(self):
        if _all_finished(self):         # an escaped value read as a number: nothing to lose
            return float(primal(self))
        message = (
            "cannot convert a traced value to a Python float: its derivative would be lost. "
            "Read the value on purpose with ad.primal(x) (or x.primal). To put traced values "
            "into an array, do not write them into a NumPy buffer (B[i] = x): collect them in a "
            "list and use np.stack(values) or np.array(values) from autodiff_core.numpy.")
        if _called_by_store_subscript():
            raise ValueError(message)   # NumPy would swallow a TypeError and blame "a sequence"
        raise TypeError(message)

    def __int__(self):
        return int(self.__float__())

    def __complex__(self):
        return complex(self.__float__())

    def __index__(self):
        if _all_finished(self):
            return primal(self).__index__()
        return self.__float__()

    def __array__(self, dtype=None, copy=None):
        if _all_finished(self):
            return onp.asarray(primal(self), dtype=dtype)
        raise TypeError(
            "cannot convert a traced value to a NumPy array: its derivative would be lost. "
            "Use the functions of autodiff_core.numpy (import autodiff_core.numpy as np), or read "
            "the value on purpose with ad.primal(x). (Writing it into a NumPy array, "
            "B[i] = x, is such a conversion: collect the values in a list and use "
            "np.stack(values) or np.array(values) from autodiff_core.numpy.)")

    def __setitem__(self, index, value):
        raise TypeError(
            "in-place assignment into a traced array (x[i] = v) is not supported: reverse mode "
            "needs every intermediate value unchanged. Build a new array instead, e.g. with "
            "np.where(mask, v, x), np.concatenate or np.stack.")

    def __hash__(self):
        return id(self)

    def __repr__(self):
        state = ", finished" if self._trace.finished else ""
        return f"{type(self).__name__}({primal(self)!r}, level={self._trace.level}{state})"


def _called_by_store_subscript():
    """True if the Python code that made NumPy call us is an item assignment, B[i] = x."""
    frame = sys._getframe(2)
    return frame.f_code.co_code[frame.f_lasti] == _STORE_SUBSCR


_STORE_SUBSCR = dis.opmap["STORE_SUBSCR"]


def _all_finished(x):
    """True if no level of tracing under ``x`` is still in progress."""
    while isinstance(x, Tracer):
        if not x._trace.finished:
            return False
        x = x.value
    return True


def escaped(x, where):
    """The error for a traced value ``x`` of a finished transform, met at ``where``."""
    trace = x._trace
    p = primal(x)
    what = f"{onp.result_type(p)}{list(shape_of(p))}"
    return UnexpectedTracerError(
        f"a traced value ({what}) of {trace.transform}, which has finished, reached {where}. "
        f"It escaped the function being differentiated: it was stored outside it (e.g. "
        f"stash.append(x), a running mean kept in a dict, an attribute, a closure variable) and "
        f"used after {trace.transform} returned, where it has no derivative to give. Store the "
        f"plain value instead, stash.append(ad.primal(x)) (or ad.stop_gradient(x)); to take a "
        f"value out of grad or value_and_grad, return it with has_aux=True.")


def primal(x):
    """The plain NumPy value of ``x`` under every level of tracing (``x`` itself if not traced)."""
    while isinstance(x, Tracer):
        x = x.value
    return x


def shape_of(x):
    """The shape of an array, scalar or traced value."""
    try:
        return x.shape
    except AttributeError:
        return onp.shape(x)


class Primitive:
    """A function with derivative rules: the unit the tracers see.

    Rules are given per positional argument, with the signatures::

        vjp(g, ans, *args, **kwargs)  -> cotangent for that argument   (g: cotangent of ans)
        jvp(t, ans, *args, **kwargs)  -> tangent of ans caused by t     (t: tangent of that argument)

    Rules are written with :mod:`autodiff_core.numpy` functions, so they are traced in turn and
    derivatives of any order work.
    """

    def __init__(self, fun, name=None):
        self.fun = fun
        self.evaluate = fun             # what runs on plain values (a subclass may check more)
        self.name = name or getattr(fun, "__name__", repr(fun))
        self.vjps = {}
        self.jvps = {}
        self.vjp_argnum = None  # optional rule(argnum, g, ans, *args) for any number of arguments
        self.jvp_argnum = None
        # What reverse mode must keep for the rules: the result, the argument values (if not,
        # only the shapes of float array arguments are kept). See ``saves``.
        self.save_ans = True
        self.save_args = True
        # Called as check_kwargs(prim, kwargs) -> kwargs before a traced evaluation with keywords:
        # refuses keywords the rules do not differentiate, drops harmless ones (numpy._wrap).
        self.check_kwargs = None
        self.__doc__ = getattr(fun, "__doc__", None)

    def defvjp(self, *rules, argnums=None):
        return self._define(self.vjps, rules, argnums)

    def defjvp(self, *rules, argnums=None):
        return self._define(self.jvps, rules, argnums)

    def _define(self, table, rules, argnums):
        for i, rule in zip(argnums or itertools.count(), rules):
            if rule is not None:
                if i in table:          # a new rule may read what the old ones did not
                    self.save_ans = self.save_args = True
                table[i] = rule
        return self

    def saves(self, ans=True, args=True):
        """Declare what the rules read: ``ans`` (the result) and ``args`` (argument values).

        Rules that read only shapes of the float arguments (add, sum, reshape) or only the result
        (exp, tanh) let reverse mode free the other intermediates after the forward pass.
        Replacing a rule (``defvjp`` again, ``override_rules``) goes back to keeping everything.
        """
        self.save_ans, self.save_args = ans, args
        return self

    def vjp_rule(self, argnum=0):
        return self._rule(self.vjps, self.vjp_argnum, argnum, "VJP")

    def jvp_rule(self, argnum=0):
        return self._rule(self.jvps, self.jvp_argnum, argnum, "JVP")

    def _rule(self, table, any_argnum, argnum, kind):
        rule = table.get(argnum)
        if rule is not None:
            return rule
        if any_argnum is not None:
            return functools.partial(any_argnum, argnum)
        raise NotImplementedError(f"'{self.name}' has no {kind} rule for argument {argnum}")

    def vjp_all(self, argnums, g, ans, args, kwargs):
        """Cotangents for the arguments ``argnums`` (one rule call each)."""
        vjps = self.vjps
        return [(vjps.get(i) or self.vjp_rule(i))(g, ans, *args, **kwargs) for i in argnums]

    def jvp_all(self, argnums, tangents, ans, args, kwargs):
        """Tangent of the result, summed over the arguments ``argnums`` with tangents ``tangents``."""
        out = None
        for i, t in zip(argnums, tangents):
            ti = self.jvp_rule(i)(t, ans, *args, **kwargs)
            try:
                same = ti.shape == ans.shape
            except AttributeError:
                same = False
            if not same:
                check_tangent(self, i, ti, ans, args[i])
            out = ti if out is None else add_any(out, ti)
        return out

    def __call__(self, *args, **kwargs):
        top = None
        for a in args:
            if isinstance(a, Tracer) and (top is None or a._trace.level > top.level):
                top = a._trace
        if top is None:
            return self.evaluate(*args, **kwargs)
        if top.finished:
            raise escaped(next(a for a in args if isinstance(a, Tracer) and a._trace is top),
                          f"'{self.name}'")
        if kwargs and self.check_kwargs is not None:
            kwargs = self.check_kwargs(self, kwargs)
        values = list(args)
        argnums = []
        nested = False                  # tracers of lower levels left after unwrapping the top one
        for i, a in enumerate(args):
            if isinstance(a, Tracer):
                if a._trace is top:
                    values[i] = a.value
                    argnums.append(i)
                    nested = nested or isinstance(a.value, Tracer)
                else:
                    nested = True
        ans = Primitive.__call__(self, *values, **kwargs) if nested else self.evaluate(*values, **kwargs)
        return top.process(self, ans, args, values, argnums, kwargs)

    def __repr__(self):
        return f"<primitive {self.name}>"


def primitive(fun, name=None):
    """Make ``fun`` a primitive; declare its rules with ``.defvjp(...)`` and ``.defjvp(...)``."""
    return Primitive(fun, name)


def is_array_like(x):
    """An array, traced value or number: what a derivative rule may return (None = zero)."""
    return isinstance(x, (onp.ndarray, Tracer, onp.number, int, float, complex)) or (
        hasattr(x, "shape") and not isinstance(x, (tuple, list, dict)))


def check_tangent(prim, argnum, t, ans, arg):
    """Raise unless the JVP rule's result ``t`` is an array of ans's shape, or of a shape that
    broadcasts to it and holds the argument's (rules of broadcasting operations)."""
    if t is None or isinstance(primal(ans), tuple):
        return
    if is_array_like(t) and not isinstance(primal(t), tuple):
        s, want, arg_shape = shape_of(t), shape_of(ans), shape_of(arg)
        try:
            if onp.broadcast_shapes(s, want) == want and onp.broadcast_shapes(s, arg_shape) == s:
                return
        except ValueError:
            pass
    raise rule_result_error(prim, argnum, t, ans, "JVP", "its result")


def rule_result_error(prim, argnum, result, like, kind, target):
    """The error for a derivative rule whose result is not an array of the expected shape."""
    if isinstance(result, (tuple, list)):
        got = f"a {type(result).__name__} of length {len(result)}"
        fix = "return the array itself, not wrapped in a tuple or list"
    elif is_array_like(result):
        got = f"shape {shape_of(result)}"
        fix = "sum or broadcast it to that shape (rules for broadcasting arguments: unbroadcast)"
    else:
        got = f"a {type(result).__name__}"
        fix = "return an array, built with autodiff_core.numpy so that it can be differentiated again"
    return ValueError(
        f"the {kind} rule of '{prim.name}' for argument {argnum} returned {got}, but {target} has "
        f"shape {shape_of(primal(like))}: {fix}.")


def add_any(a, b):
    """Sum of two tangents or cotangents; ``None`` means zero, tuples add elementwise."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, tuple):
        return tuple(add_any(x, y) for x, y in zip(a, b))
    return a + b


@contextlib.contextmanager
def override_rules(prim, vjp=None, jvp=None, argnum=0):
    """Use other derivative rules for ``prim``'s argument ``argnum`` inside a ``with`` block.

    Example (a student's rule in place of the reference one)::

        with ad.override_rules(np.log, vjp=lambda g, ans, x: g / x):
            ad.grad(f)(x)
    """
    if not isinstance(prim, Primitive):
        raise TypeError(f"override_rules needs a primitive, got {prim!r}")
    saved = (prim.vjps.get(argnum), prim.jvps.get(argnum), prim.save_ans, prim.save_args)
    try:
        if vjp is not None:
            prim.vjps[argnum] = vjp
        if jvp is not None:
            prim.jvps[argnum] = jvp
        prim.save_ans = prim.save_args = True       # the new rules may read ans and the args
        yield prim
    finally:
        for table, rule in zip((prim.vjps, prim.jvps), saved):
            if rule is None:
                table.pop(argnum, None)
            else:
                table[argnum] = rule
        prim.save_ans, prim.save_args = saved[2:]
