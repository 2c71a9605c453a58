"""nbgrader preprocessors of this course (loaded by ``assignments/nbgrader_config.py``).

* :class:`RestoreCells` (sanitizing step of ``nbgrader autograde``, in place of nbgrader's
  ``OverwriteCells``): brings the submission back to the assignment's structure before anything
  runs. A cell with grading metadata that this notebook does not have (an extra cell, a copied
  cell, the notebook of another assignment) becomes an ordinary cell; a missing answer or test
  cell is put back where it belongs (a missing answer as its blank stub); the grading flags of
  every known cell (grade, solution, task, locked, points) are reset to the gradebook's; then
  nbgrader's own checks restore edited test cells and cell types. Each repair is recorded for
  the instructor, so the submission costs only the items it touches.
* :class:`GradeInSandbox` (autograding step, in place of nbgrader's ``Execute``): runs the
  student's code cells in sandboxed workers (:mod:`adgrade.sandbox`), grades every test cell with
  the checks of :mod:`adgrade.ps1` / :mod:`adgrade.ps2` in this process, and writes each test
  cell's outputs itself: nothing (passed) or one error with the failure report. Student output
  never reaches a test cell, so nothing printed, displayed or written to stderr changes a score.
  All the worker requests of one notebook share a wall-clock budget (``GradeInSandbox.budget``);
  the test cells not graded when it runs out score 0.

Both record what needs a human look in the notebook's metadata (``adgrade.review``);
:class:`GradeInSandbox` also logs it in one line per student and keeps ``needs_review.csv``.
"""
from __future__ import annotations

import csv
import fcntl
import os
import sys
import textwrap
import time

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells
from traitlets import Float, Int, Unicode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from adgrade import ASSIGNMENTS  # noqa: E402
from adgrade.engine_copy import cached_engine_copy  # noqa: E402
from adgrade.harness import CellGrader  # noqa: E402
from adgrade.sandbox import (UNSANDBOXED_ENV, SandboxUnavailable, check_sandbox,  # noqa: E402
                            symlinks_in)
from adgrade.student import Submission  # noqa: E402

REVIEW_KEY = "adgrade"


def review_notes(nb):
    """The notebook's list of reasons for a human look (a submitted value of any other shape is
    replaced: the student does not write it)."""
    meta = nb.metadata.get(REVIEW_KEY)
    if not isinstance(meta, dict) or not isinstance(meta.get("review"), list):
        nb.metadata[REVIEW_KEY] = {"review": []}     # (stored as a copy: read it back)
    return nb.metadata[REVIEW_KEY]["review"]


def _is_test_cell(cell):
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def _nbgrader_meta(cell):
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else None


def _reset_flags(cell, gid, flags, cell_type):
    """Set the grading flags of ``cell`` (known to the gradebook as ``gid``) to ``flags``; return
    the review notes of what was changed. nbgrader's OverwriteCells restores the lock flag, points
    and cell type but not the grade / solution / task flags: a flipped flag changes the cell's
    checksum and nbgrader stops on it (``Inconsistent checksums``), or grades the cell as
    another kind of cell."""
    meta = cell.metadata.nbgrader
    was = {k: meta.get(k, None if k == "points" else False) for k in flags}
    changed = [f"{k} {was[k]!r} -> {v!r}" for k, v in flags.items() if was[k] != v]
    meta.update(flags)
    if cell.cell_type != cell_type:         # nbgrader converts it back (update_cell_type)
        changed.append(f"cell type {cell.cell_type!r} -> {cell_type!r}")
    if not changed:
        return []
    return [f"cell '{gid}': grading metadata changed in the submission ({', '.join(changed)}): "
            "reset to the assignment's"]


