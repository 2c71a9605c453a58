"""Kernel-side machinery of the hidden tests: failure collection, oracles, delegation traps,
execution-hook detection and the evidence record.

Design
------
* A :class:`CellGrader` collects every failed check of one grade cell (each oracle is a separate
  check with its own message: which oracle, which input, expected vs got, max error) and raises
  one ``AssertionError`` listing them at the end. Only if nothing failed does it emit the evidence
  record that :class:`nbgrader_hooks.RequireTestEvidence` looks for.
* :class:`DelegationGuard` runs a student function while watching for calls into HIPS autograd or
  into the engine's own reference rule for the primitive being graded. Independent traps:
  a profiler hook (``sys.setprofile``) that sees every Python-level call, whatever name or alias
  the student reached the function through; the engine's rules replaced, for the duration, by
  recording wrappers (``ad.override_rules``); and ``autograd`` modules in ``sys.modules``
  replaced by recording proxies, with ``import`` statements naming autograd recorded too (a
  fresh ``import autograd`` inside the student's function is seen even if nothing gets
  called). A hit is recorded, not raised, so a ``try/except`` in the
  student's code cannot hide it.
* :func:`check_execution_hooks` looks for IPython input/AST transformers, event callbacks,
  custom exception handlers or patched ``run_cell`` installed by the submission.
"""
from __future__ import annotations

import contextlib
import os
import sys
import types
import warnings

import numpy as np

from . import evidence


class GradingFailure(AssertionError):
    """Raised at the end of a grade cell when a check failed (the cell scores 0)."""


# ----------------------------------------------------------------------------------------------
# formatting


def _summary(a, limit=6):
    a = np.asarray(a)
    flat = a.ravel()
    with np.printoptions(precision=4, suppress=False, threshold=limit, edgeitems=3):
        if flat.size <= limit:
            return np.array2string(a, separator=", ", max_line_width=10**6).replace("\n", "")
        first = np.array2string(flat[:limit], separator=", ", max_line_width=10**6)
        return f"array of shape {a.shape}, first values {first}"


def describe(**inputs):
    parts = []
    for k, v in inputs.items():
        if v is None:
            parts.append(f"{k}=None")
        elif np.ndim(v) == 0:
            parts.append(f"{k}={float(v):.4g}")
        else:
            parts.append(f"{k} of shape {np.shape(v)}")
    return ", ".join(parts)


# ----------------------------------------------------------------------------------------------
# the grader of one cell


class CellGrader:
    def __init__(self, grade_id, item):
        self.grade_id = grade_id
        self.item = item
        self.failures = []

    # -- recording ------------------------------------------------------------------------------
    def fail(self, message):
        self.failures.append(message)

    def call(self, label, fn, *args, **kwargs):
        """Call the student's function; an exception becomes a failure (returns None)."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with np.errstate(all="ignore"):
                    return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - any exception in student code is a failure
            self.fail(f"{self.item} raised {type(exc).__name__}: {exc} ({label})")
            return None

    def compare(self, oracle, label, got, expected, rtol=1e-7, atol=1e-10):
        """One assertion: ``got`` against the oracle's ``expected``. Returns True if it passed."""
        if got is None:
            self.fail(f"[{oracle}] {self.item} returned None ({label})")
            return False
        try:
            got_a = np.asarray(_plain(got), dtype=float)
        except (TypeError, ValueError) as exc:
            self.fail(f"[{oracle}] {self.item} returned a {type(got).__name__} that is not an array "
                      f"of numbers ({label}): {exc}")
            return False
        exp_a = np.asarray(expected, dtype=float)
        if got_a.shape != exp_a.shape:
            self.fail(f"[{oracle}] {self.item} returned the wrong shape ({label}): expected "
                      f"{exp_a.shape}, got {got_a.shape}")
            return False
        both_inf = np.isinf(exp_a) & (got_a == exp_a)
        with np.errstate(all="ignore"):
            err = np.where(both_inf, 0.0, np.abs(got_a - exp_a))
            tol = atol + rtol * np.where(np.isinf(exp_a), 0.0, np.abs(exp_a))
        bad = ~(err <= tol)  # also catches nan
        if np.any(bad):
            finite = err[np.isfinite(err)]
            max_err = float(finite.max()) if finite.size else float("nan")
            scale = float(np.max(np.abs(exp_a[np.isfinite(exp_a)]), initial=0.0))
            self.fail(
                f"[{oracle}] {self.item} disagrees with {oracle} ({label}): max abs error "
                f"{max_err:.3g} (max |expected| {scale:.3g}, relative error "
                f"{max_err / scale if scale else float('nan'):.3g}; rtol {rtol:g}), "
                f"{int(bad.sum())} of {bad.size} entries off; expected {_summary(exp_a)}, "
                f"got {_summary(got_a)}")
            return False
        return True

    def require(self, condition, message):
        if not condition:
            self.fail(message)
        return bool(condition)

    # -- the end of the cell ----------------------------------------------------------------------
    def finish(self):
        hooks = check_execution_hooks() + check_numpy_integrity()
        for h in hooks:
            if h.startswith("[integrity]"):
                self.fail(f"{h}; such a notebook's test cells score 0")
            else:
                self.fail(f"[integrity] {h}: the submission installed an execution hook; "
                          "test cells of a notebook with such hooks are not trusted and score 0")
        if self.failures:
            shown = self.failures[:8]
            more = len(self.failures) - len(shown)
            msg = (f"{self.grade_id}: {len(self.failures)} check(s) failed for {self.item}:\n  - "
                   + "\n  - ".join(shown) + (f"\n  ... and {more} more" if more > 0 else ""))
            raise GradingFailure(msg)
        emit_evidence(self.grade_id)


