# nbgrader configuration of the course (nbgrader 0.9). This folder, assignments/, is the course
# root: run every nbgrader command from here (the Makefile targets release / autograde /
# feedback / grades do). See the "Assignments" section of the top-level README.
import os
import sys

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests,
                                    ClearOutput, DeduplicateIds, GetGrades, LimitOutput,
                                    OverwriteKernelspec, SaveAutoGrades)

c = get_config()  # noqa: F821 (injected by traitlets)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "grading"))
# The engine (the graders' oracle, and the source of the workers' engine copies): importable
# from the repository checkout even when the course is not pip-installed.
_repo = os.path.dirname(HERE)
if os.path.isdir(os.path.join(_repo, "autodiff_core")) and _repo not in sys.path:
    sys.path.insert(1, _repo)
from nbgrader_hooks import GradeInSandbox, RestoreCells  # noqa: E402

# nbgrader runs the `alembic` command from PATH to check the gradebook: make the tools of the
# Python running nbgrader (the course's .venv/bin) findable even if the venv is not activated.
_bin = os.path.dirname(sys.executable)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join(p for p in (_bin, os.environ.get("PATH", "")) if p)

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
# Trust model (README, "How grading works"): the student's code runs only in bubblewrap-sandboxed
# workers; every test cell is judged here, in the nbgrader process, and its outputs are written
# by GradeInSandbox, never copied from student code.
#
# Sanitizing: RestoreCells replaces nbgrader's OverwriteCells. It runs before DeduplicateIds (which
# fails on a cell with grading metadata but no grade id) and repairs extra, repeated, missing and
# foreign cells so that they cost only the items they touch; nbgrader's own per-cell checks
# (edited test cells restored, points and lock flags reset) still run inside it.
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    RestoreCells,
    DeduplicateIds,
    OverwriteKernelspec,
    CheckCellMetadata,
]
c.RestoreCells.course_root = HERE
# Autograding: GradeInSandbox replaces nbgrader's Execute (and IgnorePattern: stderr output of
# student code never reaches a test cell, so it cannot cost points).
c.Autograde.autograde_preprocessors = [
    GradeInSandbox,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
# Every cell of the reference solution and every call the checks make take well under a second;
# 10 s bounds an infinite loop: the worker is killed, that item scores 0, a fresh worker grades
# the rest. Limits of each worker process: 2 GiB of address space, 120 s of CPU time.
c.GradeInSandbox.timeout = 10
c.GradeInSandbox.memory_mb = 2048
c.GradeInSandbox.cpu_seconds = 120
c.GradeInSandbox.budget = 120        # wall-clock seconds for one notebook, all items together
# One row per submission that needs a human look (repaired cells, lost workers, delegation,
# grading without the sandbox), next to grades.csv; rewritten for a student at each autograde.
c.GradeInSandbox.review_file = os.path.join(HERE, "needs_review.csv")
# `nbgrader validate` (not autograde) still runs notebooks with nbgrader's Execute.
c.Execute.timeout = 10

# --- feedback -----------------------------------------------------------------------------------
# Test cells carry no hidden code (the hidden checks live in grading/adgrade/); their error
# output is the grader's report, already wrapped. ClearHiddenTests stays for any hidden region
# an instructor adds to a notebook.
c.GenerateFeedback.preprocessors = [
    GetGrades,
    ClearHiddenTests,
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
