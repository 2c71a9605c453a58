#!/usr/bin/env python3
"""Build the student-facing copy of this repository.

The instructor repository holds assignment sources with solutions and hidden
tests. Students (and the Binder image they launch) must only ever see the
*release* versions. This script writes a self-contained folder that can be
pushed as its own public repository and launched on Binder:

    course/                 the lecture notebooks; links to assignments/source/
                            are pointed at assignments/release/
    autodiff_core/          the AD engine the notebooks import
    assignments/release/    every assignment, generated with
                            `nbgrader generate_assignment` (solutions and
                            hidden tests removed), headed by a cell saying how
                            to hand in (download, upload to the LMS)
    binder/                 the repo2docker files (student image)
    pyproject.toml, constraints.txt, LICENSE, a student README.md

The release is generated in a temporary copy of assignments/, so the
instructor's gradebook and release folder are left untouched. The copy is
then scanned for nbgrader's solution and hidden-test markers; any hit is an
error and the folder is not left behind half-valid.

Usage:
    python scripts/build_student_copy.py [--out student-copy] [--repo .]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
MARKER_FILE = ".student-copy"

# nbgrader's delimiters for solution regions and hidden tests. Any of them in
# the student copy means instructor material leaked.
LEAK_PATTERNS = [
    re.compile(r"BEGIN SOLUTION"),
    re.compile(r"END SOLUTION"),
    re.compile(r"BEGIN HIDDEN TESTS"),
    re.compile(r"END HIDDEN TESTS"),
    re.compile(r"BEGIN MARK SCHEME"),
    re.compile(r"END MARK SCHEME"),
]
TEXT_SUFFIXES = {".ipynb", ".py", ".md", ".txt", ".json", ".toml", ".cfg", ".rst", ".yml", ".yaml"}
IGNORE = shutil.ignore_patterns(
    "__pycache__", "*.pyc", ".ipynb_checkpoints", ".pytest_cache", "*.egg-info", ".DS_Store"
)
# nbgrader's IncludeHeaderFooter puts this notebook's cells on top of every released notebook
HANDIN_HEADER = Path(__file__).resolve().parent / "student_handin_header.ipynb"
# generated nbgrader artefacts never copied into the temporary course root
COURSE_ROOT_IGNORE = shutil.ignore_patterns(
    "release", "submitted", "autograded", "feedback", "gradebook.db", "*.csv",
    ".nbgrader.log", "__pycache__", ".ipynb_checkpoints",
)

STUDENT_README = """\
# Automatic differentiation: an open course (student copy)

