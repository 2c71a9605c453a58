"""The nbgrader grading pipeline of assignments/, end to end: the real nbgrader CLI in a temporary
copy of the course root (fixtures in conftest.py), scores read from the gradebook. Cheats, crashes,
broken cell structure and honest variants are in test_adversarial.py.

Expected losses are written out here from the notebooks' design (which answer each test cell
calls), never computed by the grading code under test.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from . import nbgrader_support as nbs

pytestmark = pytest.mark.slow

PS1, PS2 = nbs.ASSIGNMENTS

# ---- answers used by several tests ---------------------------------------------------------------

PS1_SIGN = {"jvps": '''
def log_jvp(t, ans, x):
    return -t / x          # sign error


def sqrt_jvp(t, ans, x):
    return t / (2.0 * ans)
'''}
# cells that call log_jvp: its own two test cells and jvp_with_my_rules' cells
PS1_SIGN_BROKEN = {"test_log_jvp_visible", "test_log_jvp_hidden", "test_plugin_visible",
                   "test_plugin_hidden"}


def _hidden_texts(assignment):
    """Lines of the hidden-test regions and solution bodies of the source notebook."""
    nb = nbs.read(nbs.COURSE / "source" / assignment / f"{assignment}.ipynb")
    hidden, solutions, public = set(), set(), ""
    for cell in nb.cells:
        for m in nbs.HIDDEN_RE.finditer(cell.source):
            hidden |= {ln.strip() for ln in m.group(1).splitlines() if len(ln.strip()) > 12}
        for m in nbs.SOLUTION_RE.finditer(cell.source):
            solutions |= {ln.strip() for ln in m.group(1).splitlines() if len(ln.strip()) > 12}
        public += nbs.SOLUTION_RE.sub("", nbs.HIDDEN_RE.sub("", cell.source)) + "\n"
    # lines that the student version shows anyway (e.g. quoted in the instructions) are no leak
    return ({ln for ln in hidden if ln not in public},
            {ln for ln in solutions if ln not in public})


def test_1_release_has_no_solutions_and_no_hidden_tests(released_course, tmp_path):
    for assignment in nbs.ASSIGNMENTS:
        folder = released_course / "release" / assignment
        assert sorted(p.name for p in folder.iterdir()) == [f"{assignment}.ipynb"]
        text = (folder / f"{assignment}.ipynb").read_text()
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "adgrade",
                       "ADCOURSE_GRADING_DIR"):
            assert marker not in text, f"{assignment} release contains {marker!r}"
        hidden, solutions = _hidden_texts(assignment)
        assert solutions
        nb = nbs.read(folder / f"{assignment}.ipynb")
        code = "\n".join(c.source for c in nb.cells)
        leaked = [ln for ln in hidden | solutions if ln in code]
        assert not leaked, f"{assignment} release leaks: {leaked}"
        stubs = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")
                 and c.cell_type == "code"]
        assert stubs and all("raise NotImplementedError()" in c.source for c in stubs)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")

    # a jupytext twin of a notebook (solutions included) put into source/ is not released
    root = nbs.copy_course(tmp_path)
    twin = root / "source" / PS1 / f"{PS1}.py"
    twin.write_text("# %%\ndef log_vjp(g, ans, x):\n    return g / x  # SOLUTION TWIN\n")
    nbs.release(root, PS1)
    released = [p.name for p in (root / "release" / PS1).iterdir()]
    assert released == [f"{PS1}.ipynb"]


def test_2_reference_solution_scores_full_marks(course):
    for assignment in nbs.ASSIGNMENTS:
        nbs.submit(course, "ref", assignment)
        nbs.autograde(course, assignment)   # its time: benchmarks/grading.py
        got = nbs.scores(course, assignment, "ref")
        nbs.assert_exact_losses(got, assignment, broken=set())
        manual = {gid for gid, (auto, _, _, needs) in got.items() if needs}
        expected_manual = {"derivation"} if assignment == PS1 else {"derivation_solve", "derivation_svd"}
        assert manual == expected_manual


VALIDATE = """
import json, sys
from traitlets.config.loader import PyFileConfigLoader
from nbgrader.validator import Validator
cfg = PyFileConfigLoader("nbgrader_config.py", path=".").load_config()
print(json.dumps(Validator(config=cfg).validate(sys.argv[1])))
"""


def _validate(root, path):
    """nbgrader's Validator API (with the course config); returns its result dict."""
    proc = subprocess.run([sys.executable, "-c", VALIDATE, str(path)], cwd=root, env=nbs.env(),
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_3_blank_release_scores_zero_and_autograding_completes(course):
    for assignment in nbs.ASSIGNMENTS:
        nbs.submit(course, "blank", assignment, blank=True)
        proc = nbs.autograde(course, assignment)
        assert proc.returncode == 0
        assert (course / "autograded" / "blank" / assignment / f"{assignment}.ipynb").exists()
        got = nbs.scores(course, assignment, "blank")
        nbs.assert_exact_losses(got, assignment, broken=set(nbs.test_cells(assignment)))
        assert sum(auto or 0 for auto, _, _, _ in got.values()) == 0

    # validity is read from the Validator's result: `nbgrader validate` exits 0 either way
    blank = course / "submitted" / "blank" / PS1 / f"{PS1}.ipynb"
    assert _validate(course, blank).get("failed"), "the blank notebook should fail validation"
    cli = nbs.nbgrader(course, "validate", str(blank), check=False)
    assert cli.returncode == 0 and "VALIDATION FAILED" in cli.stdout
    ref = nbs.submit(course, "ref", PS1)
    assert _validate(course, ref) == {}, "the reference solution should validate"


def test_6_infinite_loop_times_out_and_the_rest_is_graded(course):
    loop = {"low_rank": '''
def low_rank_grad(W, X, Y, lam):
    while True:
        pass
'''}
    nbs.submit(course, "loop", PS2, answers=loop)
    proc = nbs.autograde(course, PS2)
    assert proc.returncode == 0
    nbs.assert_exact_losses(nbs.scores(course, PS2, "loop"), PS2,
                            {"test_low_rank_visible", "test_low_rank_hidden"})
    nb = nbs.autograded(course, "loop", PS2)
    msg = nbs.cell_errors(nb, "test_low_rank_visible")
    assert "did not answer within 10 s" in msg and "fresh worker" in msg


def test_8_a_corrupted_notebook_is_reported_and_the_others_graded(course):
    nbs.submit(course, "alice", PS1)
    nbs.submit(course, "bob", PS1, answers=PS1_SIGN)
    bad = nbs.submit(course, "carol", PS1)
    bad.write_text('{"cells": [ this is not JSON')
    proc = nbs.autograde(course, PS1, check=False)
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, "a failed student must make the run fail visibly"
    assert "There was an error processing assignment 'ps1_elementwise' for student 'carol'" in log
    assert "for student 'alice'" not in log and "for student 'bob'" not in log
    nbs.assert_exact_losses(nbs.scores(course, PS1, "alice"), PS1, set())
    nbs.assert_exact_losses(nbs.scores(course, PS1, "bob"), PS1, PS1_SIGN_BROKEN)


def test_9_rerunning_autograde_keeps_manual_grades(course):
    nbs.submit(course, "alice", PS1)
    nbs.autograde(course, PS1)
    with nbs.gradebook(course) as gb:
        gb.find_grade("derivation", PS1, PS1, "alice").manual_score = 2.5
        gb.find_grade("test_log_vjp_hidden", PS1, PS1, "alice").manual_score = 1.0  # override
        gb.find_comment("derivation", PS1, PS1, "alice").manual_comment = "good, but step 2?"
        gb.db.commit()
    nbs.autograde(course, PS1)     # --force: everything re-executed
    got = nbs.scores(course, PS1, "alice")
    assert got["derivation"][1] == 2.5
    assert got["test_log_vjp_hidden"][:2] == (2.0, 1.0)
    with nbs.gradebook(course) as gb:
        assert gb.find_comment("derivation", PS1, PS1, "alice").manual_comment == "good, but step 2?"
        assert gb.find_submission(PS1, "alice").score == 16 - 2 + 1 + 2.5


def test_10c_feedback_shows_no_hidden_test_source(course):
    nbs.submit(course, "sign", PS1, answers=PS1_SIGN)
    nbs.autograde(course, PS1)
    nbs.nbgrader(course, "generate_feedback", PS1, "--force")
    html = (course / "feedback" / "sign" / PS1 / f"{PS1}.html").read_text()
    hidden, _ = _hidden_texts(PS1)
    for text in ["BEGIN HIDDEN TESTS", "adgrade", "CellGrader", "harness.py",
                 "most recent call last", *hidden]:
        assert text not in html, f"feedback reveals {text!r}"
    # ... but says which test failed and why
    assert "Visible tests for log_jvp" in html
    assert "disagrees with autograd" in html and "test_log_jvp_hidden" in html


# ---- the instructor workflow: one make target each ---------------------------------------------


def test_instructor_make_targets(tmp_path):
    """make release / autograde / feedback / grades, as documented in the README."""
    import shutil

    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(nbs.REPO / "Makefile", repo / "Makefile")
    root = nbs.copy_course(repo)
    venv = str(nbs.BIN.parent)

    def make(target):
        # -o: use the existing virtual environment as it is (do not re-install it)
        return subprocess.run(["make", "-s", f"VENV={venv}", "-o", f"{venv}/.installed", target],
                               cwd=repo, env=nbs.env(), capture_output=True, text=True,
                               timeout=600)

    assert make("release").returncode == 0
    for a in nbs.ASSIGNMENTS:
        assert (root / "release" / a / f"{a}.ipynb").exists()
    nbs.submit(root, "alice", PS1)
    nbs.submit(root, "bob", PS1, blank=True)
    proc = make("autograde")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "no submissions of ps2_matrices" in proc.stdout
    assert make("feedback").returncode == 0
    for student in ("alice", "bob"):
        assert (root / "feedback" / student / PS1 / f"{PS1}.html").exists()
    assert make("grades").returncode == 0
    rows = (root / "grades.csv").read_text().splitlines()
    header = rows[0].split(",")
    table = {(r.split(",")[0], r.split(",")[header.index("student_id")]): r.split(",") for r in rows[1:]}
    alice = table[(PS1, "alice")]
    assert float(alice[header.index("score")]) == 16.0     # manual derivation not graded yet
    assert float(alice[header.index("max_score")]) == 19.0
    assert float(table[(PS1, "bob")][header.index("score")]) == 0.0


# ---- without bubblewrap ------------------------------------------------------------------------


def test_autograde_stops_without_the_sandbox_unless_the_opt_out_is_set(course):
    nbs.submit(course, "alice", PS1)
    env = nbs.env()
    env["PATH"] = str(nbs.BIN)            # no /usr/bin: bwrap cannot be found
    cmd = [str(nbs.BIN / "nbgrader"), "autograde", PS1, "--force"]
    proc = subprocess.run(cmd, cwd=course, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert "autograde stopped" in proc.stderr and "apt-get install -y bubblewrap" in proc.stderr
    with nbs.gradebook(course) as gb:
        grades = gb.find_submission_notebook(PS1, PS1, "alice").grades
        assert all(g.auto_score is None for g in grades), "nothing was graded without the sandbox"
    env["ADCOURSE_GRADE_UNSANDBOXED"] = "1"   # the documented opt-out
    proc = subprocess.run(cmd, cwd=course, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nbs.assert_exact_losses(nbs.scores(course, PS1, "alice"), PS1, set())
    assert "graded WITHOUT the sandbox" in (course / "needs_review.csv").read_text()
