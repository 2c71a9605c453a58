"""Procedures the grader asks the worker to run with the student's functions (``proc:<name>``).

Each takes the student's namespace ``ns`` first and returns plain values. They compute with the
student's rules only; the grader compares what they return with its oracles, outside the sandbox.
"""
from __future__ import annotations

import numpy as np

import autodiff_core as ad
import autodiff_core.numpy as anp


def counted(ns, target, names, *args):
    """``ns[target](*args)`` with the functions ``names`` of ``ns`` counting their calls;
    returns ``(value, {name: calls})``."""
    counts = {name: 0 for name in names}
    saved = {name: ns.get(name) for name in names}

    def counting(name, fn):
        def rule(*a, **k):
            counts[name] += 1
            return fn(*a, **k)
        return rule
    for name, fn in saved.items():
        if callable(fn):
            ns[name] = counting(name, fn)
    try:
        return ns[target](*args), counts
    finally:
        ns.update({k: v for k, v in saved.items() if v is not None})


def elementwise_rule_in_loss(ns, fun, kind, x, c, v):
    """The student's rule ``<fun>_<kind>`` on a new primitive f, inside
    L(x) = sum(sin(f(x)) c) + sum(f(x)^2) / 3: the gradient (vjp) or the tangent along v (jvp)."""
    p = ad.primitive(getattr(np, fun), name=f"student_{fun}")
    rule = ns[f"{fun}_{kind}"]
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
    rules[argnum] = ns["solve_vjp_A" if argnum == 0 else "solve_vjp_b"]
    p.defvjp(*rules)

    def loss(a, bb):
        x = p(a, bb)
        return anp.sum(anp.tanh(x) * c) + anp.sum(x * x) / 4.0
    return ad.grad(loss, argnums=argnum)(A, b)


def _svd_rule(ns):
    def rule(g, ans, w, full_matrices=True, compute_uv=True, **kwargs):
        name = "svd_vjp" if compute_uv else "svd_values_vjp"
        return ns[name](g, ans, w, full_matrices=full_matrices, compute_uv=compute_uv, **kwargs)
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
