"""One long-lived grading process of ``classroom.parallel_autograde``.

It reads the course's nbgrader configuration once, as ``nbgrader autograde`` does (nbgrader's
``AutogradeApp``: the Jupyter config paths, the working directory, the course root), then grades
one submission after another in this process through nbgrader's own API,
``NbGraderAPI.autograde`` (what the Formgrader's autograde button runs: nbgrader's ``Autograde``
converter with the course's preprocessors). nbgrader's start-up is paid once per process, not
once per submission.

Run from the course root: ``python -m classroom.autograde_worker``. Protocol, one JSON object per
line: after start-up the process writes ``{"ready": true}``; then for each request
``{"assignment": a, "student": s}`` read from stdin it writes one reply ``{"ok": bool,
"seconds": float, "warnings": [str], "log": str, "fatal": str}``: ``warnings`` holds the first
line of each nbgrader WARNING or ERROR record, ``log`` nbgrader's log and traceback of a failed
submission, ``fatal`` is non-empty when grading must stop altogether (the course's grader raised
``SystemExit``, e.g. the sandbox cannot start: its message). Replies go to the original stdout;
anything else written there (by a library, say) is sent to stderr, so it cannot break a reply.

A submission that fails only because SQLite was locked by another writer is graded again (up to
``RETRIES`` times). An exception in one submission (a notebook that is not JSON, say) is caught by
nbgrader and reported in that reply; the process goes on with the next request.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import time

RETRIES = 2
LOCKED = "database is locked"


class FirstLines(logging.Handler):
    """Keeps ``[LEVEL] first line of the message`` of each record at WARNING or above (of a
    traceback, its last line: the exception)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        message = record.getMessage().strip().splitlines() or [""]
        line = message[-1] if message[0].startswith("Traceback") else message[0]
        self.lines.append(f"[{record.levelname}] {line}")


def load_api():
    """nbgrader's API configured exactly as the ``nbgrader autograde`` command would be here."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.apps.autogradeapp import AutogradeApp

    app = AutogradeApp.instance()
    app.initialize([])
    return NbGraderAPI(app.coursedir, parent=app)


def grade(api, assignment: str, student: str) -> dict:
    """Autograde one submission (``--force``); the reply described in the module docstring."""
    create = api.config.Autograde.get("create_student", True)
    start = time.perf_counter()
    for _ in range(RETRIES + 1):
        first_lines = FirstLines()
        api.log.addHandler(first_lines)
        try:
            result = api.autograde(assignment, student, force=True, create=create)
        finally:
            api.log.removeHandler(first_lines)
        log, error = result.get("log", ""), result.get("error", "").strip()
        if result["success"] or LOCKED not in log + error:
            break
    last = error.splitlines()[-1] if error else ""
    fatal = last[len("SystemExit: "):] if last.startswith("SystemExit: ") else ""
    if fatal:
        first_lines.lines.append(f"[ERROR] {fatal}")
        log = fatal
    elif not last.startswith("nbgrader.converters.base.NbGraderException"):
        log += error        # else nbgrader has logged the cause, and this is its summary
    return {"ok": result["success"], "seconds": time.perf_counter() - start,
            "warnings": first_lines.lines, "log": "" if result["success"] else log,
            "fatal": fatal}


def main() -> None:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    api = load_api()
    replies.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        replies.write(json.dumps(grade(api, request["assignment"], request["student"])) + "\n")


if __name__ == "__main__":
    main()
