"""Red-team findings against the sandboxed grading design (issue 8), through the real nbgrader CLI.

Written by a red-team review (each test failed when written). Every cheater below answers WRONGLY (rules that return ``None``, or ``0 * A``); any point it gets
is stolen. One ``nbgrader autograde`` run per assignment grades all cheaters together with an
honest student (reference answers) and a blank one, whose grades must not move. Each test fails
while its hole is open; the holes still open are marked ``xfail(strict=True)`` with the reason, so
closing one turns its test into a failure until the mark is removed. Closed:

* ``None`` passes every check: ``CellGrader.compare`` returns False *without recording a failure*
  when the student's value is ``None`` (it assumes ``call`` already failed, but a function that
  returns ``None`` is not a failed call), and ``_directional`` / the walkthrough and plugin checks
  skip a ``None`` value. Patching ``adworker.procedures`` from a student cell (the worker is the
  student's) turns the "through ad.grad" and planted-rules checks into ``None`` too.
* Symlinks in the submission folder: nbgrader copies the other files of ``submitted/<student>/<a>/``
  into ``autograded/`` with ``shutil.copy`` (following links) *outside* the sandbox, and the worker
  gets a copy of that folder, so a link to ``../../../source/<a>/<a>.ipynb`` hands the instructor's
  solutions to the student's code (and ``../../../gradebook.db`` everyone's grades). Submissions
  collected with git (GitHub Classroom) or tar keep such links.
* Processes: as root ``RLIMIT_NPROC`` binds nothing and ``RLIMIT_AS`` counts per process, so a
  worker forked 200 processes, or held 2.3 GB in three. The worker's seccomp filter now refuses
  every process (threads only).
* A test cell flagged ``solution`` stopped nbgrader on inconsistent checksums: ``RestoreCells``
  now resets the grading flags of every cell the gradebook knows.
* Uses computed around wrong rules: while a use item was judged by counting calls of the rules,
  all-zero rules called once and ignored, with the uses by the complex step, kept the use
  points. Use items are now judged with planted rules as well (``adgrade/planted.py``).
"""
from __future__ import annotations

import os

import pytest

from . import nbgrader_support as nbs

pytestmark = pytest.mark.slow

PS1, PS2 = nbs.ASSIGNMENTS

# a student cell that makes every procedure of the worker answer None (the worker is untrusted)
PATCH_PROCEDURES = '''
try:
    import adworker.procedures as _P
    for _n in ("with_planted_rules", "elementwise_rule_in_loss", "solve_rule_in_loss",
               "svd_values_in_loss", "svd_in_invariant_loss"):
        setattr(_P, _n, lambda *a, **k: None)
except ImportError:         # in the student's own kernel
    pass
'''

PS1_NONE = {
    "log_vjp": "def log_vjp(g, ans, x):\n    return None\n" + PATCH_PROCEDURES,
    "sqrt_vjp": "def sqrt_vjp(g, ans, x):\n    return None\n",
    "jvps": "def log_jvp(t, ans, x):\n    return None\n\n\ndef sqrt_jvp(t, ans, x):\n    return None\n",
    "walkthrough": "def walkthrough(w1, w2):\n    return None\n",
    "plugin": "def grad_with_my_rules(w1, w2):\n    return None\n\n\n"
              "def jvp_with_my_rules(w1, w2, t1, t2):\n    return None\n",
}
# the same without touching the worker's procedures: only the None values
PS1_NONE_PLAIN = {
    "log_vjp": "def log_vjp(g, ans, x):\n    return None\n",
    "sqrt_vjp": "def sqrt_vjp(g, ans, x):\n    return None\n",
    "jvps": "def log_jvp(t, ans, x):\n    return None\n\n\ndef sqrt_jvp(t, ans, x):\n    return None\n",
    "walkthrough": "def walkthrough(w1, w2):\n    log_vjp(1.0, 0.0, 1.0)\n    sqrt_vjp(1.0, 1.0, 1.0)\n"
                   "    return None\n",
    "plugin": "def grad_with_my_rules(w1, w2):\n    for r in (log_vjp, sqrt_vjp, log_jvp, sqrt_jvp):\n"
              "        r(1.0, 1.0, 1.0)\n    return None\n\n\n"
              "def jvp_with_my_rules(w1, w2, t1, t2):\n    return None\n",
}
PS2_NONE = {
    "solve_vjp_A": "def solve_vjp_A(g, ans, A, b):\n    return None\n" + PATCH_PROCEDURES,
    "solve_vjp_b": "def solve_vjp_b(g, ans, A, b):\n    return None\n",
    "svd_values_vjp": "def svd_values_vjp(g, ans, W, **kwargs):\n    return None\n",
    "svd_vjp": "def svd_vjp(g, ans, W, full_matrices=True, compute_uv=True, **kwargs):\n"
               "    return None\n",
    "least_squares": "def least_squares_grads(A, b, y):\n    return None\n",
    "low_rank": "def low_rank_grad(W, X, Y, lam):\n    return None\n",
}

