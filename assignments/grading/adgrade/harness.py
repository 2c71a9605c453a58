"""The verdict of one test cell, computed in the grader's process from data the worker returned.

A :class:`CellGrader` asks the student's notebook (a :class:`adgrade.student.Submission`, running
in sandboxed workers) for values, compares them with oracles computed here, and collects every
failed check. :meth:`CellGrader.verdict` gives ``None`` (all checks passed) or the message that
the grader writes as the cell's error output. Failures are listed most decisive first:
delegation and dead workers, then errors, wrong shapes and documented edge cases, then
disagreements with the oracles.
"""
from __future__ import annotations

import functools
import hashlib
import os
import secrets
import textwrap
import time
import warnings

import numpy as np

from . import source_check
from .student import StudentError, WorkerLost

#: Failure kinds, most decisive first.
DELEGATION, ERROR, MISMATCH = 0, 1, 2
SHOWN = 6
WIDTH = 100
#: default relative tolerance, about 8 float32 rounding errors (eps32 = 1.2e-7): a rule computed
#: in float32 passes, a wrong formula (off by O(1)) does not
RTOL = 1e-6

_DELEGATION_SIGNS = ("has no VJP rule", "has no JVP rule", "removed from the engine while",
                     "No module named 'autograd", "No module named 'jax")


def delegation_message(item, raised, mode):
    """The message for an exception that shows the answer reached for derivative machinery that
    does not exist while it is graded; None if ``raised`` is an ordinary error."""
    if not any(sign in raised for sign in _DELEGATION_SIGNS):
        return None
    where = ("the engine has no derivative rules at all (no ad.grad / ad.vjp / ad.jvp of any "
             "primitive)" if mode == "bare" else
             "the engine has no rules for the primitive being graded")
    return (f"[delegation] {item} raised {raised}. While this item is graded {where}, and "
            "neither autograd nor JAX is installed: a rule must compute its result with array "
            "operations (see 'Rules of the game' in the assignment). This item scores 0.")


def summary(a, limit=6):
    """A short text of an array: all of it if small, else its shape and first values."""
    a = np.asarray(a)
    with np.printoptions(precision=6, threshold=limit, edgeitems=3, linewidth=10 ** 6):
        if a.size <= limit:
            return np.array2string(a, separator=", ").replace("\n", "")
        return f"array of shape {a.shape}, first values {np.array2string(a.ravel()[:limit], separator=', ')}"


