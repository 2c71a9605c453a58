"""Helpers to write nbgrader source notebooks from Python (used by build_sources.py).

Each helper returns one nbformat cell with the nbgrader metadata nbgrader 0.9 expects
(schema_version 3). Notebooks are written without outputs.
"""
from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _meta(grade_id, *, grade, solution, locked, points=None, task=False):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": task}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def md(text):
    return new_markdown_cell(text.strip("\n"))


def code(text):
    return new_code_cell(text.strip("\n"))


def solution(grade_id, text):
    """An autograded answer cell: the part between BEGIN/END SOLUTION is replaced by a stub."""
    return new_code_cell(text.strip("\n"),
                         metadata=_meta(grade_id, grade=False, solution=True, locked=False))


def tests(grade_id, points, text):
    """A locked autograder-test cell worth ``points``."""
    meta = _meta(grade_id, grade=True, solution=False, locked=True, points=points)
    meta.update({"deletable": False, "editable": False})
    return new_code_cell(text.strip("\n"), metadata=meta)


def manual(grade_id, points, text):
    """A manually graded markdown answer (a derivation)."""
    return new_markdown_cell(text.strip("\n"),
                             metadata=_meta(grade_id, grade=True, solution=True, locked=False,
                                            points=points))


def notebook(cells):
    nb = new_notebook(cells=cells)
    for i, cell in enumerate(nb.cells):  # deterministic ids: rebuilding gives the same file
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell["id"] = gid.replace("_", "-") if gid else f"cell-{i:02d}"
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def write(nb, path):
    nbformat.validate(nb)
    with open(path, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
