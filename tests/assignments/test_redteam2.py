"""Red-team round 2, at the level of the verdicts (no nbgrader run): what CellGrader.compare does
with unusual but correct answers (honest variants keep their marks) and with answers that are
not numbers at all (holes, marked xfail(strict=True) while open)."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from . import nbgrader_support as nbs

sys.path.insert(0, str(nbs.COURSE / "grading"))

from adgrade.harness import CellGrader  # noqa: E402
from adworker.codec import decode, encode  # noqa: E402
import json  # noqa: E402

from .test_planted import WALK_CLOSED_FORM, engines, verdicts  # noqa: E402,F401 (engines: a fixture)

PS1 = nbs.ASSIGNMENTS[0]


def _wire(x):
    """What the grader receives for the worker's value ``x``."""
    return decode(json.loads(json.dumps(encode(x), allow_nan=False)))


X = np.random.default_rng(1).uniform(0.1, 3.0, 7)
G = np.random.default_rng(2).standard_normal(7)
LOG_VJP = G / X


@pytest.mark.parametrize("variant", [
    "np.divide", "np.reciprocal", "list", "tuple", "int-free float64", "negative-power"])
def test_honest_elementwise_variants_keep_marks(variant):
    got = {"np.divide": lambda: np.divide(G, X),
           "np.reciprocal": lambda: G * np.reciprocal(X),
           "list": lambda: [float(v) for v in G / X],
           "tuple": lambda: tuple(G / X),
           "int-free float64": lambda: (G / X).astype(np.float64),
           "negative-power": lambda: G * X ** -1.0}[variant]()
    cg = CellGrader("test_log_vjp_hidden", "log_vjp", student=None)
    assert cg.compare("autograd", "x", _wire(got), LOG_VJP, scale="entry"), cg.verdict()


@pytest.mark.parametrize("got", [np.float64(0.5), 0.5, np.array(0.5), np.float32(0.5)])
def test_honest_scalar_forms_keep_marks(got):
    cg = CellGrader("test_x_hidden", "f", student=None)
    assert cg.compare("autograd", "scalar", _wire(got), np.array(0.5)), cg.verdict()


def test_a_length_one_array_for_a_scalar_is_a_shape_error():
    cg = CellGrader("test_x_hidden", "f", student=None)
    assert not cg.compare("autograd", "scalar", _wire(np.array([0.5])), np.array(0.5))
    assert "wrong shape" in cg.verdict()


def test_float32_rule_keeps_marks():
    x = np.random.default_rng(3).uniform(0.1, 3.0, 200)
    g = np.random.default_rng(4).standard_normal(200)
    got = g.astype(np.float32) / x.astype(np.float32)
    cg = CellGrader("test_log_vjp_hidden", "log_vjp", student=None)
    assert cg.compare("autograd", "x", _wire(got), g / x, scale="entry"), cg.verdict()


def test_strings_are_not_numbers():
    cg = CellGrader("test_x_hidden", "f", student=None)
    assert not cg.compare("autograd", "scalar", _wire("0.5"), np.array(0.5))


def test_complex_answers_are_not_accepted_silently():
    cg = CellGrader("test_x_hidden", "f", student=None)
    assert not cg.compare("autograd", "x", _wire(LOG_VJP + 1e6j), LOG_VJP, scale="entry")


def test_booleans_do_not_pass_for_numbers():
    cg = CellGrader("test_x_hidden", "f", student=None)
    assert not cg.compare("autograd", "x", _wire(np.ones(7, bool)), LOG_VJP, scale="entry")


def test_nan_and_inf_do_not_pass_for_finite_values():
    cg = CellGrader("test_x_hidden", "f", student=None)
    assert not cg.compare("autograd", "x", _wire(np.full(7, np.nan)), LOG_VJP, scale="entry")
    assert not cg.compare("autograd", "x", _wire(np.full(7, np.inf)), LOG_VJP)
    assert not cg.compare("IEEE limit", "0", _wire([np.nan, np.nan]), [np.inf, -np.inf],
                          scale="entry")


class _Source:
    """A submission seen only through its code cells (what the source check reads)."""

    def __init__(self, *sources):
        self.cells = list(enumerate(sources))


COMPLEX_STEP = ("import numpy as np\n\n"
                "def log_vjp(g, ans, x):\n    h = 1e-30\n    return g * np.imag(np.log(x + 1j * h)) / h\n")
DIVIDED = ("import numpy as np\n\ndef d(f, x, h=1e-6):\n    return (f(x + h) - f(x - h)) / (2 * h)\n\n"
           "def sqrt_vjp(g, ans, x):\n    return g * d(np.sqrt, x)\n")


def test_complex_step_rule_scores_zero():
    """Its values match the oracles to rounding (so compare alone passes them): the grader reads
    the source and the item fails with the reason."""
    h = 1e-30
    got = G * np.imag(np.log(X + 1j * h)) / h
    assert CellGrader("test_log_vjp_hidden", "log_vjp", student=None).compare(
        "autograd", "x", _wire(got), LOG_VJP, scale="entry")
    cg = CellGrader("test_log_vjp_hidden", "log_vjp", student=_Source(COMPLEX_STEP))
    cg.compare("autograd", "x", _wire(got), LOG_VJP, scale="entry")
    assert cg.verdict() and "[numerical differentiation] log_vjp" in cg.verdict()
    assert "'.imag' in log_vjp" in cg.failures[0][2]


