"""Helpers of the grading-pipeline tests: a temporary copy of the course root, the real nbgrader
CLI run in it, submissions made from the student release, and the scores read back from the
gradebook (never from an exit code alone)."""
from __future__ import annotations

import contextlib
import copy
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
COURSE = REPO / "assignments"
BIN = Path(sys.executable).parent
ASSIGNMENTS = ("ps1_elementwise", "ps2_matrices")

SOLUTION_RE = re.compile(r"^[ \t]*### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION\n?", re.S | re.M)
HIDDEN_RE = re.compile(r"^### BEGIN HIDDEN TESTS\n(.*?)^### END HIDDEN TESTS", re.S | re.M)


def copy_course(dest: Path) -> Path:
    """A copy of the course root without generated folders."""
    root = dest / "assignments"
    shutil.copytree(COURSE, root, ignore=shutil.ignore_patterns(
        "release", "submitted", "autograded", "feedback", "gradebook.db", "*.csv",
        "__pycache__", ".nbgrader.log", "hidden-inputs.salt"))
    return root


def env():
    e = dict(os.environ)
    e["PATH"] = f"{BIN}{os.pathsep}{e.get('PATH', '')}"  # nbgrader runs `alembic` from PATH
    e["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), e.get("PYTHONPATH", "")) if p)
    e.pop("ADCOURSE_GRADE_UNSANDBOXED", None)     # tests grade in the sandbox unless they say so
    return e


def nbgrader(root: Path, *args, check=True, timeout=600):
    """Run the real nbgrader CLI in the course root ``root``; returns the CompletedProcess."""
    proc = subprocess.run([str(BIN / "nbgrader"), *args], cwd=root, env=env(),
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc


def release(root: Path, *assignments):
    for a in assignments or ASSIGNMENTS:
        nbgrader(root, "generate_assignment", a, "--force")


def read(path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def reference_answers(assignment):
    """grade_id -> the source of the reference solution cell, as a student would submit it."""
    nb = read(COURSE / "source" / assignment / f"{assignment}.ipynb")
    out = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            out[meta["grade_id"]] = SOLUTION_RE.sub(lambda m: m.group(1), cell.source)
    return out


def submit(root: Path, student: str, assignment: str, answers=None, edit=None, blank=False):
    """Write submitted/<student>/<assignment>/<assignment>.ipynb from the student release.

    ``answers`` maps grade ids of solution cells to their new source (default: the reference
    solution); ``blank`` keeps the release stubs; ``edit(nb)`` may change the notebook further.
    """
    nb = read(root / "release" / assignment / f"{assignment}.ipynb")
    answers = dict({} if blank else reference_answers(assignment), **(answers or {}))
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid in answers and cell.metadata["nbgrader"].get("solution"):
            cell.source = answers[gid]
    if edit is not None:
        nb = edit(nb) or nb
    dest = root / "submitted" / student / assignment
    dest.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(dest / f"{assignment}.ipynb"))
    return dest / f"{assignment}.ipynb"


def autograde(root: Path, assignment: str, *extra, check=True):
    t = time.perf_counter()
    proc = nbgrader(root, "autograde", assignment, "--force", *extra, check=check)
    proc.seconds = time.perf_counter() - t
    return proc


def scores(root: Path, assignment: str, student: str):
    """grade_id -> (auto_score, manual_score, max_score, needs_manual_grade) from the gradebook."""
    with gradebook(root) as gb:
        nb = gb.find_submission_notebook(assignment, assignment, student)
        return {g.name: (g.auto_score, g.manual_score, g.max_score, g.needs_manual_grade)
                for g in nb.grades}


@contextlib.contextmanager
def gradebook(root: Path):
    """nbgrader's Gradebook API on the course copy (it runs `alembic` from PATH)."""
    from nbgrader.api import Gradebook
    saved = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{BIN}{os.pathsep}{saved}"
    try:
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
            yield gb
    finally:
        os.environ["PATH"] = saved


def test_cells(assignment):
    """grade_id -> points of the autograded test cells of the source notebook."""
    nb = read(COURSE / "source" / assignment / f"{assignment}.ipynb")
    return {grade_id(c): c.metadata.nbgrader["points"] for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}


def autograded(root: Path, student: str, assignment: str):
    return read(root / "autograded" / student / assignment / f"{assignment}.ipynb")


def cell_errors(nb, gid):
    for cell in nb.cells:
        if grade_id(cell) == gid:
            return "\n".join(f"{o.ename}: {o.evalue}" for o in cell.get("outputs", [])
                             if o.output_type == "error")
    raise KeyError(gid)


def assert_exact_losses(got, assignment, broken):
    """Every autograded test cell scores full marks, except those in ``broken``, which score 0."""
    cells = test_cells(assignment)
    assert set(broken) <= set(cells), f"unknown cells {set(broken) - set(cells)}"
    wrong = {gid: (got[gid][0], pts) for gid, pts in cells.items()
             if got[gid][0] != (0.0 if gid in broken else pts)}
    assert not wrong, ("cells scored (auto_score, max) against expectation "
                       f"(broken = {sorted(broken)}): {wrong}")


def remove_cells(nb, *gids):
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if grade_id(c) not in gids]
    return nb
