"""Grading you can trust: cheats, sabotage, crashes and honest variants through the real nbgrader
CLI (``nbgrader autograde``, course config as shipped), many students per run.

Each cheat is a submission whose answers are wrong (the release's blank stubs, or wrong rules)
unless the cheat works: without the defence it would score points, so each test fails if the
defence is removed. Expected scores are written out here from the assignment design (which cell
calls which answer), never computed by the grading code.
"""
from __future__ import annotations

import copy
import csv

import nbformat
import pytest

from . import nbgrader_support as nbs
from .test_pipeline import PS1_SIGN, PS1_SIGN_BROKEN

pytestmark = pytest.mark.slow

PS1, PS2 = nbs.ASSIGNMENTS
ALL1 = set(nbs.test_cells(PS1))
ALL2 = set(nbs.test_cells(PS2))
# a short per-call timeout keeps the hang tests quick; every honest call takes well under 1 s
TIMEOUT = "--GradeInSandbox.timeout=5"

# ---- code shared by the cheats -----------------------------------------------------------------

WALK_UP = '''
import os, pathlib
def _ancestors():
    starts = [pathlib.Path.cwd()]
    try:
        import autodiff_core
        starts.append(pathlib.Path(autodiff_core.__file__).resolve())
    except Exception:
        pass
    for env in ("ADCOURSE_GRADING_DIR", "HOME", "PWD"):
        if os.environ.get(env):
            starts.append(pathlib.Path(os.environ[env]))
    seen = []
    for s in starts:
        for p in [s, *s.parents]:
            if p not in seen:
                seen.append(p)
    return seen
'''

GRADEBOOK_WRITE = WALK_UP + '''
import sqlite3
_hits = 0
for _d in _ancestors():
    _db = _d / "gradebook.db"
    if _db.exists():
        _con = sqlite3.connect(str(_db))
        _con.execute("UPDATE grade SET auto_score = 0, manual_score = 0")
        _con.execute("UPDATE grade SET manual_score = 99, extra_credit = 100 WHERE notebook_id IN "
                     "(SELECT n.id FROM submitted_notebook n JOIN submitted_assignment a "
                     "ON n.assignment_id = a.id WHERE a.student_id = 'zz_gradebook')")
        _con.commit()
        _hits += 1
print("gradebooks written:", _hits)
'''

EXEC_SOLUTION = WALK_UP + '''
import json
_found = 0
for _d in _ancestors():
    for _nb in list(_d.glob("source/{a}/*.ipynb")) + list(_d.glob("*/source/{a}/*.ipynb")):
        for _cell in json.load(open(_nb))["cells"]:
            if _cell.get("metadata", {{}}).get("nbgrader", {{}}).get("solution") and _cell["cell_type"] == "code":
                exec("".join(_cell["source"]), globals())
                _found += 1
print("solution cells executed:", _found)
'''

IMPORT_GRADER = WALK_UP + '''
import sys, importlib
for _d in _ancestors():
    for _g in (_d / "grading", _d / "assignments" / "grading"):
        if (_g / "adgrade").is_dir() and str(_g) not in sys.path:
            sys.path.insert(0, str(_g))
try:
    import adgrade.harness, adgrade.student
    adgrade.harness.CellGrader.verdict = lambda self: None        # every cell "passes"
    from adgrade.{m} import _oracles
    _ad, _anp, _autograd, _agnp = _oracles()
    {define}
    print("grader patched")
except ImportError as exc:
    print("no grader:", exc)
'''

DISPLAYHOOK = '''
import sys
from IPython.display import display

def _ok():
    sys.displayhook(1.0)            # a number as execute_result: nbgrader's partial credit
    display({"text/plain": "All tests in this cell ran and passed."}, raw=True)
    print("ok")
    print("All tests passed", file=sys.stderr)
'''

# ---- ps1 submissions -----------------------------------------------------------------------------

USES_LOG_VJP = {"test_log_vjp_visible", "test_log_vjp_hidden", "test_walkthrough_visible",
                "test_walkthrough_hidden", "test_plugin_visible", "test_plugin_hidden"}