def run_item(check, grade_id, ns):
    """Run one cell's checks; an unexpected exception in them (a result the checks could not
    even process) is reported as a failure of the cell, with its message only."""
    try:
        check(grade_id, ns)
    except AssertionError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise GradingFailure(f"{grade_id}: the hidden tests could not process your answer: "
                             f"{type(exc).__name__}: {exc}") from None


def _plain(x):
    try:
        import autodiff_core as ad
        return ad.primal(x)
    except Exception:  # noqa: BLE001
        return x


def emit_evidence(grade_id):
    from IPython.display import display
    record = {"grade_id": grade_id, "status": "passed", "token": evidence.token()}
    display({evidence.MIME: record, "text/plain": f"All tests in {grade_id} ran and passed."},
            raw=True)


# ----------------------------------------------------------------------------------------------
# execution hooks


_OK_MODULES = ("IPython", "ipykernel", "matplotlib", "matplotlib_inline", "jupyter", "comm",
               "ipywidgets", "traitlets")


def _foreign(fn):
    mod = getattr(fn, "__module__", None) or getattr(type(fn), "__module__", "") or ""
    return not mod.startswith(_OK_MODULES)


def check_execution_hooks():
    """Hooks installed in the running IPython shell by the submission (list of descriptions)."""
    found = []
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return found
    ip = get_ipython()
    if ip is None:
        return found
    for attr in ("input_transformers_cleanup", "input_transformers_post"):
        for fn in getattr(ip, attr, []):
            if _foreign(fn):
                found.append(f"IPython input transformer {getattr(fn, '__name__', fn)!r} in {attr}")
    for t in getattr(ip, "ast_transformers", []):
        found.append(f"IPython AST transformer {type(t).__name__!r}")
    tm = getattr(ip, "input_transformer_manager", None)
    for attr in ("cleanup_transforms", "line_transforms"):
        for fn in getattr(tm, attr, []) or []:
            if _foreign(fn):
                found.append(f"input transformer {getattr(fn, '__name__', fn)!r} in {attr}")
    if getattr(ip, "custom_exceptions", ()):
        found.append("a custom exception handler (set_custom_exc)")
    for name in ("run_cell", "run_cell_async", "run_ast_nodes", "run_code", "transform_cell",
                 "showtraceback", "_run_cell", "should_run_async"):
        if name in vars(ip):
            found.append(f"a replaced shell method {name}()")
    events = getattr(ip, "events", None)
    for ev, callbacks in (getattr(events, "callbacks", {}) or {}).items():
        for cb in callbacks:
            if _foreign(cb):
                found.append(f"an IPython '{ev}' event callback {getattr(cb, '__name__', cb)!r}")
    if sys.gettrace() is not None and "debugpy" not in type(sys.gettrace()).__module__:
        tr = sys.gettrace()
        if _foreign(tr) and "pydevd" not in getattr(tr, "__module__", ""):
            found.append("a sys.settrace hook")
    return found


#: NumPy functions the visible tests and these checks rely on.
NUMPY_NAMES = ("allclose", "isclose", "isposinf", "isinf", "isfinite", "abs", "absolute", "where",
               "asarray", "array", "shape", "ndim", "max", "sum", "ones", "zeros", "eye",
               "outer", "sqrt", "log", "errstate", "array2string", "any", "all")
