"""Checks of assignment 1, ``ps1_elementwise``: VJP and JVP rules of log and sqrt, the
reverse-mode walkthrough of L(w1, w2) = w2 log w1 + sqrt(w2 log w1), and plugging rules in.

The student's functions run in the sandboxed worker: the rules in mode ``bare`` (an engine with no
derivative rules at all), everything that needs the engine's transforms in mode ``engine`` (no
rules for log and sqrt, nor for power and log1p, which would give their derivatives too). Oracles (the engine's reference rules, HIPS autograd, finite
differences) run here, in the grader. The uses of the rules (walkthrough, plugging in) are also
run with planted rules in place of the student's (:mod:`adgrade.planted`).

Documented edge cases (also stated in the notebook):
* inputs close to 0 (1e-12 ... 1e-5): the rules must return the large finite values g / x and
  g / (2 sqrt x) to full relative accuracy (each entry is judged relative to itself);
* exactly 0: log'(0) and sqrt'(0) are +inf; the rules must return +-inf with the sign of g,
  as IEEE division does;
* negative inputs are outside the domain and are not tested.
"""
from __future__ import annotations

import numpy as np

from .harness import ERROR, quiet, rng_for
from .planted import PlantedCheck

#: engine modes: {mode: primitives whose rules are removed (None: all rules)}. Mode "engine"
#: also lacks the rules that would give log's or sqrt's derivative by another route.
MODES = {"engine": ("log", "sqrt", "power", "log1p"), "bare": None}
_FUN = {"log": np.log, "sqrt": np.sqrt}


def _oracles():
    import autograd
    import autograd.numpy as agnp

    import autodiff_core as ad
    import autodiff_core.numpy as anp
    return ad, anp, autograd, agnp


# ----------------------------------------------------------------------------------------------
# one elementwise rule (kind "vjp" or "jvp") of one function ("log" or "sqrt")

# the visible test cells' inputs and expected values, as written in the notebook
_VISIBLE = {
    "log_vjp": [("x = [0.5, 1, 2], g = 1", np.ones(3), [0.5, 1.0, 2.0], [2.0, 1.0, 0.5]),
                ("x = 0, g = 1 (derivative +inf)", np.ones(1), [0.0], [np.inf])],
    "sqrt_vjp": [("x = [1, 4, 0.25], g = 1", np.ones(3), [1.0, 4.0, 0.25], [0.5, 0.25, 1.0])],
    "log_jvp": [("x = [0.5, 2], t = [1, 3]", np.array([1.0, 3.0]), [0.5, 2.0], [2.0, 1.5])],
    "sqrt_jvp": [("x = [4, 9], t = [1, 3]", np.array([1.0, 3.0]), [4.0, 9.0], [0.25, 0.5])],
}


def _hidden_cases(name):
    rng = rng_for(name)
    cases = []
    for shape in [(), (5,), (3, 4), (2, 3, 2)]:
        x = 10.0 ** rng.uniform(-3.0, 3.0, size=shape)
        cases.append((f"x of shape {shape} with values in [1e-3, 1e3]",
                      rng.standard_normal(shape), x))
    cases.append(("x close to 0: [1e-12, 1e-8, 3e-5]", np.array([1.0, -2.0, 0.5]),
                  np.array([1e-12, 1e-8, 3e-5])))
    return cases


