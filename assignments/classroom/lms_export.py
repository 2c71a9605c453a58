"""nbgrader ``ExportPlugin`` subclasses writing a grades CSV that an LMS gradebook imports.

``nbgrader export --exporter=classroom.lms_export.CanvasExport --to=grades_canvas.csv`` (or
``make grades LMS=canvas``; ``MoodleExport`` likewise). One row per student of the gradebook
(import the roster first for names and e-mails), one column per assignment holding the score
after the late penalty, ``max(0, score - late_submission_penalty)`` as in nbgrader's own CSV.
A student without a submission gets an empty cell, so the LMS applies its own missing-work rule.

* Canvas (*Grades > Import*): columns ``Student`` ("Last, First"), ``ID`` (the Canvas user id:
  the student id that ``CanvasCollector`` takes from the submission file names),
  ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per assignment, and a first
  row ``Points Possible``; Canvas matches students by ``ID`` and assignments by column title.
* Moodle (*Grades > Import > CSV file*): columns ``First name``, ``Last name``, ``ID number``
  (the nbgrader student id), ``Email address``, then one column per assignment; map
  ``Email address`` to the user's e-mail when importing.
"""
from __future__ import annotations

import csv

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin


class LmsExport(ExportPlugin):
    """Common part: the table of final scores (see the module docstring)."""

    default_to = "grades_lms.csv"

    def header(self, assignments) -> list[str]:
        raise NotImplementedError

    def identity(self, student) -> list[str]:
        raise NotImplementedError

    def extra_rows(self, assignments) -> list[list[str]]:
        return []

    def export(self, gradebook: Gradebook) -> None:
        dest = self.to or self.default_to
        assignments = [a for a in gradebook.assignments
                       if not self.assignment or a.name in self.assignment]
        students = [s for s in gradebook.students
                    if not self.student or s.id in self.student]
        self.log.info("Exporting %d students x %d assignments to %s",
                      len(students), len(assignments), dest)
        with open(dest, "w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(self.header(assignments))
            out.writerows(self.extra_rows(assignments))
            for student in students:
                out.writerow(self.identity(student)
                             + [self.final_score(gradebook, a.name, student.id) for a in assignments])

    @staticmethod
    def final_score(gradebook: Gradebook, assignment: str, student: str) -> str:
        try:
            sub = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return ""
        return f"{max(0.0, sub.score - (sub.late_submission_penalty or 0.0)):g}"


class CanvasExport(LmsExport):
    default_to = "grades_canvas.csv"

    def header(self, assignments):
        return ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] + [a.name for a in assignments]

    def extra_rows(self, assignments):
        return [["    Points Possible", "", "", "", ""] + [f"{a.max_score:g}" for a in assignments]]

    def identity(self, student):
        name = ", ".join(n for n in (student.last_name, student.first_name) if n)
        return [name, student.id, "", "", ""]


class MoodleExport(LmsExport):
    default_to = "grades_moodle.csv"

    def header(self, assignments):
        return ["First name", "Last name", "ID number", "Email address"] + [a.name for a in assignments]

    def identity(self, student):
        return [student.first_name or "", student.last_name or "", student.id, student.email or ""]