USES_SQRT_VJP = {"test_sqrt_vjp_visible", "test_sqrt_vjp_hidden", "test_walkthrough_visible",
                 "test_walkthrough_hidden", "test_plugin_visible", "test_plugin_hidden"}
USES_SQRT_JVP = {"test_sqrt_jvp_visible", "test_sqrt_jvp_hidden", "test_plugin_visible",
                 "test_plugin_hidden"}


def _with_cell(source, after="log_vjp", meta=None):
    """An edit that inserts a code cell with ``source`` after the cell ``after``."""
    def edit(nb):
        nb = copy.deepcopy(nb)
        i = [nbs.grade_id(c) for c in nb.cells].index(after)
        cell = nbformat.v4.new_code_cell(source)
        if meta:
            cell.metadata["nbgrader"] = meta
        nb.cells.insert(i + 1, cell)
        return nb
    return edit


def _ps2_notebook_as_ps1(root):
    def edit(nb):
        other = nbs.read(root / "release" / PS2 / f"{PS2}.ipynb")
        refs = nbs.reference_answers(PS2)
        for cell in other.cells:
            gid = nbs.grade_id(cell)
            if gid in refs and cell.metadata["nbgrader"].get("solution"):
                cell.source = refs[gid]
        return other
    return edit


def ps1_students(root):
    """student -> (submit keyword arguments, cells expected to score 0)."""
    return {
        # honest work
        "ref": (dict(), set()),
        "honest_loops_stderr": (dict(answers={"log_vjp": '''
import logging, sys, warnings


def log_vjp(g, ans, x):
    print("debug: log_vjp called", file=sys.stderr)          # a debug line on stderr
    logging.warning("log_vjp: debugging")
    warnings.warn("x may be tiny", RuntimeWarning)
    g, x = np.asarray(g, dtype=float), np.asarray(x, dtype=float)
    out = np.empty(np.broadcast_shapes(g.shape, x.shape))
    gb, xb = np.broadcast_to(g, out.shape), np.broadcast_to(x, out.shape)
    for i in np.ndindex(out.shape):                            # an explicit loop
        out[i] = gb[i] / xb[i] if xb[i] != 0 else np.copysign(np.inf, gb[i])
    return out
''', "sqrt_vjp": '''
def sqrt_vjp(g, ans, x):
    return 0.5 * g * anp.power(x, -0.5)       # another formula, with the engine's array ops
'''}), set()),
        "sign": (dict(answers=PS1_SIGN), PS1_SIGN_BROKEN),
        "raises": (dict(answers={"sqrt_vjp": '''
def sqrt_vjp(g, ans, x):
    raise ValueError("not done yet")
'''}), USES_SQRT_VJP),
        # cheats: blank answers plus the cheat (the whole notebook would score if it worked)
        "zz_gradebook": (dict(blank=True, edit=_with_cell(GRADEBOOK_WRITE)), ALL1),
        "exec_solution": (dict(blank=True, edit=_with_cell(EXEC_SOLUTION.format(a=PS1),
                                                           after="plugin")), ALL1),
        "import_grader": (dict(blank=True, edit=_with_cell(IMPORT_GRADER.format(m="ps1", define='''
    log_vjp = lambda g, ans, x: _autograd.make_vjp(_agnp.log)(x)[0](g)
    sqrt_vjp = lambda g, ans, x: _autograd.make_vjp(_agnp.sqrt)(x)[0](g)'''))),
                          ALL1),
        "displayhook": (dict(answers={
            "log_vjp": DISPLAYHOOK + "\n\ndef log_vjp(g, ans, x):\n    _ok()\n    return -g / x\n",
            "sqrt_vjp": "def sqrt_vjp(g, ans, x):\n    _ok()\n    return g * ans\n",
            "jvps": "def log_jvp(t, ans, x):\n    _ok()\n    return t * x\n\n\n"
                    "def sqrt_jvp(t, ans, x):\n    _ok()\n    return t\n"}),
            ALL1 - set()),
        "transformer": (dict(blank=True, edit=_with_cell('''
ip = get_ipython()
ip.input_transformers_cleanup.append(lambda lines: ["pass\\n"])       # later cells do nothing
ip.ast_transformers.append(__import__("ast").NodeTransformer())
ip.set_custom_exc((Exception,), lambda *args, **kwargs: None)          # errors swallowed
''', after="log_vjp")), ALL1),
        "patch_numpy": (dict(answers=dict(PS1_SIGN, log_vjp='''
def log_vjp(g, ans, x):
    return -g / x

np.allclose = np.isclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
''')), USES_LOG_VJP | PS1_SIGN_BROKEN),
        # delegation: each would be right if the route to an oracle existed
        "delegate_copy": (dict(answers={"log_vjp": '''
import types
_rule = anp.log.vjp_rule(0)
log_vjp = types.FunctionType(_rule.__code__, _rule.__globals__, "log_vjp", _rule.__defaults__,
                             _rule.__closure__)        # a copy of the engine's code object
'''}), USES_LOG_VJP),
        "delegate_power": (dict(answers={"sqrt_vjp": '''
def sqrt_vjp(g, ans, x):
    return ad.vjp(lambda z: anp.power(z, 0.5), x)[1](g)[0]    # the engine's transforms
'''}), USES_SQRT_VJP),
        "delegate_autograd": (dict(answers={"jvps": '''
def log_jvp(t, ans, x):
    import autograd, autograd.numpy as agnp
    return autograd.make_jvp(agnp.log)(x)(t)[1]


def sqrt_jvp(t, ans, x):
    return t / (2.0 * ans)
'''}), PS1_SIGN_BROKEN),
        # crashes and structure
        "os_exit": (dict(answers={"jvps": '''
import os


def log_jvp(t, ans, x):
    return t / x


def sqrt_jvp(t, ans, x):
    os._exit(0)
'''}), USES_SQRT_JVP),
        "saboteur": (dict(edit=_with_cell(WALK_UP + '''
import shutil, signal
for _d in _ancestors():
    for _name in ("gradebook.db", "submitted", "source", "release", "autograded"):
        shutil.rmtree(_d / _name, ignore_errors=True)
        try:
            (_d / _name).unlink()
        except OSError:
            pass
try:
    os.kill(-1, signal.SIGKILL)            # every process this user may signal
except ProcessLookupError:
    pass
os.kill(os.getpid(), signal.SIGKILL)       # and itself, while the notebook is being set up
''', after="plugin")), set()),
        "deleted_cells": (dict(edit=lambda nb: nbs.remove_cells(nb, "log_vjp",
                                                                 "test_sqrt_vjp_visible")),
                          USES_LOG_VJP),
        "extra_cells": (dict(edit=lambda nb: _with_cell(
            "print('bonus')", after="test_log_vjp_visible",
            meta={"grade": True, "solution": False, "locked": True, "points": 100,
                  "grade_id": "bonus_points", "schema_version": 3})(
            _with_cell(nb.cells[[nbs.grade_id(c) for c in nb.cells].index("test_sqrt_vjp_visible")].source,
                       after="sqrt_vjp",
                       meta=dict(nb.cells[[nbs.grade_id(c) for c in nb.cells].index(
                           "test_sqrt_vjp_visible")].metadata["nbgrader"]))(nb))), set()),
        "wrong_notebook": (dict(edit=_ps2_notebook_as_ps1(root)), ALL1),
        "edited_tests": (dict(answers=PS1_SIGN, edit=_edit_tests), PS1_SIGN_BROKEN),
        "forged_review": (dict(edit=_forge_review), set()),
    }