def grade_rule(cg, fun, kind, hidden):
    name = f"{fun}_{kind}"
    npfun = _FUN[fun]
    if not hidden:
        for label, g, x, want in _VISIBLE[name]:
            x = np.asarray(x)
            with quiet():
                out = cg.call(label, name, g, npfun(x), x)
            cg.compare("the visible test", label, out, want, rtol=1e-5, atol=1e-8, scale="entry",
                       kind=ERROR)
        return
    ad, anp, autograd, agnp = _oracles()
    prim = getattr(anp, fun)
    ref_rule = prim.vjp_rule(0) if kind == "vjp" else prim.jvp_rule(0)
    for label, g, x in _hidden_cases(name):
        with quiet():
            ans = npfun(x)
            out = cg.call(label, name, g, ans, x)
            ref = np.asarray(ad.primal(ref_rule(g, ans, x)))
            if kind == "vjp":
                ag = autograd.make_vjp(getattr(agnp, fun))(x)[0](g)
            else:
                ag = autograd.make_jvp(getattr(agnp, fun))(x)(g)[1]
        cg.compare("engine reference rule", label, out, ref, scale="entry")
        cg.compare("autograd", label, out, ag, scale="entry")
    # the documented edge case x = 0: +inf with the sign of g
    label = "documented edge case x = 0 (derivative +inf), g = [1, -1]"
    x0 = np.zeros(2)
    with quiet():
        out = cg.call(label, name, np.array([1.0, -1.0]), npfun(x0), x0)
    cg.compare("IEEE limit at 0", label, out, [np.inf, -np.inf], scale="entry", kind=ERROR)
    # central finite differences
    rng = rng_for(f"fd-{fun}-{kind}")
    x = rng.uniform(0.5, 3.0, size=6)
    g = rng.standard_normal(6)
    h = 1e-6
    label = "x of shape (6,) in [0.5, 3], h = 1e-6"
    out = cg.call(label, name, g, npfun(x), x)
    cg.compare("central finite differences", label, out,
               g * (npfun(x + h) - npfun(x - h)) / (2 * h), rtol=1e-6, atol=1e-8, scale="entry")
    # the rule on a new primitive inside a loss, through the engine's transforms
    rng = rng_for(f"loss-{fun}-{kind}")
    x = rng.uniform(0.2, 4.0, size=(3, 2))
    c = rng.standard_normal((3, 2))
    v = rng.standard_normal((3, 2))
    label = "loss sum(sin(f(x)) c) + sum(f(x)^2)/3, x of shape (3, 2), through ad.grad / ad.jvp"
    got = cg.call(label, "proc:elementwise_rule_in_loss", fun, kind, x, c, v, mode="engine",
                  what=name)

    def loss(xx):
        y = getattr(agnp, fun)(xx)
        return agnp.sum(agnp.sin(y) * c) + agnp.sum(y * y) / 3.0
    with quiet():
        want = autograd.grad(loss)(x) if kind == "vjp" else autograd.make_jvp(loss)(x)(v)[1]
    cg.compare("autograd (loss through your rule)", label, got, want)


# ----------------------------------------------------------------------------------------------
# the walkthrough and plugging in

_POINTS = [(2.0, 3.0), (1.5, 0.5), (10.0, 0.1), (float(np.e), 1.0), (1.01, 0.2)]


def _L_numpy(w1, w2):
    v = w2 * np.log(w1)
    return v + np.sqrt(v)


def _truth(w1, w2):
    """(L, dL/dw1, dL/dw2) from the engine's ad.grad, autograd, and central differences."""
    ad, anp, autograd, agnp = _oracles()

    def L(lib):
        return lambda a, b: b * lib.log(a) + lib.sqrt(b * lib.log(a))
    with quiet():
        val, d = ad.value_and_grad(L(anp), argnums=(0, 1))(w1, w2)
        ag = [autograd.grad(L(agnp), i)(w1, w2) for i in (0, 1)]
    h = 1e-6
    fd = [(_L_numpy(w1 + h, w2) - _L_numpy(w1 - h, w2)) / (2 * h),
          (_L_numpy(w1, w2 + h) - _L_numpy(w1, w2 - h)) / (2 * h)]
    return float(val), np.array(d, dtype=float), np.array(ag, dtype=float), np.array(fd)


def _numbers(cg, out, n, label, what):
    """``out`` as n floats, else a failure and None."""
    try:
        vals = [float(np.asarray(v, dtype=float)) for v in out]
    except (TypeError, ValueError):
        vals = None
    if vals is None or len(vals) != n:
        cg.fail(f"{what} must return {n} numbers ({label}); got {str(out)[:200]}", ERROR)
        return None
    return vals


#: the rules a use item must call, with the groups that share a planted rule
_RULES = (("log_vjp", "log_jvp"), ("sqrt_vjp", "sqrt_jvp"))
#: where the planted-rules check runs (the visible items: the first point only)
_PLANTED_POINTS = [(3.0, 2.0), (1.3, 0.7)]


def _planted_truth(check, w1, w2, tangent=None, rules=None):
    """[L, dL/dw1, dL/dw2] (or [L, tangent of L]) from the grader's engine with the planted
    rules for log and sqrt (or ``rules``, see PlantedCheck.in_engine)."""
    ad, anp, _, _ = _oracles()

    def L(a, b):
        return b * anp.log(a) + anp.sqrt(b * anp.log(a))
    with quiet(), check.in_engine((anp.log, {"vjp": "log_vjp", "jvp": "log_jvp"}),
                                  (anp.sqrt, {"vjp": "sqrt_vjp", "jvp": "sqrt_jvp"}),
                                  rules=rules):
        if tangent is None:
            val, d = ad.value_and_grad(L, argnums=(0, 1))(w1, w2)
            return [float(val), *map(float, d)]
        return [float(v) for v in ad.jvp(L, (w1, w2), tangent)]