# all-zero rules, called once and ignored; the uses by complex-step differentiation of the primal
PS1_USES = {
    "log_vjp": "def log_vjp(g, ans, x):\n    return 0.0 * x\n",
    "sqrt_vjp": "def sqrt_vjp(g, ans, x):\n    return 0.0 * x\n",
    "jvps": "def log_jvp(t, ans, x):\n    return 0.0 * x\n\n\ndef sqrt_jvp(t, ans, x):\n"
            "    return 0.0 * x\n",
    "walkthrough": '''
H = 1e-30


def L(a, b):
    return b * np.log(a) + np.sqrt(b * np.log(a))


def walkthrough(w1, w2):
    log_vjp(1.0, 0.0, 1.0)
    sqrt_vjp(1.0, 1.0, 1.0)
    return float(L(w1, w2)), L(w1 + 1j * H, w2).imag / H, L(w1, w2 + 1j * H).imag / H
''',
    "plugin": '''
def grad_with_my_rules(w1, w2):
    for r in (log_vjp, sqrt_vjp, log_jvp, sqrt_jvp):
        r(1.0, 1.0, 1.0)
    return L(w1 + 1j * H, w2).imag / H, L(w1, w2 + 1j * H).imag / H


def jvp_with_my_rules(w1, w2, t1, t2):
    return float(L(w1, w2)), L(w1 + 1j * H * t1, w2 + 1j * H * t2).imag / H
''',
}
PS2_USES = {
    "solve_vjp_A": "def solve_vjp_A(g, ans, A, b):\n    return 0.0 * A\n",
    "solve_vjp_b": "def solve_vjp_b(g, ans, A, b):\n    return 0.0 * b\n",
    "svd_values_vjp": "def svd_values_vjp(g, ans, W, **kwargs):\n    return 0.0 * W\n",
    "svd_vjp": "def svd_vjp(g, ans, W, full_matrices=True, compute_uv=True, **kwargs):\n"
               "    return 0.0 * W\n",
    "least_squares": '''
def least_squares_grads(A, b, y):
    n = A.shape[1]
    solve_vjp_A(np.ones(n), np.ones(n), np.eye(n), np.ones(n))
    solve_vjp_b(np.ones(n), np.ones(n), np.eye(n), np.ones(n))

    def loss(a, bb):
        r = np.linalg.solve(a.T @ a, a.T @ bb) - y
        return np.sum(r * r)
    h = 1e-30
    dA, db = np.zeros(A.shape), np.zeros(b.shape)
    for idx in np.ndindex(*A.shape):
        E = np.zeros(A.shape, complex)
        E[idx] = 1j * h
        dA[idx] = loss(A + E, b).imag / h
    for idx in np.ndindex(*b.shape):
        e = np.zeros(b.shape, complex)
        e[idx] = 1j * h
        db[idx] = loss(A, b + e).imag / h
    return dA, db
''',
    "low_rank": '''
def low_rank_grad(W, X, Y, lam):
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    svd_values_vjp(np.ones_like(s), s, W, compute_uv=False)
    return 2 * X.T @ (X @ W - Y) + lam * U @ Vt
''',
}

# a last cell that execs the solution cells of any notebook it finds next to the submission
EXEC_LINKED_SOLUTIONS = '''
import json, os
_n = 0
for _f in sorted(os.listdir(".")):
    if _f.endswith(".json"):
        try:
            _cells = json.load(open(_f))["cells"]
        except Exception:
            continue
        for _c in _cells:
            if _c["cell_type"] == "code" and _c.get("metadata", {}).get("nbgrader", {}).get("solution"):
                exec("".join(_c["source"]), globals())
                _n += 1
print("solution cells executed:", _n)
'''


