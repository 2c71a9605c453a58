"""Autograde the class in parallel, re-grading only new or changed submissions.

Run from the course root (``make autograde JOBS=N [FORCE=1]`` does)::

    python -m classroom.parallel_autograde [--jobs N] [--force] ASSIGNMENT [ASSIGNMENT ...]

N long-lived grading processes (``classroom.autograde_worker``) each load nbgrader and the
course config once, then take submissions ``submitted/<student>/<assignment>/`` from one shared
queue and grade them through nbgrader's API in-process (``NbGraderAPI.autograde``, with
``--force``; so whatever preprocessors the course config sets apply). A submission is skipped
when the gradebook already has it and the SHA-256 of its files (``timestamp.txt`` included) and
of the assignment's ``source/<assignment>/`` is the one recorded at its last successful grading,
in ``autograded/<student>/.<assignment>.sha256`` (so editing the source, e.g. fixing a hidden
test, re-grades everyone); ``--force`` grades everything. Manual grades survive either way
(nbgrader keeps them).

Output: one progress line per submission, with its nbgrader warnings under it (the expected
hidden-test checksum changes are summarised by ``classroom.overwrite_summary``, so what is left
deserves a look). A failed submission does not stop the others; the failures' last log lines are
printed at the end and the exit status is 1. If a grading process dies (killed, out of memory),
the submission it was grading is reported failed and a fresh process takes over the rest. If
the course's grader stops autograding altogether (``SystemExit``, e.g. no sandbox), or a grading
process cannot start, no further submission is graded: the reason is printed, exit status 1.

Why own processes and not ``concurrent.futures.ProcessPoolExecutor``: when one of its processes
dies, the whole pool breaks and every pending submission fails, without saying which one killed it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ENV = dict(os.environ)  # for the grading processes: taken before the course config sets anything


def fingerprint(*folders: Path) -> str:
    """SHA-256 over the relative paths and bytes of every file under each of ``folders``."""
    h = hashlib.sha256()
    for folder in folders:
        h.update(b"\1")
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            h.update(str(path.relative_to(folder)).encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def inputs(root: Path, student: str, assignment: str) -> tuple[Path, Path]:
    """What a grade depends on here: the submission and the assignment's source."""
    return root / "submitted" / student / assignment, root / "source" / assignment


def record(root: Path, student: str, assignment: str) -> Path:
    return root / "autograded" / student / f".{assignment}.sha256"


def graded_in_gradebook(assignment: str) -> set[str]:
    """Students with a submission of ``assignment`` in the course's gradebook (any database)."""
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=".").load_config()
    coursedir = CourseDirectory(config=config)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        try:
            return {s.student_id for s in gb.find_assignment(assignment).submissions}
        except MissingEntry:
            return set()


def to_grade(root: Path, assignment: str, force: bool) -> list[str]:
    students = sorted(p.parent.name for p in root.glob(f"submitted/*/{assignment}") if p.is_dir())
    if force or not students:
        return students
    known = graded_in_gradebook(assignment)
    return [s for s in students if s not in known or not record(root, s, assignment).exists()
            or record(root, s, assignment).read_text().strip()
            != fingerprint(*inputs(root, s, assignment))]