def _check_planted(cg, hidden, target, mode, n, tangents=(None,)):
    """The planted-rules check of ``target``, which returns ``n`` numbers: the last ``n`` of
    :func:`_planted_truth`."""
    check = PlantedCheck(cg, _RULES, mode)
    for w1, w2 in (_PLANTED_POINTS if hidden else _PLANTED_POINTS[:1]):
        for t in tangents:
            label = f"{target} at w1={w1:g}, w2={w2:g}" + (f", tangent {t}" if t else "")
            out = check.call(label, target, w1, w2, *(t or ()))
            vals = None if out is None else _numbers(cg, out, n, label, target)
            if vals is not None:
                check.compare(label, vals, _planted_truth(check, w1, w2, t)[-n:])
            out = cg.call(label, target, w1, w2, *(t or ()), mode=mode)
            vals = None if out is None else _numbers(cg, out, n, label, target)
            if vals is not None:
                check.follows_from_own_rules(
                    label, vals, lambda rules: _planted_truth(check, w1, w2, t, rules)[-n:])


def grade_walkthrough(cg, hidden):
    for w1, w2 in (_POINTS if hidden else _POINTS[:1]):
        label = f"w1={w1:g}, w2={w2:g}"
        out = cg.call(label, "walkthrough", w1, w2)
        if out is None:
            continue
        vals = _numbers(cg, out, 3, label, "walkthrough")
        if vals is None:
            continue
        val, d_engine, d_autograd, fd = _truth(w1, w2)
        tol = dict(rtol=1e-7) if hidden else dict(rtol=1e-5, atol=1e-8, scale="entry")
        cg.compare("value of L", label, vals[0], val, **tol)
        cg.compare("engine ad.grad", label, vals[1:], d_engine, **tol)
        if hidden:
            cg.compare("autograd", label, vals[1:], d_autograd)
            cg.compare("central finite differences", label, vals[1:], fd, rtol=1e-6, atol=1e-8)
    _check_planted(cg, hidden, "walkthrough", "bare", 3)


def grade_plugin(cg, hidden):
    tol = dict(rtol=1e-7) if hidden else dict(rtol=1e-5, atol=1e-8, scale="entry")
    for w1, w2 in (_POINTS if hidden else _POINTS[:1]):
        val, d_engine, d_autograd, fd = _truth(w1, w2)
        label = f"grad_with_my_rules at w1={w1:g}, w2={w2:g}"
        out = cg.call(label, "grad_with_my_rules", w1, w2, mode="engine")
        vals = None if out is None else _numbers(cg, out, 2, label, "grad_with_my_rules")
        if vals is not None:
            cg.compare("engine ad.grad", label, vals, d_engine, **tol)
            if hidden:
                cg.compare("autograd", label, vals, d_autograd)
                cg.compare("central finite differences", label, vals, fd, rtol=1e-6, atol=1e-8)
        for k, (t1, t2) in enumerate(((1.0, 0.0), (0.0, 1.0)) if hidden else ((1.0, 0.0),)):
            label = f"jvp_with_my_rules at w1={w1:g}, w2={w2:g}, tangent e{k + 1}"
            out = cg.call(label, "jvp_with_my_rules", w1, w2, t1, t2, mode="engine")
            vals = None if out is None else _numbers(cg, out, 2, label, "jvp_with_my_rules")
            if vals is not None:
                cg.compare("value of L", label, vals[0], val, **tol)
                cg.compare("engine ad.grad", label, vals[1], d_engine[k], **tol)
                if hidden:
                    cg.compare("autograd", label, vals[1], d_autograd[k])
    _check_planted(cg, hidden, "grad_with_my_rules", "engine", 2)
    _check_planted(cg, hidden, "jvp_with_my_rules", "engine", 2, tangents=[(0.6, -1.1)])


# ----------------------------------------------------------------------------------------------

ITEMS = {}
for _fun in ("log", "sqrt"):
    for _kind in ("vjp", "jvp"):
        for _hidden in (False, True):
            ITEMS[f"test_{_fun}_{_kind}_{'hidden' if _hidden else 'visible'}"] = (
                f"{_fun}_{_kind}", lambda cg, f=_fun, k=_kind, h=_hidden: grade_rule(cg, f, k, h))
for _hidden in (False, True):
    _suffix = "hidden" if _hidden else "visible"
    ITEMS[f"test_walkthrough_{_suffix}"] = ("walkthrough",
                                            lambda cg, h=_hidden: grade_walkthrough(cg, h))
    ITEMS[f"test_plugin_{_suffix}"] = ("grad_with_my_rules / jvp_with_my_rules",
                                       lambda cg, h=_hidden: grade_plugin(cg, h))
