"""One line instead of a warning per test cell for the checksum changes that hidden tests cause.

nbgrader's ``OverwriteCells`` (a sanitize step of ``nbgrader autograde``) warns
``Attribute 'checksum' for cell <id> has changed!`` for every locked cell whose submitted text
differs from the source in the gradebook, then restores the source. Every test cell with a
``BEGIN HIDDEN TESTS`` region differs that way by design (the release strips the region): 12
warnings per ps1 submission, which bury a genuinely edited cell.

``summarise_checksums`` gives each ``OverwriteCells`` (sub)class of a preprocessor list the
``ChecksumSummary`` mixin: a checksum change is reported at INFO, all such cells in one line,
when the submitted text is exactly the source with its hidden-test regions removed (what the
student was given, cut by nbgrader's own ``ClearHiddenTests`` with the course's delimiters);
any other change keeps nbgrader's warning, unchanged.
"""
from __future__ import annotations

import nbformat
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, OverwriteCells


class ChecksumSummary:
    """Mixin for ``OverwriteCells`` (see the module docstring)."""

    def preprocess(self, nb, resources):
        self._as_released = []
        nb, resources = super().preprocess(nb, resources)
        if self._as_released:
            self.log.info("%d locked cells came back as released (their hidden tests removed) and "
                          "were restored from the source, as expected: %s",
                          len(self._as_released), ", ".join(self._as_released))
        return nb, resources

    def preprocess_cell(self, cell, resources, cell_index):
        self._released_text = self._is_released_text(cell)
        return super().preprocess_cell(cell, resources, cell_index)

    def report_change(self, name, attr, old, new):
        if attr == "checksum" and self._released_text:
            self._as_released.append(name)
        else:
            super().report_change(name, attr, old, new)

    def _is_released_text(self, cell) -> bool:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is None or cell.cell_type != "code":
            return False
        try:
            source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
        except MissingEntry:
            return False
        released = nbformat.v4.new_code_cell(source.source)
        if not ClearHiddenTests(parent=self)._remove_hidden_test_region(released):
            return False
        return released.source == cell.source


def summarise_checksums(preprocessors: list) -> list:
    """``preprocessors`` with every ``OverwriteCells`` subclass given the ``ChecksumSummary`` mixin."""
    return [type(p.__name__, (ChecksumSummary, p), {"__doc__": p.__doc__,
                                                          "__module__": __name__})
            if isinstance(p, type) and issubclass(p, OverwriteCells)
            and not issubclass(p, ChecksumSummary) else p
            for p in preprocessors]
