"""Fast checks of the course's grading pieces, without running nbgrader: the committed source
notebooks, the configuration, the engine copies, the codec, the verdicts, and the sandbox."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import nbformat
import numpy as np
import pytest

from . import nbgrader_support as nbs

GRADING = nbs.COURSE / "grading"
sys.path.insert(0, str(GRADING))

from adgrade import ps1, ps2  # noqa: E402
from adgrade.engine_copy import make_engine_copy, strip_rules  # noqa: E402
from adgrade.harness import CellGrader  # noqa: E402
from adgrade.sandbox import SandboxUnavailable, Worker, WorkerLost, check_sandbox  # noqa: E402
from adworker.codec import CodecError, decode, encode  # noqa: E402

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
def test_source_notebook_is_clean_and_every_test_cell_has_checks(assignment):
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
            # the hidden checks live in the grader, not in the notebook
            assert "HIDDEN TESTS" not in cell.source and "adgrade" not in cell.source
        if meta["solution"]:
            assert "### BEGIN SOLUTION" in cell.source
    assert points == EXPECTED[assignment]
    checks = {"ps1_elementwise": ps1, "ps2_matrices": ps2}[assignment]
    assert set(checks.ITEMS) == {g for g in points if g.startswith("test_")}


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
    "sanitize": [p.__name__ for p in c.Autograde.sanitize_preprocessors],
    "autograde": [p.__name__ for p in c.Autograde.autograde_preprocessors],
    "feedback": [p.__name__ for p in c.GenerateFeedback.preprocessors],
    "timeout": c.GradeInSandbox.timeout,
    "review": c.GradeInSandbox.review_file,
    "ignore": c.CourseDirectory.ignore,
}))
"""


def test_config_grades_in_the_sandbox_and_repairs_cells_first():
    proc = subprocess.run([sys.executable, "-c", CONFIG], cwd=nbs.COURSE, env=nbs.env(),
                          capture_output=True, text=True, check=True)
    config = json.loads(proc.stdout.strip().splitlines()[-1])
    assert config["sanitize"].index("RestoreCells") < config["sanitize"].index("DeduplicateIds")
    assert "OverwriteCells" not in config["sanitize"]
    auto = config["autograde"]
    assert auto[0] == "GradeInSandbox" and "Execute" not in auto
    assert auto.index("GradeInSandbox") < auto.index("SaveAutoGrades")
    assert config["timeout"] == 10
    assert config["review"] == str(nbs.COURSE / "needs_review.csv")
    assert "ClearHiddenTests" in config["feedback"]
    assert {"*.py", "*.md"} <= set(config["ignore"])


# ---- engine copies ------------------------------------------------------------------------------

PROBE = """
import json
import numpy as np
import autodiff_core as ad, autodiff_core.numpy as anp
from autodiff_core.tracer import Primitive
prims = {v.name: v for m in (anp, anp.linalg) for v in vars(m).values() if isinstance(v, Primitive)}
out = {"with_rules": sorted(n for n, p in prims.items() if p.vjps or p.jvps or p.vjp_argnum or p.jvp_argnum)}
def attempt(f):
    try:
        f()
        return "ok"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
x = np.array([0.5, 2.0])
out["grad_sin"] = attempt(lambda: ad.grad(lambda t: anp.sum(anp.sin(t)))(x))
out["vjp_power"] = attempt(lambda: ad.vjp(lambda t: anp.power(t, 0.5), x)[1](x))
out["copied_svd_rule"] = attempt(lambda: anp.linalg._svd_vjp((None, x, None), None, np.eye(2)))
print(json.dumps(out))
"""


def _probe(tmp_path, prims):
    make_engine_copy(str(tmp_path), prims)
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True,
                          text=True, env={"PYTHONPATH": str(tmp_path), "PATH": os.environ["PATH"]})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_bare_engine_copy_has_no_derivative_rules_at_all(tmp_path):
    got = _probe(tmp_path, None)
    assert got["with_rules"] == []
    assert "'sum' has no VJP rule" in got["grad_sin"] or "has no VJP rule" in got["grad_sin"]
    assert "has no VJP rule" in got["vjp_power"]
    assert "removed from the engine" in got["copied_svd_rule"]   # the function's body is gone


