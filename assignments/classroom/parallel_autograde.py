"""Autograde the class in parallel, re-grading only new or changed submissions.

Run from the course root (``make autograde JOBS=N [FORCE=1]`` does)::

    python -m classroom.parallel_autograde [--jobs N] [--force] ASSIGNMENT [ASSIGNMENT ...]

Each submission ``submitted/<student>/<assignment>/`` is graded by its own run of the real
``nbgrader autograde <assignment> --student <student> --force`` (so it works with whatever
preprocessors the course config sets), at most N at a time. A submission is skipped when the
gradebook already has it and the SHA-256 of its files (``timestamp.txt`` included) and of the
assignment's ``source/<assignment>/`` is the one recorded at its last successful grading, in
``autograded/<student>/.<assignment>.sha256`` (so editing the source, e.g. fixing a hidden
test, re-grades everyone); ``--force`` grades everything. Manual grades survive either way (nbgrader keeps them).

Output: one progress line per submission, with the run's nbgrader warnings under it (the
expected hidden-test checksum changes are summarised by ``classroom.overwrite_summary``, so what
is left deserves a look). A failed run does not stop the others; the failures' last log lines
are printed at the end and the exit status is 1. A run that failed only because SQLite was
locked by another writer is retried (up to ``RETRIES`` times).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

RETRIES = 2
LOCKED = "database is locked"
ENV = dict(os.environ)  # for the nbgrader runs: taken before the course config sets anything


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


def grade(root: Path, assignment: str, student: str):
    """One ``nbgrader autograde`` run; returns (ok, seconds, output)."""
    nbgrader = Path(sys.executable).with_name("nbgrader")
    digest = fingerprint(*inputs(root, student, assignment))
    start = time.perf_counter()
    for _ in range(RETRIES + 1):
        proc = subprocess.run([str(nbgrader), "autograde", assignment, "--student", student,
                               "--force"], cwd=root, env=ENV, capture_output=True, text=True)
        output = proc.stdout + proc.stderr
        if proc.returncode == 0 or LOCKED not in output:
            break
    ok = proc.returncode == 0
    if ok:
        record(root, student, assignment).write_text(digest + "\n")
    return ok, time.perf_counter() - start, output


def warnings_of(output: str) -> list[str]:
    """nbgrader's own warning and error lines (``[AutogradeApp | WARNING] ...``)."""
    return [ln for ln in output.splitlines() if re.search(r"\| (WARNING|ERROR|CRITICAL)\]", ln)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="+")
    parser.add_argument("--jobs", "-j", type=int, default=1, help="parallel nbgrader runs")
    parser.add_argument("--force", action="store_true", help="re-grade unchanged submissions too")
    args = parser.parse_args(argv)
    root = Path.cwd()
    failed = []
    for assignment in args.assignments:
        if not any(root.glob(f"submitted/*/{assignment}")):
            print(f"autograde: no submissions of {assignment} in {root.name}/submitted/")
            continue
        todo = to_grade(root, assignment, args.force)
        total = len(list(root.glob(f"submitted/*/{assignment}")))
        print(f"autograde {assignment}: {len(todo)} of {total} submissions to grade "
              f"({total - len(todo)} unchanged), {args.jobs} at a time", flush=True)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            runs = {pool.submit(grade, root, assignment, s): s for s in todo}
            for done, future in enumerate(as_completed(runs), 1):
                student = runs[future]
                ok, seconds, output = future.result()
                print(f"[{done}/{len(todo)}] {assignment} {student}: "
                      f"{'graded' if ok else 'FAILED'} in {seconds:.1f} s", flush=True)
                for line in warnings_of(output):
                    print(f"    {line}", flush=True)
                if not ok:
                    failed.append((assignment, student, output))
        if todo:
            print(f"autograde {assignment}: {len(todo)} in {time.perf_counter() - start:.1f} s",
                  flush=True)
    for assignment, student, output in failed:
        print(f"\n---- {assignment} {student}: nbgrader autograde failed; its last lines:",
              file=sys.stderr)
        print("\n".join(output.strip().splitlines()[-15:]), file=sys.stderr)
    if failed:
        print(f"\nautograde: {len(failed)} failed: "
              + ", ".join(f"{a}/{s}" for a, s, _ in failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