class RestoreCells(OverwriteCells):
    """Repair the cell structure of a submission against the gradebook (see the module doc)."""

    course_root = Unicode("", help="the course root (source notebooks give the cell order)"
                          ).tag(config=True)

    def preprocess(self, nb, resources):
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.db_url = resources["nbgrader"]["db_url"]
        self.gradebook = Gradebook(self.db_url)
        with self.gradebook:
            notes = self._repair(nb)
            nb, resources = super(OverwriteCells, self).preprocess(nb, resources)
        review_notes(nb)[:] = notes
        for n in notes:
            self.log.warning("%s", n)
        return nb, resources

    def _source_order(self, known):
        path = os.path.join(self.course_root, "source", self.assignment_id,
                            f"{self.notebook_id}.ipynb")
        try:
            order = [_nbgrader_meta(c).get("grade_id") for c in nbformat.read(path, 4).cells
                     if _nbgrader_meta(c)]
        except (OSError, ValueError, AttributeError):
            order = []
        return [g for g in order if g in known] + [g for g in known if g not in order]

    def _repair(self, nb):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        cells = {c.name: c for c in source_nb.source_cells}
        grade = {c.name: c.max_score for c in source_nb.grade_cells}
        solution = {c.name for c in source_nb.solution_cells}
        task = {c.name: c.max_score for c in source_nb.task_cells}
        notes, seen, foreign = [], {}, []
        for i, cell in enumerate(nb.cells):
            meta = cell.get("metadata", {}).get("nbgrader")
            if meta is None:
                continue
            gid = meta.get("grade_id") if isinstance(meta, dict) else None
            if not isinstance(gid, str) or gid not in cells or gid in seen:
                del cell.metadata["nbgrader"]
                if isinstance(gid, str) and gid in seen:
                    notes.append(f"cell {i} repeats the cell '{gid}': graded as an ordinary cell")
                else:
                    foreign.append(gid if isinstance(gid, str) else f"(cell {i}, no grade id)")
                continue
            seen[gid] = i
        if foreign:
            notes.append(f"{len(foreign)} cell(s) with grading metadata that this notebook does "
                         f"not have ({', '.join(map(str, foreign[:5]))}"
                         f"{', ...' if len(foreign) > 5 else ''}): treated as ordinary cells")
        flags = {gid: {"grade": gid in grade, "solution": gid in solution, "task": gid in task,
                       "locked": src.locked}
                 for gid, src in cells.items()}
        for gid in set(grade) | set(task):
            flags[gid]["points"] = float(grade.get(gid, task.get(gid)))
        for gid, i in seen.items():
            notes += _reset_flags(nb.cells[i], gid, flags[gid], cells[gid].cell_type)
        missing = []
        order = self._source_order(list(cells))
        for k, gid in enumerate(order):
            if gid in seen:
                continue
            missing.append(gid)
            src = cells[gid]
            meta = dict(flags[gid], grade_id=gid, schema_version=3, checksum=src.checksum)
            metadata = {"nbgrader": meta}
            if src.locked:
                metadata.update(deletable=False, editable=False)
            if src.cell_type == "code":
                new = nbformat.v4.new_code_cell(src.source, metadata=metadata)
            else:
                new = nbformat.v4.new_markdown_cell(src.source, metadata=metadata)
            before = [seen[g] for g in order[:k] if g in seen]
            at = max(before) + 1 if before else 0
            nb.cells.insert(at, new)
            seen = {g: (j + 1 if j >= at else j) for g, j in seen.items()}
            seen[gid] = at
        if missing:
            answers = [g for g in missing if g in solution]
            notes.append(f"{len(missing)} cell(s) missing, put back"
                         + (f" (answer cells {', '.join(answers)} put back blank)" if answers else "")
                         + f": {', '.join(missing)}")
        if foreign and len(missing) == len(cells):
            notes.append("none of this notebook's cells are there: is it the notebook of another "
                         "assignment?")
        for cell in nb.cells:
            meta = _nbgrader_meta(cell)
            if meta and meta.get("locked") and cells[meta["grade_id"]].locked \
                    and cell.source != cells[meta["grade_id"]].source:
                notes.append(f"locked cell '{meta['grade_id']}' was edited: graded with the "
                             "original")
        return notes