[![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/{binder_repo}/HEAD?urlpath=lab/tree/course/index.ipynb)
{placeholder_note}
This is the student-facing copy of the course: lecture notebooks in `course/`
(start at `course/index.ipynb`), the `autodiff_core` engine they use, and the
problem sets in `assignments/release/<problem set>/`.

## Start on Binder

Click the badge. JupyterLab opens on the course index; the lectures are in
`course/`, the problem sets in `assignments/release/` (the index links them).
Binder sessions are temporary: download your work (*File > Download*) before
you close the tab.

## Problem sets: work, check, hand in

1. Open `assignments/release/<problem set>/<problem set>.ipynb` and fill in
   every `YOUR CODE HERE` / `YOUR ANSWER HERE` cell.
2. Press **Validate** in the notebook toolbar to run the visible tests (more
   tests run when it is graded).
3. *Kernel > Restart Kernel and Run All Cells*, save, then *File > Download*.
4. Upload the downloaded `.ipynb` file, with its file name unchanged, to the
   problem set's assignment in your course's learning management system
   (Canvas, Moodle, ...). There is no *Submit* button: nothing reaches your
   instructor until you upload the file.

## Start on your own machine

With Python 3.11 (3.10 or newer works), from the folder of this README:

```bash
python3 -m venv .venv
.venv/bin/pip install -r binder/requirements.txt   # the pinned versions Binder uses
PATH="$PWD/.venv/bin:$PATH" bash binder/postBuild  # the Binder image's Jupyter set-up
.venv/bin/jupyter lab                              # opens course/index.ipynb
```
"""


def run(cmd: list[str], cwd: Path) -> None:
    # nbgrader calls `alembic` through PATH: put this interpreter's bin first
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")


def nbgrader_command() -> list[str]:
    exe = Path(sys.executable).with_name("nbgrader")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("nbgrader")
    if found:
        return [found]
    return [sys.executable, "-m", "nbgrader"]


def generate_release(assignments: Path, dest: Path) -> list[str]:
    """Run `nbgrader generate_assignment` for every source in a temp course root.

    Returns the assignment ids released into ``dest``.
    """
    source = assignments / "source"
    ids = sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not ids:
        return []
    with tempfile.TemporaryDirectory(prefix="student-release-") as tmp:
        root = Path(tmp) / "course"
        shutil.copytree(assignments, root, ignore=COURSE_ROOT_IGNORE)
        for aid in ids:
            run(
                nbgrader_command()
                + ["generate_assignment", aid, "--force", f"--CourseDirectory.root={root}",
                   f"--IncludeHeaderFooter.header={HANDIN_HEADER}"],
                cwd=root,
            )
        dest.mkdir(parents=True, exist_ok=True)
        for aid in ids:
            released = root / "release" / aid
            if not released.is_dir():
                raise SystemExit(f"nbgrader produced no release for {aid}")
            shutil.copytree(released, dest / aid, ignore=IGNORE)
    return ids


SOURCE_LINK = re.compile(r"\]\(((?:\.\./)*)assignments/source/([\w.-]+)/?\)")


def point_links_at_release(course: Path, release: Path) -> None:
    """In the copied lecture notebooks, turn links to an assignment's source folder
    (instructor only) into links to its released notebook: JupyterLab cannot open a link
    to a folder ("is a directory, not a file"), and the copy has no source/."""
    def to_release(m: re.Match) -> str:
        notebooks = sorted((release / m.group(2)).glob("*.ipynb"))
        target = f"{m.group(2)}/{notebooks[0].name}" if len(notebooks) == 1 else f"{m.group(2)}/"
        return f"]({m.group(1)}assignments/release/{target})"

    for path in sorted(course.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        changed = False
        for cell in nb.cells:
            if cell.cell_type == "markdown" and "assignments/source/" in cell.source:
                text = SOURCE_LINK.sub(to_release, cell.source)
                cell.source = text.replace("assignments/source/", "assignments/release/")
                changed = True
        if changed:
            nbformat.write(nb, path)


def find_leaks(folder: Path) -> list[str]:
    hits = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix not in TEXT_SUFFIXES and path.name != "postBuild":
            continue
        if ".git" in path.relative_to(folder).parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for pattern in LEAK_PATTERNS:
            if pattern.search(text):
                hits.append(f"{path.relative_to(folder)}: {pattern.pattern}")
    return hits


def prepare_out(out: Path, repo: Path) -> None:
    out = out.resolve()
    if out == repo or repo.is_relative_to(out):
        raise SystemExit(f"refusing to write the student copy over the repository: {out}")
    if out.exists():
        if any(out.iterdir()) and not (out / MARKER_FILE).exists():
            raise SystemExit(
                f"{out} exists, is not empty and was not made by this script; "
                "remove it or choose another --out"
            )
        # keep a .git folder so an instructor can rebuild into a checked-out
        # student repository and commit the difference
        for child in out.iterdir():
            if child.name == ".git":
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    out.mkdir(parents=True, exist_ok=True)


PLACEHOLDER = "OWNER/REPO-student"
PLACEHOLDER_NOTE = """
> `OWNER/REPO-student` is a placeholder: the instructor replaces it with the
> address of this student repository when publishing it
> (`make student-copy BINDER_REPO=owner/name` fills it in).
"""


def build(repo: Path, out: Path, binder_repo: str = PLACEHOLDER) -> list[str]:
    repo = repo.resolve()
    prepare_out(out, repo)
    (out / MARKER_FILE).write_text("made by scripts/build_student_copy.py; rebuilt on every run\n")

    for folder in ("course", "autodiff_core", "binder"):
        src = repo / folder
        if not src.is_dir():
            raise SystemExit(f"missing {src}")
        shutil.copytree(src, out / folder, ignore=IGNORE)
    for name in ("pyproject.toml", "constraints.txt"):
        shutil.copy2(repo / name, out / name)
    for lic in repo.glob("LICEN[CS]E*"):
        shutil.copy2(lic, out / lic.name)
    note = PLACEHOLDER_NOTE if binder_repo == PLACEHOLDER else ""
    (out / "README.md").write_text(STUDENT_README.format(binder_repo=binder_repo, placeholder_note=note))
    (out / ".gitignore").write_text(
        ".venv/\n__pycache__/\n*.pyc\n.ipynb_checkpoints/\n*.egg-info/\n"
    )

    ids: list[str] = []
    assignments = repo / "assignments"
    if (assignments / "source").is_dir():
        ids = generate_release(assignments, out / "assignments" / "release")
    point_links_at_release(out / "course", out / "assignments" / "release")
    (out / "assignments").mkdir(exist_ok=True)
    (out / "assignments" / "README.md").write_text(
        "# Problem sets\n\n"
        "`release/` holds the student version of every problem set. Open it here, press\n"
        "*Validate* to run the visible tests, then download it (*File > Download*) and\n"
        "upload the `.ipynb` to your course's learning management system.\n"
    )

    leaks = find_leaks(out)
    if leaks:
        raise SystemExit("instructor material in the student copy:\n  " + "\n  ".join(leaks))
    return ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=REPO, help="instructor repository (default: this one)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: <repo>/student-copy)")
    parser.add_argument("--binder-repo", default=PLACEHOLDER,
                        help="owner/name of the public student repository, for the Binder badge "
                             f"(default: the placeholder {PLACEHOLDER})")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", args.binder_repo):
        parser.error(f"--binder-repo should read owner/name, not {args.binder_repo!r}")
    out = args.out if args.out is not None else args.repo / "student-copy"
    ids = build(args.repo, out, args.binder_repo)
    print(f"student copy written to {out.resolve()}")
    print(f"released assignments: {', '.join(ids) if ids else '(none: no assignments/source)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
