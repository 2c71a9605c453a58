"""Course notebooks (issue 3): every course/*.ipynb runs headless, and is stored the way the course needs.

Slow tests execute each notebook with nbclient in a temporary copy of course/, twice: with the exercises blank
and with the reference answers of tests/course/answers/ in the exercise cells (no outputs or files are
ever written back into the repository); a failing cell fails the test. The fast tests check that the
notebooks are stored without outputs, carry slide metadata on every cell, are valid nbformat, and that the
course index links every notebook and both assignments.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "course"
INDEX = COURSE / "index.ipynb"
ANSWERS = Path(__file__).resolve().parent / "answers"
NOTEBOOKS = sorted(COURSE.glob("*.ipynb"))
LECTURES = [
    "01_why_gradients", "02_zero_order_methods", "03_finite_differences", "04_symbolic_differentiation",
    "05_computational_graph", "06_forward_mode", "07_reverse_mode", "08_choosing_the_mode",
    "09_feedforward_network", "10_linear_solve", "11_svd", "12_normal_pdf", "13_hessian_vector_products",
    "14_hessian_spectra", "15_hutchinson_trace", "16_checkpointing", "17_summary_and_self_check",
    "18_from_this_engine_to_jax",
]
ASSIGNMENTS = ["assignments/source/ps1_elementwise", "assignments/source/ps2_matrices"]
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}
CELL_TIMEOUT = 120          # seconds per cell before nbclient gives up
NOTEBOOK_BUDGET = 20        # CPU seconds of the kernel per notebook (imports included); wall time on a loaded
                            # machine is a multiple of it, so the budget is on the kernel's own CPU time

ids = [p.name for p in NOTEBOOKS]


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- execution (slow)

def _answers(path: Path) -> dict[str, str]:
    """Reference answers of a lecture's exercises, kept outside course/: tests/course/answers/<stem>.py.

    The file is split by lines ``# %% <cell id>``; each section replaces the source of the exercise
    cell with that nbformat cell id.
    """
    file = ANSWERS / f"{path.stem}.py"
    if not file.is_file():
        return {}
    sections, current = {}, None
    for line in file.read_text().splitlines():
        m = re.match(r"# %% (\S+)\s*$", line)
        if m:
            current = m.group(1)
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return {k: "\n".join(v).strip("\n") for k, v in sections.items()}


def _tagged(nb, tag: str):
    return [c for c in nb.cells if tag in c.metadata.get("tags", [])]


CHECK_CALL = re.compile(r"""\bcheck(?:_function|_that)?\(\s*["']([^"']+)["']""")


def _check_names(nb) -> list[str]:
    """Exercise names that the notebook's self-check cells pass to selfcheck (first argument, a string literal)."""
    return [name for c in _tagged(nb, "self-check") for name in CHECK_CALL.findall(c.source)]


def _run(path: Path, tmp_path: Path, monkeypatch, answered: bool) -> dict[str, str]:
    """Execute a copy of the notebook (exercises blank, or filled from the reference answers);
    return selfcheck.RESULTS as the kernel saw it at the end."""
    import json

    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    workdir = tmp_path / "course"
    shutil.copytree(COURSE, workdir)             # run in a copy: nothing is written back to course/
    before = _digest(path)
    # the kernel is a subprocess: make `import autodiff_core` work without an installed package
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("MPLBACKEND", raising=False)   # keep the inline backend, so figures are really drawn
    nb = _read(workdir / path.name)
    if answered:
        answers = _answers(path)
        missing = [c.id for c in _tagged(nb, "exercise") if c.id not in answers]
        assert not missing, f"{path.name}: no reference answer in tests/course/answers/{path.stem}.py for cells {missing}"
        stale = sorted(set(answers) - {c.id for c in _tagged(nb, "exercise")})
        assert not stale, f"tests/course/answers/{path.stem}.py answers cells that are not exercises of {path.name}: {stale}"
        for cell in _tagged(nb, "exercise"):
            cell.source = answers[cell.id]
    probe = nbformat.v4.new_code_cell(
        "import json as _json, resource as _resource, sys as _sys\n"
        "_sc = _sys.modules.get('selfcheck')\n"
        "_ru = _resource.getrusage(_resource.RUSAGE_SELF)\n"
        "print('SELFCHECK' + _json.dumps({'results': getattr(_sc, 'RESULTS', {}), 'cpu': _ru.ru_utime + _ru.ru_stime}))")
    nb.cells.append(probe)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as err:
        pytest.fail(f"{path.name} ({'answered' if answered else 'blank'}): a cell failed\n{err}", pytrace=False)
    elapsed = time.perf_counter() - start
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: error outputs {errors}"
    assert _digest(path) == before, f"{path.name} was modified by its execution"
    text = "".join(o.get("text", "") for o in probe.outputs if o.get("output_type") == "stream")
    report = json.loads(text.split("SELFCHECK", 1)[1])
    assert report["cpu"] < NOTEBOOK_BUDGET, \
        f"{path.name} used {report['cpu']:.1f} s of CPU ({elapsed:.1f} s wall; budget {NOTEBOOK_BUDGET} s of CPU)"
    return report["results"]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_executes_with_blank_exercises(path, tmp_path, monkeypatch):
    """As a student first opens it: every exercise blank, every check says "not done yet", nothing crashes."""
    results = _run(path, tmp_path, monkeypatch, answered=False)
    not_blank = {k: v for k, v in results.items() if v != "blank"}
    assert not not_blank, f"{path.name}: checks gave a verdict on blank exercises: {not_blank}"
    never_ran = sorted(set(_check_names(_read(path))) - set(results))
    assert not never_ran, f"{path.name}: these checks never ran: {never_ran}"


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if _tagged(_read(p), "exercise")],
                         ids=lambda p: p.name)