def test_mode_engine_copies_lack_exactly_the_graded_rules(tmp_path):
    got = _probe(tmp_path / "ps1", ps1.MODES["engine"])
    assert not {"log", "sqrt", "power", "log1p"} & set(got["with_rules"])
    assert {"sin", "multiply", "add", "sum", "svd", "solve"} <= set(got["with_rules"])
    assert got["grad_sin"] == "ok" and "'power' has no VJP rule" in got["vjp_power"]
    got = _probe(tmp_path / "ps2", ps2.MODES["engine"])
    assert not {"solve", "svd", "inv", "det", "slogdet"} & set(got["with_rules"])
    assert {"matmul", "transpose", "tanh", "power", "log"} <= set(got["with_rules"])
    assert "removed from the engine" in got["copied_svd_rule"]


def test_strip_rules_removes_registrations_and_the_code_only_they_use():
    source = textwrap.dedent('''
        def _helper(x):
            return 2 * x

        def _shared(x):
            return x

        def _rule(g, ans, x):
            """the docstring stays"""
            return _helper(g) * _shared(x)

        p = primitive(f, _rule.__doc__)
        p.defvjp(_rule)
        q.defvjp(lambda g, ans, x: _shared(g))
        y = _shared(1)
    ''')
    out = strip_rules(source, ("p",))
    assert "p.defvjp" not in out and "q.defvjp" in out
    assert "return 2 * x" not in out and "_helper(g)" not in out       # only the rule used it
    assert "the docstring stays" in out and "return x" in out            # _shared is still used
    assert "q.defvjp" not in strip_rules(source, None)


# ---- the codec ----------------------------------------------------------------------------------

def test_codec_round_trips_plain_data_and_rejects_everything_else():
    value = (np.array(3.0), np.arange(6.0).reshape(2, 3), [1, None, np.inf], {"a": np.array([True])},
             np.array([-np.inf, np.nan]), np.int32(4), 2.5)
    back = decode(json.loads(json.dumps(encode(value), allow_nan=False)))
    assert back[0].shape == () and back[0] == 3.0
    assert np.array_equal(back[1], value[1]) and back[2][:2] == [1, None] and back[2][2] == np.inf
    assert back[3]["a"].dtype == bool and np.isnan(back[4][1]) and back[5] == 4 and back[6] == 2.5
    for bad in (np.array([object()]), object(), "x".encode()):
        with pytest.raises(CodecError):
            encode(bad)
    good = encode(np.zeros(2))
    for forged in (dict(good, nd="|O"), dict(good, shape=[3]), dict(good, shape=[-1, -2]),
                   {"pickle": "gASV"}, {"tuple": "abc"}, dict(good, b64="@@@")):
        with pytest.raises((CodecError, ValueError)):
            decode(forged)


# ---- verdicts -----------------------------------------------------------------------------------

def test_scale_aware_criterion_accepts_rounding_and_rejects_wrong_math():
    rng = np.random.default_rng(0)
    exp = rng.standard_normal((4, 4))
    exp[0, 0] = 1e-6                                   # a tiny entry among order-1 entries
    cg = CellGrader("test_x_hidden", "f", student=None)
    # an error of 3e-8 of the largest entry everywhere (an eps of 1e-8 in F) is rounding-level
    assert cg.compare("autograd", "W 4x4", exp + 3e-8 * np.abs(exp).max(), exp)
    # the same values fail an entry-wise comparison (the tiny entry is off by 3 %)
    assert not cg.compare("autograd", "W 4x4", exp + 3e-8 * np.abs(exp).max(), exp, scale="entry")
    # wrong mathematics fails, and the message gives the criterion and the worst entry
    wrong = exp.copy()
    wrong[2, 1] += 1e-3
    assert not cg.compare("autograd", "W 4x4", wrong, exp)
    msg = cg.failures[-1][2]
    assert "worst at index (2, 1)" in msg and "criterion max |got - expected| <= 1e-06 max|expected|" in msg
    # documented infinities must match exactly
    assert cg.compare("IEEE limit", "x = 0", [np.inf, -np.inf], [np.inf, -np.inf], scale="entry")
    assert not cg.compare("IEEE limit", "x = 0", [0.0, -np.inf], [np.inf, -np.inf], scale="entry")
    assert not cg.compare("autograd", "x", [np.nan], [1.0])


def test_verdict_puts_deciding_failures_first_and_wraps():
    cg = CellGrader("test_x_hidden", "f", student=None)
    for i in range(8):
        cg.fail(f"[autograd] disagreement number {i} " + "with a long explanation " * 8)
    cg.fail("[IEEE limit at 0] f returned 0 where +inf is documented", kind=1)
    cg.fail("[delegation] f called the engine", kind=0)
    msg = cg.verdict()
    lines = msg.splitlines()
    assert lines[1].startswith("  - [delegation]") and "[IEEE limit at 0]" in lines[2]
    assert all(len(line) <= 100 for line in lines)
    assert "... and 4 more" in msg