def test_divided_difference_through_a_helper_scores_zero():
    cg = CellGrader("test_sqrt_vjp_hidden", "sqrt_vjp", student=_Source(DIVIDED))
    assert "[numerical differentiation] sqrt_vjp" in (cg.verdict() or "")
    assert "the difference of 'f(x + h)' and 'f(x - h)'" in cg.failures[0][2]
    # a use of the rule is judged with it: the walkthrough reaches sqrt_vjp
    walk = "def walkthrough(w1, w2):\n    return 0.0, sqrt_vjp(1.0, 1.0, w1), 0.0\n"
    cg = CellGrader("test_walkthrough_hidden", "walkthrough", student=_Source(DIVIDED, walk))
    assert "[numerical differentiation]" in (cg.verdict() or "")


@pytest.mark.parametrize("notebook", sorted(str(p.relative_to(nbs.COURSE)) for p in
                                            nbs.COURSE.glob("source/*/*.ipynb")))
def test_reference_solutions_and_honest_algebra_are_not_flagged(notebook):
    """The instructor's solutions (every item of the assignment), and the antisymmetric part
    dot(U.T, gU) - dot(gU.T, U) of an SVD rule (a difference of calls, but not of a primal)."""
    import nbformat
    from adgrade import ASSIGNMENTS
    from adgrade.source_check import numerical_differentiation
    nb = nbformat.read(nbs.COURSE / notebook, as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    cells.append("def svd_vjp(g, ans, w, **kw):\n    gU, gs, gVt = g\n    U, s, Vt = ans\n"
                 "    J = np.dot(U.T, gU) - np.dot(gU.T, U)\n"
                 "    F = 1 / (np.power(s[None, :], 2) - np.power(s[:, None], 2) + np.eye(len(s)))\n"
                 "    return U @ (F * J) @ Vt\n")
    items = ASSIGNMENTS[notebook.split("/")[1]].ITEMS.values()
    assert {name: numerical_differentiation(cells, name) for name, _ in items} == \
        {name: [] for name, _ in items}


# ---- in the worker: the grading procedures live in the student's process ------------------------

def test_student_cannot_forge_the_use_verdict(engines, tmp_path):
    """Was: a student cell replaced ``adworker.procedures.counted`` in the worker and reported
    any rule-call counts (seen: {'log_vjp': 7} for a walkthrough that never called it). Use items
    are now judged with planted rules whose expectation the grader computes itself: the same
    cell, now replacing ``with_planted_rules`` so that it answers the student's own values, and a
    walkthrough that never calls the rules, lose both walkthrough items."""
    cell = ("import adworker.procedures as P\n"
            "P.with_planted_rules = lambda ns, target, coefficients, *a: ns[target](*a)\n")
    out = verdicts(engines, tmp_path, PS1, {"walkthrough": WALK_CLOSED_FORM},
                   items=["test_walkthrough_visible", "test_walkthrough_hidden"], extra=cell)
    assert all(msg is not None and "[planted rules]" in msg for msg in out.values()), out


@pytest.fixture(scope="module")
def engine_worker(tmp_path_factory):
    from adgrade.engine_copy import make_engine_copy
    from adgrade.sandbox import Worker
    root = tmp_path_factory.mktemp("rt2e")
    engine = make_engine_copy(str(root / "engine"), ["log", "sqrt", "power", "log1p"])
    sub = root / "submitted" / "honest"
    sub.mkdir(parents=True)
    (sub / "answer.ipynb").write_text("{}")
    w = Worker(engine, str(sub), memory_mb=1024)
    yield w
    w.cleanup()


def _loss_grad(w, cell):
    out = w.request({"op": "run_cell", "source": cell, "number": 1}, 20)
    assert out["error"] is None, out
    x = np.linspace(0.3, 2.5, 6)
    c = np.linspace(-1.0, 1.0, 6)
    answer = w.request({"op": "call", "target": "proc:elementwise_rule_in_loss",
                        "args": encode(["log", "vjp", x, c, None]), "kwargs": encode({})}, 20)
    assert "value" in answer, answer
    return decode(answer["value"])


@pytest.mark.parametrize("body", ["g = g.copy()\n    g /= x\n    return g",
                                  "return np.divide(g, x, dtype=np.float64)",
                                  "return g * np.reciprocal(x)"])
def test_honest_rule_forms_in_the_loss_match_the_plain_rule(engine_worker, body):
    plain = _loss_grad(engine_worker, "import numpy as np\ndef log_vjp(g, ans, x):\n    return g / x\n")
    other = _loss_grad(engine_worker, f"import numpy as np\ndef log_vjp(g, ans, x):\n    {body}\n")
    np.testing.assert_allclose(np.asarray(other, float), np.asarray(plain, float), rtol=1e-12)


@pytest.mark.parametrize("form", ["list", "tuple"])
def test_a_list_returning_rule_also_works_in_the_loss(engine_worker, form):
    """A rule returning a list (or tuple) of the right numbers passes the rule items (compare
    reads lists); the loss procedures make it an array before the engine sees it, so the loss
    check agrees (it used to score 0: 'return the array itself')."""
    plain = _loss_grad(engine_worker, "import numpy as np\ndef log_vjp(g, ans, x):\n    return g / x\n")
    other = _loss_grad(engine_worker, "import numpy as np\ndef log_vjp(g, ans, x):\n"
                                      f"    return {form}((g / x).tolist())\n")
    np.testing.assert_allclose(np.asarray(other, float), np.asarray(plain, float), rtol=1e-12)
