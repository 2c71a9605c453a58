"""Autograding a class: time for N synthetic ps1 submissions, serial and with 2 processes, on the
SQLite and the PostgreSQL gradebook, through `python -m classroom.parallel_autograde` (what
`make autograde JOBS=N` runs: N long-lived grading processes, each loading nbgrader and the
course config once and grading its share of the submissions through nbgrader's API in-process).

    python benchmarks/class_grading.py                  # 300 submissions, jobs 1 and 2, both DBs
    python benchmarks/class_grading.py --jobs 2 --db sqlite      # one configuration
    python benchmarks/class_grading.py --count 20       # a quick check; prints a 300 estimate

Target (issue 9): 300 submissions in at most 10 minutes on 2 cores. The submissions are made
from the student release: reference answers, blank notebooks and a sign error in rotation. Each
configuration grades a fresh gradebook (PostgreSQL: a server started for the run, Debian's
`postgresql`), then checks the gradebook: exactly one submission row per student, one grade per
graded cell, and each student's score the one of its answers (16, 0, or 16 minus the points of
the four cells that call the wrong `log_jvp`), so a grade carried over from one submission to
the next in a grading process would show. The 300 figure of a smaller run is an estimate
(count-proportional, start-up included), not a measurement.

The machine may be shared: the load average is printed at the start and the end of each run, and
the CPU time of all processes of the run (user + system, the sandboxed workers included) per
submission: CPU time / 2 bounds what 2 idle cores could do. It is counted by a cgroup made for
the run when the benchmark runs as root, else by ``getrusage``, which misses the sandboxed
workers killed without being waited for (a lower bound, and said so); the PostgreSQL server's own
CPU time is not included. The largest peak RSS of any one process is printed too (a grading
process grows, if at all, over its whole share of the class).
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
TARGET_SECONDS, TARGET_COUNT = 600, 300
SIGN = {"jvps": "def log_jvp(t, ans, x):\n    return -t / x\n\n\n"
                "def sqrt_jvp(t, ans, x):\n    return t / (2.0 * ans)\n"}
# the cells that call log_jvp: its own visible and hidden tests and the plug-in cells'
SIGN_BROKEN = ("test_log_jvp_visible", "test_log_jvp_hidden", "test_plugin_visible",
               "test_plugin_hidden")
VARIANTS = [dict(), dict(blank=True), dict(answers=SIGN)]


def expected_scores() -> list[float]:
    """The score of each variant: all test cells' points, none, all but the wrong log_jvp's."""
    points = nbs.test_cells(PS1)
    full = float(sum(points.values()))
    return [full, 0.0, full - sum(points[g] for g in SIGN_BROKEN)]


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
    expected = expected_scores()
    with Gradebook(db_url) as gb:
        subs = gb.db.query(SubmittedAssignment).join(Assignment).filter(
            Assignment.name == PS1).all()
        cells = len(gb.find_assignment(PS1).notebooks[0].grade_cells)
        grades = [len(nb.grades) for s in subs for nb in s.notebooks]
        wrong = [s.student_id for s in subs
                 if s.score != expected[int(s.student_id[len("student"):]) % len(VARIANTS)]]
    problems = []
    if not len({s.student_id for s in subs}) == len(subs) == count:
        problems.append(f"{len(subs)} submission rows for {count} students")
    if set(grades) != {cells}:
        problems.append(f"grades per submission {set(grades)}, not {cells}")
    if wrong:
        problems.append(f"{len(wrong)} wrong scores ({', '.join(wrong[:5])})")
    return "ok" if not problems else "WRONG: " + "; ".join(problems)


def children_usage() -> tuple[float, float]:
    """User + system CPU seconds of all finished descendants that were waited for, and the
    largest peak RSS of any one of them, in MB."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime, r.ru_maxrss / 1024


def cpu_group(name: str):
    """A new cgroup (v1 ``cpuacct`` or v2) that counts the CPU seconds of the processes put in it
    and of all their descendants, also those killed without being waited for (the sandboxed
    workers: ``getrusage`` misses them). ``(folder, seconds)``, or None where no cgroup can be
    made (not root, no cgroup file system)."""
    def v1(group):
        return int((group / "cpuacct.usage").read_text()) / 1e9

    def v2(group):
        stat = dict(line.split() for line in (group / "cpu.stat").read_text().splitlines())
        return int(stat["usage_usec"]) / 1e6

    for base, seconds in ((Path("/sys/fs/cgroup/cpuacct"), v1), (Path("/sys/fs/cgroup"), v2)):
        group = base / name
        try:
            group.mkdir()
        except OSError:
            continue
        try:
            seconds(group)
        except (OSError, KeyError, ValueError):
            group.rmdir()
            continue
        return group, seconds
    return None


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def run(count: int, jobs: int, db: str, postgres) -> None:
    with tempfile.TemporaryDirectory(prefix="class-bench-") as tmp:
        db_url = postgres(f"bench_{jobs}_{count}") if db == "postgresql" else None
        root = course_with_submissions(Path(tmp), count, db_url)
        env = dict(nbs.env())
        group = cpu_group(f"class-bench-{os.getpid()}-{db}-{jobs}")
        join = (lambda: (group[0] / "cgroup.procs").write_text(str(os.getpid()))) if group else None
        load0, (cpu0, _), start = load(), children_usage(), time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "classroom.parallel_autograde",
                               "--jobs", str(jobs), PS1], cwd=root, env=env,
                              capture_output=True, text=True, preexec_fn=join)
        seconds = time.perf_counter() - start
        cpu, rss = children_usage()
        cpu, how = cpu - cpu0, "getrusage: a lower bound, killed sandbox workers not counted"
        if group:
            cpu, how = group[1](group[0]), "cgroup"
            with contextlib.suppress(OSError):
                group[0].rmdir()
        os.environ["PATH"] = env["PATH"]  # nbgrader's Gradebook runs alembic from PATH
        check = check_gradebook(db_url or f"sqlite:///{root / 'gradebook.db'}", count)
        estimate = seconds * TARGET_COUNT / count
        status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
        print(f"{db:10s} jobs={jobs}  {count:4d} submissions: {seconds:7.1f} s "
              f"({seconds / count:5.2f} s each)  -> {TARGET_COUNT}: "
              f"{'' if count == TARGET_COUNT else '~'}{estimate / 60:5.1f} min "
              f"[{'meets' if estimate <= TARGET_SECONDS else 'misses'} 10 min]  "
              f"run {status}, gradebook {check}", flush=True)
        print(f"{'':10s} CPU {cpu:7.1f} s ({how}), {cpu / count:5.2f} s per submission "
              f"-> {TARGET_COUNT} on 2 otherwise idle cores: at least "
              f"{TARGET_COUNT * cpu / count / 2 / 60:4.1f} min with 2 jobs, "
              f"{TARGET_COUNT * cpu / count / 60:4.1f} min serial; largest process peak RSS "
              f"{rss:.0f} MB so far; load average (1/5/15 min) {load0} at the start, "
              f"{load()} at the end", flush=True)
        if proc.returncode:
            print(proc.stderr[-2000:], file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=TARGET_COUNT)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average (1/5/15 min) {load()} at the start", flush=True)
    with contextlib.ExitStack() as stack:
        postgres = None
        if "postgresql" in args.db:
            server = importlib.import_module("tests.class.postgres_server")
            postgres = stack.enter_context(server.postgres_server())
        for db in args.db:
            for jobs in args.jobs:
                run(args.count, jobs, db, postgres)
    print(f"load average (1/5/15 min) {load()} at the end", flush=True)


if __name__ == "__main__":
    main()
