"""The use items (ps1: walkthrough, grad_with_my_rules / jvp_with_my_rules; ps2:
least_squares_grads, low_rank_grad) judged with planted rules, without nbgrader: the grader's
checks (``adgrade.ps1`` / ``ps2``) on a notebook's cells run in real sandboxed workers.

Honest uses keep their marks in every form the assignment allows; uses that compute the
derivative around the rules (closed form, complex step) lose them, whatever the worker reports.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

from . import nbgrader_support as nbs
from .test_redteam import PS1_USES, PS2_USES

sys.path.insert(0, str(nbs.COURSE / "grading"))

from adgrade import ps1, ps2  # noqa: E402
from adgrade.engine_copy import make_engine_copy  # noqa: E402
from adgrade.harness import CellGrader  # noqa: E402
from adgrade.planted import PlantedCheck  # noqa: E402
from adgrade.student import Submission  # noqa: E402
from adworker.procedures import planted  # noqa: E402

PS1, PS2 = nbs.ASSIGNMENTS
USES = {PS1: ["test_walkthrough_visible", "test_walkthrough_hidden", "test_plugin_visible",
              "test_plugin_hidden"],
        PS2: ["test_least_squares_visible", "test_least_squares_hidden", "test_low_rank_visible",
              "test_low_rank_hidden"]}
CHECKS = {PS1: ps1, PS2: ps2}


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    root = tmp_path_factory.mktemp("engines")
    return {a: {mode: make_engine_copy(str(root / f"{a}-{mode}"), prims)
                for mode, prims in CHECKS[a].MODES.items()} for a in (PS1, PS2)}


def verdicts(engines, tmp_path, assignment, answers, items=None, extra="", files=None):
    """grade id -> verdict (None: passed) of ``items`` (default: the use items) for the reference
    notebook with the solution cells ``answers`` replaced, a last cell ``extra``, and ``files``
    ({name: text}) in the submission folder beside it."""
    source = dict(nbs.reference_answers(assignment), **answers)
    nb = nbs.read(nbs.COURSE / "source" / assignment / f"{assignment}.ipynb")
    cells = [(i, source.get(nbs.grade_id(c), c.source)) for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and not c.metadata.get("nbgrader", {}).get("grade")]
    cells.append((len(nb.cells), extra))
    folder = tmp_path / "submission"
    folder.mkdir()
    for name, text in (files or {}).items():
        (folder / name).write_text(text)
    sub = Submission(cells, str(folder), engines[assignment])
    out = {}
    try:
        for gid in items or USES[assignment]:
            name, run = CHECKS[assignment].ITEMS[gid]
            cg = CellGrader(gid, name, sub)
            run(cg)
            out[gid] = cg.verdict()
    finally:
        sub.close()
    return out


def _failed(out):
    return {gid: msg for gid, msg in out.items() if msg is not None}


# ---- honest uses ---------------------------------------------------------------------------------

WALK_G_OUTSIDE = '''
def walkthrough(w1, w2):
    v1 = np.log(w1)
    v2 = w2 * v1
    v3 = np.sqrt(v2)
    v2_bar = 1.0 + sqrt_vjp(1.0, v3, v2) * 1.0        # the rule at g = 1, times the cotangent
    return v2 + v3, log_vjp(1.0, v1, w1) * (v2_bar * w2), v2_bar * v1
'''
WALK_ARRAYS = '''
def walkthrough(w1, w2):
    w1, w2 = np.array([w1], dtype=float), np.array([w2], dtype=float)   # 1-element arrays
    v1 = anp.log(w1)
    v2 = w2 * v1
    v3 = anp.sqrt(v2)
    v2_bar = np.ones(1) + sqrt_vjp(np.ones(1), v3, v2)
    w1_bar = log_vjp(v2_bar * w2, v1, w1)
    return float((v2 + v3)[0]), float(w1_bar[0]), float((v2_bar * v1)[0])
'''
WALK_JVP_RULES = '''
def walkthrough(w1, w2):          # log's JVP and VJP are the same multiplication
    v1, v2 = np.log(w1), w2 * np.log(w1)
    v3 = np.sqrt(v2)
    v2_bar = 1.0 + sqrt_jvp(1.0, v3, v2)
    return v2 + v3, log_jvp(v2_bar * w2, v1, w1), v2_bar * v1
'''
RULES_0D = '''
def log_vjp(g, ans, x):
    return np.array(np.divide(g, x))


def sqrt_vjp(g, ans, x):
    return np.asarray(0.5 * g / np.sqrt(x))
'''
RULES_LIST = '''
def log_vjp(g, ans, x):
    return np.asarray(g / x).tolist()      # a float for scalars, a list for arrays


def sqrt_vjp(g, ans, x):
    return np.asarray(g / (2.0 * ans)).tolist()
'''
JVP_ALIASES = '''
def log_jvp(t, ans, x):
    return t / x


sqrt_jvp = sqrt_vjp           # the same multiplication
'''
PLUGIN_HELPER = '''
def _with_my_rules(f, *args):
    with ad.override_rules(anp.log, vjp=log_vjp, jvp=log_jvp):
        with ad.override_rules(anp.sqrt, vjp=sqrt_vjp, jvp=sqrt_jvp):
            return f(*args)


def grad_with_my_rules(w1, w2):
    d1, d2 = _with_my_rules(ad.grad(L, argnums=(0, 1)), w1, w2)
    return float(d1), float(d2)


def jvp_with_my_rules(w1, w2, t1, t2):
    return _with_my_rules(lambda: ad.jvp(L, (w1, w2), (t1, t2)))
'''

PS1_HONEST = {
    "rules at g = 1, times the cotangent": {"walkthrough": WALK_G_OUTSIDE},
    "1-element arrays, anp": {"walkthrough": WALK_ARRAYS},
    "the JVP rules in the walkthrough": {"walkthrough": WALK_JVP_RULES},
    "rules returning 0-d arrays": {"log_vjp": RULES_0D, "sqrt_vjp": "",
                                   "walkthrough": WALK_G_OUTSIDE},
    "aliases and a helper": {"jvps": JVP_ALIASES, "plugin": PLUGIN_HELPER},
}


@pytest.mark.parametrize("variant", list(PS1_HONEST))
def test_ps1_honest_uses_keep_their_marks(engines, tmp_path, variant):
    assert _failed(verdicts(engines, tmp_path, PS1, PS1_HONEST[variant])) == {}


def test_ps1_list_returning_rules_keep_the_walkthrough(engines, tmp_path):
    out = verdicts(engines, tmp_path, PS1, {"log_vjp": RULES_LIST, "sqrt_vjp": ""},
                   items=["test_walkthrough_visible", "test_walkthrough_hidden"])
    assert _failed(out) == {}


LSQ_OTHER_FORM = '''
def least_squares_grads(A, b, y):
    def loss(A, b):
        x = anp.linalg.solve(anp.dot(A.T, A), anp.dot(A.T, b))
        return anp.sum((x - y) ** 2)
    with ad.override_rules(anp.linalg.solve, vjp=solve_vjp_A, argnum=0):
        with ad.override_rules(anp.linalg.solve, vjp=solve_vjp_b, argnum=1):
            dA, db = ad.grad(loss, argnums=(0, 1))(A, b)
    return [dA, db]
'''
LOW_RANK_NUC = '''
def low_rank_grad(W, X, Y, lam):
    def objective(W):
        return anp.sum((anp.matmul(X, W) - Y) ** 2) + lam * anp.linalg.norm(W, "nuc")
    with ad.override_rules(anp.linalg.svd, vjp=svd_values_vjp):
        return ad.grad(objective)(W)
'''
SVD_VJP_DISPATCH = '''
_full_rule = svd_vjp


def svd_vjp(g, ans, W, full_matrices=True, compute_uv=True, **kwargs):
    if not compute_uv:                          # the singular values only
        return svd_values_vjp(g, ans, W)
    return _full_rule(g, ans, W, full_matrices=full_matrices, compute_uv=compute_uv)
'''
LOW_RANK_FULL_RULE = '''
def low_rank_grad(W, X, Y, lam):
    def objective(W):
        R = anp.matmul(X, W) - Y
        return anp.sum(R * R) + lam * anp.sum(anp.linalg.svd(W, compute_uv=False))
    with ad.override_rules(anp.linalg.svd, vjp=svd_vjp):     # svd_vjp handles compute_uv=False
        return ad.grad(objective)(W)
'''
LOW_RANK_UV = '''
def low_rank_grad(W, X, Y, lam):
    def objective(W):
        U, s, Vt = anp.linalg.svd(W, full_matrices=False)
        R = anp.matmul(X, W) - Y
        return anp.sum(R * R) + lam * anp.sum(s)
    with ad.override_rules(anp.linalg.svd, vjp=svd_vjp):
        return ad.grad(objective)(W)
'''
PS2_HONEST = {
    "dot, ** 2, nested overrides, a list": {"least_squares": LSQ_OTHER_FORM},
    "norm(W, 'nuc')": {"low_rank": LOW_RANK_NUC},
    "svd_vjp plugged in for the singular values": {
        "svd_vjp": nbs.reference_answers(PS2)["svd_vjp"] + SVD_VJP_DISPATCH,
        "low_rank": LOW_RANK_FULL_RULE},
    "the full SVD, U and Vt unused": {"low_rank": LOW_RANK_UV},
}


@pytest.mark.parametrize("variant", list(PS2_HONEST))
def test_ps2_honest_uses_keep_their_marks(engines, tmp_path, variant):
    assert _failed(verdicts(engines, tmp_path, PS2, PS2_HONEST[variant])) == {}


# ---- uses that compute around the rules -----------------------------------------------------------

WALK_CLOSED_FORM = '''
def walkthrough(w1, w2):           # right rules, never called: the derivative written out
    v = w2 * np.log(w1)
    f = 1.0 + 0.5 / np.sqrt(v)
    return v + np.sqrt(v), w2 / w1 * f, np.log(w1) * f
'''
# the grading procedure replaced in the worker: the planted-rules run answers the student's values
FORGED_PROCEDURE = '''
try:
    import adworker.procedures as _P
    _P.with_planted_rules = lambda ns, target, coefficients, *args: ns[target](*args)
except ImportError:
    pass
'''


def test_a_walkthrough_that_does_not_call_the_rules_scores_zero(engines, tmp_path):
    out = verdicts(engines, tmp_path, PS1, {"walkthrough": WALK_CLOSED_FORM},
                   items=["test_walkthrough_visible", "test_walkthrough_hidden"])
    assert set(_failed(out)) == {"test_walkthrough_visible", "test_walkthrough_hidden"}
    msg = out["test_walkthrough_hidden"]
    assert "[planted rules]" in msg and "must call the rules" in msg, msg


def test_a_forged_planted_procedure_does_not_help(engines, tmp_path):
    """The same walkthrough, with the worker's procedure patched to answer the student's own
    values: the grader's expectation with the planted rules is computed outside the worker."""
    out = verdicts(engines, tmp_path, PS1, {"walkthrough": WALK_CLOSED_FORM},
                   items=["test_walkthrough_visible", "test_walkthrough_hidden"],
                   extra=FORGED_PROCEDURE)
    assert set(_failed(out)) == {"test_walkthrough_visible", "test_walkthrough_hidden"}


