"""`make autograde JOBS=N`: submissions shared by N long-lived grading processes (nbgrader's API
in-process) on the SQLite gradebook; only new or changed submissions re-graded unless FORCE=1;
one student's failure reported while the others are graded, also when the grading process is
killed; manual grades kept; the expected checksum warnings summarised so an edited test cell
stands out; a grader that cannot sandbox stops the run."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

from ..assignments import nbgrader_support as nbs
from .class_support import PS1, edit_cell, gradebook_rows, make

pytestmark = pytest.mark.slow

TEST_CELLS = 12  # autograded test cells of ps1 (nbs.test_cells); each one Grade row per student


def graded(output):
    """Students named on a progress line ("[i/n] ps1_elementwise <student>: graded|FAILED")."""
    return dict(re.findall(rf"^\[\d+/\d+\] {PS1} (\S+): (graded|FAILED)", output, re.M))


def test_parallel_incremental_grading_on_sqlite(course):
    assert len(nbs.test_cells(PS1)) == TEST_CELLS
    nbs.submit(course, "alice", PS1)
    nbs.submit(course, "bob", PS1, blank=True)
    # an edited visible test cell (the reference answers otherwise): restored, and reported
    nbs.submit(course, "tom", PS1, edit=edit_cell("test_log_vjp_visible", "assert True"))
    nbs.submit(course, "carol", PS1).write_text('{"cells": [ not JSON')

    first = make(course, "autograde", ASSIGNMENTS=PS1, JOBS=2, check=False)
    out = first.stdout + first.stderr
    assert first.returncode != 0, "a failed student makes the run fail"
    assert graded(out) == {"alice": "graded", "bob": "graded", "tom": "graded", "carol": "FAILED"}
    assert "4 of 4 submissions to grade" in out and "2 at a time" in out
    assert "1 failed: ps1_elementwise/carol" in out
    # the hidden-test checksum changes are summarised; only tom's edited cell warns
    warned = re.findall(r"Attribute 'checksum' for cell (\S+) has changed", out)
    assert warned == ["test_log_vjp_visible"], warned
    scores, n_subs, n_grades, _ = gradebook_rows(f"sqlite:///{course / 'gradebook.db'}")
    # carol's unreadable notebook still gets a submission row from nbgrader (score 0)
    assert {k: v for k, v in scores.items() if k != "carol"} == \
        {"alice": 16.0, "bob": 0.0, "tom": 16.0}
    assert n_subs == 4 and n_grades == 4 * (TEST_CELLS + 1), \
        "one submission and one grade per cell each: nothing lost or duplicated"

    # nothing changed: only the failed one is tried again
    again = make(course, "autograde", ASSIGNMENTS=PS1, JOBS=2, check=False)
    assert graded(again.stdout) == {"carol": "FAILED"}
    assert "1 of 4 submissions to grade (3 unchanged)" in again.stdout

    # a changed submission (bob hands in again) and a fixed one are re-graded, and only they
    nbs.submit(course, "bob", PS1)
    nbs.submit(course, "carol", PS1)
    third = make(course, "autograde", ASSIGNMENTS=PS1, JOBS=2)
    assert graded(third.stdout) == {"bob": "graded", "carol": "graded"}
    scores, n_subs, n_grades, _ = gradebook_rows(f"sqlite:///{course / 'gradebook.db'}")
    assert scores == {"alice": 16.0, "bob": 16.0, "tom": 16.0, "carol": 16.0}
    assert n_subs == 4 and n_grades == 4 * (TEST_CELLS + 1)

    # FORCE=1 re-grades everyone; a manual grade survives it
    with nbs.gradebook(course) as gb:
        gb.find_grade("derivation", PS1, PS1, "alice").manual_score = 2.0
        gb.db.commit()
    forced = make(course, "autograde", ASSIGNMENTS=PS1, JOBS=2, FORCE=1)
    assert graded(forced.stdout) == {s: "graded" for s in ("alice", "bob", "tom", "carol")}
    scores, n_subs, n_grades, _ = gradebook_rows(f"sqlite:///{course / 'gradebook.db'}")
    assert scores == {"alice": 18.0, "bob": 16.0, "tom": 16.0, "carol": 16.0}
    assert n_subs == 4 and n_grades == 4 * (TEST_CELLS + 1)

    # an edited source (a fixed hidden test, say) makes every submission due again
    assert due(course) == []
    source = course / "source" / PS1 / f"{PS1}.ipynb"
    source.write_text(source.read_text() + "\n")     # any change of the source's bytes
    assert due(course) == ["alice", "bob", "carol", "tom"]


def due(root):
    """The students `make autograde` would grade now (its selection, run in the course root)."""
    code = ("from pathlib import Path; from classroom.parallel_autograde import to_grade; "
            f"print(' '.join(to_grade(Path('.'), '{PS1}', force=False)))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, env=nbs.env(),
                          capture_output=True, text=True, check=True, timeout=300)
    return proc.stdout.split()


def autograde(root, *args, **popen):
    """`python -m classroom.parallel_autograde ARGS` in the course root (what `make autograde`
    runs), its output in one pipe."""
    return subprocess.Popen([sys.executable, "-m", "classroom.parallel_autograde", *args],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            **{"env": nbs.env(), **popen})


def test_a_killed_grading_process_loses_only_its_submission(course):
    import psutil
    students = [f"s{i}" for i in range(4)]
    for s in students:
        nbs.submit(course, s, PS1)
    run = autograde(course, "--jobs", "1", PS1)
    lines = []
    for line in run.stdout:                   # one process grades s0, s1, ... in turn
        lines.append(line)
        if line.startswith(f"[1/4] {PS1} s0: graded"):
            break
    workers = [p for p in psutil.Process(run.pid).children()
               if "classroom.autograde_worker" in " ".join(p.cmdline())]
    assert len(workers) == 1, workers
    os.kill(workers[0].pid, signal.SIGKILL)  # as the OOM killer would, while it grades s1
    out = "".join(lines) + run.stdout.read()
    assert run.wait(timeout=600) == 1, out
    assert graded(out) == {"s0": "graded", "s1": "FAILED", "s2": "graded", "s3": "graded"}, out
    assert "the grading process died (exit status -9) while grading this submission" in out
    scores, n_subs, n_grades, _ = gradebook_rows(f"sqlite:///{course / 'gradebook.db'}")
    assert {scores[s] for s in ("s0", "s2", "s3")} == {16.0}

    again = autograde(course, "--jobs", "1", PS1)
    out = again.communicate(timeout=600)[0]
    assert again.returncode == 0 and graded(out) == {"s1": "graded"}, out
    scores, n_subs, n_grades, _ = gradebook_rows(f"sqlite:///{course / 'gradebook.db'}")
    assert scores == {s: 16.0 for s in students}
    assert n_subs == 4 and n_grades == 4 * (TEST_CELLS + 1)


def test_no_sandbox_stops_the_run(course):
    for s in ("s0", "s1", "s2"):
        nbs.submit(course, s, PS1)
    env = dict(nbs.env(), PATH=str(nbs.BIN))  # the course's tools, but no bwrap
    run = autograde(course, "--jobs", "1", PS1, env=env)
    out = run.communicate(timeout=600)[0]
    assert run.returncode == 1, out
    assert graded(out) == {"s0": "FAILED"}, out
    assert re.search(r"^    \[ERROR\] autograde stopped: bubblewrap \(bwrap\) is not installed",
                     out, re.M), "said under s0's progress line"
    assert re.search(r"^autograde stopped: bubblewrap \(bwrap\) is not installed.*"
                     r"\(2 submissions not graded\)$", out, re.M), out
    skipped = re.findall(rf"^\[\d/3\] {PS1} (s\d): not graded \(autograde stopped\)", out, re.M)
    assert sorted(skipped) == ["s1", "s2"], out
    assert not list(course.glob(f"autograded/*/.{PS1}.sha256")), "nothing recorded as graded"