# an extra cell: 200 processes at once (a bounded stand-in for a fork bomb)
FORK_MANY = '''
import os, time
_pids = []
try:
    for _i in range(200):
        _p = os.fork()
        if _p == 0:
            time.sleep(3)
            os._exit(0)
        _pids.append(_p)
finally:
    print("processes forked:", len(_pids))
    for _p in _pids:
        os.waitpid(_p, 0)
'''
# an extra cell: three children hold 768 MB each (2304 MB in all, over the 2048 MB limit)
MEMORY_ACROSS_PROCESSES = '''
import os, time
import numpy as np
_kids = []
for _k in range(3):
    _r, _w = os.pipe()
    _p = os.fork()
    if _p == 0:
        try:
            _a = np.ones(96 * 2 ** 20)        # 768 MiB of float64
            os.write(_w, b"y")
        except MemoryError:
            os.write(_w, b"n")
        time.sleep(4)
        os._exit(0)
    _kids.append((_p, _r))
_held = 0
for _p, _r in _kids:
    if os.read(_r, 1) == b"y":
        for _line in open(f"/proc/{_p}/status"):
            if _line.startswith("VmRSS"):
                _held += int(_line.split()[1]) // 1024
print("MB held by the worker's processes:", _held)
for _p, _r in _kids:
    os.waitpid(_p, 0)
'''


# an extra cell: a directory tree 3000 levels deep in the worker's folder
DEEP_TREE = '''
import os
_here = os.getcwd()
for _i in range(3000):
    os.mkdir("d")
    os.chdir("d")
os.chdir(_here)
print("levels made:", _i + 1)
'''


def _flag_solution(nb):
    for cell in nb.cells:
        if nbs.grade_id(cell) == "test_low_rank_hidden":
            cell.metadata.nbgrader["solution"] = True
    return nb


def _append_cell(source):
    def edit(nb):
        import nbformat
        nb.cells.append(nbformat.v4.new_code_cell(source))
        return nb
    return edit


def _submit_with_links(root, student, assignment):
    """Blank answers, one extra cell, and two symlinks in the submission folder."""
    path = nbs.submit(root, student, assignment, blank=True,
                      edit=_append_cell(EXEC_LINKED_SOLUTIONS))
    os.symlink(f"../../../source/{assignment}/{assignment}.ipynb", path.parent / "notes.json")
    os.symlink("../../../gradebook.db", path.parent / "backup.txt")
    return path


def _grade(root, assignment, cheaters):
    nbs.submit(root, "aa_honest", assignment)
    nbs.submit(root, "aa_blank", assignment, blank=True)
    for student, answers in cheaters.items():
        if answers == "links":
            _submit_with_links(root, student, assignment)
        elif answers == "flag":
            nbs.submit(root, student, assignment, edit=_flag_solution)
        elif isinstance(answers, str):          # blank answers and one extra cell
            nbs.submit(root, student, assignment, blank=True, edit=_append_cell(answers))
        else:
            nbs.submit(root, student, assignment, answers, blank=True)
    # the memory cell needs more than the default 10 s on 2 busy cores; the workers' folders go
    # to a temporary directory of this run only (TMPDIR), to see what they leave behind
    tmpdir = root.parent / "grader-tmp"
    tmpdir.mkdir()
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(tmpdir)
    try:
        proc = nbs.autograde(root, assignment, "--GradeInSandbox.timeout=60", check=False)
    finally:
        if saved is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = saved
    return {s: nbs.scores(root, assignment, s) for s in ["aa_honest", "aa_blank", *cheaters]}, proc


@pytest.fixture(scope="module")
def ps1_run(tmp_path_factory):
    root = nbs.copy_course(tmp_path_factory.mktemp("redteam1"))
    nbs.release(root, PS1)
    grades, proc = _grade(root, PS1, {"zz_none": PS1_NONE, "zz_none_plain": PS1_NONE_PLAIN,
                                      "zz_links": "links", "zz_forks": FORK_MANY,
                                      "zz_uses": PS1_USES, "zz_deep": DEEP_TREE})
    return root, grades, proc


@pytest.fixture(scope="module")
def ps2_run(tmp_path_factory):
    root = nbs.copy_course(tmp_path_factory.mktemp("redteam2"))
    nbs.release(root, PS2)
    grades, proc = _grade(root, PS2, {"zz_none": PS2_NONE, "zz_links": "links",
                                      "zz_memory": MEMORY_ACROSS_PROCESSES,
                                      "zz_uses": PS2_USES, "zz_flag": "flag"})
    return root, grades, proc


