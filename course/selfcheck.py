"""Self-checks for the lecture exercises: each says *right* or *not yet* with a hint, never the answer.

An exercise cell (tagged ``exercise`` in its cell metadata) leaves ``...`` where the student's answer
goes; the check cell after it (tagged ``self-check``) calls one of the functions below::

    answer = ...                      # exercise cell: the student replaces ... with a number
    check("forward-sweep", answer, expected=0.6931, hint="v1 = log w1: what is log 2?")

    def sin_vjp(g, x):                # exercise cell: the student writes a rule
        ...
    check_function("sin-vjp", sin_vjp, reference=lambda g, x: g * np.cos(x),
                   inputs=[(1.0, 0.3), (np.ones(3), np.arange(3.0))], hint="d sin x = cos x dx")

An answer that a range of values makes right (a step size, a tolerance) is checked by a predicate::

    h = ...                           # exercise cell: a step size for central differences
    check_that("central-step", h, lambda h: error(h) < 1e-9, hint="balance h^2 against eps/h")

A blank answer (``...``, ``None``, a tuple of them, or a function whose body is ``...`` or raises
``NotImplementedError``) prints "not done yet" and fails nothing, so a notebook always runs top to
bottom. Every verdict is recorded in ``RESULTS`` (exercise name -> "right", "wrong" or "blank"),
which the course's headless tests read.
"""
from __future__ import annotations

import numpy as onp

RESULTS: dict[str, str] = {}


def _blank(value) -> bool:
    """``...`` or ``None``, or a tuple / list of them (``a, b = ..., ...`` left as given)."""
    if isinstance(value, (tuple, list)):
        return len(value) > 0 and all(_blank(v) for v in value)
    return value is ... or value is None


def _report(name: str, verdict: str, hint: str = "", detail: str = "") -> None:
    RESULTS[name] = verdict
    if verdict == "blank":
        print(f"[{name}] not done yet: replace the ... in the exercise cell with your answer, then run both cells.")
    elif verdict == "right":
        print(f"[{name}] right.")
    else:
        print(f"[{name}] not yet.{(' ' + detail) if detail else ''}{(' Hint: ' + hint) if hint else ''}")


def _close(got, expected, rtol: float, atol: float) -> tuple[bool, str]:
    """Compare numbers, arrays or (nested) tuples; the message says what differs, not the expected value."""
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return False, f"expected a sequence of {len(expected)} items."
        for i, (g, e) in enumerate(zip(got, expected)):
            ok, why = _close(g, e, rtol, atol)
            if not ok:
                return False, f"item {i}: {why}"
        return True, ""
    if isinstance(expected, str):
        ok = isinstance(got, str) and got.strip().lower() == expected.strip().lower()
        return ok, "" if ok else "that is not the answer."
    try:
        g, e = onp.asarray(got, dtype=float), onp.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return False, f"expected a number or an array, got {type(got).__name__}."
    if g.shape != e.shape:
        return False, f"expected shape {e.shape}, got shape {g.shape}."
    if not onp.allclose(g, e, rtol=rtol, atol=atol, equal_nan=True):
        return False, "the value is off."
    return True, ""


def check(name: str, got, expected, *, hint: str = "", rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Check a value (number, array, string, or a tuple of them) against the expected one.

    Numbers compare with ``numpy.allclose(got, expected, rtol, atol)``; strings case-insensitively.
    Prints one line and records the verdict in ``RESULTS``; returns None, so that a check cell shows
    only that line. Never prints ``expected``.
    """
    if _blank(got):
        return _report(name, "blank")
    ok, why = _close(got, expected, rtol, atol)
    return _report(name, "right" if ok else "wrong", hint, why)


def check_function(name: str, fn, *, reference, inputs, hint: str = "", rtol: float = 1e-6,
                   atol: float = 1e-9) -> None:
    """Call ``fn(*args)`` and ``reference(*args)`` for each tuple ``args`` in ``inputs`` and compare.

    A function that is still blank (returns ``...`` or ``None``, or raises ``NotImplementedError``)
    counts as not done; any other exception is reported with its type and message.
    """
    if fn is None or fn is ...:
        return _report(name, "blank")
    for args in inputs:
        try:
            got = fn(*args)
        except NotImplementedError:
            return _report(name, "blank")
        except Exception as err:  # the student's code: report it, never crash the notebook
            return _report(name, "wrong", hint, f"your function raised {type(err).__name__}: {err}.")
        if _blank(got):
            return _report(name, "blank")
        ok, why = _close(got, reference(*args), rtol, atol)
        if not ok:
            shown = ", ".join(onp.array2string(onp.asarray(a), precision=3) for a in args)
            return _report(name, "wrong", hint, f"on input ({shown}): {why}")
    return _report(name, "right")


def check_that(name: str, got, predicate, *, hint: str = "") -> None:
    """Right when ``predicate(got)`` is true: for answers that a whole range makes right (a step size).

    An exception raised by the predicate on the student's value counts as wrong, with its type and message.
    """
    if _blank(got):
        return _report(name, "blank")
    try:
        ok = bool(predicate(got))
    except Exception as err:  # the student's value: report it, never crash the notebook
        return _report(name, "wrong", hint, f"checking your answer raised {type(err).__name__}: {err}.")
    return _report(name, "right" if ok else "wrong", hint)
