"""Finite differences, and ``check_grads``: both modes against them.

For a step h: forward difference (f(x+h) - f(x)) / h has error O(h); central difference
(f(x+h) - f(x-h)) / (2h) has error O(h^2); Richardson extrapolation (4 D(h/2) - D(h)) / 3 of
the central difference D has error O(h^4). Rounding adds about eps_machine |f| / h, so each
method has a best h. A gradient in R^d costs d + 1 (forward) or 2d (central) evaluations of f.
"""
from __future__ import annotations

import numpy as onp

from .tracer import Tracer, primal
from .transforms import jvp, vjp

METHODS = ("forward", "central", "richardson")


def finite_difference(f, x, h=1e-6, method="central"):
    """Derivative of a scalar function of a scalar at x (also: directional, if f takes a step)."""
    if method == "forward":
        return (f(x + h) - f(x)) / h
    if method == "central":
        return (f(x + h) - f(x - h)) / (2 * h)
    if method == "richardson":
        return (4 * finite_difference(f, x, h / 2) - finite_difference(f, x, h)) / 3
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def numerical_jvp(f, x, v, h=1e-6, method="central"):
    """(f(x + h v) - f(x - h v)) / (2h) and the like: the directional derivative J v."""
    x, v = onp.asarray(x, dtype=float), onp.asarray(v, dtype=float)
    return finite_difference(lambda e: onp.asarray(f(x + e * v), dtype=float), 0.0, h, method)


def _basis(shape):
    eye = onp.eye(int(onp.prod(shape)))
    return [row.reshape(shape) for row in eye]


def numerical_grad(f, x, h=1e-6, method="central"):
    """Gradient of a scalar f at x, one finite difference per coordinate.

    Costs d + 1 evaluations of f (forward: f(x) once) or 2d (central), 4d (Richardson).
    """
    x = onp.asarray(x, dtype=float)
    if method == "forward":
        fx = float(f(x))
        return onp.array([(float(f(x + h * e)) - fx) / h for e in _basis(x.shape)]).reshape(x.shape)
    return onp.array([numerical_jvp(f, x, e, h, method) for e in _basis(x.shape)]).reshape(x.shape)


def numerical_jacobian(f, x, h=1e-6, method="central"):
    """Jacobian of f at x by finite differences; shape f(x).shape + x.shape."""
    x = onp.asarray(x, dtype=float)
    cols = [onp.asarray(numerical_jvp(f, x, e, h, method)) for e in _basis(x.shape)]
    return onp.stack(cols, axis=-1).reshape(cols[0].shape + x.shape)


def _numerical_directional(f, args, tangents, eps):
    plus = f(*[a + eps * t for a, t in zip(args, tangents)])
    minus = f(*[a - eps * t for a, t in zip(args, tangents)])
    return (onp.asarray(plus, dtype=float) - onp.asarray(minus, dtype=float)) / (2 * eps)


def _assert_close(got, want, rtol, atol, what):
    got, want = onp.asarray(primal(got), dtype=float), onp.asarray(want, dtype=float)
    if not onp.allclose(got, want, rtol=rtol, atol=atol):
        err = onp.max(onp.abs(got - want))
        raise AssertionError(f"{what}: autodiff gives {got}, finite differences give {want} "
                             f"(max abs error {err:.3g}, rtol={rtol}, atol={atol})")


def check_grads(f, args, modes=("fwd", "rev"), order=2, eps=1e-6, rtol=1e-5, atol=1e-6, seed=0):
    """Check f's derivatives up to ``order`` in ``modes`` against central finite differences.

    "fwd": the JVP J v for a random v against (f(x + eps v) - f(x - eps v)) / (2 eps).
    "rev": the adjoint identity <u, J v> = <J^T u, v> for random u, v, with J v from finite
    differences and J^T u from the VJP. Order k repeats the check on the derivative functions.
    Raises AssertionError naming the mode and order that disagree.
    """
    from . import numpy as anp
    args = tuple(a if isinstance(a, Tracer) else onp.asarray(a, dtype=float) for a in args)
    rng = onp.random.default_rng(seed)
    tangents = [rng.standard_normal(onp.shape(primal(a))) for a in args]
    numeric = _numerical_directional(f, args, tangents, eps)
    if "fwd" in modes:
        _, jv = jvp(f, args, tangents)
        _assert_close(jv, numeric, rtol, atol, f"forward mode (JVP), order {order}")
        if order > 1:
            check_grads(lambda *a: jvp(f, a, tangents)[1], args, modes, order - 1, eps, rtol, atol,
                        seed + 1)
    if "rev" in modes:
        out, vjp_fn = vjp(f, *args)
        u = rng.standard_normal(onp.shape(primal(out)))
        cts = vjp_fn(u)
        lhs = sum(onp.vdot(primal(c), t) for c, t in zip(cts, tangents))
        _assert_close(lhs, onp.vdot(u, numeric), rtol, atol, f"reverse mode (VJP), order {order}")
        if order > 1:
            def vjp_of(*a):
                grads = vjp(f, *a)[1](u)
                return anp.concatenate([anp.reshape(g, (-1,)) for g in grads])
            check_grads(vjp_of, args, modes, order - 1, eps, rtol, atol, seed + 1)