class GradeInSandbox(NbGraderPreprocessor):
    """Grade the test cells from values computed in sandboxed workers (see the module doc)."""

    timeout = Float(10.0, help="seconds a worker may take for one cell or one call").tag(config=True)
    memory_mb = Int(2048, help="address-space limit of a worker (MiB)").tag(config=True)
    cpu_seconds = Int(120, help="CPU-time limit of a worker (s)").tag(config=True)
    budget = Float(120.0, help="seconds of wall-clock time for all the worker requests of one "
                   "notebook; the test cells not graded when it runs out score 0 and the "
                   "submission is listed for review").tag(config=True)
    review_file = Unicode("", help="CSV of the submissions that need a human look").tag(config=True)

    _checked = False

    def _sandboxed(self):
        if os.environ.get(UNSANDBOXED_ENV) == "1":
            return False
        if not GradeInSandbox._checked:
            try:
                check_sandbox()
            except SandboxUnavailable as exc:
                # SystemExit is not caught per student by nbgrader: autograde stops here
                raise SystemExit(f"autograde stopped: {exc} (To grade without the sandbox, "
                                 f"student code then running with your rights, set "
                                 f"{UNSANDBOXED_ENV}=1; see the README.)") from None
            GradeInSandbox._checked = True
        return True

    def preprocess(self, nb, resources):
        assignment = resources["nbgrader"]["assignment"]
        student = resources["nbgrader"]["student"]
        checks = ASSIGNMENTS.get(assignment)
        notes = review_notes(nb)
        sandboxed = self._sandboxed()
        if not sandboxed:
            notes.append(f"graded WITHOUT the sandbox ({UNSANDBOXED_ENV}=1)")
        if checks is None:
            raise ValueError(f"no checks are defined for the assignment '{assignment}' "
                             "(assignments/grading/adgrade/__init__.py)")
        engines = {mode: cached_engine_copy(prims) for mode, prims in checks.MODES.items()}
        run = [(i, c.source) for i, c in enumerate(nb.cells)
               if c.cell_type == "code" and not _is_test_cell(c)]
        # The worker's copy comes from submitted/ with links left out: nbgrader's copy into
        # autograded/ has followed them (a link to ../../../gradebook.db arrives as a real file).
        graded_dir = resources["metadata"]["path"]
        submitted_dir = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(graded_dir)))), "submitted", student, assignment)
        if not os.path.isdir(submitted_dir):
            submitted_dir = graded_dir
        links = symlinks_in(submitted_dir)
        if links:
            notes.append("the submission holds symbolic links, left out of grading and removed "
                         "from autograded/: " + ", ".join(links[:5]))
            for rel in links:                       # nbgrader's copy of what each link named
                copy = os.path.join(graded_dir, rel)
                if os.path.isfile(copy) and not copy.endswith(".ipynb"):
                    os.remove(copy)
        sub = Submission(run, submitted_dir, engines, sandboxed=sandboxed,
                         timeout=self.timeout, budget=self.budget, memory_mb=self.memory_mb,
                         cpu_seconds=self.cpu_seconds)
        sub.prestart()
        cut = []
        try:
            for cell in nb.cells:
                if _is_test_cell(cell):
                    self._grade_cell(cell, checks, sub, notes, cut)
            self._copy_outputs(nb, sub.outputs())
        finally:
            sub.close()
        notes.extend(sub.notes)
        if cut:
            notes.append(f"the grading time budget ({self.budget:g} s, GradeInSandbox.budget) ran "
                         f"out: {len(cut)} test cell(s) not graded, scored 0: {', '.join(cut)}")
        if notes:
            self.log.warning("needs a look: student '%s', %s: %s", student, assignment,
                             "; ".join(notes))
        if self.review_file:
            self._update_review(assignment, student, notes)
        return nb, resources

    def _grade_cell(self, cell, checks, sub, notes, cut):
        gid = cell.metadata.nbgrader["grade_id"]
        item = checks.ITEMS.get(gid)
        if item is None:
            message = f"{gid}: no checks are defined for this test cell; it scores 0"
            notes.append(message)
        elif sub.spent:
            message = self._budget_message(gid, "before this test cell was graded")
            cut.append(gid)
        else:
            name, run = item
            cg = CellGrader(gid, name, sub)
            try:
                run(cg)
            except Exception as exc:  # noqa: BLE001 - a value the checks could not process
                cg.fail(f"the grader could not process this answer: {type(exc).__name__}: {exc}", 1)
                notes.append(f"{gid}: the checks themselves failed ({type(exc).__name__}: {exc})")
            message = cg.verdict()
            if sub.spent and cg.aborted:
                message = self._budget_message(gid, "while this test cell was graded")
                cut.append(gid)
            elif cg.aborted:
                notes.append(f"{gid}: {cg.aborted}")
            elif message and "[delegation]" in message:
                notes.append(f"{gid}: delegation (scored 0)")
            elif message and "[numerical differentiation]" in message:
                notes.append(f"{gid}: numerical differentiation (scored 0)")
        cell.execution_count = None
        cell.outputs = [] if message is None else [NotebookNode(
            output_type="error", ename="GradingFailure", evalue=message,
            traceback=message.splitlines())]

    def _budget_message(self, gid, when):
        return textwrap.fill(f"{gid}: not graded: the time budget for grading this notebook "
                             f"({self.budget:g} s of worker time in all) ran out {when}; it "
                             "scores 0 and the submission is listed for the instructor to review",
                             100)

    @staticmethod
    def _copy_outputs(nb, results):
        """The worker's outputs of the student's cells, as plain text and PNG only."""
        for index, answer in results.items():
            cell = nb.cells[index]
            outputs = []
            for o in answer.get("outputs", []):
                if "stream" in o and o["stream"] in ("stdout", "stderr"):
                    outputs.append(nbformat.v4.new_output("stream", name=o["stream"],
                                                          text=str(o.get("text", ""))))
                elif isinstance(o.get("display"), dict):
                    outputs.append(nbformat.v4.new_output("display_data", data={
                        k: str(v) for k, v in o["display"].items()
                        if k in ("text/plain", "image/png")}))
            err = answer.get("error")
            if isinstance(err, dict):
                outputs.append(nbformat.v4.new_output(
                    "error", ename=str(err.get("ename")), evalue=str(err.get("evalue")),
                    traceback=[f"{err.get('ename')}: {err.get('evalue')}"]))
            cell.outputs = outputs

    def _update_review(self, assignment, student, notes):
        """Replace this submission's row of the review CSV (under a lock: parallel graders)."""
        fields = ["assignment", "student", "graded_at", "what needs a look"]
        with open(self.review_file, "a+", newline="", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.seek(0)
            rows = [r for r in csv.DictReader(fh)
                    if (r.get("assignment"), r.get("student")) != (assignment, student)]
            if notes:
                rows.append({"assignment": assignment, "student": student,
                             "graded_at": time.strftime("%Y-%m-%d %H:%M:%S"),
                             "what needs a look": " | ".join(notes)})
            fh.seek(0)
            fh.truncate()
            writer = csv.DictWriter(fh, fields)
            writer.writeheader()
            writer.writerows(sorted(rows, key=lambda r: (r["assignment"], r["student"])))
