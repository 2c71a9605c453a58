"""Course notebooks (issue 3): every course/*.ipynb runs headless, and is stored the way the course needs.

Slow tests execute each notebook with nbclient in a temporary copy of course/ (so no outputs or files are
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
NOTEBOOKS = sorted(COURSE.glob("*.ipynb"))
LECTURES = [
    "01_why_gradients", "02_zero_order_methods", "03_finite_differences", "04_symbolic_differentiation",
    "05_computational_graph", "06_forward_mode", "07_reverse_mode", "08_choosing_the_mode",
    "09_feedforward_network", "10_linear_solve", "11_svd", "12_normal_pdf", "13_hessian_vector_products",
    "14_hessian_spectra", "15_hutchinson_trace", "16_checkpointing", "17_summary_and_self_check",
]
ASSIGNMENTS = ["assignments/source/ps1_elementwise", "assignments/source/ps2_matrices"]
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}
CELL_TIMEOUT = 120          # seconds per cell before nbclient gives up
NOTEBOOK_BUDGET = 45        # seconds per notebook; all of them together must stay well under 5 minutes

ids = [p.name for p in NOTEBOOKS]


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- execution (slow)

@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_executes(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    workdir = tmp_path / "course"
    shutil.copytree(COURSE, workdir)             # run in a copy: nothing is written back to course/
    before = _digest(path)
    # the kernel is a subprocess: make `import autodiff_core` work without an installed package
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("MPLBACKEND", raising=False)   # keep the inline backend, so figures are really drawn
    nb = _read(workdir / path.name)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as err:
        pytest.fail(f"{path.name}: a cell failed\n{err}", pytrace=False)
    elapsed = time.perf_counter() - start
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: error outputs {errors}"
    assert _digest(path) == before, f"{path.name} was modified by its execution"
    assert elapsed < NOTEBOOK_BUDGET, f"{path.name} took {elapsed:.1f} s (budget {NOTEBOOK_BUDGET} s)"


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