def _stolen(scores):
    return {gid: s[0] for gid, s in scores.items() if s[0]}


def test_bystanders_unchanged(ps1_run, ps2_run):
    """The honest and blank students are graded as if the cheaters were not there."""
    for (root, grades, _), assignment in ((ps1_run, PS1), (ps2_run, PS2)):
        nbs.assert_exact_losses(grades["aa_honest"], assignment, set())
        nbs.assert_exact_losses(grades["aa_blank"], assignment, set(nbs.test_cells(assignment)))


def test_ps1_none_answers_score_zero(ps1_run):
    """All-None answers (and the worker's procedures patched to None) steal nothing."""
    _, grades, _ = ps1_run
    assert _stolen(grades["zz_none"]) == {}


def test_ps1_none_answers_without_patching_score_zero(ps1_run):
    """None values alone (no tampering with the worker) steal nothing either."""
    _, grades, _ = ps1_run
    assert _stolen(grades["zz_none_plain"]) == {}


def test_ps2_none_answers_score_zero(ps2_run):
    _, grades, _ = ps2_run
    assert _stolen(grades["zz_none"]) == {}


@pytest.mark.parametrize("run", ["ps1_run", "ps2_run"])
def test_symlinked_solutions_do_not_reach_the_worker(run, request):
    """A symlink to the instructor's source notebook in the submission folder gives nothing, and
    neither the solutions nor the gradebook are copied into the autograded folder."""
    root, grades, _ = request.getfixturevalue(run)
    assignment = PS1 if run == "ps1_run" else PS2
    folder = root / "autograded" / "zz_links" / assignment
    leaked = [f for f in ("notes.json", "backup.txt") if (folder / f).is_file()]
    assert (_stolen(grades["zz_links"]), leaked) == ({}, [])


@pytest.mark.parametrize("run", ["ps1_run", "ps2_run"])
def test_uses_of_wrong_rules_score_zero(run, request):
    """All-zero rules called once and ignored, uses computed by complex-step differentiation of
    the primal: the uses lose their points with the rules (README: a wrong rule costs the items
    that use it)."""
    _, grades, _ = request.getfixturevalue(run)
    assert _stolen(grades["zz_uses"]) == {}


def _printed(root, student, assignment, prefix):
    """The number the student's extra cell printed after ``prefix`` in the autograded notebook."""
    nb = nbs.autograded(root, student, assignment)
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            for line in str(o.get("text", "")).splitlines():
                if line.startswith(prefix):
                    return int(line[len(prefix):])
    return None


def test_worker_process_count_is_bounded(ps1_run):
    """A worker cannot start 200 processes (a fork bomb would reach the whole machine)."""
    root, grades, _ = ps1_run
    assert _stolen(grades["zz_forks"]) == {}
    forked = _printed(root, "zz_forks", PS1, "processes forked: ")
    assert forked is None or forked < 200, f"the worker forked {forked} processes"


def test_worker_memory_is_bounded_across_processes(ps2_run):
    """The worker's processes together stay within the 2 GiB limit (GradeInSandbox.memory_mb)."""
    root, grades, _ = ps2_run
    assert _stolen(grades["zz_memory"]) == {}
    held = _printed(root, "zz_memory", PS2, "MB held by the worker's processes: ")
    assert held is None or held <= 2048, f"the worker's processes held {held} MB"


def test_deep_tree_is_cleaned_up_and_graded(ps1_run):
    """A 3000-level directory tree neither stops the student's grading nor stays on disk."""
    root, grades, proc = ps1_run
    assert "for student 'zz_deep'" not in proc.stderr, "grading zz_deep stopped with an error"
    assert (root / "autograded" / "zz_deep" / PS1 / f"{PS1}.ipynb").is_file()
    left = list((root.parent / "grader-tmp").glob("adgrade-work-*"))
    assert left == [], f"workers' folders left behind: {left}"


def test_flipped_solution_flag_costs_only_its_item(ps2_run):
    """Reference answers with one test cell's solution flag set: graded, and every other item
    keeps its points (issue 8: an edited cell costs only the items it touches)."""
    root, grades, proc = ps2_run
    assert "for student 'zz_flag'" not in proc.stderr, "grading zz_flag stopped with an error"
    cells = nbs.test_cells(PS2)
    lost = {g: grades["zz_flag"][g][0] for g in cells
            if g != "test_low_rank_hidden" and grades["zz_flag"][g][0] != cells[g]}
    assert lost == {}
