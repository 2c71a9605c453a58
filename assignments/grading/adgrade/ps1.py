"""Hidden tests of assignment 1, ``ps1_elementwise``: VJP and JVP rules of log and sqrt, the
reverse-mode walkthrough of L(w1, w2) = w2 log w1 + sqrt(w2 log w1), and plugging rules in.

Documented edge cases (also stated in the notebook):
* inputs close to 0 (1e-12 ... 1e-5): the rules must return the large finite values g / x and
  g / (2 sqrt x) to full relative accuracy;
* exactly 0: log'(0) and sqrt'(0) are +inf; the rules must return +-inf with the sign of g,
  as IEEE division does (NumPy's "divide by zero" RuntimeWarning is fine and costs nothing);
* negative inputs are outside the domain and are not tested.
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


# ----------------------------------------------------------------------------------------------
# inputs


def _elementwise_cases(name, low=-3.0, high=3.0):
    rng = rng_for(name)
    cases = []
    for shape in [(), (5,), (3, 4), (2, 3, 2)]:
        x = 10.0 ** rng.uniform(low, high, size=shape)
        g = rng.standard_normal(shape)
        cases.append((f"x of shape {shape} with values in [1e{int(low)}, 1e{int(high)}]", g, x))
    cases.append(("x close to 0: [1e-12, 1e-8, 3e-5]", np.array([1.0, -2.0, 0.5]),
                  np.array([1e-12, 1e-8, 3e-5])))
    return cases


_VISIBLE_CASES = [("x = [0.5, 1, 2], g = 1", np.ones(3), np.array([0.5, 1.0, 2.0])),
                  ("x = 4.0, g = 3 (0-d)", np.array(3.0), np.array(4.0))]


_FUN = {"log": np.log, "sqrt": np.sqrt}


# ----------------------------------------------------------------------------------------------
# one elementwise rule (kind "vjp" or "jvp") of one function ("log" or "sqrt")


def _grade_rule(grade_id, ns, fun, kind, hidden):
    ad, anp = _engine()
    name = f"{fun}_{kind}"
    cg = CellGrader(grade_id, name)
    fn = student_function(cg, ns, name)
    prim = getattr(anp, fun)
    npfun = _FUN[fun]
    cases = _elementwise_cases(name) if hidden else _VISIBLE_CASES
    with quiet():
        calls = [(label, (g, npfun(x), x), {}) for label, g, x in cases]
    if fn is None:
        cg.finish()
        return
    outs = check_no_delegation(cg, name, ns, [prim], calls)
    if hidden and outs is not None:
        autograd, agnp = _autograd()
        agfun = getattr(agnp, fun)
        ref_rule = prim.vjp_rule(0) if kind == "vjp" else prim.jvp_rule(0)
        for (label, g, x), out in zip(cases, outs):
            if out is None:
                continue
            with quiet():
                ans = npfun(x)
                ref = np.asarray(ad.primal(ref_rule(g, ans, x)))
                if kind == "vjp":
                    ag = autograd.make_vjp(agfun)(x)[0](g)
                else:
                    ag = autograd.make_jvp(agfun)(x)(g)[1]
            cg.compare("engine reference rule", label, out, ref)
            cg.compare("autograd", label, out, ag)
        _edge_at_zero(cg, fn, fun)
        _finite_differences(cg, fn, fun, kind)
        _through_primitive(cg, fn, fun, kind)
    cg.finish()


def _edge_at_zero(cg, fn, fun):
    label = "documented edge case x = 0 (derivative +inf), g = [1, -1]"
    with quiet():
        x = np.zeros(2)
        out = cg.call(label, fn, np.array([1.0, -1.0]), _FUN[fun](x), x)
    if out is not None:
        cg.compare("IEEE limit at 0", label, out, np.array([np.inf, -np.inf]))


def _finite_differences(cg, fn, fun, kind):
    rng = rng_for(f"fd-{fun}-{kind}")
    x = rng.uniform(0.5, 3.0, size=6)
    g = rng.standard_normal(6)
    h = 1e-6
    npfun = _FUN[fun]
    fd = g * (npfun(x + h) - npfun(x - h)) / (2 * h)
    out = cg.call("finite-difference check, x in [0.5, 3]", fn, g, npfun(x), x)
    if out is not None:
        cg.compare("central finite differences", "x of shape (6,) in [0.5, 3], h = 1e-6", out, fd,
                   rtol=1e-6, atol=1e-8)


def _through_primitive(cg, fn, fun, kind):
    """Your rule on a custom primitive, inside a composed loss, against autograd's derivative."""
    ad, anp = _engine()
    autograd, agnp = _autograd()
    npfun = _FUN[fun]
    p = ad.primitive(npfun, name=f"student_{fun}")
    if kind == "vjp":
        p.defvjp(fn)
    else:
        p.defjvp(fn)
    rng = rng_for(f"loss-{fun}-{kind}")
    x = rng.uniform(0.2, 4.0, size=(3, 2))
    c = rng.standard_normal((3, 2))
    v = rng.standard_normal((3, 2))

    def loss(xx, f, lib):
        y = f(xx)
        return lib.sum(lib.sin(y) * c) + lib.sum(y * y) / 3.0

    label = "loss sum(sin(f(x)) c) + sum(f(x)^2)/3, x of shape (3, 2)"
    try:
        with quiet():
            if kind == "vjp":
                got = ad.grad(lambda xx: loss(xx, p, anp))(x)
            else:
                got = ad.jvp(lambda xx: loss(xx, p, anp), (x,), (v,))[1]
    except Exception as exc:  # noqa: BLE001
        cg.fail(f"{fun}_{kind} on a custom primitive inside a loss raised "
                f"{type(exc).__name__}: {exc} ({label})")
        return
    with quiet():
        agf = getattr(agnp, fun)
        if kind == "vjp":
            want = autograd.grad(lambda xx: loss(xx, agf, agnp))(x)
        else:
            want = autograd.make_jvp(lambda xx: loss(xx, agf, agnp))(x)(v)[1]
    cg.compare("autograd (loss through your primitive)", label, got, want, rtol=1e-7)


