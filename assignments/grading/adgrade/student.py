"""The student's notebook as the grader sees it: values on request, computed in sandboxed workers.

One :class:`Submission` per graded notebook holds one worker per *engine mode* (an engine copy,
see :mod:`adgrade.engine_copy`), each started fresh with every code cell of the notebook that is
not a test cell. A worker lost while running an item (died, hung, garbled its answer) costs that
item; the next item that needs the mode gets a fresh worker. A cell that kills or hangs its worker
while the notebook is being set up is skipped from then on (and reported). With a ``budget``, all
requests of the notebook together get that many seconds of wall-clock time; past it every request
raises :class:`BudgetSpent`.
"""
from __future__ import annotations

import re
import time

from adworker.codec import CodecError, decode, encode

from .sandbox import Worker, WorkerLost

__all__ = ["Submission", "StudentError", "WorkerLost", "BudgetSpent"]

_IPYTHON_SYNTAX = re.compile(r"^\s*[%!]|get_ipython|^\s*\w+\s*=\s*!", re.M)


class StudentError(Exception):
    """The student's function raised (``kind="raised"``), is not defined (``"missing"``), or
    returned something that is not plain numbers (``"unreadable"``)."""

    def __init__(self, kind, name, message=""):
        super().__init__(f"{name}: {message or kind}")
        self.kind, self.name, self.message = kind, name, message


class BudgetSpent(WorkerLost):
    """The notebook's wall-clock budget ran out (the worker running the request is killed)."""


class Submission:
    """``cells``: [(cell index, source)] to run; ``engines``: {mode: engine copy folder}, the
    first mode's cell outputs are the ones shown in the autograded notebook; ``timeout``: seconds
    per request; ``budget``: seconds for all requests from now on (None: no budget)."""

    def __init__(self, cells, submission_dir, engines, *, sandboxed=True, timeout=10.0,
                 budget=None, max_starts=16, **limits):
        self.cells = list(cells)
        self.ipython = any(_IPYTHON_SYNTAX.search(src) for _, src in self.cells)
        self.dir = submission_dir
        self.engines = dict(engines)
        self.sandboxed = sandboxed
        self.timeout = timeout
        self.budget = budget
        self.deadline = None if budget is None else time.monotonic() + budget
        self.spent = False          # set when a request found the budget spent
        self.limits = limits
        self.max_starts = max_starts
        self.workers = {}
        self.starts = {mode: 0 for mode in self.engines}
        self.skipped = {}           # cell index -> why it was skipped
        self.results = {}           # mode -> {cell index: answer of run_cell}
        self.notes = []

    def prestart(self):
        """Start every mode's worker now (their interpreters load in parallel)."""
        for mode in self.engines:
            if mode not in self.workers:
                self.workers[mode] = self._spawn(mode)

    def _request(self, w, msg):
        """``w.request(msg)`` within the per-request timeout and what is left of the budget."""
        timeout = self.timeout
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise self._spent()
            timeout = min(timeout, left)
        try:
            return w.request(msg, timeout)
        except WorkerLost as exc:
            if self.deadline is not None and time.monotonic() >= self.deadline:
                raise self._spent(f" ({exc})") from None
            raise

    def _spent(self, detail=""):
        self.spent = True
        return BudgetSpent(f"the grading time budget of this notebook ({self.budget:g} s) ran "
                           f"out{detail}")

    def _spawn(self, mode):
        self.starts[mode] += 1
        return Worker(self.engines[mode], self.dir, sandboxed=self.sandboxed, **self.limits)

    def _ready(self, mode):
        """A worker of ``mode`` with the notebook's cells run in it."""
        w = self.workers.get(mode)
        if w is not None and getattr(w, "set_up", False):
            return w
        while True:
            if w is None:
                if self.starts[mode] >= self.max_starts:
                    raise WorkerLost("the notebook's cells could not be run (the worker was lost "
                                     f"{self.starts[mode]} times)")
                w = self.workers[mode] = self._spawn(mode)
            try:
                w.wait_ready()
            except WorkerLost as exc:   # not the notebook's fault: the sandbox did not start
                detail = w.stderr_tail(500).strip()
                w.cleanup()
                self.workers[mode] = None
                raise WorkerLost(f"{exc}: {detail}") from None
            try:
                results = {}
                for index, source in self.cells:
                    if index in self.skipped:
                        continue
                    current = index
                    results[index] = self._request(w, {"op": "run_cell", "source": source,
                                                       "number": index, "ipython": self.ipython})
                w.set_up = True
                self.results.setdefault(mode, results)
                return w
            except BudgetSpent:
                w.cleanup()
                self.workers[mode] = None
                raise
            except WorkerLost as exc:
                w.cleanup()
                w = self.workers[mode] = None
                self.skipped[current] = str(exc)
                self.notes.append(f"code cell {current} was skipped: {exc} while running it")

    def call(self, mode, target, args, kwargs):
        """``target(*args, **kwargs)`` in a worker of ``mode`` (``proc:<name>``: a procedure of
        :mod:`adworker.procedures`). Raises StudentError or WorkerLost."""
        w = self._ready(mode)
        try:
            answer = self._request(w, {"op": "call", "target": target, "args": encode(list(args)),
                                       "kwargs": encode(dict(kwargs))})
        except WorkerLost:
            w.cleanup()
            self.workers[mode] = None
            raise
        if "value" in answer:
            try:
                return decode(answer["value"])
            except CodecError as exc:
                raise StudentError("unreadable", target, str(exc)) from None
        if "raised" in answer:
            r = answer["raised"]
            raise StudentError("raised", target, f"{r.get('type')}: {r.get('message')}")
        if "missing" in answer:
            raise StudentError("missing", str(answer["missing"]))
        raise StudentError("unreadable", target, str(answer.get("unencodable", "no value")))

    def defining_cell_error(self, name, mode):
        """Why ``name`` is not defined in ``mode``'s worker, if the cell defining it raised (or was
        skipped) while the notebook ran there: ``"ename: evalue"``, else None."""
        pattern = re.compile(rf"^\s*(def\s+{re.escape(name)}\b|{re.escape(name)}\s*=)", re.M)
        for index, source in self.cells:
            if pattern.search(source):
                if index in self.skipped:
                    return f"its cell was skipped: {self.skipped[index]}"
                err = self.results.get(mode, {}).get(index, {}).get("error")
                if isinstance(err, dict):
                    return f"{err.get('ename')}: {err.get('evalue')}"
        return None

    def outputs(self):
        """{cell index: run_cell answer} of the first mode that ran the notebook."""
        for mode in self.engines:
            if mode in self.results:
                return self.results[mode]
        return {}

    def close(self):
        for w in self.workers.values():
            if w is not None:
                w.cleanup()
        self.workers = {}
