"""Checks of assignment 2, ``ps2_matrices``: VJP rules of solve and of the SVD, and their use in a
least-squares layer and a nuclear-norm (low-rank) penalty.

The rules run in the sandboxed worker in mode ``bare`` (no derivative rules in the engine), the
uses in mode ``engine`` (no rules for solve and svd), with the student's rules and with planted
rules (:mod:`adgrade.planted`); oracles run here.

Documented edge cases (also stated in the notebook):
* solve: A is tested well conditioned (cond ~ 1-10), moderately (1e3) and badly conditioned
  (1e6); the error allowed is (1e-7 + 1e-13 cond(A)) times the largest entry of the expected
  result, so solving with A^T or multiplying by inv(A)^T are both accepted.
* svd: matrices with distinct, separated (relative gap >= 0.2), nonzero singular values; only
  ``full_matrices=False`` is tested for the full rule. Results are judged relative to their
  largest entry (1e-7), so an eps of 1e-8 in F (a common safeguard) is accepted.
"""
from __future__ import annotations

import numpy as np

from adworker.procedures import invariant_loss

from .harness import ERROR, quiet, rng_for
from .planted import PlantedCheck

#: engine modes, as in ps1: "engine" lacks solve's and svd's rules and those of inv, det and
#: slogdet (which would give solve's derivative by another route)
MODES = {"engine": ("solve", "svd", "inv", "det", "slogdet"), "bare": None}
VISIBLE = dict(rtol=1e-5, atol=1e-8, scale="entry", kind=ERROR)   # np.allclose, as in the notebook


def _oracles():
    import autograd
    import autograd.numpy as agnp

    import autodiff_core as ad
    import autodiff_core.numpy as anp
    return ad, anp, autograd, agnp


