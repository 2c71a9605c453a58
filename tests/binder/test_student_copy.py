"""Issue 5, test 3: the student-facing copy holds no solution or hidden-test text.

The copy is built by the instructor command (scripts/build_student_copy.py,
`make student-copy`). Every line of solution code, solution answer and hidden
test in the instructor's assignment sources is collected, and none of them may
appear anywhere in the copy; nor may nbgrader's region markers.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from binder_support import SOURCE_REPO

pytestmark = pytest.mark.slow

MARKER = re.compile(r"(BEGIN|END) (SOLUTION|HIDDEN TESTS|MARK SCHEME)")
REGION = re.compile(
    r"### BEGIN (SOLUTION|HIDDEN TESTS|MARK SCHEME)\n(.*?)### END \1", re.S
)
TEXT_SUFFIXES = {".ipynb", ".py", ".md", ".txt", ".json", ".toml", ".cfg", ".rst", ".yml", ".yaml", ""}


def secret_and_public_lines(notebook: Path) -> tuple[set[str], set[str]]:
    """Lines only the instructor may see, and lines students see anyway."""
    nb = nbformat.read(notebook, as_version=4)
    secret, public = set(), set()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        source = cell.source
        regions = REGION.findall(source)
        hidden = "".join(body for _, body in regions)
        visible = REGION.sub("", source)
        if meta.get("solution") and not regions:
            # a solution cell without delimiters is replaced as a whole
            hidden, visible = source, ""
        secret.update(line.strip() for line in hidden.splitlines())
        public.update(line.strip() for line in visible.splitlines())
    return secret, public


def distinctive(lines: set[str], public: set[str]) -> set[str]:
    """Secret lines long and specific enough that finding one is a leak."""
    out = set()
    for line in lines - public:
        bare = line.lstrip("#").strip()
        if len(bare) < 12 or MARKER.search(line):
            continue
        if bare.startswith(("raise NotImplementedError", "YOUR CODE HERE", "YOUR ANSWER HERE")):
            continue
        out.add(line)
    return out


def text_files(folder: Path):
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in TEXT_SUFFIXES and ".git" not in path.parts:
            yield path, path.read_text(encoding="utf-8", errors="replace")


def leaks(folder: Path, secrets: set[str]) -> list[str]:
    found = []
    for path, text in text_files(folder):
        if MARKER.search(text):
            found.append(f"{path.relative_to(folder)}: nbgrader marker")
        # notebooks store each source line as a JSON string: compare decoded text
        if path.suffix == ".ipynb":
            nb = nbformat.reads(text, as_version=4)
            text = "\n".join(c.source for c in nb.cells)
        stripped = {line.strip() for line in text.splitlines()}
        for secret in secrets & stripped:
            found.append(f"{path.relative_to(folder)}: {secret[:80]!r}")
    return found


@pytest.fixture(scope="module")
def sources() -> list[Path]:
    notebooks = sorted((SOURCE_REPO / "assignments" / "source").glob("*/*.ipynb"))
    assert notebooks, "no assignment sources (assignments/source/*/*.ipynb)"
    return notebooks


def published_lines() -> set[str]:
    """Lines of the material that is published as it is (lectures, engine)."""
    lines = set()
    for folder in ("course", "autodiff_core"):
        for path, text in text_files(SOURCE_REPO / folder):
            if path.suffix == ".ipynb":
                text = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
            lines.update(line.strip() for line in text.splitlines())
    return lines


@pytest.fixture(scope="module")
def secrets(sources) -> set[str]:
    # a line of a solution that a lecture also shows (a worked example the
    # assignment builds on) is public anyway and not a leak
    secret, public = set(), published_lines()
    for nb in sources:
        s, p = secret_and_public_lines(nb)
        secret |= s
        public |= p
    found = distinctive(secret, public)
    # a source without any solution or hidden test would make this test vacuous
    assert found, "no solution or hidden-test lines found in the assignment sources"
    return found


def test_student_copy_layout(student_copy, sources):
    assert (student_copy / "course" / "index.ipynb").is_file()
    assert (student_copy / "autodiff_core" / "__init__.py").is_file()
    for name in ("requirements.txt", "runtime.txt", "postBuild"):
        assert (student_copy / "binder" / name).is_file()
    assert (student_copy / "pyproject.toml").is_file() and (student_copy / "constraints.txt").is_file()
    assert "OWNER/REPO" in (student_copy / "README.md").read_text()
    # instructor material stays behind
    for gone in ("assignments/source", "assignments/gradebook.db", "assignments/nbgrader_config.py",
                 "assignments/grading", "assignments/autograded", "assignments/submitted", "tests"):
        assert not (student_copy / gone).exists(), gone
    # every source notebook has its released twin
    for nb in sources:
        released = student_copy / "assignments" / "release" / nb.parent.name / nb.name
        assert released.is_file(), f"missing release of {nb.relative_to(SOURCE_REPO)}"
        text = released.read_text()
        assert "YOUR CODE HERE" in text or "YOUR ANSWER HERE" in text, released
        # nbgrader's IncludeHeaderFooter put the hand-in instructions on top
        first = nbformat.read(released, as_version=4).cells[0].source
        assert "How to hand in" in first and "learning management system" in first, first


def test_student_copy_contains_no_solution_or_hidden_test_text(student_copy, secrets):
    found = leaks(student_copy, secrets)
    assert not found, "instructor material in the student copy:\n" + "\n".join(found)


def test_leak_check_catches_a_planted_source(student_copy, sources, secrets, tmp_path):
    """The check above can fail: a copy with one source notebook planted in it is caught."""
    planted = tmp_path / "copy"
    shutil.copytree(student_copy, planted)
    shutil.copy2(sources[0], planted / "course" / "planted.ipynb")
    assert leaks(planted, secrets)
