# nbgrader configuration of the course (nbgrader 0.9). This folder, assignments/, is the course
# root: run every nbgrader command from here (the Makefile targets release / autograde /
# feedback / grades do). See the "Assignments" section of the top-level README.
import os
import secrets
import sys

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests,
                                    ClearOutput, Execute, GetGrades, IgnorePattern, LimitOutput,
                                    SaveAutoGrades)

c = get_config()  # noqa: F821 (injected by traitlets)

HERE = os.path.dirname(os.path.abspath(__file__))
GRADING = os.path.join(HERE, "grading")
sys.path.insert(0, GRADING)
from nbgrader_hooks import HideTestTracebacks, RequireTestEvidence  # noqa: E402

# --- environment inherited by the grading kernels -----------------------------------------------
# nbgrader runs the `alembic` command from PATH to check the gradebook: make the tools of the
# Python running nbgrader (the course's .venv/bin) findable even if the venv is not activated.
_bin = os.path.dirname(sys.executable)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join(p for p in (_bin, os.environ.get("PATH", "")) if p)
# Hidden tests import the helper package adgrade from assignments/grading/ (never released).
os.environ["ADCOURSE_GRADING_DIR"] = GRADING
# A fresh token per nbgrader run; a test cell's evidence record must carry it.
os.environ.setdefault("ADCOURSE_EVIDENCE_TOKEN", secrets.token_hex(16))
# The engine: importable from the repository checkout even when the course is not pip-installed.
_repo = os.path.dirname(HERE)
if os.path.isdir(os.path.join(_repo, "autodiff_core")):
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (_repo, os.environ.get("PYTHONPATH", "")) if p)

# --- course directory ---------------------------------------------------------------------------
c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "autodiff"
# Never copy text twins of notebooks (jupytext .py / .md, with solutions in them) or editor
# leftovers from source/ into the release: source/ holds notebooks only.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            "*.py", "*.md", "*.Rmd", "*.pct.py", "*.sync.py", ".jupytext*"]

# --- student version ----------------------------------------------------------------------------
c.ClearSolutions.code_stub = dict(python="# YOUR CODE HERE\nraise NotImplementedError()")
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# --- autograding --------------------------------------------------------------------------------
# Per-cell timeout, chosen on purpose: every cell of the reference solution runs in well under
# a second; 10 s leaves a wide margin on a slow machine and bounds an infinite loop in one answer
# to 10 s (the cell is interrupted, scores 0, and the next cells still run).
c.Execute.timeout = 10
c.Execute.interrupt_on_timeout = True
c.Execute.error_on_timeout = {
    "ename": "CellTimeoutError",
    "evalue": "this cell ran longer than 10 s and was interrupted (an infinite loop?)",
    "traceback": ["CellTimeoutError: this cell ran longer than 10 s and was interrupted "
                  "(an infinite loop?)"],
}
# nbgrader scores a test cell 0 as soon as it wrote anything to stderr. A NumPy RuntimeWarning
# from a correct answer (e.g. "divide by zero" at the documented x = 0 edge case) must not cost
# points: stderr outputs that are Python warnings are dropped before grading.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?m)^.*\b\w*Warning: "
# A test cell the student deleted is put back (from the gradebook's copy of the source) and
# graded, instead of its points silently going to manual grading.
c.OverwriteCells.add_missing_cells = True
c.Autograde.autograde_preprocessors = [
    Execute,
    IgnorePattern,
    RequireTestEvidence,  # a test cell that did not run to its end scores 0
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

# --- feedback -----------------------------------------------------------------------------------
# nbgrader's feedback shows the hidden tests by default (source and tracebacks); students see
# only which test cell failed and its message.
c.GenerateFeedback.preprocessors = [
    GetGrades,
    ClearHiddenTests,
    HideTestTracebacks,
    CSSHTMLHeaderPreprocessor,
]

# --- grades -------------------------------------------------------------------------------------
c.CsvExportPlugin.to = "grades.csv"

# ==== running a class: LMS hand-in, grade export, checksum warnings (see the README section ====
# ==== "Running a class"; the modules are in assignments/classroom/)                             ====
sys.path.insert(0, HERE)  # nbgrader itself puts the course root on sys.path for --collector=...
from classroom.lms_collect import CanvasCollector, UnicodeZipExtractor  # noqa: E402

# `nbgrader zip_collect <a>` reads downloaded/<a>/archive/*.zip (`make collect` puts the zip
# there). Canvas by default; Moodle: --collector=classroom.lms_collect.MoodleCollector.
c.ZipCollectApp.extractor_plugin = UnicodeZipExtractor
c.ZipCollectApp.collector_plugin = CanvasCollector
c.UnicodeZipExtractor.timezone = "UTC"  # the LMS server's zone: zip entry times carry none

# Each test cell with hidden tests comes back without them, as released: nbgrader warns "checksum
# has changed" for each (12 per ps1 submission). Those are summarised in one INFO line; an
# edited locked cell still gets nbgrader's warning. Wraps whichever OverwriteCells the list holds.
from nbgrader.converters import Autograde  # noqa: E402

from classroom.overwrite_summary import summarise_checksums  # noqa: E402

c.Autograde.sanitize_preprocessors = summarise_checksums(
    c.Autograde.sanitize_preprocessors if "sanitize_preprocessors" in c.Autograde
    else Autograde.sanitize_preprocessors.default())
