"""Time to autograde one submission, sandbox on (target: <= 4 s), two ways.

    .venv/bin/python benchmarks/grading.py [--repeats 3]

Makes a temporary copy of the course root, releases both assignments, submits the reference
solution of each as one student, then times:

* the command ``nbgrader autograde <assignment> --student ref --force`` (the whole command:
  nbgrader start-up, sanitizing, the sandboxed workers, the checks, the gradebook, the exit), and
  ``nbgrader --version`` beside it: the start-up and exit that every nbgrader command pays;
* the same grading in a process that has nbgrader loaded already: ``classroom.autograde_worker``
  (``NbGraderAPI.autograde``, what ``make autograde`` and the Formgrader's *Autograde* button
  run), one request per repeat.

Prints each run, the medians, and the CPU time of the command and its workers (on a busy machine
the wall time grows, the CPU time much less).
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.assignments import nbgrader_support as nbs  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
        root = nbs.copy_course(Path(tmp))
        nbs.release(root)
        for assignment in nbs.ASSIGNMENTS:
            nbs.submit(root, "ref", assignment)
            times, cpu = [], []
            for _ in range(args.repeats):
                c = resource.getrusage(resource.RUSAGE_CHILDREN)
                t = time.perf_counter()
                nbs.nbgrader(root, "autograde", assignment, "--student", "ref", "--force")
                times.append(time.perf_counter() - t)
                c2 = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu.append(c2.ru_utime + c2.ru_stime - c.ru_utime - c.ru_stime)
            warm = in_process(root, assignment, args.repeats)
            got = nbs.scores(root, assignment, "ref")
            auto = sum(v[0] or 0 for v in got.values())
            print(f"{assignment}: one submission autograded in "
                  f"{', '.join(f'{t:.2f}' for t in times)} s (median {statistics.median(times):.2f} s; "
                  f"target <= 4 s); CPU time of nbgrader and its workers {statistics.median(cpu):.2f} s; "
                  f"reference scored {auto:g} automatic points")
            print(f"{assignment}: the same in a process with nbgrader loaded (make autograde, the "
                  f"Formgrader): {', '.join(f'{t:.2f}' for t in warm)} s (median "
                  f"{statistics.median(warm):.2f} s)")
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            nbs.nbgrader(root, "--version")
            times.append(time.perf_counter() - t)
        print(f"nbgrader --version (start-up and exit of every nbgrader command): "
              f"{', '.join(f'{t:.2f}' for t in times)} s (median {statistics.median(times):.2f} s)")


def in_process(root, assignment, repeats):
    """Seconds per autograde of ``ref`` in one ``classroom.autograde_worker`` process (its own
    timing of each request, the process started and warmed up first)."""
    proc = subprocess.Popen([sys.executable, "-m", "classroom.autograde_worker"], cwd=root,
                            env=nbs.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert json.loads(proc.stdout.readline()).get("ready"), "the grading process did not start"
        seconds = []
        for _ in range(repeats + 1):
            proc.stdin.write(json.dumps({"assignment": assignment, "student": "ref"}) + "\n")
            proc.stdin.flush()
            reply = json.loads(proc.stdout.readline())
            assert reply["ok"], reply.get("log", "")[-2000:]
            seconds.append(reply["seconds"])
        return seconds[1:]
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)


if __name__ == "__main__":
    main()
