"""Fast checks of the course's grading pieces, without running nbgrader: the committed source
notebooks, the configuration values, the delegation traps and the evidence preprocessor."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings

import nbformat
import numpy as np
import pytest

from . import nbgrader_support as nbs

GRADING = nbs.COURSE / "grading"


@pytest.fixture
def grading_path(monkeypatch):
    monkeypatch.syspath_prepend(str(GRADING))
    monkeypatch.syspath_prepend(str(nbs.REPO))


# ---- the committed sources --------------------------------------------------------------------

EXPECTED = {
    # grade cell -> points, written out from the assignment design (README table)
    "ps1_elementwise": {
        "test_log_vjp_visible": 1, "test_log_vjp_hidden": 2,
        "test_sqrt_vjp_visible": 1, "test_sqrt_vjp_hidden": 2,
        "test_log_jvp_visible": 1, "test_log_jvp_hidden": 1,
        "test_sqrt_jvp_visible": 1, "test_sqrt_jvp_hidden": 1,
        "test_walkthrough_visible": 1, "test_walkthrough_hidden": 2,
        "test_plugin_visible": 1, "test_plugin_hidden": 2,
        "derivation": 3},
    "ps2_matrices": {
        "test_solve_vjp_A_visible": 1, "test_solve_vjp_A_hidden": 3,
        "test_solve_vjp_b_visible": 1, "test_solve_vjp_b_hidden": 2,
        "test_svd_values_vjp_visible": 1, "test_svd_values_vjp_hidden": 2,
        "test_svd_vjp_visible": 1, "test_svd_vjp_hidden": 4,
        "test_least_squares_visible": 1, "test_least_squares_hidden": 2,
        "test_low_rank_visible": 1, "test_low_rank_hidden": 2,
        "derivation_solve": 2, "derivation_svd": 3},
}


@pytest.mark.parametrize("assignment", nbs.ASSIGNMENTS)
def test_source_notebook_is_clean_and_keeps_its_nbgrader_metadata(assignment):
    folder = nbs.COURSE / "source" / assignment
    assert sorted(p.name for p in folder.iterdir()) == [f"{assignment}.ipynb"]
    nb = nbs.read(folder / f"{assignment}.ipynb")
    nbformat.validate(nb)
    points = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        assert meta["schema_version"] == 3
        if meta["grade"]:
            points[meta["grade_id"]] = meta["points"]
        if meta["grade"] and not meta["solution"]:
            assert meta["locked"] and cell.cell_type == "code"
            # every test cell has a hidden region that ends by checking the whole cell
            assert "### BEGIN HIDDEN TESTS" in cell.source
            assert f"grade({meta['grade_id']!r}, globals())" in cell.source
        if meta["solution"]:
            assert "### BEGIN SOLUTION" in cell.source
    assert points == EXPECTED[assignment]


def test_committed_sources_match_the_authoring_script(tmp_path):
    script = nbs.COURSE / "authoring" / "build_sources.py"
    code = (f"import sys; sys.path.insert(0, {str(script.parent)!r}); import build_sources as b; "
            f"b.ROOT = {str(tmp_path)!r}; b.build()")
    subprocess.run([sys.executable, "-c", code], check=True)
    for assignment in nbs.ASSIGNMENTS:
        built = (tmp_path / "source" / assignment / f"{assignment}.ipynb").read_text()
        committed = (nbs.COURSE / "source" / assignment / f"{assignment}.ipynb").read_text()
        assert built == committed, f"run assignments/authoring/build_sources.py ({assignment})"


# ---- the configuration ------------------------------------------------------------------------

CONFIG = """
import json
from traitlets.config.loader import PyFileConfigLoader
c = PyFileConfigLoader("nbgrader_config.py", path=".").load_config()
print(json.dumps({
    "timeout": c.Execute.timeout,
    "ignore_enabled": c.IgnorePattern.enabled,
    "ignore_pattern": c.IgnorePattern.pattern,
    "add_missing_cells": c.OverwriteCells.add_missing_cells,
    "autograde": [p.__name__ for p in c.Autograde.autograde_preprocessors],
    "feedback": [p.__name__ for p in c.GenerateFeedback.preprocessors],
    "ignore": c.CourseDirectory.ignore,
}))
"""


@pytest.fixture(scope="module")
def config():
    proc = subprocess.run([sys.executable, "-c", CONFIG], cwd=nbs.COURSE, env=nbs.env(),
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_config_sets_the_grading_safeguards(config):
    assert config["timeout"] == 10
    assert config["add_missing_cells"] is True
    auto = config["autograde"]
    assert auto.index("Execute") < auto.index("IgnorePattern") < auto.index("RequireTestEvidence") \
        < auto.index("SaveAutoGrades")
    assert {"ClearHiddenTests", "HideTestTracebacks"} <= set(config["feedback"])
    assert {"*.py", "*.md"} <= set(config["ignore"])


def test_ignore_pattern_drops_numpy_warnings_but_not_other_stderr(config):
    assert config["ignore_enabled"]
    pattern = re.compile(config["ignore_pattern"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        np.ones(1) / np.zeros(1)
    assert caught
    w = caught[0]
    text = warnings.formatwarning(w.message, w.category, w.filename, w.lineno, "    return g / x")
    assert pattern.search(text), text
    assert pattern.search("/tmp/ipykernel_1/123.py:3: UserWarning: careful\n  warn()\n")
    for other in ("Traceback (most recent call last):\n", "my debug print\n", "ERROR: failed\n"):
        assert not pattern.search(other), other


# ---- delegation traps -------------------------------------------------------------------------


def _guarded(fn, *args):
    from adgrade.harness import DelegationGuard
    import autodiff_core.numpy as anp
    with DelegationGuard([anp.log]) as guard:
        fn(*args)
    return guard.hits


def test_delegation_guard_sees_autograd_and_the_engine_rule_through_aliases(grading_path):
    import autodiff_core as ad
    import autodiff_core.numpy as anp
    import autograd
    import autograd.numpy as agnp

    x, g = np.array([0.5, 2.0]), np.ones(2)
    alias = autograd.make_vjp
    captured = anp.log.vjp_rule(0)   # a reference taken before the test starts

    def own(g, ans, x):
        return g / anp.maximum(x, 0.0)       # engine operations are fine

    def via_autograd(g, ans, x):
        return alias(agnp.log)(x)[0](g)

    def via_captured_rule(g, ans, x):
        return captured(g, ans, x)

    def via_engine_grad(g, ans, x):
        return g * ad.grad(lambda t: anp.sum(anp.log(t)))(x)

    def via_fresh_import(g, ans, x):
        import autograd.numpy  # noqa: F401 - only importing is already recorded
        try:
            raise RuntimeError
        except RuntimeError:
            pass
        return g / x

    assert _guarded(own, g, np.log(x), x) == []
    assert any("autograd" in h for h in _guarded(via_autograd, g, np.log(x), x))
    assert any("reference VJP rule of log" in h for h in _guarded(via_captured_rule, g, np.log(x), x))
    assert any("reference VJP rule of log" in h for h in _guarded(via_engine_grad, g, np.log(x), x))
    assert any("autograd" in h for h in _guarded(via_fresh_import, g, np.log(x), x))
    # everything is restored afterwards
    assert sys.getprofile() is None
    assert anp.log.vjp_rule(0) is captured
    assert sys.modules["autograd"] is autograd


def test_cell_grader_reports_oracle_input_expected_got_and_error(grading_path):
    from adgrade.harness import CellGrader, GradingFailure
    cg = CellGrader("test_x_hidden", "f")
    assert cg.compare("engine reference rule", "x of shape (2,)", [1.0, 2.0], np.array([1.0, 2.0]))
    assert not cg.compare("autograd", "x of shape (2,)", [1.0, 2.5], np.array([1.0, 2.0]))
    assert not cg.compare("autograd", "x of shape (2,)", [1.0], np.array([1.0, 2.0]))
    assert cg.compare("IEEE limit", "x = 0", [np.inf], np.array([np.inf]))
    assert not cg.compare("IEEE limit", "x = 0", [np.nan], np.array([np.inf]))
    with pytest.raises(GradingFailure) as info:
        cg.finish()
    msg = str(info.value)
    assert "3 check(s) failed" in msg and "[autograd] f disagrees with autograd (x of shape (2,))" in msg
    assert "max abs error 0.5" in msg and "expected [1., 2.]" in msg and "got [1. , 2.5]" in msg
    assert "wrong shape" in msg


# ---- the evidence preprocessor ----------------------------------------------------------------


def _test_cell(gid, outputs):
    cell = nbformat.v4.new_code_cell("pass", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "grade_id": gid, "points": 1,
        "schema_version": 3}})
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


def test_a_test_cell_without_evidence_is_scored_zero(grading_path, monkeypatch):
    from adgrade import evidence
    from nbgrader.utils import determine_grade
    from nbgrader_hooks import RequireTestEvidence
    monkeypatch.setenv(evidence.TOKEN_ENV, "t0k")

    def record(gid, token="t0k"):
        return {"output_type": "display_data", "metadata": {},
                "data": {evidence.MIME: {"grade_id": gid, "status": "passed", "token": token},
                         "text/plain": "ok"}}

    pp = RequireTestEvidence()
    cases = {
        "with evidence": (_test_cell("a", [record("a")]), 1),
        "no output at all (cell did not run)": (_test_cell("a", []), 0),
        "evidence of another cell": (_test_cell("a", [record("b")]), 0),
        "evidence with a wrong token": (_test_cell("a", [record("a", token="x")]), 0),
    }
    for name, (cell, expected) in cases.items():
        cell, _ = pp.preprocess_cell(cell, {}, 0)
        assert determine_grade(cell)[0] == expected, name
    cell, _ = pp.preprocess_cell(_test_cell("a", []), {}, 0)
    assert cell.outputs[-1].ename == "GradingIntegrityError"


def test_numpy_integrity_check_sees_replaced_functions(grading_path, monkeypatch):
    from adgrade.harness import check_numpy_integrity
    assert check_numpy_integrity() == []
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    monkeypatch.setattr(np.linalg, "solve", lambda a, b: b)
    monkeypatch.setattr(np, "abs", np.negative)
    found = " ".join(check_numpy_integrity())
    for name in ("numpy.allclose", "numpy.linalg.solve", "numpy.abs"):
        assert f"{name} was replaced" in found