# ----------------------------------------------------------------------------------------------
# the walkthrough and plugging in


_POINTS = [(2.0, 3.0), (1.5, 0.5), (10.0, 0.1), (np.e, 1.0), (1.01, 0.2)]


def _L_autograd(w1, w2):
    _, agnp = _autograd()
    v = w2 * agnp.log(w1)
    return v + agnp.sqrt(v)


def _L_engine(w1, w2):
    _, anp = _engine()
    v = w2 * anp.log(w1)
    return v + anp.sqrt(v)


def _oracles(w1, w2):
    ad, _ = _engine()
    autograd, _ = _autograd()
    with quiet():
        val, (d1, d2) = ad.value_and_grad(_L_engine, argnums=(0, 1))(w1, w2)
        a1 = autograd.grad(_L_autograd, 0)(w1, w2)
        a2 = autograd.grad(_L_autograd, 1)(w1, w2)
    return float(val), np.array([d1, d2], dtype=float), np.array([a1, a2], dtype=float)


def _unpack(cg, out, n, label, what):
    try:
        vals = [float(np.asarray(ad_primal(v))) for v in out]
    except Exception:  # noqa: BLE001
        cg.fail(f"{what} must return {n} numbers ({label}); got {out!r:.200}")
        return None
    if len(vals) != n:
        cg.fail(f"{what} must return {n} numbers ({label}); got {len(vals)}")
        return None
    return vals


def ad_primal(v):
    ad, _ = _engine()
    return ad.primal(v)


def _grade_walkthrough(grade_id, ns, hidden):
    _, anp = _engine()
    cg = CellGrader(grade_id, "walkthrough")
    points = _POINTS if hidden else _POINTS[:1]
    counters = {k: CallCounter(ns[k]) for k in ("log_vjp", "sqrt_vjp") if callable(ns.get(k))}
    with patched(ns, **counters):
        outs = check_no_delegation(cg, "walkthrough", ns, [anp.log, anp.sqrt],
                                   [(f"w1={w1:g}, w2={w2:g}", (w1, w2), {}) for w1, w2 in points],
                                   what="reverse sweep (with your log_vjp and sqrt_vjp)")
    for name in ("log_vjp", "sqrt_vjp"):
        if name not in counters or counters[name].count == 0:
            cg.fail(f"walkthrough never called your {name}: the reverse sweep must use your rules")
    if outs is not None:
        for (w1, w2), out in zip(points, outs):
            if out is None:
                continue
            label = f"w1={w1:g}, w2={w2:g}"
            vals = _unpack(cg, out, 3, label, "walkthrough")
            if vals is None:
                continue
            val, d_engine, d_autograd = _oracles(w1, w2)
            cg.compare("value of L", label, vals[0], val)
            cg.compare("engine ad.grad", label, vals[1:], d_engine)
            cg.compare("autograd", label, vals[1:], d_autograd)
            if hidden:
                cg.compare("central finite differences", label, vals[1:], _fd_L(w1, w2),
                           rtol=1e-6, atol=1e-8)
    cg.finish()


