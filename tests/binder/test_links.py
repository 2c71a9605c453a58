"""Issue 9: every link in every course notebook resolves, in this repository and in the
student copy (where the problem sets are in assignments/release/, not in source/).

Links are read from the Markdown cells with markdown-it (Markdown links and images, and
href/src attributes of inline HTML). A relative link must name an existing file or folder;
a #fragment on a notebook must name one of its headings (JupyterLab's anchors: the
heading text with spaces as '-'). Web links (http, https, mailto) are not fetched.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from markdown_it import MarkdownIt

from binder_support import SOURCE_REPO

HTML_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""", re.I)
MD = MarkdownIt("commonmark")


def markdown_links(text: str) -> list[str]:
    found = []
    stack = MD.parse(text)
    while stack:
        token = stack.pop(0)
        stack[:0] = token.children or []
        if token.type == "link_open":
            found.append(token.attrGet("href"))
        elif token.type == "image":
            found.append(token.attrGet("src"))
        elif token.type in ("html_inline", "html_block"):
            found.extend(HTML_LINK.findall(token.content))
    return found


def heading_anchors(notebook: Path) -> set[str]:
    anchors = set()
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
                if m:
                    anchors.add(m.group(1).replace(" ", "-"))
    return anchors


def dead_links(root: Path, folders_ok: bool = False) -> list[str]:
    """Every link of course/*.ipynb under `root` that does not resolve, as 'notebook: link'.
    A link to a folder is dead too unless `folders_ok`: JupyterLab answers it with
    "File Load Error ... is a directory, not a file"."""
    notebooks = sorted((root / "course").glob("*.ipynb"))
    assert notebooks, f"no course notebooks under {root}"
    dead = []
    for nb_path in notebooks:
        nb = nbformat.read(nb_path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            for link in markdown_links(cell.source):
                parts = urlsplit(link)
                if parts.scheme or parts.netloc:
                    continue  # a web address
                target = (nb_path.parent / unquote(parts.path)).resolve() if parts.path else nb_path
                if not target.exists():
                    dead.append(f"{nb_path.name}: {link}")
                elif target.is_dir() and not folders_ok:
                    dead.append(f"{nb_path.name}: {link} (a folder)")
                elif parts.fragment and target.suffix == ".ipynb":
                    if unquote(parts.fragment) not in heading_anchors(target):
                        dead.append(f"{nb_path.name}: {link} (no such heading)")
    return dead


def index_targets(root: Path) -> set[Path]:
    index = root / "course" / "index.ipynb"
    links = [l for c in nbformat.read(index, as_version=4).cells if c.cell_type == "markdown"
             for l in markdown_links(c.source)]
    return {(index.parent / unquote(urlsplit(l).path)).resolve() for l in links if not urlsplit(l).scheme}


def test_every_course_link_resolves_in_this_repository():
    # (the instructor's index links the source folders; the student copy links notebooks)
    dead = dead_links(SOURCE_REPO)
    assert not dead, dead


@pytest.mark.slow
def test_every_course_link_resolves_in_the_student_copy(student_copy):
    dead = dead_links(student_copy)
    assert not dead, "dead links in the student copy:\n" + "\n".join(dead)


@pytest.mark.slow
def test_the_index_links_every_released_problem_set(student_copy):
    release = student_copy / "assignments" / "release"
    ids = sorted(p.name for p in release.iterdir() if p.is_dir())
    assert ids
    targets = index_targets(student_copy)
    for aid in ids:
        assert set((release / aid).glob("*.ipynb")) & targets, f"course/index.ipynb links no release of {aid}"


def test_the_checker_finds_a_dead_link_and_a_missing_heading(tmp_path):
    """Control: the check above can fail."""
    course = tmp_path / "course"
    shutil.copytree(SOURCE_REPO / "course", course, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    first = sorted(course.glob("[0-9][0-9]_*.ipynb"))[0]
    headings = heading_anchors(first)
    assert headings, f"{first.name} has no headings"
    index = course / "index.ipynb"
    nb = nbformat.read(index, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(
        f"[gone](../assignments/source/no_such_set/) [ok]({first.name}#{sorted(headings)[0]}) "
        f"[bad anchor]({first.name}#No-such-heading) <a href=\"99_missing.ipynb\">x</a>"))
    nbformat.write(nb, index)
    (tmp_path / "assignments" / "source" / "a_folder").mkdir(parents=True)
    nb.cells.append(nbformat.v4.new_markdown_cell("[folder](../assignments/source/a_folder/)"))
    nbformat.write(nb, index)
    dead = [d for d in dead_links(tmp_path) if "ps1_elementwise" not in d and "ps2_matrices" not in d]
    # (the real problem-set links are dead here too: this copy has no assignments/)
    assert dead == ["index.ipynb: ../assignments/source/no_such_set/",
                    f"index.ipynb: {first.name}#No-such-heading (no such heading)",
                    "index.ipynb: 99_missing.ipynb",
                    "index.ipynb: ../assignments/source/a_folder/ (a folder)"], dead
