"""Autograding a class: time for N synthetic ps1 submissions, serial and with 2 processes, on the
SQLite and the PostgreSQL gradebook, through `python -m classroom.parallel_autograde` (what
`make autograde JOBS=N` runs: one real `nbgrader autograde --student` per submission).

    python benchmarks/class_grading.py                  # 300 submissions, jobs 1 and 2, both DBs
    python benchmarks/class_grading.py --count 20       # a quick check; prints the 300 estimate

Target (issue 9): 300 submissions in at most 10 minutes on 2 cores. The submissions are made
from the student release: reference answers, blank notebooks and a sign error in rotation. Each
configuration grades a fresh gradebook (PostgreSQL: a server started for the run, Debian's
`postgresql`), then checks that every submission has exactly one gradebook row with one grade
per graded cell. The 300 figure of a smaller run is count-proportional (each submission is an
independent nbgrader run); it is printed as an estimate, not as a measurement. The CPU time of
all processes per submission is printed too: on a machine shared with other jobs the wall time
measures the load, while CPU time / 2 bounds what 2 idle cores could do.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.assignments import nbgrader_support as nbs  # noqa: E402

PS1 = "ps1_elementwise"
VARIANTS = [dict(), dict(blank=True),
            dict(answers={"jvps": "def log_jvp(t, ans, x):\n    return -t / x\n\n\n"
                                  "def sqrt_jvp(t, ans, x):\n    return t / (2.0 * ans)\n"})]
TARGET_SECONDS, TARGET_COUNT = 600, 300


def course_with_submissions(base: Path, count: int, db_url: str | None) -> Path:
    root = nbs.copy_course(base)
    if db_url:
        with open(root / "nbgrader_config.py", "a") as fh:
            fh.write(f'\nc.CourseDirectory.db_url = "{db_url}"\n')
    nbs.release(root, PS1)
    for i in range(count):
        nbs.submit(root, f"student{i:03d}", PS1, **VARIANTS[i % len(VARIANTS)])
    return root


def check_gradebook(db_url: str, count: int) -> str:
    from nbgrader.api import Assignment, Gradebook, SubmittedAssignment
    with Gradebook(db_url) as gb:
        subs = gb.db.query(SubmittedAssignment).join(Assignment).filter(
            Assignment.name == PS1).all()
        cells = len(gb.find_assignment(PS1).notebooks[0].grade_cells)
        grades = [len(nb.grades) for s in subs for nb in s.notebooks]
    ok = len({s.student_id for s in subs}) == len(subs) == count and set(grades) == {cells}
    return "ok" if ok else f"WRONG: {len(subs)} submissions, grades per submission {set(grades)}"


def children_cpu() -> float:
    """User + system CPU seconds of all finished child processes (nbgrader runs and kernels:
    each parent waits for its children, so their time is included)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(count: int, jobs: int, db: str, postgres) -> None:
    with tempfile.TemporaryDirectory(prefix="class-bench-") as tmp:
        db_url = postgres(f"bench_{jobs}_{count}") if db == "postgresql" else None
        root = course_with_submissions(Path(tmp), count, db_url)
        env = dict(nbs.env())
        cpu0, start = children_cpu(), time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "classroom.parallel_autograde",
                               "--jobs", str(jobs), PS1], cwd=root, env=env,
                              capture_output=True, text=True)
        seconds, cpu = time.perf_counter() - start, children_cpu() - cpu0
        os.environ["PATH"] = env["PATH"]  # nbgrader's Gradebook runs alembic from PATH
        check = check_gradebook(db_url or f"sqlite:///{root / 'gradebook.db'}", count)
        estimate = seconds * TARGET_COUNT / count
        status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
        print(f"{db:10s} jobs={jobs}  {count:4d} submissions: {seconds:7.1f} s "
              f"({seconds / count:5.2f} s each)  -> {TARGET_COUNT}: "
              f"{'' if count == TARGET_COUNT else '~'}{estimate / 60:5.1f} min "
              f"[{'meets' if estimate <= TARGET_SECONDS else 'misses'} 10 min]  "
              f"run {status}, gradebook {check}", flush=True)
        print(f"{'':10s} CPU {cpu / count:5.2f} s per submission (all processes) -> {TARGET_COUNT} "
              f"on 2 otherwise idle cores: at least {TARGET_COUNT * cpu / count / 2 / 60:4.1f} min "
              f"with 2 jobs, {TARGET_COUNT * cpu / count / 60:4.1f} min serial", flush=True)
        if proc.returncode:
            print(proc.stderr[-2000:], file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=TARGET_COUNT)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    with contextlib.ExitStack() as stack:
        postgres = None
        if "postgresql" in args.db:
            server = importlib.import_module("tests.class.postgres_server")
            postgres = stack.enter_context(server.postgres_server())
        for db in args.db:
            for jobs in args.jobs:
                run(args.count, jobs, db, postgres)
    print(f"load average {os.getloadavg()[0]:.1f} at the end", flush=True)


if __name__ == "__main__":
    main()