def _orth(rng, n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _matrix_with_cond(rng, n, cond):
    s = np.logspace(0, -np.log10(cond), n) if n > 1 else np.ones(1)
    return (_orth(rng, n) * s) @ _orth(rng, n).T * rng.uniform(0.5, 2.0)


def _array(out):
    """``out`` as a float array, or None if it is not an array of numbers."""
    try:
        return np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        return None


def _shape_ok(cg, out, shape, label, what):
    a = _array(out)
    got = a.shape if a is not None else type(out).__name__
    return cg.require(got == tuple(shape), f"{what} returned the wrong shape ({label}): expected "
                                           f"{tuple(shape)}, got {got}")


def _directional(cg, out, E, fd, label, what, rtol=1e-5, atol=1e-7):
    """<out, E> against a central difference of the loss along E."""
    if out is None or not _shape_ok(cg, out, E.shape, label, what):
        return
    cg.compare("central finite differences", label, float(np.sum(_array(out) * E)), fd,
               rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------------------------
# solve


def _solve_cases(name):
    rng = rng_for(name)
    cases = []
    for n, cond in [(1, 1.0), (3, 3.0), (5, 1e3), (6, 1e6), (4, 10.0)]:
        A = _matrix_with_cond(rng, n, cond)
        for rhs in [(n,), (n, 1), (n, 4)]:
            cases.append((f"A {n}x{n} with cond ~ {cond:.0e}, b of shape {rhs}", A,
                          rng.standard_normal(rhs), rng.standard_normal(rhs), cond))
    return cases


def grade_solve(cg, argnum, hidden):
    name = "solve_vjp_A" if argnum == 0 else "solve_vjp_b"
    if not hidden:
        A = np.array([[2.0, 1.0], [0.0, 4.0]])
        b = np.array([1.0, 2.0])
        x = np.linalg.solve(A, b)
        if argnum == 0:
            g = np.array([1.0, -1.0])
            out = cg.call("A = [[2, 1], [0, 4]], b = [1, 2], g = [1, -1]", name, g, x, A, b)
            cg.compare("the visible test", "A = [[2, 1], [0, 4]], b = [1, 2], g = [1, -1]", out,
                       -np.outer(np.linalg.solve(A.T, g), x), **VISIBLE)
            B = np.arange(6.0).reshape(2, 3)
            label = "A = [[2, 1], [0, 4]], b of shape (2, 3)"
            out = cg.call(label, name, np.ones((2, 3)), np.linalg.solve(A, B), A, B)
            if out is not None:
                _shape_ok(cg, out, (2, 2), label, name)
        else:
            label = "A = [[2, 1], [0, 4]], b = [1, 2], g = [2, 1]"
            out = cg.call(label, name, np.array([2.0, 1.0]), x, A, b)
            cg.compare("the visible test", label, out, [1.0, 0.0], **VISIBLE)
        return
    ad, anp, autograd, agnp = _oracles()
    ref_rule = anp.linalg.solve.vjp_rule(argnum)
    for label, A, b, g, cond in _solve_cases(name):
        x = np.linalg.solve(A, b)
        out = cg.call(label, name, g, x, A, b)
        with quiet():
            ref = np.asarray(ad.primal(ref_rule(g, x, A, b)))
            if argnum == 0:
                ag = autograd.make_vjp(lambda a: agnp.linalg.solve(a, b))(A)[0](g)
            else:
                ag = autograd.make_vjp(lambda bb: agnp.linalg.solve(A, bb))(b)[0](g)
        rtol = 1e-7 + 1e-13 * cond
        cg.compare("engine reference rule", label, out, ref, rtol=rtol)
        cg.compare("autograd", label, out, ag, rtol=rtol)
    rng = rng_for(f"fd-solve-{argnum}")
    for rhs in [(4,), (4, 3)]:
        A = _matrix_with_cond(rng, 4, 5.0)
        b, g = rng.standard_normal(rhs), rng.standard_normal(rhs)
        E = rng.standard_normal(A.shape if argnum == 0 else rhs)
        h = 1e-6

        def f(t):
            if argnum == 0:
                return np.sum(g * np.linalg.solve(A + t * E, b))
            return np.sum(g * np.linalg.solve(A, b + t * E))
        label = f"directional derivative, A 4x4 with cond ~ 5, b of shape {rhs}"
        out = cg.call(label, name, g, np.linalg.solve(A, b), A, b)
        _directional(cg, out, E, (f(h) - f(-h)) / (2 * h), label, name)
    rng = rng_for(f"loss-solve-{argnum}")
    A = _matrix_with_cond(rng, 4, 4.0)
    for rhs in [(4,), (4, 2)]:
        b, c = rng.standard_normal(rhs), rng.standard_normal(rhs)
        label = (f"loss sum(tanh(x) c) + sum(x^2)/4 with x = solve(A, b), b of shape {rhs}, "
                 "through ad.grad")
        got = cg.call(label, "proc:solve_rule_in_loss", argnum, A, b, c, mode="engine", what=name)

        def loss(a, bb):
            x = agnp.linalg.solve(a, bb)
            return agnp.sum(agnp.tanh(x) * c) + agnp.sum(x * x) / 4.0
        with quiet():
            want = autograd.grad(loss, argnum)(A, b)
        cg.compare("autograd (loss through your rule)", label, got, want)


# ----------------------------------------------------------------------------------------------
# SVD


def _svd_matrix(rng, m, n):
    k = min(m, n)
    s = 1.0 + 0.6 * np.arange(k)[::-1] + rng.uniform(0, 0.1, k)
    return (_orth(rng, m)[:, :k] * s) @ _orth(rng, n)[:, :k].T


_SHAPES = [(4, 4), (5, 3), (3, 5), (6, 2), (1, 4)]


def grade_svd_values(cg, hidden):
    name = "svd_values_vjp"
    if not hidden:
        W = np.array([[3.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
        label = "W = [[3, 0], [0, 2], [0, 0]], g = [1, 1]"
        out = cg.call(label, name, np.ones(2), np.linalg.svd(W, compute_uv=False), W,
                      compute_uv=False)
        cg.compare("the visible test", label, out, np.eye(3, 2), **VISIBLE)
        return
    ad, anp, autograd, agnp = _oracles()
    ref_rule = anp.linalg.svd.vjp_rule(0)
    rng = rng_for(name)
    for m, n in _SHAPES:
        W = _svd_matrix(rng, m, n)
        g = rng.standard_normal(min(m, n))
        S = np.linalg.svd(W, compute_uv=False)
        label = f"W {m}x{n}"
        out = cg.call(label, name, g, S, W, compute_uv=False)
        with quiet():
            ref = np.asarray(ad.primal(ref_rule(g, S, W, compute_uv=False)))
            ag = autograd.make_vjp(lambda w: agnp.linalg.svd(w, compute_uv=False))(W)[0](g)
        cg.compare("engine reference rule", label, out, ref)
        cg.compare("autograd", label, out, ag)
    W = _svd_matrix(rng, 4, 3)
    g = rng.standard_normal(3)
    E = rng.standard_normal(W.shape)
    h = 1e-6
    fd = (np.sum(g * np.linalg.svd(W + h * E, compute_uv=False))
          - np.sum(g * np.linalg.svd(W - h * E, compute_uv=False))) / (2 * h)
    label = "directional derivative of sum(g * s(W)), W 4x3"
    out = cg.call(label, name, g, np.linalg.svd(W, compute_uv=False), W, compute_uv=False)
    _directional(cg, out, E, fd, label, name)
    X = rng.standard_normal((4, 3))
    label = "loss sum(s(W)^2) + 0.5 sum(s(W)), W 4x3, through ad.grad"
    got = cg.call(label, "proc:svd_values_in_loss", X, mode="engine", what=name)
    with quiet():
        want = autograd.grad(lambda w: agnp.sum(agnp.linalg.svd(w, compute_uv=False) ** 2)
                             + 0.5 * agnp.sum(agnp.linalg.svd(w, compute_uv=False)))(X)
    cg.compare("autograd (loss through your rule)", label, got, want)


def _cotangents(rng, m, n, which):
    k = min(m, n)
    return (rng.standard_normal((m, k)) if "U" in which else None,
            rng.standard_normal(k) if "S" in which else None,
            rng.standard_normal((k, n)) if "V" in which else None)


def _invariant_parts(rng, m, n):
    k = min(m, n)
    return (rng.standard_normal((m, m)), rng.uniform(0.5, 1.5, k), rng.standard_normal(k),
            rng.standard_normal((n, n)), rng.uniform(0.5, 1.5, k))


def grade_svd_full(cg, hidden):
    name = "svd_vjp"
    kw = {"full_matrices": False}
    if not hidden:
        W = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        label = "W 3x3, all cotangents ones"
        out = cg.call(label, name, (np.ones((3, 3)), np.ones(3), np.ones((3, 3))), (U, s, Vt), W,
                      **kw)
        if out is not None:
            _shape_ok(cg, out, (3, 3), label, name)
        label = "W 3x3, g = (None, ones, None)"
        out = cg.call(label, name, (None, np.ones(3), None), (U, s, Vt), W, **kw)
        cg.compare("the visible test", label, out, U @ Vt, **VISIBLE)
        return
    ad, anp, autograd, agnp = _oracles()
    ref_rule = anp.linalg.svd.vjp_rule(0)
    rng = rng_for(name)
    for m, n in _SHAPES:
        W = _svd_matrix(rng, m, n)
        ans = tuple(np.linalg.svd(W, full_matrices=False))
        for which in ("USV", "S", "U", "V"):
            g = _cotangents(rng, m, n, which)
            label = f"W {m}x{n}, cotangents for {'/'.join(which)} (None for the others)"
            out = cg.call(label, name, g, ans, W, **kw)
            with quiet():
                ref = np.asarray(ad.primal(ref_rule(g, ans, W, **kw)))
                zeros = tuple(np.zeros_like(a) if gi is None else gi for gi, a in zip(g, ans))
                ag = autograd.make_vjp(lambda w: agnp.linalg.svd(w, full_matrices=False))(W)[0](zeros)
            cg.compare("engine reference rule", label, out, ref)
            cg.compare("autograd", label, out, ag)
    for m, n in [(4, 4), (5, 3), (3, 5)]:
        W = _svd_matrix(rng, m, n)
        parts = _invariant_parts(rng, m, n)
        C1, d1, c, C3, d3 = parts
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        g = ((C1 + C1.T) @ U * d1, c, ((C3 + C3.T) @ Vt.T * d3).T)
        E = rng.standard_normal(W.shape)
        h = 1e-6
        fd = (invariant_loss(W + h * E, parts, np) - invariant_loss(W - h * E, parts, np)) / (2 * h)
        label = f"directional derivative of a sign-invariant loss of U, s, V, W {m}x{n}"
        out = cg.call(label, name, g, (U, s, Vt), W, **kw)
        _directional(cg, out, E, fd, label, name, atol=1e-6)
    for m, n in [(4, 3), (3, 4)]:
        W = _svd_matrix(rng, m, n)
        parts = _invariant_parts(rng, m, n)
        label = f"the same loss through ad.grad with your rule plugged in, W {m}x{n}"
        got = cg.call(label, "proc:svd_in_invariant_loss", W, parts, mode="engine", what=name)
        with quiet():
            want = autograd.grad(lambda w: invariant_loss(w, parts, agnp))(W)
        cg.compare("autograd (loss through your rule)", label, got, want)


# ----------------------------------------------------------------------------------------------
# uses: least-squares layer and nuclear norm


def _lsq_loss(A, b, y, lib):
    x = lib.linalg.solve(lib.matmul(lib.transpose(A), A), lib.matmul(lib.transpose(A), b))
    r = x - y
    return lib.sum(r * r)


def _pair(cg, out, label, what):
    if isinstance(out, (tuple, list)) and len(out) == 2:
        return out
    cg.fail(f"{what} must return a pair ({label}); got {str(out)[:200]}", ERROR)
    return None


def _lsq_case(rng, m, n):
    return rng.standard_normal((m, n)) + 2 * np.eye(m, n), rng.standard_normal(m), rng.standard_normal(n)


def _check_planted_lsq(cg, hidden):
    """least_squares_grads with planted solve rules against the grader's engine with them."""
    ad, anp, _, _ = _oracles()
    check = PlantedCheck(cg, [("solve_vjp_A",), ("solve_vjp_b",)], "engine")
    rng = rng_for("planted-least_squares_grads")
    for m, n in ([(5, 3), (3, 3)] if hidden else [(5, 3)]):
        A, b, y = _lsq_case(rng, m, n)
        label = f"A {m}x{n}"
        out = check.call(label, "least_squares_grads", A, b, y)
        pair = None if out is None else _pair(cg, out, label, "least_squares_grads")
        if pair is None:
            continue
        def want(rules=None):
            with quiet(), check.in_engine(
                    (anp.linalg.solve, {"vjp": "solve_vjp_A", "argnum": 0}),
                    (anp.linalg.solve, {"vjp": "solve_vjp_b", "argnum": 1}), rules=rules):
                return ad.grad(lambda a, bb: _lsq_loss(a, bb, y, anp), argnums=(0, 1))(A, b)
        planted_want = want()
        for i, what in enumerate(("dL/dA", "dL/db")):
            check.compare(f"{what}, {label}", pair[i], planted_want[i])
        own = cg.call(label, "least_squares_grads", A, b, y, mode="engine")
        own = None if own is None else _pair(cg, own, label, "least_squares_grads")
        if own is not None:
            check.follows_from_own_rules(label, np.concatenate([np.ravel(_array(v)) for v in own]),
                                         lambda rules: np.concatenate([np.ravel(v) for v in
                                                                       want(rules)]))


def grade_lsq(cg, hidden):
    name = "least_squares_grads"
    if not hidden:
        rng = np.random.default_rng(0)
        A, b, y = rng.standard_normal((5, 2)) + np.eye(5, 2), rng.standard_normal(5), np.zeros(2)
        label = "A 5x2 (the visible test's)"
        out = cg.call(label, name, A, b, y, mode="engine")
        pair = None if out is None else _pair(cg, out, label, name)
        if pair is not None and _shape_ok(cg, pair[0], (5, 2), label, "dL/dA of " + name) \
                and _shape_ok(cg, pair[1], (5,), label, "dL/db of " + name):
            x = np.linalg.lstsq(A, b, rcond=None)[0]
            cg.compare("the visible test", label, pair[1], 2 * A @ np.linalg.solve(A.T @ A, x),
                       **VISIBLE)
        _check_planted_lsq(cg, hidden)
        return
    ad, anp, autograd, agnp = _oracles()
    rng = rng_for(name)
    for m, n in [(6, 3), (4, 4), (10, 2)]:
        A, b, y = _lsq_case(rng, m, n)
        label = f"A {m}x{n}"
        out = cg.call(label, name, A, b, y, mode="engine")
        E, e = rng.standard_normal(A.shape), rng.standard_normal(b.shape)
        pair = None if out is None else _pair(cg, out, label, name)
        if pair is None:
            continue
        with quiet():
            ref = ad.grad(lambda a, bb: _lsq_loss(a, bb, y, anp), argnums=(0, 1))(A, b)
            ag = [autograd.grad(lambda a, bb: _lsq_loss(a, bb, y, agnp), i)(A, b) for i in (0, 1)]
        for i, what in enumerate(("dL/dA", "dL/db")):
            cg.compare("engine ad.grad", f"{what}, {label}", pair[i], ref[i])
            cg.compare("autograd", f"{what}, {label}", pair[i], ag[i])
        if _shape_ok(cg, pair[0], A.shape, label, "dL/dA") and _shape_ok(cg, pair[1], b.shape,
                                                                         label, "dL/db"):
            h = 1e-6
            fd = (_lsq_loss(A + h * E, b + h * e, y, np) - _lsq_loss(A - h * E, b - h * e, y, np)) / (2 * h)
            cg.compare("central finite differences", f"directional derivative, {label}",
                       float(np.sum(_array(pair[0]) * E) + np.sum(_array(pair[1]) * e)), fd,
                       rtol=1e-5, atol=1e-7)
    _check_planted_lsq(cg, hidden)


def _low_rank_objective(W, X, Y, lam, lib):
    R = lib.matmul(X, W) - Y
    return lib.sum(R * R) + lam * lib.sum(lib.linalg.svd(W, compute_uv=False))


def _check_planted_low_rank(cg, hidden):
    """low_rank_grad with a planted SVD rule (for svd_values_vjp and svd_vjp alike) against the
    grader's engine with it."""
    ad, anp, _, _ = _oracles()
    check = PlantedCheck(cg, [("svd_values_vjp", "svd_vjp")], "engine")
    rng = rng_for("planted-low_rank_grad")
    for (m, n), lam in ([((4, 3), 0.7), ((2, 3), 1.5)] if hidden else [((4, 3), 0.7)]):
        W = _svd_matrix(rng, m, n)
        X, Y = rng.standard_normal((5, m)), rng.standard_normal((5, n))
        label = f"W {m}x{n}, lam = {lam}"
        out = check.call(label, "low_rank_grad", W, X, Y, lam)

        def want(rules=None):
            with quiet(), check.in_engine((anp.linalg.svd, {"vjp": "svd_values_vjp"}),
                                          rules=rules):
                return ad.grad(lambda w: _low_rank_objective(w, X, Y, lam, anp))(W)
        check.compare(label, out, want())
        own = cg.call(label, "low_rank_grad", W, X, Y, lam, mode="engine")
        if own is not None:
            check.follows_from_own_rules(label, own, want)


def grade_low_rank(cg, hidden):
    name = "low_rank_grad"
    if not hidden:
        W = np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
        label = "W = [[2, 0], [0, 1], [0, 0]], X = 0, Y = 0, lam = 0.5"
        out = cg.call(label, name, W, np.zeros((4, 3)), np.zeros((4, 2)), 0.5, mode="engine")
        cg.compare("the visible test", label, out, 0.5 * np.eye(3, 2), **VISIBLE)
        _check_planted_low_rank(cg, hidden)
        return
    ad, anp, autograd, agnp = _oracles()
    rng = rng_for(name)
    for (m, n), lam in [((4, 3), 0.5), ((3, 5), 2.0), ((4, 4), 0.1)]:
        W = _svd_matrix(rng, m, n)
        X, Y = rng.standard_normal((6, m)), rng.standard_normal((6, n))
        label = f"W {m}x{n}, lam = {lam}"
        value = cg.call(label, name, W, X, Y, lam, mode="engine")
        E = rng.standard_normal(W.shape)
        if value is None:
            continue
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        with quiet():
            ref = ad.grad(lambda w: _low_rank_objective(w, X, Y, lam, anp))(W)
            ag = autograd.grad(lambda w: _low_rank_objective(w, X, Y, lam, agnp))(W)
        cg.compare("engine ad.grad", label, value, ref)
        cg.compare("autograd", label, value, ag)
        cg.compare("closed form 2 X^T (XW - Y) + lam U V^T", label, value,
                   2 * X.T @ (X @ W - Y) + lam * U @ Vt)
        h = 1e-6
        fd = (_low_rank_objective(W + h * E, X, Y, lam, np)
              - _low_rank_objective(W - h * E, X, Y, lam, np)) / (2 * h)
        _directional(cg, value, E, fd, f"directional derivative, {label}", name)
    _check_planted_low_rank(cg, hidden)


# ----------------------------------------------------------------------------------------------

ITEMS = {}
for _hidden, _suffix in ((False, "visible"), (True, "hidden")):
    ITEMS[f"test_solve_vjp_A_{_suffix}"] = ("solve_vjp_A", lambda cg, h=_hidden: grade_solve(cg, 0, h))
    ITEMS[f"test_solve_vjp_b_{_suffix}"] = ("solve_vjp_b", lambda cg, h=_hidden: grade_solve(cg, 1, h))
    ITEMS[f"test_svd_values_vjp_{_suffix}"] = ("svd_values_vjp",
                                               lambda cg, h=_hidden: grade_svd_values(cg, h))
    ITEMS[f"test_svd_vjp_{_suffix}"] = ("svd_vjp", lambda cg, h=_hidden: grade_svd_full(cg, h))
    ITEMS[f"test_least_squares_{_suffix}"] = ("least_squares_grads",
                                              lambda cg, h=_hidden: grade_lsq(cg, h))
    ITEMS[f"test_low_rank_{_suffix}"] = ("low_rank_grad", lambda cg, h=_hidden: grade_low_rank(cg, h))
