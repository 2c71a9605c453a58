"""Flipped grading flags and a notebook slower than its budget, through the real nbgrader CLI.

* Flags: a student's JupyterLab (or a text editor) can change a cell's nbgrader metadata. Each
  student below submits the reference answers with one kind of change; nbgrader's own
  ``OverwriteCells`` stops on such a notebook ("Inconsistent checksums") or grades a test cell as
  an answer. ``RestoreCells`` resets the flags to the gradebook's: every item keeps its points,
  and the review report names the cell.
* Budget: each call of the student's ``grad_with_my_rules`` / ``jvp_with_my_rules`` sleeps 6 s
  (within the 10 s per-request timeout). Without a budget the notebook would take over 100 s
  (2 plugin calls in the visible cell, 15 in the hidden one); with ``GradeInSandbox.budget=30``
  the items graded before keep their points, the rest score 0 saying why, and the submission is
  listed for review.
"""
from __future__ import annotations

import csv

import pytest

from . import nbgrader_support as nbs

pytestmark = pytest.mark.slow

PS1 = nbs.ASSIGNMENTS[0]


def _set(gid, **flags):
    def edit(nb):
        for cell in nb.cells:
            if nbs.grade_id(cell) == gid:
                cell.metadata.nbgrader.update(flags)
        return nb
    return edit


def _to_markdown(gid):
    def edit(nb):
        import nbformat
        for k, cell in enumerate(nb.cells):
            if nbs.grade_id(cell) == gid:
                nb.cells[k] = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)
        return nb
    return edit


FLIPS = {
    "grade_cleared": ("test_log_vjp_hidden", _set("test_log_vjp_hidden", grade=False)),
    "solution_on_test": ("test_walkthrough_visible",
                         _set("test_walkthrough_visible", solution=True)),
    "task_on_answer": ("log_vjp", _set("log_vjp", task=True)),
    "solution_cleared": ("sqrt_vjp", _set("sqrt_vjp", solution=False)),
    "unlocked_points": ("test_sqrt_vjp_hidden",
                        _set("test_sqrt_vjp_hidden", locked=False, points=100)),
    "to_markdown": ("test_log_jvp_visible", _to_markdown("test_log_jvp_visible")),
}


def _review(root):
    with open(root / "needs_review.csv", newline="") as fh:
        return {r["student"]: r["what needs a look"] for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def flags_run(tmp_path_factory):
    root = nbs.copy_course(tmp_path_factory.mktemp("flags"))
    nbs.release(root, PS1)
    nbs.submit(root, "aa_honest", PS1)
    for student, (_, edit) in FLIPS.items():
        nbs.submit(root, student, PS1, edit=edit)
    proc = nbs.autograde(root, PS1, check=False)
    return root, proc


@pytest.mark.parametrize("student", sorted(FLIPS))
def test_a_flipped_flag_is_reset_and_costs_nothing_else(flags_run, student):
    root, proc = flags_run
    assert f"for student '{student}'" not in proc.stderr, proc.stderr[-3000:]
    nbs.assert_exact_losses(nbs.scores(root, PS1, student), PS1, set())
    gid = FLIPS[student][0]
    note = _review(root).get(student, "")
    assert f"cell '{gid}': grading metadata changed" in note, note


def test_honest_submission_is_not_flagged(flags_run):
    root, proc = flags_run
    nbs.assert_exact_losses(nbs.scores(root, PS1, "aa_honest"), PS1, set())
    assert "aa_honest" not in _review(root)


def _slow_plugin():
    """The reference plugin answer, each function sleeping 6 s first."""
    src = nbs.reference_answers(PS1)["plugin"]
    for head in ("def grad_with_my_rules(w1, w2):\n", "def jvp_with_my_rules(w1, w2, t1, t2):\n"):
        assert head in src
        src = src.replace(head, head + "    __import__('time').sleep(6)\n")
    return src


def test_a_notebook_over_its_budget_loses_only_the_items_not_graded(tmp_path):
    course = nbs.copy_course(tmp_path)
    nbs.release(course, PS1)
    nbs.submit(course, "slow", PS1, answers={"plugin": _slow_plugin()})
    proc = nbs.autograde(course, PS1, "--GradeInSandbox.budget=30")
    assert proc.seconds < 75, f"autograde took {proc.seconds:.0f} s with a 30 s budget"
    scores = nbs.scores(course, PS1, "slow")
    nb = nbs.autograded(course, "slow", PS1)
    cut = {g for g in nbs.test_cells(PS1) if "time budget" in nbs.cell_errors(nb, g)}
    assert "test_plugin_hidden" in cut and "test_log_vjp_visible" not in cut, cut
    nbs.assert_exact_losses(scores, PS1, cut)
    for gid in cut:
        assert "ran out" in nbs.cell_errors(nb, gid) and "scores 0" in nbs.cell_errors(nb, gid)
    note = _review(course)["slow"]
    assert "time budget (30 s, GradeInSandbox.budget) ran out" in note
    assert all(g in note for g in cut), note
