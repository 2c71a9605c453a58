"""The planted-rules check of the use items (the walkthrough, plugging rules in, the
least-squares layer, the nuclear norm).

A use item is right only if the student's use function gives the right values with the student's
own rules *and* computes with whatever rules it is given: the grader runs it once more in the
worker with the student's rules replaced, by name, by planted rules
(:func:`adworker.procedures.planted`: maps linear in the cotangent or tangent, with the right
shape, that are no derivatives) whose coefficients are drawn here for each grading run from the
operating system's randomness, and compares what it returns with the same computation done here
(the engine with :func:`autodiff_core.override_rules` and the same planted rules). A use that
ignores the rules (a derivative by hand, by finite differences or the complex step) fails this
check whatever the worker reports; a wrong rule fails the check with the student's own rules.
A use can tell its own rule objects from planted ones (by identity) and answer by hand in the run
with its own rules: :meth:`PlantedCheck.follows_from_own_rules` closes that, comparing that run
with the same computation done here by the engine with the *student's* rules, each application
fetched from the worker (the rule evaluated there on the arguments the engine gives it). With
correct rules that is the true derivative (nothing changes for honest work); with wrong rules a
use that does not compute with them fails.
"""
from __future__ import annotations

import contextlib
import itertools
import secrets

import numpy as np
from adworker.procedures import planted

from .harness import ERROR, summary
from .student import WorkerLost

ORACLE = "planted rules"
_RANDOM = secrets.SystemRandom()


class PlantedCheck:
    """Planted rules for one item. ``groups``: tuples of the student's rule names that get the
    same planted rule (log's VJP and JVP are the same multiplication; ``svd_values_vjp`` and
    ``svd_vjp`` may both be plugged into the nuclear norm); ``mode``: the worker's engine mode in
    which the use runs."""

    def __init__(self, cg, groups, mode):
        self.cg, self.mode = cg, mode
        self.groups = tuple(tuple(g) for g in groups)
        self.coefficients = {}
        for group in groups:
            c = [_RANDOM.uniform(0.5, 2.0) for _ in range(6)]
            self.coefficients.update(dict.fromkeys(group, c))
        self.names = tuple(self.coefficients)
        self.rules = {name: planted(name, c) for name, c in self.coefficients.items()}

    def call(self, label, target, *args):
        """``target(*args)`` in the worker with the planted rules in place of the student's."""
        before = len(self.cg.failures)
        out = self.cg.call(f"{label}, with planted rules", "proc:with_planted_rules", target,
                           self.coefficients, *args, mode=self.mode, what=target)
        if out is None and len(self.cg.failures) > before and not self.cg.aborted:
            self._explain()
        return out

    @contextlib.contextmanager
    def in_engine(self, *overrides, rules=None):
        """The grader's engine with the planted rules (or ``rules``, {name: function}):
        ``overrides`` are ``(primitive, {"vjp": name, "jvp": name, "argnum": i})``."""
        import autodiff_core as ad
        chosen = self.rules if rules is None else rules
        with contextlib.ExitStack() as stack:
            for prim, spec in overrides:
                rules = {k: chosen[v] for k, v in spec.items() if k in ("vjp", "jvp")}
                stack.enter_context(ad.override_rules(prim, argnum=spec.get("argnum", 0), **rules))
            yield

    def _fetched(self, name):
        """The student's rule ``name`` as the engine here calls it: evaluated in the worker of
        the use's mode (where the use met it) on the arguments the engine gives, its value
        brought back as an array."""
        def rule(*args, **kwargs):
            # the engine checks each rule result's shape against its primal: that check is what
            # stops a tiny answer of shape (K, 1) from growing into a K x K cotangent here
            return np.asarray(self.cg.student.call(self.mode, name, args, kwargs), dtype=float)
        return rule

    def follows_from_own_rules(self, label, got, expected):
        """The use's result ``got`` with the student's own rules against ``expected(rules)``, the
        same computation done here with the student's rules fetched from the worker (one function
        of each group standing for the group: a use may plug ``svd_vjp`` in for the singular
        values, or call ``log_jvp`` in the walkthrough). Passes if one choice gives ``got``."""
        try:
            got = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            return False            # not numbers: the checks of the values say so
        wanted = []
        for choice in itertools.product(*self.groups):
            rules = {name: self._fetched(chosen) for group, chosen in zip(self.groups, choice)
                     for name in group}
            try:
                with np.errstate(all="ignore"):
                    want = np.asarray(expected(rules), dtype=float)
            except WorkerLost:
                break               # a rule that kills or stalls its worker: no other choice tried
            except Exception:  # noqa: BLE001 - the student's rule raised or returned no numbers
                continue
            wanted.append(want)
            with np.errstate(all="ignore"):
                if want.shape == got.shape and np.all(
                        np.abs(got - want) <= 1e-6 * np.max(np.abs(want), initial=0.0) + 1e-12):
                    return True
        self.cg.checks += 1
        self.cg.fail(
            f"[planted rules] {self.cg.item} ({label}) returned {summary(got)}, but the same "
            f"computation with your own {', '.join(self.names)} (evaluated on the arguments it "
            f"needs) gives {summary(wanted[0]) if wanted else 'no numbers (your rules raised)'}: "
            "a use must compute with your rules, not around them.", ERROR)
        return False

    def compare(self, label, got, expected, **tol):
        """``got`` (from :meth:`call`) against the expectation computed with the planted rules;
        the first failure also says what the check is."""
        if self.cg.compare(ORACLE, f"{label}, with planted rules", got, expected, **tol):
            return True
        if got is not None:
            self._explain()
        return False

    def _explain(self):
        """Once per item: what the planted-rules check is."""
        message = (
            f"[planted rules] {self.cg.item} does not compute with the rules it is given. Use "
            f"items are judged twice: with your rules, and with {', '.join(self.names)} "
            "replaced by planted rules (simple linear maps with coefficients drawn at grading "
            "time, not derivatives), where the result must be what the same computation gives "
            "with those rules. A use must call the rules the assignment names, by these names, "
            "when it runs, with the arguments their signature names, and use what they return; "
            "a derivative computed another way fails this check.")
        if all(m != message for _, _, m in self.cg.failures):
            self.cg.fail(message, ERROR)
