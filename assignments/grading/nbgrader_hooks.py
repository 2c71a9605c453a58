"""nbgrader preprocessors of this course (loaded by ``assignments/nbgrader_config.py``).

* :class:`RequireTestEvidence` (autograde, right after ``Execute`` and ``IgnorePattern``): a test
  cell that raised nothing but did not emit its evidence record (see :mod:`adgrade.evidence`)
  gets an error output, so it scores 0. Without it, a submission that installs an IPython input
  transformer (or AST transformer, event hook, ...) that turns every later cell into a no-op
  would get full marks: nbgrader gives full points to a test cell without error output.
* :class:`HideTestTracebacks` (feedback): the traceback of a failed test cell shows the source
  lines around the failure, i.e. hidden-test code; this keeps only ``ErrorName: message``.
  ``ClearHiddenTests`` (nbgrader's own) runs next to it to remove the hidden regions' source.
"""
from __future__ import annotations

import os
import sys

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from adgrade import evidence  # noqa: E402  (standard library only)


def _is_test_cell(cell):
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


class RequireTestEvidence(NbGraderPreprocessor):
    """Score 0 for an autograder test cell that did not prove it ran to its end."""

    message = Unicode(
        "the tests of this cell did not run to completion (no evidence record): the notebook "
        "probably installed an IPython input transformer, AST transformer or other execution "
        "hook that stops cells from running. Such a submission scores 0 on the affected tests.",
        help="evalue of the error added to a test cell without evidence").tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if not _is_test_cell(cell) or utils.has_failed(cell):
            return cell, resources
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        if not any(evidence.is_evidence_for(out, grade_id) for out in cell.outputs):
            self.log.warning("Test cell %s produced no evidence of running: scored 0", grade_id)
            cell.outputs.append(NotebookNode(
                output_type="error", ename="GradingIntegrityError", evalue=self.message,
                traceback=[f"GradingIntegrityError: {self.message}"]))
        return cell, resources


class HideTestTracebacks(NbGraderPreprocessor):
    """In feedback, replace the tracebacks of test cells by their last line (name: message)."""

    def preprocess_cell(self, cell, resources, cell_index):
        if _is_test_cell(cell):
            for out in cell.outputs:
                if out.output_type == "error":
                    out.traceback = [f"{out.ename}: {out.evalue}"]
        return cell, resources
