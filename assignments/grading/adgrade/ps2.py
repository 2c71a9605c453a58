"""Hidden tests of assignment 2, ``ps2_matrices``: VJP rules of solve and of the SVD, and their
use in a least-squares layer and a nuclear-norm (low-rank) penalty.

Documented edge cases (also stated in the notebook):
* solve: A is tested well conditioned (cond ~ 1-10), moderately (1e3) and badly conditioned
  (1e6); the tolerance grows with cond(A) (1e-13 cond(A) relative to the largest entry), so
  solving with A^T or multiplying by inv(A)^T are both accepted. Singular A is not tested (the
  forward pass itself raises LinAlgError).
* svd: the tests use matrices whose singular values are distinct and separated (relative gap at
  least 0.2) and nonzero: U and V are not differentiable at repeated singular values, and the
  projection terms of a non-square matrix need 1/s. Only ``full_matrices=False`` is tested.
"""
from __future__ import annotations

import numpy as np

from .harness import (CallCounter, CellGrader, check_no_delegation, patched, quiet, rng_for,
                      run_item, student_function)


def _engine():
    import autodiff_core as ad
    import autodiff_core.numpy as anp
    return ad, anp


def _autograd():
    import autograd
    import autograd.numpy as agnp
    return autograd, agnp


def _orth(rng, n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _matrix_with_cond(rng, n, cond):
    s = np.logspace(0, -np.log10(cond), n) if n > 1 else np.ones(1)
    return (_orth(rng, n) * s) @ _orth(rng, n).T * rng.uniform(0.5, 2.0)


# ----------------------------------------------------------------------------------------------
# solve


def _solve_cases(name, hidden):
    rng = rng_for(name)
    if not hidden:
        A = np.array([[2.0, 1.0], [0.0, 4.0]])
        return [("A = [[2, 1], [0, 4]], vector b", A, np.array([1.0, 2.0]), np.array([1.0, -1.0]), 1.0),
                ("A = [[2, 1], [0, 4]], b of shape (2, 3)", A, np.arange(6.0).reshape(2, 3),
                 np.ones((2, 3)), 1.0)]
    cases = []
    for n, cond in [(1, 1.0), (3, 3.0), (5, 1e3), (6, 1e6), (4, 10.0)]:
        A = _matrix_with_cond(rng, n, cond)
        for rhs in [(n,), (n, 1), (n, 4)]:
            b = rng.standard_normal(rhs)
            g = rng.standard_normal(rhs)
            cases.append((f"A {n}x{n} with cond ~ {cond:.0e}, b of shape {rhs}", A, b, g, cond))
    return cases


def _solve_ag_vjp(argnum, A, b, g):
    autograd, agnp = _autograd()
    if argnum == 0:
        return autograd.make_vjp(lambda a: agnp.linalg.solve(a, b))(A)[0](g)
    return autograd.make_vjp(lambda bb: agnp.linalg.solve(A, bb))(b)[0](g)


def _good_solve_vjp(argnum):
    """A correct rule, written independently of the engine (used to isolate one student rule)."""
    def vjp_a(g, ans, a, b):
        _, anp = _engine()
        gb = anp.linalg.solve(anp.transpose(a), g)
        if np.ndim(ad_primal(b)) == 1:
            return -anp.outer(gb, ans)
        return -anp.matmul(gb, anp.transpose(ans))

    def vjp_b(g, ans, a, b):
        _, anp = _engine()
        return anp.linalg.solve(anp.transpose(a), g)
    return vjp_a if argnum == 0 else vjp_b


def ad_primal(x):
    ad, _ = _engine()
    return ad.primal(x)


def _grade_solve(grade_id, ns, argnum, hidden):
    ad, anp = _engine()
    name = "solve_vjp_A" if argnum == 0 else "solve_vjp_b"
    cg = CellGrader(grade_id, name)
    fn = student_function(cg, ns, name)
    cases = _solve_cases(name, hidden)
    if fn is None:
        cg.finish()
        return
    calls = [(label, (g, np.linalg.solve(A, b), A, b), {}) for label, A, b, g, _ in cases]
    outs = check_no_delegation(cg, name, ns, [anp.linalg.solve], calls)
    if hidden and outs is not None:
        ref_rule = anp.linalg.solve.vjp_rule(argnum)
        for (label, A, b, g, cond), out in zip(cases, outs):
            if out is None:
                continue
            x = np.linalg.solve(A, b)
            with quiet():
                ref = np.asarray(ad.primal(ref_rule(g, x, A, b)))
                ag = _solve_ag_vjp(argnum, A, b, g)
            atol = 1e-13 * max(cond, 1.0) * float(np.max(np.abs(ref), initial=1.0))
            cg.compare("engine reference rule", label, out, ref, rtol=1e-7, atol=atol)
            cg.compare("autograd", label, out, ag, rtol=1e-7, atol=atol)
        _solve_fd(cg, fn, argnum)
        _solve_through_primitive(cg, fn, argnum)
    cg.finish()


def _solve_fd(cg, fn, argnum):
    rng = rng_for(f"fd-solve-{argnum}")
    for rhs in [(4,), (4, 3)]:
        A = _matrix_with_cond(rng, 4, 5.0)
        b = rng.standard_normal(rhs)
        g = rng.standard_normal(rhs)
        E = rng.standard_normal(A.shape if argnum == 0 else rhs)
        h = 1e-6

        def f(t):
            if argnum == 0:
                return np.sum(g * np.linalg.solve(A + t * E, b))
            return np.sum(g * np.linalg.solve(A, b + t * E))
        fd = (f(h) - f(-h)) / (2 * h)
        label = f"directional derivative, A 4x4 with cond ~ 5, b of shape {rhs}"
        out = cg.call(label, fn, g, np.linalg.solve(A, b), A, b)
        if out is not None:
            if np.shape(ad_primal(out)) != E.shape:
                cg.fail(f"[central finite differences] {fn.__name__} returned the wrong shape "
                        f"({label}): expected {E.shape}, got {np.shape(ad_primal(out))}")
                continue
            got = float(np.sum(np.asarray(ad_primal(out)) * E))
            cg.compare("central finite differences", label, got, fd, rtol=1e-5, atol=1e-7)


def _solve_through_primitive(cg, fn, argnum):
    ad, anp = _engine()
    autograd, agnp = _autograd()
    rules = [_good_solve_vjp(0), _good_solve_vjp(1)]
    rules[argnum] = fn
    p = ad.primitive(np.linalg.solve, name="student_solve")
    p.defvjp(*rules)
    rng = rng_for(f"loss-solve-{argnum}")
    A = _matrix_with_cond(rng, 4, 4.0)
    for rhs in [(4,), (4, 2)]:
        b = rng.standard_normal(rhs)
        c = rng.standard_normal(rhs)

        def loss(a, bb, solve, lib):
            x = solve(a, bb)
            return lib.sum(lib.tanh(x) * c) + lib.sum(x * x) / 4.0

        label = f"loss sum(tanh(x) c) + sum(x^2)/4 with x = solve(A, b), b of shape {rhs}"
        try:
            with quiet():
                got = ad.grad(lambda a, bb: loss(a, bb, p, anp), argnums=argnum)(A, b)
        except Exception as exc:  # noqa: BLE001
            cg.fail(f"{fn.__name__} on a custom primitive inside a loss raised "
                    f"{type(exc).__name__}: {exc} ({label})")
            continue
        with quiet():
            want = autograd.grad(lambda a, bb: loss(a, bb, agnp.linalg.solve, agnp), argnum)(A, b)
        cg.compare("autograd (loss through your primitive)", label, got, want, rtol=1e-7, atol=1e-10)


# ----------------------------------------------------------------------------------------------
# SVD


def _svd_matrix(rng, m, n):
    k = min(m, n)
    s = 1.0 + 0.6 * np.arange(k)[::-1] + rng.uniform(0, 0.1, k)
    return (_orth(rng, m)[:, :k] * s) @ _orth(rng, n)[:, :k].T


def _svd_shapes(hidden):
    return [(4, 4), (5, 3), (3, 5), (6, 2), (1, 4)] if hidden else [(3, 3)]


def _grade_svd_values(grade_id, ns, hidden):
    ad, anp = _engine()
    autograd, agnp = _autograd()
    name = "svd_values_vjp"
    cg = CellGrader(grade_id, name)
    fn = student_function(cg, ns, name)
    if fn is None:
        cg.finish()
        return
    rng = rng_for(name)
    cases = []
    for m, n in _svd_shapes(hidden):
        W = _svd_matrix(rng, m, n)
        g = rng.standard_normal(min(m, n))
        cases.append((f"W {m}x{n}", W, g))
    calls = [(label, (g, np.linalg.svd(W, compute_uv=False), W), {"compute_uv": False})
             for label, W, g in cases]
    outs = check_no_delegation(cg, name, ns, [anp.linalg.svd], calls)
    if hidden and outs is not None:
        ref_rule = anp.linalg.svd.vjp_rule(0)
        for (label, W, g), out in zip(cases, outs):
            if out is None:
                continue
            S = np.linalg.svd(W, compute_uv=False)
            with quiet():
                ref = np.asarray(ad.primal(ref_rule(g, S, W, compute_uv=False)))
                ag = autograd.make_vjp(lambda w: agnp.linalg.svd(w, compute_uv=False))(W)[0](g)
            cg.compare("engine reference rule", label, out, ref)
            cg.compare("autograd", label, out, ag)
        # finite differences of sum(g * s(W))
        W = _svd_matrix(rng, 4, 3)
        g = rng.standard_normal(3)
        E = rng.standard_normal(W.shape)
        h = 1e-6
        fd = (np.sum(g * np.linalg.svd(W + h * E, compute_uv=False))
              - np.sum(g * np.linalg.svd(W - h * E, compute_uv=False))) / (2 * h)
        label = "directional derivative of sum(g * s(W)), W 4x3"
        out = cg.call(label, fn, g, np.linalg.svd(W, compute_uv=False), W, compute_uv=False)
        if out is not None and cg.require(
                np.shape(ad.primal(out)) == W.shape,
                f"[central finite differences] {name} returned the wrong shape ({label}): "
                f"expected {W.shape}, got {np.shape(ad.primal(out))}"):
            cg.compare("central finite differences", label,
                       float(np.sum(np.asarray(ad.primal(out)) * E)), fd, rtol=1e-5, atol=1e-7)
        # a loss through the student's rule
        X = rng.standard_normal((4, 3))
        label = "loss sum(s(W)^2) + 0.5 sum(s(W)), W 4x3"
        try:
            with quiet(), ad.override_rules(anp.linalg.svd, vjp=_svd_dispatch(ns)):
                got = ad.grad(lambda w: anp.sum(anp.linalg.svd(w, compute_uv=False) ** 2)
                              + 0.5 * anp.sum(anp.linalg.svd(w, compute_uv=False)))(X)
        except Exception as exc:  # noqa: BLE001
            cg.fail(f"svd_values_vjp plugged into ad.grad raised {type(exc).__name__}: {exc} ({label})")
        else:
            with quiet():
                want = autograd.grad(lambda w: agnp.sum(agnp.linalg.svd(w, compute_uv=False) ** 2)
                                     + 0.5 * agnp.sum(agnp.linalg.svd(w, compute_uv=False)))(X)
            cg.compare("autograd (loss through your rule)", label, got, want)
    cg.finish()


def _svd_dispatch(ns):
    def rule(g, ans, w, full_matrices=True, compute_uv=True, **kwargs):
        if compute_uv:
            return ns["svd_vjp"](g, ans, w, full_matrices=full_matrices, compute_uv=True, **kwargs)
        return ns["svd_values_vjp"](g, ans, w, full_matrices=full_matrices, compute_uv=False, **kwargs)
    return rule


def _cotangents(rng, m, n, which):
    k = min(m, n)
    gU = rng.standard_normal((m, k)) if "U" in which else None
    gS = rng.standard_normal(k) if "S" in which else None
    gVt = rng.standard_normal((k, n)) if "V" in which else None
    return (gU, gS, gVt)


def _zeros_for(g, ans):
    return tuple(np.zeros_like(a) if gi is None else gi for gi, a in zip(g, ans))


def _grade_svd_full(grade_id, ns, hidden):
    ad, anp = _engine()
    autograd, agnp = _autograd()
    name = "svd_vjp"
    cg = CellGrader(grade_id, name)
    fn = student_function(cg, ns, name)
    if fn is None:
        cg.finish()
        return
    rng = rng_for(name)
    cases = []
    for m, n in _svd_shapes(hidden):
        W = _svd_matrix(rng, m, n)
        for which in (("USV", "S", "U", "V") if hidden else ("USV",)):
            cases.append((f"W {m}x{n}, cotangents for {'/'.join(which)} "
                          "(None for the others)", W, _cotangents(rng, m, n, which)))
    kw = {"full_matrices": False}
    calls = [(label, (g, tuple(np.linalg.svd(W, full_matrices=False)), W), kw) for label, W, g in cases]
    outs = check_no_delegation(cg, name, ns, [anp.linalg.svd], calls)
    if hidden and outs is not None:
        ref_rule = anp.linalg.svd.vjp_rule(0)
        for (label, W, g), out in zip(cases, outs):
            if out is None:
                continue
            ans = tuple(np.linalg.svd(W, full_matrices=False))
            with quiet():
                ref = np.asarray(ad.primal(ref_rule(g, ans, W, full_matrices=False)))
                ag = autograd.make_vjp(lambda w: agnp.linalg.svd(w, full_matrices=False))(W)[0](
                    _zeros_for(g, ans))
            cg.compare("engine reference rule", label, out, ref, rtol=1e-7, atol=1e-9)
            cg.compare("autograd", label, out, ag, rtol=1e-7, atol=1e-9)
        _svd_fd(cg, fn, rng)
        _svd_loss(cg, ns, rng)
    cg.finish()


def _invariant_loss_parts(rng, m, n):
    k = min(m, n)
    return rng.standard_normal((m, m)), rng.uniform(0.5, 1.5, k), rng.standard_normal(k), \
        rng.standard_normal((n, n)), rng.uniform(0.5, 1.5, k)


def _invariant_loss(W, parts, lib):
    """A loss invariant under the sign choice of singular vectors: sum(C1 o U D1 U^T) + c.s +
    sum(C3 o V D3 V^T)."""
    C1, d1, c, C3, d3 = parts
    U, s, Vt = lib.linalg.svd(W, full_matrices=False)
    return (lib.sum(C1 * lib.matmul(U * d1, lib.transpose(U))) + lib.sum(c * s)
            + lib.sum(C3 * lib.matmul(lib.transpose(Vt) * d3, Vt)))


def _svd_fd(cg, fn, rng):
    for m, n in [(4, 4), (5, 3), (3, 5)]:
        W = _svd_matrix(rng, m, n)
        parts = _invariant_loss_parts(rng, m, n)
        C1, d1, c, C3, d3 = parts
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        gU = (C1 + C1.T) @ U * d1
        gV = (C3 + C3.T) @ Vt.T * d3
        g = (gU, c, gV.T)
        E = rng.standard_normal(W.shape)
        h = 1e-6
        fd = (_invariant_loss(W + h * E, parts, np) - _invariant_loss(W - h * E, parts, np)) / (2 * h)
        label = f"directional derivative of a sign-invariant loss of U, s, V, W {m}x{n}"
        out = cg.call(label, fn, g, (U, s, Vt), W, full_matrices=False)
        if out is not None:
            if np.shape(ad_primal(out)) != E.shape:
                cg.fail(f"[central finite differences] svd_vjp returned the wrong shape "
                        f"({label}): expected {E.shape}, got {np.shape(ad_primal(out))}")
                continue
            got = float(np.sum(np.asarray(ad_primal(out)) * E))
            cg.compare("central finite differences", label, got, fd, rtol=1e-5, atol=1e-6)


def _svd_loss(cg, ns, rng):
    ad, anp = _engine()
    autograd, agnp = _autograd()
    for m, n in [(4, 3), (3, 4)]:
        W = _svd_matrix(rng, m, n)
        parts = _invariant_loss_parts(rng, m, n)
        label = f"the same loss through ad.grad with your rule plugged in, W {m}x{n}"
        try:
            with quiet(), ad.override_rules(anp.linalg.svd, vjp=_svd_dispatch(ns)):
                got = ad.grad(lambda w: _invariant_loss(w, parts, anp))(W)
        except Exception as exc:  # noqa: BLE001
            cg.fail(f"svd_vjp plugged into ad.grad raised {type(exc).__name__}: {exc} ({label})")
            continue
        with quiet():
            want = autograd.grad(lambda w: _invariant_loss(w, parts, agnp))(W)
        cg.compare("autograd (loss through your rule)", label, got, want, rtol=1e-7, atol=1e-9)


# ----------------------------------------------------------------------------------------------
# uses: least-squares layer and nuclear norm


def _lsq_loss(A, b, y, lib):
    x = lib.linalg.solve(lib.matmul(lib.transpose(A), A), lib.matmul(lib.transpose(A), b))
    r = x - y
    return lib.sum(r * r)


def _grade_lsq(grade_id, ns, hidden):
    ad, anp = _engine()
    autograd, agnp = _autograd()
    name = "least_squares_grads"
    cg = CellGrader(grade_id, name)
    rng = rng_for(name)
    cases = []
    for m, n in ([(6, 3), (4, 4), (10, 2)] if hidden else [(5, 2)]):
        A = rng.standard_normal((m, n)) + 2 * np.eye(m, n)
        cases.append((f"A {m}x{n}", A, rng.standard_normal(m), rng.standard_normal(n)))
    counters = {k: CallCounter(ns[k]) for k in ("solve_vjp_A", "solve_vjp_b") if callable(ns.get(k))}
    with patched(ns, **counters):
        outs = check_no_delegation(cg, name, ns, [anp.linalg.solve],
                                   [(label, (A, b, y), {}) for label, A, b, y in cases],
                                   what="solve rules plugged into ad.grad")
    for k in ("solve_vjp_A", "solve_vjp_b"):
        if k not in counters or counters[k].count == 0:
            cg.fail(f"least_squares_grads never called your {k}: plug it in with ad.override_rules")
    if outs is not None:
        for (label, A, b, y), out in zip(cases, outs):
            if out is None:
                continue
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                cg.fail(f"least_squares_grads must return a pair (dL/dA, dL/db) ({label})")
                continue
            with quiet():
                ref = ad.grad(lambda a, bb: _lsq_loss(a, bb, y, anp), argnums=(0, 1))(A, b)
                ag = [autograd.grad(lambda a, bb: _lsq_loss(a, bb, y, agnp), i)(A, b) for i in (0, 1)]
            for i, what in enumerate(("dL/dA", "dL/db")):
                cg.compare("engine ad.grad", f"{what}, {label}", out[i], ref[i], rtol=1e-7, atol=1e-10)
                cg.compare("autograd", f"{what}, {label}", out[i], ag[i], rtol=1e-7, atol=1e-10)
            if hidden:
                E, e = rng.standard_normal(A.shape), rng.standard_normal(b.shape)
                fd = _directional_fd(lambda t: _lsq_loss(A + t * E, b + t * e, y, np), 1e-6)
                if np.shape(ad.primal(out[0])) == A.shape and np.shape(ad.primal(out[1])) == b.shape:
                    got = float(np.sum(np.asarray(ad.primal(out[0])) * E)
                                + np.sum(np.asarray(ad.primal(out[1])) * e))
                    cg.compare("central finite differences", f"directional derivative, {label}",
                               got, fd, rtol=1e-5, atol=1e-7)
    cg.finish()


def _directional_fd(f, h):
    return (f(h) - f(-h)) / (2 * h)


def _low_rank_objective(W, X, Y, lam, lib):
    R = lib.matmul(X, W) - Y
    return lib.sum(R * R) + lam * lib.sum(lib.linalg.svd(W, compute_uv=False))


def _grade_low_rank(grade_id, ns, hidden):
    ad, anp = _engine()
    autograd, agnp = _autograd()
    name = "low_rank_grad"
    cg = CellGrader(grade_id, name)
    rng = rng_for(name)
    cases = []
    for (m, n), lam in ([((4, 3), 0.5), ((3, 5), 2.0), ((4, 4), 0.1)] if hidden else [((3, 2), 1.0)]):
        W = _svd_matrix(rng, m, n)
        X = rng.standard_normal((6, m))
        Y = rng.standard_normal((6, n))
        cases.append((f"W {m}x{n}, lam = {lam}", W, X, Y, lam))
    counters = {k: CallCounter(ns[k]) for k in ("svd_values_vjp", "svd_vjp") if callable(ns.get(k))}
    with patched(ns, **counters):
        outs = check_no_delegation(cg, name, ns, [anp.linalg.svd],
                                   [(label, (W, X, Y, lam), {}) for label, W, X, Y, lam in cases],
                                   what="SVD rule plugged into ad.grad")
    if sum(c.count for c in counters.values()) == 0:
        cg.fail("low_rank_grad never called your svd_values_vjp (or svd_vjp): plug your rule in "
                "with ad.override_rules")
    if outs is not None:
        for (label, W, X, Y, lam), out in zip(cases, outs):
            if out is None:
                continue
            U, s, Vt = np.linalg.svd(W, full_matrices=False)
            analytic = 2 * X.T @ (X @ W - Y) + lam * U @ Vt
            with quiet():
                ref = ad.grad(lambda w: _low_rank_objective(w, X, Y, lam, anp))(W)
                ag = autograd.grad(lambda w: _low_rank_objective(w, X, Y, lam, agnp))(W)
            cg.compare("engine ad.grad", label, out, ref, rtol=1e-7, atol=1e-10)
            cg.compare("autograd", label, out, ag, rtol=1e-7, atol=1e-10)
            cg.compare("closed form 2 X^T (XW - Y) + lam U V^T", label, out, analytic,
                       rtol=1e-7, atol=1e-10)
            if hidden and np.shape(ad.primal(out)) == W.shape:
                E = rng.standard_normal(W.shape)
                fd = _directional_fd(lambda t: _low_rank_objective(W + t * E, X, Y, lam, np), 1e-6)
                cg.compare("central finite differences", f"directional derivative, {label}",
                           float(np.sum(np.asarray(ad.primal(out)) * E)), fd, rtol=1e-5, atol=1e-7)
    cg.finish()


# ----------------------------------------------------------------------------------------------


_ITEMS = {}
for _hidden, _suffix in ((False, "visible"), (True, "hidden")):
    _ITEMS[f"test_solve_vjp_A_{_suffix}"] = (lambda gid, ns, h=_hidden: _grade_solve(gid, ns, 0, h))
    _ITEMS[f"test_solve_vjp_b_{_suffix}"] = (lambda gid, ns, h=_hidden: _grade_solve(gid, ns, 1, h))
    _ITEMS[f"test_svd_values_vjp_{_suffix}"] = (lambda gid, ns, h=_hidden: _grade_svd_values(gid, ns, h))
    _ITEMS[f"test_svd_vjp_{_suffix}"] = (lambda gid, ns, h=_hidden: _grade_svd_full(gid, ns, h))
    _ITEMS[f"test_least_squares_{_suffix}"] = (lambda gid, ns, h=_hidden: _grade_lsq(gid, ns, h))
    _ITEMS[f"test_low_rank_{_suffix}"] = (lambda gid, ns, h=_hidden: _grade_low_rank(gid, ns, h))


def grade(grade_id, ns):
    """Run the hidden checks of grade cell ``grade_id`` against the student's namespace ``ns``."""
    run_item(_ITEMS[grade_id], grade_id, ns)