@pytest.mark.parametrize("assignment", [PS1, PS2])
def test_uses_around_wrong_rules_score_zero(engines, tmp_path, assignment):
    """All-zero rules called once and ignored, the uses by the complex step (the red team's
    cheat): every use item fails, on the planted-rules check."""
    answers = PS1_USES if assignment == PS1 else PS2_USES
    out = verdicts(engines, tmp_path, assignment, answers)
    assert set(_failed(out)) == set(USES[assignment])
    assert all("[planted rules]" in msg for msg in out.values())


# ---- the planted rules themselves ------------------------------------------------------------------

def test_planted_rules_are_no_derivatives():
    """Whatever its coefficients, a planted rule is not the rule it stands in for, even up to a
    factor (a rule item could call it from the worker): its ratio to the right cotangent varies."""
    rng = np.random.default_rng(5)
    for c in (rng.uniform(0.5, 2.0, 6), rng.uniform(-3.0, 3.0, 6), [0, 1, 0, 1, 0, 1]):
        x = rng.uniform(0.5, 3.0, 6)
        g = rng.standard_normal(6)
        for name, right in (("log_vjp", g / x), ("sqrt_vjp", g / (2 * np.sqrt(x)))):
            ratio = planted(name, c)(g, np.log(x), x) / right
            assert np.ptp(ratio) > 1e-3 or not np.all(np.isfinite(ratio)), (name, c)
        A = rng.standard_normal((4, 4)) + 3 * np.eye(4)
        b = rng.standard_normal(4)
        xs = np.linalg.solve(A, b)
        for name, right in (("solve_vjp_A", -np.outer(np.linalg.solve(A.T, g[:4]), xs)),
                            ("solve_vjp_b", np.linalg.solve(A.T, g[:4]))):
            got = planted(name, c)(g[:4], xs, A, b)
            assert got.shape == right.shape
            assert np.linalg.matrix_rank(np.stack([got.ravel(), right.ravel()])) == 2, (name, c)
        W = rng.standard_normal((4, 3))
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        got = planted("svd_values_vjp", c)(g[:3], s, W, compute_uv=False)
        assert got.shape == W.shape
        assert np.linalg.matrix_rank(np.stack([got.ravel(), ((U * g[:3]) @ Vt).ravel()])) == 2


def test_planted_coefficients_are_drawn_for_each_check():
    """From the operating system's randomness: two checks never share coefficients, and rules of
    one group (log's VJP and JVP) share theirs."""
    a = PlantedCheck(None, [("log_vjp", "log_jvp"), ("sqrt_vjp",)], "bare")
    b = PlantedCheck(None, [("log_vjp", "log_jvp"), ("sqrt_vjp",)], "bare")
    assert a.coefficients["log_vjp"] is a.coefficients["log_jvp"]
    assert a.coefficients["log_vjp"] != a.coefficients["sqrt_vjp"]
    assert a.coefficients["log_vjp"] != b.coefficients["log_vjp"]