class Worker:
    """One ``classroom.autograde_worker`` process; its stderr is kept in a temporary file."""

    def __init__(self, root: Path):
        self.stderr = tempfile.TemporaryFile("w+", prefix="autograde-worker-")
        self.proc = subprocess.Popen([sys.executable, "-m", "classroom.autograde_worker"],
                                     cwd=root, env=ENV, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.ready = False

    def grade(self, assignment: str, student: str) -> dict:
        """The worker's reply; if the process dies first, a failure saying so (``died``)."""
        try:
            if not self.ready:
                if not self.proc.stdout.readline():
                    return self._died(f"the grading process could not start (exit status "
                                      f"{self.proc.wait()})", fatal=True)
                self.ready = True
            self.proc.stdin.write(json.dumps({"assignment": assignment, "student": student}) + "\n")
            self.proc.stdin.flush()
            reply = self.proc.stdout.readline()
        except BrokenPipeError:
            reply = ""
        if not reply:
            return self._died(f"the grading process died (exit status {self.proc.wait()}) while "
                              "grading this submission")
        return json.loads(reply)

    def _died(self, what: str, fatal: bool = False) -> dict:
        self.stderr.seek(0)
        tail = "\n".join(self.stderr.read().strip().splitlines()[-14:])
        return {"ok": False, "seconds": 0.0, "warnings": [f"[ERROR] {what}"], "died": True,
                "log": f"{what}; its last lines:\n{tail}", "fatal": what if fatal else ""}

    def close(self) -> None:
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


class Pool:
    """``jobs`` workers shared by the grading threads; a dead worker is replaced by a fresh one."""

    def __init__(self, root: Path, jobs: int):
        self.root, self.stopped = root, ""
        self.idle: queue.Queue[Worker] = queue.Queue()
        for _ in range(jobs):
            self.idle.put(Worker(root))
        self.lock = threading.Lock()

    def grade(self, assignment: str, student: str) -> dict:
        """Grade one submission; record its fingerprint if it succeeded."""
        if self.stopped:
            return {"ok": False, "skipped": True, "seconds": 0.0, "warnings": [], "fatal": "",
                    "log": ""}
        digest = fingerprint(*inputs(self.root, student, assignment))
        worker, reply, start = self.idle.get(), None, time.perf_counter()
        try:
            reply = worker.grade(assignment, student)
        finally:
            if reply is None or (reply.get("died") and not reply["fatal"]):
                worker.close()
                worker = Worker(self.root)
            self.idle.put(worker)
        if reply.get("died"):
            reply["seconds"] = time.perf_counter() - start
        with self.lock:
            if reply["fatal"] and not self.stopped:
                self.stopped = reply["fatal"]
        if reply["ok"]:
            record(self.root, student, assignment).write_text(digest + "\n")
        return reply

    def close(self) -> None:
        while not self.idle.empty():
            self.idle.get().close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="+")
    parser.add_argument("--jobs", "-j", type=int, default=1, help="grading processes")
    parser.add_argument("--force", action="store_true", help="re-grade unchanged submissions too")
    args = parser.parse_args(argv)
    root, jobs = Path.cwd(), max(1, args.jobs)
    todo = {}
    for assignment in args.assignments:
        if not any(root.glob(f"submitted/*/{assignment}")):
            print(f"autograde: no submissions of {assignment} in {root.name}/submitted/")
        else:
            todo[assignment] = to_grade(root, assignment, args.force)
    busiest = max((len(students) for students in todo.values()), default=0)
    if busiest == 0:
        for assignment in todo:
            total = len(list(root.glob(f"submitted/*/{assignment}")))
            print(f"autograde {assignment}: 0 of {total} submissions to grade (all unchanged)")
        return 0
    failed, skipped = [], 0
    pool = Pool(root, min(jobs, busiest))
    try:
        for assignment, students in todo.items():
            total = len(list(root.glob(f"submitted/*/{assignment}")))
            print(f"autograde {assignment}: {len(students)} of {total} submissions to grade "
                  f"({total - len(students)} unchanged), {jobs} at a time", flush=True)
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=jobs) as threads:
                runs = {threads.submit(pool.grade, assignment, s): s for s in students}
                for done, future in enumerate(as_completed(runs), 1):
                    student, reply = runs[future], future.result()
                    if reply.get("skipped"):
                        print(f"[{done}/{len(students)}] {assignment} {student}: not graded "
                              "(autograde stopped)", flush=True)
                        skipped += 1
                        continue
                    print(f"[{done}/{len(students)}] {assignment} {student}: "
                          f"{'graded' if reply['ok'] else 'FAILED'} in {reply['seconds']:.1f} s",
                          flush=True)
                    for line in reply["warnings"]:
                        print(f"    {line}", flush=True)
                    if not reply["ok"]:
                        failed.append((assignment, student, reply["log"]))
            if students:
                print(f"autograde {assignment}: {len(students)} in "
                      f"{time.perf_counter() - start:.1f} s", flush=True)
    finally:
        pool.close()
    for assignment, student, log in failed:
        print(f"\n---- {assignment} {student}: autograde failed; its last lines:", file=sys.stderr)
        print("\n".join(log.strip().splitlines()[-15:]), file=sys.stderr)
    if failed:
        print(f"\nautograde: {len(failed)} failed: "
              + ", ".join(f"{a}/{s}" for a, s, _ in failed), file=sys.stderr)
    if pool.stopped:
        reason = pool.stopped if pool.stopped.startswith("autograde stopped") \
            else f"autograde stopped: {pool.stopped}"
        print(f"\n{reason} ({skipped} submissions not graded)", file=sys.stderr)
    return 1 if failed or pool.stopped else 0


if __name__ == "__main__":
    sys.exit(main())