NUMPY_LINALG_NAMES = ("solve", "svd", "lstsq", "qr", "norm")


def check_numpy_integrity():
    """NumPy functions replaced by the submission (``np.allclose = lambda *a: True`` would make
    every visible assertion pass)."""
    import numpy
    found = []
    numpy_dir = os.path.dirname(os.path.abspath(numpy.__file__))
    try:
        from numpy._core import umath
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core import umath
    for ns, names, prefix in ((numpy, NUMPY_NAMES, "numpy"),
                              (numpy.linalg, NUMPY_LINALG_NAMES, "numpy.linalg")):
        for name in names:
            obj = getattr(ns, name, None)
            if obj is None:
                found.append(f"{prefix}.{name} was deleted")
                continue
            if isinstance(obj, numpy.ufunc):
                canonical = {"abs": "absolute"}.get(name, name)
                ok = obj.__name__ == canonical and getattr(umath, canonical, None) is obj
            else:
                code = getattr(obj, "__code__", None)
                ok = (str(getattr(obj, "__module__", "") or "").startswith("numpy")
                      and (code is None or os.path.abspath(code.co_filename).startswith(numpy_dir)))
            if not ok:
                found.append(f"{prefix}.{name} was replaced by the submission")
    return [f"[integrity] {f}: tests that use NumPy cannot be trusted" for f in found]


# ----------------------------------------------------------------------------------------------
# delegation


def _autograd_dir():
    try:
        import autograd
        return os.path.dirname(os.path.abspath(autograd.__file__)) + os.sep
    except ImportError:  # pragma: no cover
        return None


def _codes(fn, depth=0):
    """Code objects behind a rule (functions, partials, bound methods, callables)."""
    out = set()
    if fn is None or depth > 3:
        return out
    code = getattr(fn, "__code__", None)
    if code is not None:
        out.add(code)
    for attr in ("func", "__func__", "__wrapped__"):
        inner = getattr(fn, attr, None)
        if inner is not None and inner is not fn:
            out |= _codes(inner, depth + 1)
    call = getattr(type(fn), "__call__", None)
    if code is None and isinstance(call, types.FunctionType):
        out.add(call.__code__)
    return out


def _all_primitives():
    import autodiff_core.numpy as anp
    from autodiff_core.tracer import Primitive
    prims = {}
    for ns in (anp, anp.linalg):
        for v in vars(ns).values():
            if isinstance(v, Primitive):
                prims[id(v)] = v
    return list(prims.values())


def _rule_tables(prim):
    return [(kind, argnum, rule) for kind, table in (("vjp", prim.vjps), ("jvp", prim.jvps))
            for argnum, rule in table.items()]