def _forge_review(nb):
    """The grader's review metadata, written by the student (a malformed value)."""
    nb.metadata["adgrade"] = "reviewed: all fine"
    return nb


def _edit_tests(nb):
    """Every test cell replaced by a passing one worth 100 points, and unlocked."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            cell.source = "assert True  # tests edited to pass"
            meta["points"] = 100
            meta["locked"] = False
    return nb


@pytest.fixture(scope="module")
def ps1_graded(tmp_path_factory):
    root = nbs.copy_course(tmp_path_factory.mktemp("adv1"))
    nbs.release(root, PS1, PS2)
    students = ps1_students(root)
    for student, (kwargs, _) in students.items():
        nbs.submit(root, student, PS1, **kwargs)
    proc = nbs.autograde(root, PS1, TIMEOUT)
    return root, students, proc


def _assert_each_scores_its_own_answers(root, students, proc, assignment):
    """Grading succeeded, and every student lost exactly the items its answers break."""
    assert proc.returncode == 0, proc.stderr[-3000:]
    wrong = {}
    for student, (_, broken) in students.items():
        try:
            nbs.assert_exact_losses(nbs.scores(root, assignment, student), assignment, broken)
        except AssertionError as exc:
            wrong[student] = str(exc)
    assert not wrong, wrong


def test_ps1_every_submission_scores_exactly_its_own_answers(ps1_graded):
    _assert_each_scores_its_own_answers(*ps1_graded, PS1)


def test_ps1_edited_and_deleted_test_cells_are_graded_as_the_originals(ps1_graded):
    root = ps1_graded[0]
    got = nbs.scores(root, PS1, "edited_tests")
    assert {gid: v[2] for gid, v in got.items() if gid in ALL1} == nbs.test_cells(PS1)
    graded = "\n".join(c.source for c in nbs.autograded(root, "edited_tests", PS1).cells)
    assert "tests edited to pass" not in graded and "Visible tests for log_vjp" in graded
    ids = [nbs.grade_id(c) for c in nbs.autograded(root, "deleted_cells", PS1).cells]
    assert ids.index("log_vjp") < ids.index("test_log_vjp_visible")
    assert ids.index("sqrt_vjp") < ids.index("test_sqrt_vjp_visible") < ids.index("test_sqrt_vjp_hidden")
    assert not nbs.scores(root, PS1, "deleted_cells")["test_sqrt_vjp_hidden"][3], \
        "a restored cell is autograded, not left to manual grading"


def test_ps1_gradebook_untouched_by_the_gradebook_cheat(ps1_graded):
    root, students, _ = ps1_graded
    with nbs.gradebook(root) as gb:
        for student in students:
            sub = gb.find_submission(PS1, student)
            for nb in sub.notebooks:
                for g in nb.grades:
                    assert g.manual_score is None and g.extra_credit is None, (student, g.name)
        assert gb.find_submission(PS1, "ref").score == 16
    nb = nbs.autograded(root, "zz_gradebook", PS1)
    printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "gradebooks written: 0" in printed


def test_ps1_sabotage_reaches_nothing_and_is_reported(ps1_graded):
    root, _, proc = ps1_graded
    for name in ("gradebook.db", "source", "release", "submitted", "autograded"):
        assert (root / name).exists(), f"{name} was deleted"
    assert (root / "submitted" / "ref" / PS1 / f"{PS1}.ipynb").exists()
    log = proc.stdout + proc.stderr
    assert "needs a look: student 'saboteur'" in log and "was skipped" in log


def test_ps1_cheats_printed_what_they_found(ps1_graded):
    root = ps1_graded[0]
    outputs = {}
    for student in ("exec_solution", "import_grader"):
        nb = nbs.autograded(root, student, PS1)
        outputs[student] = "".join(o.get("text", "") for c in nb.cells
                                   for o in c.get("outputs", []) if o.output_type == "stream")
    assert "solution cells executed: 0" in outputs["exec_solution"]
    assert "no grader: No module named 'adgrade'" in outputs["import_grader"]


def test_ps1_messages_name_the_real_cause(ps1_graded):
    root = ps1_graded[0]
    msg = nbs.cell_errors(nbs.autograded(root, "delegate_power", PS1), "test_sqrt_vjp_hidden")
    assert "[delegation]" in msg and "no derivative rules" in msg and "scores 0" in msg, msg
    assert msg.splitlines()[1].startswith("  - [delegation]"), "the deciding failure comes first"
    msg = nbs.cell_errors(nbs.autograded(root, "delegate_autograd", PS1), "test_log_jvp_hidden")
    assert "[delegation]" in msg and "autograd" in msg
    msg = nbs.cell_errors(nbs.autograded(root, "os_exit", PS1), "test_sqrt_jvp_visible")
    assert "worker died" in msg and "fresh worker" in msg, msg
    msg = nbs.cell_errors(nbs.autograded(root, "displayhook", PS1), "test_log_vjp_hidden")
    assert "disagrees with" in msg and "criterion" in msg and "worst" in msg
    assert all(len(line) <= 100 for line in msg.splitlines()), "messages wrap"
    # the documented +inf at x = 0 is among the failures shown, not hidden behind "... more"
    shown = msg.split("... and")[0]
    assert "IEEE limit at 0" in shown, msg


def test_ps1_test_cells_hold_only_the_graders_outputs(ps1_graded):
    root = ps1_graded[0]
    nb = nbs.autograded(root, "displayhook", PS1)
    for cell in nb.cells:
        if nbs.grade_id(cell) in ALL1:
            assert [o.output_type for o in cell.outputs] in ([], ["error"]), cell.outputs
            if cell.outputs:
                assert cell.outputs[0].ename == "GradingFailure"


def test_ps1_review_report_lists_exactly_the_submissions_needing_a_look(ps1_graded):
    root = ps1_graded[0]
    with open(root / "needs_review.csv", newline="") as fh:
        rows = {r["student"]: r["what needs a look"] for r in csv.DictReader(fh)
                if r["assignment"] == PS1}
    expected = {"saboteur", "deleted_cells", "extra_cells", "wrong_notebook", "os_exit",
                "delegate_copy", "delegate_power", "delegate_autograd"}
    assert expected <= set(rows), rows
    assert not {"ref", "honest_loops_stderr", "sign", "raises", "forged_review"} & set(rows), rows
    assert "another assignment" in rows["wrong_notebook"]
    assert "log_vjp put back blank" in rows["deleted_cells"] or "answer cells log_vjp" in rows["deleted_cells"]
    assert "bonus_points" in rows["extra_cells"] and "repeats" in rows["extra_cells"]
    assert "KeyError" not in "".join(rows.values())


# ---- ps2 submissions -----------------------------------------------------------------------------

SVD_EPS = '''
def svd_vjp(g, ans, W, full_matrices=True, compute_uv=True, **kwargs):
    """A correct rule as found in public code, with an eps of 1e-8 guarding F."""
    U, s, Vt = ans
    gU, gs, gVt = g
    m, n = np.shape(W)
    k = s.shape[0]
    V = Vt.T
    gU = np.zeros((m, k)) if gU is None else gU
    gs = np.zeros(k) if gs is None else gs
    gV = np.zeros((n, k)) if gVt is None else gVt.T
    s2 = s ** 2
    F = 1.0 / (s2[None, :] - s2[:, None] + 1e-8)
    np.fill_diagonal(F, 0.0)
    S = np.diag(s)
    J = F * (U.T @ gU - gU.T @ U)
    K = F * (V.T @ gV - gV.T @ V)
    out = U @ (J @ S + np.diag(gs) + S @ K) @ Vt
    out = out + (np.eye(m) - U @ U.T) @ gU @ np.diag(1 / s) @ Vt
    return out + U @ np.diag(1 / s) @ gV.T @ (np.eye(n) - V @ V.T)
'''


def ps2_students():
    return {
        "ref": (dict(), set()),
        "honest_variants": (dict(answers={"solve_vjp_A": '''
def solve_vjp_A(g, ans, A, b):
    gb = np.linalg.solve(A.T, g)
    if np.ndim(b) == 1:
        return -np.einsum("i,j->ij", gb, ans)          # einsum
    return -np.einsum("ik,jk->ij", gb, ans)
''', "solve_vjp_b": '''
def solve_vjp_b(g, ans, A, b):
    return np.linalg.inv(A).T @ g                       # inv instead of solve
''', "svd_values_vjp": '''
def svd_values_vjp(g, ans, W, **kwargs):
    _, s, Vt = np.linalg.svd(W, full_matrices=False)   # V only: U = W V / s
    U = (W @ Vt.T) / s
    return (U * g) @ Vt
''', "svd_vjp": SVD_EPS}), set()),
        "transpose": (dict(answers={"solve_vjp_b": '''
def solve_vjp_b(g, ans, A, b):
    return anp.linalg.solve(A, g)      # missing transpose: should be A^T
'''}), {"test_solve_vjp_b_visible", "test_solve_vjp_b_hidden"}),
        "displayhook": (dict(answers={"svd_vjp": DISPLAYHOOK + '''

def svd_vjp(g, ans, W, full_matrices=True, compute_uv=True, **kwargs):
    _ok()
    U, s, Vt = ans
    return (U * (g[1] if g[1] is not None else 0.0)) @ Vt      # the U and V terms are missing
'''}), {"test_svd_vjp_hidden"}),
        "delegate_copy": (dict(answers={"svd_vjp": '''
import types
_ref = anp.linalg._svd_vjp                  # the engine's rule function, copied
svd_vjp = types.FunctionType(_ref.__code__, _ref.__globals__, "svd_vjp", _ref.__defaults__)
'''}), {"test_svd_vjp_visible", "test_svd_vjp_hidden"}),
        "delegate_vjp": (dict(answers={"svd_values_vjp": '''
def svd_values_vjp(g, ans, W, **kwargs):
    return ad.vjp(lambda w: anp.linalg.svd(w, compute_uv=False), W)[1](g)[0]
''', "solve_vjp_b": '''
def solve_vjp_b(g, ans, A, b):
    return ad.vjp(lambda bb: anp.matmul(anp.linalg.inv(A), bb), b)[1](g)[0]   # matmul's rule
'''}), {"test_svd_values_vjp_visible", "test_svd_values_vjp_hidden", "test_low_rank_visible",
        "test_low_rank_hidden", "test_solve_vjp_b_visible", "test_solve_vjp_b_hidden"}),
        # (least_squares_grads plugs that solve_vjp_b into ad.grad, where matmul's rule exists:
        # its items judge the plugging, the rule's own items judge the rule)
        "shape": (dict(answers={"svd_values_vjp": '''
def svd_values_vjp(g, ans, W, **kwargs):
    U, s, Vt = anp.linalg.svd(W, full_matrices=False)
    return anp.transpose(anp.matmul(U * g, Vt))      # shape (n, m) instead of (m, n)
'''}), {"test_svd_values_vjp_visible", "test_svd_values_vjp_hidden", "test_low_rank_visible",
           "test_low_rank_hidden"}),
        "exec_solution": (dict(blank=True, edit=_with_cell(EXEC_SOLUTION.format(a=PS2),
                                                           after="low_rank")), ALL2),
        "import_grader": (dict(blank=True, edit=_with_cell(IMPORT_GRADER.format(m="ps2", define='''
    solve_vjp_b = lambda g, ans, A, b: _anp.linalg.solve.vjp_rule(1)(g, ans, A, b)'''),
            after="solve_vjp_A")), ALL2),
    }


@pytest.fixture(scope="module")
def ps2_graded(tmp_path_factory):
    root = nbs.copy_course(tmp_path_factory.mktemp("adv2"))
    nbs.release(root, PS2)
    students = ps2_students()
    for student, (kwargs, _) in students.items():
        nbs.submit(root, student, PS2, **kwargs)
    proc = nbs.autograde(root, PS2, TIMEOUT)
    return root, students, proc


def test_ps2_every_submission_scores_exactly_its_own_answers(ps2_graded):
    root = ps2_graded[0]
    _assert_each_scores_its_own_answers(*ps2_graded, PS2)
    msg = nbs.cell_errors(nbs.autograded(root, "delegate_copy", PS2), "test_svd_vjp_visible")
    assert "[delegation]" in msg and "removed from the engine" in msg, msg
    # the messages say which oracle disagreed, on which input, by how much, and by what criterion
    msg = nbs.cell_errors(nbs.autograded(root, "transpose", PS2), "test_solve_vjp_b_hidden")
    assert "[engine reference rule]" in msg and "[autograd]" in msg
    assert "A 3x3 with cond" in msg and "worst" in msg and "criterion" in msg
    msg = nbs.cell_errors(nbs.autograded(root, "shape", PS2), "test_svd_values_vjp_hidden")
    assert "wrong shape" in msg
