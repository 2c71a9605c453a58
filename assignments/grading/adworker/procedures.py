"""Procedures the grader asks the worker to run with the student's functions (``proc:<name>``).

Each takes the student's namespace ``ns`` first and returns plain values: the student's rules inside
losses, or the student's functions run with *planted* rules in place of the student's (see
:func:`with_planted_rules`). The grader compares what they return with its oracles, outside the
sandbox; nothing here decides a verdict (the student's code may replace any of it).
"""
from __future__ import annotations

import numpy as np

import autodiff_core as ad
import autodiff_core.numpy as anp


# ----------------------------------------------------------------------------------------------
# planted rules: the use items are run once more with the student's rules replaced by these


def _pattern(shape, c):
    """A fixed (r, q) matrix cos(c0 i + c1 j + c2): plain numbers chosen by the coefficients."""
    i, j = np.indices(shape)
    return np.cos(c[0] * i + c[1] * j + c[2])


def _planted_elementwise(c):
    """g * (c0 + c1 x): linear in the cotangent g, never log's or sqrt's derivative."""
    def rule(g, ans, x, **kwargs):
        return g * (c[0] + c[1] * x)
    return rule


def _planted_elementwise_jvp(c):
    """The same map of the tangent, under the JVP rules' parameter names (a use may call
    ``log_jvp(t=..., ans=..., x=...)``)."""
    def rule(t, ans, x, **kwargs):
        return t * (c[0] + c[1] * x)
    return rule


def _planted_solve_A(c):
    """G P with G the cotangent of x as an (n, k) matrix and P a fixed (k, n) matrix: A's shape,
    no function of A (solve's derivative is -A^{-T} G x^T)."""
    def rule(g, ans, A, b, **kwargs):
        n = np.shape(A)[0]
        G = anp.reshape(g, (n, -1))
        return anp.matmul(G, _pattern((np.shape(G)[1], n), c))
    return rule


def _planted_solve_b(c):
    """P g with a fixed (n, n) matrix P: b's shape, no function of A."""
    def rule(g, ans, A, b, **kwargs):
        return anp.matmul(_pattern((np.shape(A)[0],) * 2, c), g)
    return rule


def _planted_svd(c):
    """For W (m, n), k = min(m, n): P1 diag(gs) P2 + gU[:, :k] P3 + P4 gVt[:k] with fixed
    matrices P1 (m, k), P2 (k, n), P3 (k, n), P4 (m, k): W's shape, no function of W. A plain
    cotangent g (``compute_uv=False``) is gs; ``None`` entries are zero. One rule for both
    ``svd_values_vjp`` and ``svd_vjp``, so either may be plugged into the nuclear norm."""
    def rule(g, ans, W, full_matrices=True, compute_uv=True, **kwargs):
        m, n = np.shape(W)
        k = min(m, n)
        gU, gs, gVt = g if isinstance(g, (tuple, list)) else (None, g, None)
        out = anp.zeros((m, n))
        if gs is not None:
            out = out + anp.matmul(_pattern((m, k), c) * gs, _pattern((k, n), c[1:]))
        if gU is not None:
            out = out + anp.matmul(gU[:, :k], _pattern((k, n), c[2:]))
        if gVt is not None:
            out = out + anp.matmul(_pattern((m, k), c[3:]), gVt[:k])
        return out
    return rule


_PLANTED = {"log_vjp": _planted_elementwise, "sqrt_vjp": _planted_elementwise,
            "log_jvp": _planted_elementwise_jvp, "sqrt_jvp": _planted_elementwise_jvp,
            "solve_vjp_A": _planted_solve_A, "solve_vjp_b": _planted_solve_b,
            "svd_values_vjp": _planted_svd, "svd_vjp": _planted_svd}


def planted(name, coefficients):
    """The planted rule that stands in for the student's rule ``name``: a map linear in the
    cotangent (tangent), with the shape of the rule's result, that is no derivative of the
    primitive whatever the ``coefficients`` (floats the grader draws for each grading run)."""
    return _PLANTED[name]([float(v) for v in coefficients])