def test_notebook_exercises_pass_with_reference_answers(path, tmp_path, monkeypatch):
    """With the reference answers of tests/course/answers/ in the exercise cells, every check says right."""
    results = _run(path, tmp_path, monkeypatch, answered=True)
    assert results, f"{path.name}: no self-check ran"
    never_ran = sorted(set(_check_names(_read(path))) - set(results))
    assert not never_ran, f"{path.name}: these checks never ran: {never_ran}"
    wrong = {k: v for k, v in results.items() if v != "right"}
    assert not wrong, f"{path.name}: with the reference answers these checks did not pass: {wrong}"


@pytest.mark.parametrize("name", LECTURES)
def test_every_lecture_has_exercises_and_checks(name):
    """Lectures 01-18 (the index says so): at least one exercise cell and one self-check cell."""
    nb = _read(COURSE / f"{name}.ipynb")
    assert _tagged(nb, "exercise"), f"course/{name}.ipynb has no cell tagged 'exercise'"
    assert _tagged(nb, "self-check"), f"course/{name}.ipynb has no cell tagged 'self-check'"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if _tagged(_read(p), "exercise")], ids=lambda p: p.name)
def test_exercises_are_blank_and_checked_right_after(path):
    """An exercise cell leaves ... (or raises NotImplementedError) for the student; the next code cell checks it."""
    cells = _read(path).cells
    for i, c in enumerate(cells):
        if "exercise" not in c.metadata.get("tags", []):
            continue
        assert c.cell_type == "code", f"{path.name}: exercise cell {c.id} is not a code cell"
        assert "..." in c.source or "NotImplementedError" in c.source, \
            f"{path.name}: exercise cell {c.id} gives no blank (...) for the student to fill"
        following = next((d for d in cells[i + 1:] if d.cell_type == "code"), None)
        assert following is not None and "self-check" in following.metadata.get("tags", []), \
            f"{path.name}: the code cell after exercise cell {c.id} is not tagged self-check"
    for c in _tagged(_read(path), "self-check"):
        assert CHECK_CALL.search(c.source), f"{path.name}: self-check cell {c.id} calls no check of selfcheck.py"


def test_exercise_names_are_unique_and_carry_the_lecture_number():
    seen: dict[str, str] = {}
    for path in NOTEBOOKS:
        for name in _check_names(_read(path)):
            prefix = path.name[:2] + "-"
            assert name.startswith(prefix), f"{path.name}: exercise name {name!r} must start with {prefix!r}"
            assert name not in seen, f"exercise name {name!r} is used in {seen[name]} and in {path.name}"
            seen[name] = path.name


# --------------------------------------------------------------------------- storage (fast)

def test_course_has_notebooks():
    assert INDEX.is_file(), "course/index.ipynb is missing"
    assert len(NOTEBOOKS) > 1


@pytest.mark.parametrize("name", LECTURES)
def test_every_lecture_exists(name):
    assert (COURSE / f"{name}.ipynb").is_file(), f"course/{name}.ipynb is missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_valid_nbformat(path):
    nbformat.validate(_read(path))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_stored_without_outputs(path):
    nb = _read(path)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: code cells {dirty} have outputs or execution counts; strip them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_slide_metadata_on_every_cell(path):
    nb = _read(path)
    missing = [i for i, c in enumerate(nb.cells)
               if c.metadata.get("slideshow", {}).get("slide_type") not in SLIDE_TYPES]
    assert not missing, f"{path.name}: cells {missing} lack metadata.slideshow.slide_type"
    assert nb.cells[0].metadata["slideshow"]["slide_type"] == "slide", f"{path.name}: the first cell must open a slide"


# --------------------------------------------------------------------------- the index (fast)

def _index_links() -> list[str]:
    text = "\n".join(c.source for c in _read(INDEX).cells if c.cell_type == "markdown")
    links = re.findall(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", text)
    links += re.findall(r"""href=["']([^"']+)["']""", text)
    return links


def _local(link: str) -> Path | None:
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    return (COURSE / unquote(parts.path)).resolve()


def test_index_links_every_notebook():
    targets = {_local(link) for link in _index_links()} - {None}
    unlinked = [p.name for p in NOTEBOOKS if p != INDEX and p.resolve() not in targets]
    assert not unlinked, f"course/index.ipynb does not link {unlinked}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_index_links_assignment(assignment):
    targets = {_local(link) for link in _index_links()} - {None}
    wanted = (ROOT / assignment).resolve()
    assert any(t == wanted or wanted in t.parents for t in targets), f"course/index.ipynb does not link {assignment}"


def test_index_links_resolve():
    broken = [link for link in _index_links() if (p := _local(link)) is not None and not p.exists()]
    assert not broken, f"course/index.ipynb has links to missing files: {broken}"
