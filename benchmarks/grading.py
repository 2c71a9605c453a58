"""Time to autograde one submission with the real nbgrader CLI, sandbox on (target: <= 4 s).

    .venv/bin/python benchmarks/grading.py [--repeats 3]

Makes a temporary copy of the course root, releases both assignments, submits the reference
solution of each as one student, and times ``nbgrader autograde <assignment> --student ref
--force`` (the whole command: nbgrader start-up, sanitizing, the sandboxed workers, the checks,
the gradebook). Prints each run, the median per assignment, and the CPU time used by nbgrader and its workers
(on a busy machine the wall time grows, the CPU time much less).
"""
from __future__ import annotations

import argparse
import resource
import statistics
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
            got = nbs.scores(root, assignment, "ref")
            auto = sum(v[0] or 0 for v in got.values())
            print(f"{assignment}: one submission autograded in "
                  f"{', '.join(f'{t:.2f}' for t in times)} s (median {statistics.median(times):.2f} s; "
                  f"target <= 4 s); CPU time of nbgrader and its workers {statistics.median(cpu):.2f} s; "
                  f"reference scored {auto:g} automatic points")


if __name__ == "__main__":
    main()