class CellGrader:
    """Checks of one test cell (``grade_id``) about the student's ``item`` (a function name)."""

    def __init__(self, grade_id, item, student):
        self.grade_id = grade_id
        self.item = item
        self.student = student
        self.failures = []          # (kind, order, message)
        self.checks = 0
        self.aborted = None         # set when the worker was lost: the item's other calls skip
        cells = [src for _, src in getattr(student, "cells", ())]
        found = source_check.numerical_differentiation(
            cells, item, source_check.submitted_modules(getattr(student, "dir", None)))
        if found:
            self.fail(source_check.message(item, found), DELEGATION)

    def fail(self, message, kind=MISMATCH):
        self.failures.append((kind, len(self.failures), message))

    def call(self, label, target, *args, mode="bare", what=None, **kwargs):
        """The student's ``target(*args, **kwargs)`` evaluated in the worker ``mode``; a failure
        (and None) if it raised, is missing, or the worker was lost."""
        what = what or target
        self.checks += 1
        if self.aborted:
            return None
        try:
            result = self.student.call(mode, target, args, kwargs)
            return self._returned_value(label, target, what, result)
        except WorkerLost as exc:
            self.aborted = str(exc)
            self.fail(f"{what} could not be graded: {exc} while running it ({label}); "
                      "the other items are graded in a fresh worker", DELEGATION)
        except StudentError as exc:
            if exc.kind == "missing":
                cause = self.student.defining_cell_error(exc.name, mode)
                msg = cause and delegation_message(f"the cell defining {exc.name}", cause, mode)
                if msg is not None:
                    self.fail(msg, DELEGATION)
                elif cause:
                    self.fail(f"{exc.name} is not defined: the cell defining it raised {cause}",
                              ERROR)
                else:
                    self.fail(f"{exc.name} is not defined (did you run / keep its solution "
                              "cell?)", ERROR)
            elif exc.kind == "raised":
                msg = delegation_message(what, exc.message, mode)
                if msg is not None:
                    self.fail(msg, DELEGATION)
                else:
                    self.fail(f"{what} raised {exc.message} ({label})", ERROR)
            else:
                self.fail(f"{what} returned something that is not numbers ({label}): "
                          f"{exc.message}", ERROR)
        return None

    def _returned_value(self, label, target, what, result):
        """``result`` if it holds a value; a failure (and None) for None, which is never an answer
        (the checks after a call skip a None, taking it for a call that already failed)."""
        if result is None:
            self.fail(f"{what} returned None ({label}): it must return the numbers asked for",
                      ERROR)
            return None
        return result

    def compare(self, oracle, label, got, expected, *, rtol=RTOL, atol=0.0, scale="array",
                kind=MISMATCH):
        """One check: ``got`` against ``expected`` (from ``oracle``). ``scale="array"``: the
        largest error must be at most ``rtol * max|expected| + atol`` (for results of linear
        algebra, whose rounding scales with the whole result); ``scale="entry"``: each entry
        within ``rtol * |expected entry| + atol`` (for elementwise rules). Infinite expected
        entries must be matched exactly. Returns True if it passed."""
        self.checks += 1
        if got is None:
            return False
        if _holds_text(got):
            self.fail(f"[{oracle}] {self.item} returned text, not numbers ({label}): "
                      f"{str(got)[:80]}", ERROR)
            return False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got_a = np.asarray(got)
                if np.iscomplexobj(got_a):
                    if np.any(got_a.imag != 0):
                        self.fail(f"[{oracle}] {self.item} returned complex numbers ({label}); "
                                  "the derivatives here are real", ERROR)
                        return False
                    got_a = got_a.real
                got_a = np.asarray(got_a, dtype=float)
        except (TypeError, ValueError):
            self.fail(f"[{oracle}] {self.item} returned {_kind_of(got)}, not an array of numbers "
                      f"({label})", ERROR)
            return False
        exp = np.asarray(expected, dtype=float)
        if got_a.shape != exp.shape:
            self.fail(f"[{oracle}] {self.item} returned the wrong shape ({label}): expected "
                      f"{exp.shape}, got {got_a.shape}", ERROR)
            return False
        finite = np.isfinite(exp)
        big = float(np.max(np.abs(exp[finite]), initial=0.0))
        with np.errstate(all="ignore"):
            err = np.where(finite, np.abs(got_a - exp), np.where(got_a == exp, 0.0, np.inf))
            if scale == "entry":
                tol = np.where(finite, rtol * np.abs(exp) + atol, 0.0)
                criterion = f"each entry: |got - expected| <= {rtol:g} |expected| + {atol:g}"
            else:
                tol = np.full(exp.shape, rtol * big + atol)
                criterion = (f"max |got - expected| <= {rtol:g} max|expected| + {atol:g} "
                             f"= {rtol * big + atol:.3g}")
            bad = ~(err <= tol)
        if not np.any(bad):
            return True
        worst = np.unravel_index(np.argmax(np.where(bad, np.nan_to_num(err / np.maximum(tol, 1e-300),
                                                                         nan=np.inf), -1.0)), exp.shape)
        at = f" at index {tuple(int(i) for i in worst)}" if exp.ndim else ""
        self.fail(f"[{oracle}] {self.item} disagrees with {oracle} ({label}): {int(bad.sum())} of "
                  f"{bad.size} entries off; worst{at}: expected {exp[worst]:.10g}, got "
                  f"{got_a[worst]:.10g}; criterion {criterion}, max|expected| = {big:.3g}. "
                  f"Expected {summary(exp)}, got {summary(got_a)}", kind)
        return False

    def require(self, condition, message, kind=ERROR):
        self.checks += 1
        if not condition:
            self.fail(message, kind)
        return bool(condition)

    def verdict(self):
        """None if every check passed, else the failure report (wrapped text lines)."""
        if not self.failures:
            return None
        ordered = [m for _, _, m in sorted(self.failures)]
        lines = [f"{self.grade_id}: {len(ordered)} check(s) failed for {self.item} "
                 "(most decisive first):"]
        for m in ordered[:SHOWN]:
            lines += textwrap.wrap(m, WIDTH, initial_indent="  - ", subsequent_indent="    ")
        if len(ordered) > SHOWN:
            lines.append(f"  ... and {len(ordered) - SHOWN} more of the same kinds")
        return "\n".join(lines)


def _holds_text(x):
    if isinstance(x, (str, bytes)):
        return True
    if isinstance(x, (list, tuple)):
        return any(_holds_text(v) for v in x)
    return isinstance(x, np.ndarray) and x.dtype.kind in "US"


def _kind_of(x):
    return "None" if x is None else f"a {type(x).__name__}"


#: The salt of the hidden inputs: made at the first grading, kept in the course root, never
#: committed (.gitignore) and never mounted in the worker. The course's code is public; without
#: the salt, anyone could compute the hidden inputs and a table of answers for them.
SALT_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "hidden-inputs.salt")


def _salt():
    """The course's salt (see SALT_FILE)."""
    return _salt_in(SALT_FILE)


@functools.lru_cache(maxsize=None)
def _salt_in(path):
    """The salt kept in ``path``, made first if there is none; read once per process (every
    item draws its inputs from it)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(16))
    for attempt in range(2):
        with open(path, encoding="ascii") as fh:
            salt = fh.read().strip()
        if len(salt) >= 16 or attempt:
            return salt
        time.sleep(0.2)     # a file being written by a parallel grader: read it once more


def rng_for(name):
    """A generator for the inputs named ``name``: the same on every run of this course (so a
    re-grade gives the same verdicts), unknown outside it (see SALT_FILE)."""
    digest = hashlib.sha256(f"{_salt()}:{name}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


def quiet():
    """NumPy warnings and errors ignored (oracles at documented edge cases)."""
    return np.errstate(all="ignore")