def _fd_L(w1, w2, h=1e-6):
    def L(a, b):
        v = b * np.log(a)
        return v + np.sqrt(v)
    return np.array([(L(w1 + h, w2) - L(w1 - h, w2)) / (2 * h),
                     (L(w1, w2 + h) - L(w1, w2 - h)) / (2 * h)])


def _grade_plugin(grade_id, ns, hidden):
    _, anp = _engine()
    cg = CellGrader(grade_id, "grad_with_my_rules / jvp_with_my_rules")
    points = _POINTS if hidden else _POINTS[:1]
    names = ("log_vjp", "sqrt_vjp", "log_jvp", "sqrt_jvp")
    counters = {k: CallCounter(ns[k]) for k in names if callable(ns.get(k))}
    with patched(ns, **counters):
        g_outs = check_no_delegation(
            cg, "grad_with_my_rules", ns, [anp.log, anp.sqrt],
            [(f"w1={w1:g}, w2={w2:g}", (w1, w2), {}) for w1, w2 in points],
            what="rules plugged into ad.grad")
        t_outs = check_no_delegation(
            cg, "jvp_with_my_rules", ns, [anp.log, anp.sqrt],
            [(f"w1={w1:g}, w2={w2:g}, tangent (1, 0) then (0, 1)", (w1, w2, t1, t2), {})
             for w1, w2 in points for t1, t2 in ((1.0, 0.0), (0.0, 1.0))],
            what="rules plugged into ad.jvp")
    for name in names:
        if name not in counters or counters[name].count == 0:
            cg.fail(f"your {name} was never called: plug your own rules in with ad.override_rules")
    if g_outs is not None:
        for (w1, w2), out in zip(points, g_outs):
            if out is None:
                continue
            label = f"grad_with_my_rules at w1={w1:g}, w2={w2:g}"
            vals = _unpack(cg, out, 2, label, "grad_with_my_rules")
            if vals is None:
                continue
            _, d_engine, d_autograd = _oracles(w1, w2)
            cg.compare("engine ad.grad", label, vals, d_engine)
            cg.compare("autograd", label, vals, d_autograd)
            if hidden:
                cg.compare("central finite differences", label, vals, _fd_L(w1, w2),
                           rtol=1e-6, atol=1e-8)
    if t_outs is not None:
        it = iter(t_outs)
        for w1, w2 in points:
            val, d_engine, d_autograd = _oracles(w1, w2)
            for k, out in enumerate((next(it), next(it))):
                if out is None:
                    continue
                label = f"jvp_with_my_rules at w1={w1:g}, w2={w2:g}, tangent e{k + 1}"
                vals = _unpack(cg, out, 2, label, "jvp_with_my_rules")
                if vals is None:
                    continue
                cg.compare("value of L", label, vals[0], val)
                cg.compare("engine ad.grad", label, vals[1], d_engine[k])
                cg.compare("autograd", label, vals[1], d_autograd[k])
    cg.finish()


# ----------------------------------------------------------------------------------------------


_ITEMS = {}
for _fun in ("log", "sqrt"):
    for _kind in ("vjp", "jvp"):
        for _hidden in (False, True):
            _gid = f"test_{_fun}_{_kind}_{'hidden' if _hidden else 'visible'}"
            _ITEMS[_gid] = (lambda gid, ns, f=_fun, k=_kind, h=_hidden: _grade_rule(gid, ns, f, k, h))
for _hidden in (False, True):
    _suffix = "hidden" if _hidden else "visible"
    _ITEMS[f"test_walkthrough_{_suffix}"] = (lambda gid, ns, h=_hidden: _grade_walkthrough(gid, ns, h))
    _ITEMS[f"test_plugin_{_suffix}"] = (lambda gid, ns, h=_hidden: _grade_plugin(gid, ns, h))


def grade(grade_id, ns):
    """Run the hidden checks of grade cell ``grade_id`` against the student's namespace ``ns``."""
    run_item(_ITEMS[grade_id], grade_id, ns)