# ---- the sandbox ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bare_engine(tmp_path_factory):
    return make_engine_copy(str(tmp_path_factory.mktemp("engine")), None)


@pytest.fixture
def worker(tmp_path, bare_engine, monkeypatch):
    (tmp_path / "secret.txt").write_text("instructor's secret")          # next to the submission
    sub = tmp_path / "submitted" / "alice"
    sub.mkdir(parents=True)
    (sub / "answer.ipynb").write_text("{}")
    monkeypatch.setenv("ADCOURSE_SECRET_TOKEN", "hunter2")
    w = Worker(bare_engine, str(sub), memory_mb=1024)
    yield w, sub
    w.cleanup()


def _run(w, source, timeout=20):
    return w.request({"op": "run_cell", "source": source, "number": 1}, timeout)


def _stdout(answer):
    return "".join(o.get("text", "") for o in answer["outputs"] if o.get("stream") == "stdout")


def test_worker_sees_only_its_own_copy_of_the_submission(worker, tmp_path):
    w, sub = worker
    out = _run(w, "import os\nprint(sorted(os.listdir('.')), sorted(os.listdir('/')))\n"
                  "open('written.txt', 'w').write('x')")
    assert out["error"] is None, out
    assert "['answer.ipynb']" in _stdout(out)
    assert not (sub / "written.txt").exists(), "the worker wrote into the real submission"
    for path in (tmp_path / "secret.txt", nbs.COURSE / "nbgrader_config.py",
                 nbs.COURSE / "source" / "ps1_elementwise" / "ps1_elementwise.ipynb",
                 GRADING / "adgrade" / "ps1.py"):
        out = _run(w, f"open({str(path)!r}).read()")
        assert out["error"] and out["error"]["ename"] == "FileNotFoundError", (path, out)


def test_worker_has_no_oracles_no_grader_and_no_secrets(worker):
    w, _ = worker
    for module in ("autograd", "jax", "sympy", "adgrade", "nbgrader"):
        out = _run(w, f"import {module}")
        assert out["error"] and out["error"]["ename"] == "ModuleNotFoundError", (module, out)
    out = _run(w, "import os, autodiff_core.numpy as anp\nprint(sorted(os.environ))\n"
                  "print(len(anp.log.vjps), anp.log.vjp_argnum)")
    printed = _stdout(out)
    assert "ADCOURSE_SECRET_TOKEN" not in printed and "HOME" in printed
    assert "0 None" in printed


def test_worker_has_no_network(worker):
    w, _ = worker
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        out = _run(w, f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=3)")
        assert out["error"] is not None, "the worker reached a server of the grader's machine"
    finally:
        server.close()


def test_worker_limits_memory_and_time_and_dies_alone(worker):
    w, _ = worker
    out = _run(w, "x = bytearray(3 * 2**30)")
    assert out["error"] and out["error"]["ename"] == "MemoryError"
    with pytest.raises(WorkerLost, match="did not answer within 2 s"):
        _run(w, "while True:\n    pass", timeout=2)
    assert w.proc.poll() is not None, "a hung worker is killed"


def test_kill_everything_from_a_worker_reaches_nothing_outside(tmp_path, bare_engine):
    sentinel = subprocess.Popen(["sleep", "60"])          # a process of the grader's user
    w = Worker(bare_engine, str(tmp_path))
    try:
        out = _run(w, "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\n"
                      "except ProcessLookupError:\n    pass\nprint('still here')")
        assert "still here" in _stdout(out)
        assert sentinel.poll() is None, "kill(-1) in the worker killed a process outside it"
        with pytest.raises(WorkerLost, match="died"):
            _run(w, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    finally:
        w.cleanup()
        sentinel.kill()
        sentinel.wait()


def test_missing_bubblewrap_names_the_fix(monkeypatch, tmp_path):
    check_sandbox()                                   # works here (CI installs bubblewrap)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxUnavailable, match="apt-get install -y bubblewrap"):
        check_sandbox()


def test_hidden_inputs_are_salted_per_course(tmp_path, monkeypatch):
    """The same inputs on every grading of one course; other inputs in another course (whose
    salt a student reading the public code does not know)."""
    from adgrade import harness
    draws = {}
    for course in ("a", "b"):
        monkeypatch.setattr(harness, "SALT_FILE", str(tmp_path / f"{course}.salt"))
        draws[course] = [harness.rng_for("log_vjp").standard_normal(3) for _ in range(2)]
    assert np.array_equal(*draws["a"]) and np.array_equal(*draws["b"])
    assert not np.allclose(draws["a"][0], draws["b"][0])
    assert len((tmp_path / "a.salt").read_text()) == 32