class DelegationGuard:
    """Watch a block of student code for calls into autograd or the engine's rules of ``prims``.

    ``hits`` lists what was caught, e.g. ``"autograd (autograd/wrap_util.py: nary_f)"`` or
    ``"the engine's reference VJP rule of log"``.
    """

    def __init__(self, prims, allow_engine_rules=False):
        self.prims = list(prims)
        self.hits = []
        self._ad_dir = _autograd_dir()
        self._forbidden = {}
        self._stack = None
        # reference rules captured now: their code objects, unless another primitive shares them
        others = set()
        for p in _all_primitives():
            if all(p is not q for q in self.prims):
                for _, _, rule in _rule_tables(p):
                    others |= _codes(rule)
        for p in self.prims:
            for kind, argnum, rule in _rule_tables(p):
                for code in _codes(rule) - others:
                    self._forbidden[code] = f"the engine's reference {kind.upper()} rule of {p.name}"

    # the profiler sees every Python function call, whatever name the student used
    def _profile(self, frame, event, arg):
        if event != "call":
            return
        code = frame.f_code
        label = self._forbidden.get(code)
        if label is not None:
            self._hit(label)
        elif self._ad_dir is not None and code.co_filename.startswith(self._ad_dir):
            self._hit(f"HIPS autograd ({os.path.basename(code.co_filename)}: {code.co_name})")

    def _hit(self, what):
        # one message per kind of delegation (autograd is reported once, with its first call)
        kind = what.split(" (")[0]
        if all(h.split(" (")[0] != kind for h in self.hits):
            self.hits.append(what)

    def _trap(self, rule, label):
        def trapped(*args, **kwargs):
            self._hit(label)
            return rule(*args, **kwargs)
        return trapped

    def __enter__(self):
        import autodiff_core as ad
        self._stack = contextlib.ExitStack()
        st = self._stack
        st.__enter__()
        # 1. engine rules replaced by recording wrappers
        for p in self.prims:
            for argnum in sorted(set(p.vjps) | set(p.jvps)):
                vjp = p.vjps.get(argnum)
                jvp = p.jvps.get(argnum)
                st.enter_context(ad.override_rules(
                    p,
                    vjp=None if vjp is None else self._trap(vjp, f"the engine's reference VJP rule of {p.name}"),
                    jvp=None if jvp is None else self._trap(jvp, f"the engine's reference JVP rule of {p.name}"),
                    argnum=argnum))
        # 2. autograd modules replaced by recording proxies
        saved = {k: v for k, v in sys.modules.items() if k == "autograd" or k.startswith("autograd.")}
        for k, mod in saved.items():
            sys.modules[k] = _TrapModule(k, mod, self._hit)
        st.callback(sys.modules.update, saved)
        # ... and an import statement naming autograd, run by the student's code, is recorded
        import builtins
        real_import = builtins.__import__

        def recording_import(name, globals=None, locals=None, fromlist=(), level=0):
            if level == 0 and (name == "autograd" or name.startswith("autograd.")):
                self._hit(f"HIPS autograd (import {name})")
            return real_import(name, globals, locals, fromlist, level)
        builtins.__import__ = recording_import
        st.callback(setattr, builtins, "__import__", real_import)
        # 3. profiler
        previous = sys.getprofile()
        hook = self._profile  # one bound-method object, compared by identity below
        sys.setprofile(hook)

        def _restore():
            if sys.getprofile() is not hook and sys.getprofile() is not None:
                self._hit("a replaced profiler hook (sys.setprofile) during the test")
            elif sys.getprofile() is None:
                self._hit("a removed profiler hook (sys.setprofile(None)) during the test")
            sys.setprofile(previous)
        st.callback(_restore)
        return self

    def __exit__(self, *exc):
        return self._stack.__exit__(*exc)


class _TrapModule(types.ModuleType):
    def __init__(self, name, real, hit):
        super().__init__(name)
        object.__setattr__(self, "_real", real)
        object.__setattr__(self, "_hit", hit)

    def __getattr__(self, attr):
        if not attr.startswith("__"):
            object.__getattribute__(self, "_hit")(f"HIPS autograd (module {self.__name__}.{attr})")
        return getattr(object.__getattribute__(self, "_real"), attr)


def check_no_delegation(cg, fn_name, ns, prims, calls, what="rule"):
    """Run ``calls`` (a list of (label, args, kwargs)) of ``ns[fn_name]`` under a DelegationGuard.

    Records one failure per kind of delegation found. Returns the outputs (None on error).
    """
    fn = ns.get(fn_name)
    if fn is None:
        cg.fail(f"{fn_name} is not defined (did you run / keep the solution cell?)")
        return None
    outs = []
    with DelegationGuard(prims) as guard:
        for label, args, kwargs in calls:
            outs.append(cg.call(label, fn, *args, **kwargs))
    for hit in guard.hits:
        cg.fail(f"[delegation] {fn_name} called {hit}. This item asks for your own {what}: an answer "
                "that delegates to autograd or to the engine's rule for this primitive scores 0.")
    return outs


# ----------------------------------------------------------------------------------------------
# random inputs


def rng_for(name):
    """A generator seeded from the item name: the same inputs on every run and every machine."""
    return np.random.default_rng(sum(ord(c) * (i + 1) for i, c in enumerate(name)))


def student_function(cg, ns, name):
    fn = ns.get(name)
    if not callable(fn):
        cg.fail(f"{name} is not defined as a function (did you run / keep the solution cell?)")
        return None
    return fn


@contextlib.contextmanager
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            yield


@contextlib.contextmanager
def patched(ns, **replacements):
    """Temporarily replace names in the student's namespace (used to count rule calls)."""
    saved = {k: ns.get(k, _MISSING) for k in replacements}
    ns.update(replacements)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is _MISSING:
                ns.pop(k, None)
            else:
                ns[k] = v


_MISSING = object()


class CallCounter:
    def __init__(self, fn):
        self.fn = fn
        self.count = 0
        self.__name__ = getattr(fn, "__name__", "rule")

    def __call__(self, *args, **kwargs):
        self.count += 1
        return self.fn(*args, **kwargs)