def with_planted_rules(ns, target, coefficients, *args):
    """``ns[target](*args)`` with each rule ``name`` of ``coefficients`` ({name: floats})
    replaced in the student's namespace by ``planted(name, floats)``."""
    saved = {name: ns[name] for name in coefficients if name in ns}
    ns.update({name: planted(name, c) for name, c in coefficients.items()})
    try:
        return ns[target](*args)
    finally:
        for name in coefficients:
            ns.pop(name, None)
        ns.update(saved)


# ----------------------------------------------------------------------------------------------
# the student's rules inside losses, through the engine's transforms


def _engine_ready(rule):
    """``rule`` with a list or tuple result made an array, as the rule items read it (the engine
    takes arrays only)."""
    def wrapped(*args, **kwargs):
        out = rule(*args, **kwargs)
        return np.asarray(out) if isinstance(out, (list, tuple)) else out
    return wrapped


def elementwise_rule_in_loss(ns, fun, kind, x, c, v):
    """The student's rule ``<fun>_<kind>`` on a new primitive f, inside
    L(x) = sum(sin(f(x)) c) + sum(f(x)^2) / 3: the gradient (vjp) or the tangent along v (jvp)."""
    p = ad.primitive(getattr(np, fun), name=f"student_{fun}")
    rule = _engine_ready(ns[f"{fun}_{kind}"])
    (p.defvjp if kind == "vjp" else p.defjvp)(rule)

    def loss(xx):
        y = p(xx)
        return anp.sum(anp.sin(y) * c) + anp.sum(y * y) / 3.0
    return ad.grad(loss)(x) if kind == "vjp" else ad.jvp(loss, (x,), (v,))[1]


def solve_rule_in_loss(ns, argnum, A, b, c):
    """The student's solve rule for argument ``argnum`` on a new primitive, inside
    L(A, b) = sum(tanh(x) c) + sum(x^2) / 4 with x = solve(A, b): dL/dA or dL/db."""
    p = ad.primitive(np.linalg.solve, name="student_solve")
    rules = [None, None]
    rules[argnum] = _engine_ready(ns["solve_vjp_A" if argnum == 0 else "solve_vjp_b"])
    p.defvjp(*rules)

    def loss(a, bb):
        x = p(a, bb)
        return anp.sum(anp.tanh(x) * c) + anp.sum(x * x) / 4.0
    return ad.grad(loss, argnums=argnum)(A, b)


def _svd_rule(ns):
    def rule(g, ans, w, full_matrices=True, compute_uv=True, **kwargs):
        name = "svd_vjp" if compute_uv else "svd_values_vjp"
        return _engine_ready(ns[name])(g, ans, w, full_matrices=full_matrices,
                                       compute_uv=compute_uv, **kwargs)
    return rule


def svd_values_in_loss(ns, X):
    """dL/dW at X of L(W) = sum(s(W)^2) + 0.5 sum(s(W)), with the student's SVD rules."""
    with ad.override_rules(anp.linalg.svd, vjp=_svd_rule(ns)):
        return ad.grad(lambda w: anp.sum(anp.linalg.svd(w, compute_uv=False) ** 2)
                       + 0.5 * anp.sum(anp.linalg.svd(w, compute_uv=False)))(X)


def invariant_loss(W, parts, lib):
    """sum(C1 o U D1 U^T) + c.s + sum(C3 o V D3 V^T): a loss that does not depend on the sign
    choice of the singular vectors."""
    C1, d1, c, C3, d3 = parts
    U, s, Vt = lib.linalg.svd(W, full_matrices=False)
    return (lib.sum(C1 * lib.matmul(U * d1, lib.transpose(U))) + lib.sum(c * s)
            + lib.sum(C3 * lib.matmul(lib.transpose(Vt) * d3, Vt)))


def svd_in_invariant_loss(ns, W, parts):
    """dL/dW of :func:`invariant_loss`, with the student's SVD rules."""
    with ad.override_rules(anp.linalg.svd, vjp=_svd_rule(ns)):
        return ad.grad(lambda w: invariant_loss(w, parts, anp))(W)
