"""The gradebook on PostgreSQL (a real server started by the tests): nbgrader's CLI with
`c.CourseDirectory.db_url = "postgresql+psycopg2://..."`, parallel autograding, roster, export."""
from __future__ import annotations

import csv

import pytest

from ..assignments import nbgrader_support as nbs
from .class_support import PS1, gradebook_rows, make

pytestmark = pytest.mark.slow

TEST_CELLS = 12
SIGN = {"jvps": "def log_jvp(t, ans, x):\n    return -t / x\n\n\ndef sqrt_jvp(t, ans, x):\n"
                "    return t / (2.0 * ans)\n"}
# the cells that call log_jvp: its own visible and hidden tests and the plug-in cells'
SIGN_BROKEN = {"test_log_jvp_visible", "test_log_jvp_hidden", "test_plugin_visible",
               "test_plugin_hidden"}


def test_parallel_grading_on_postgresql(course, postgres, tmp_path):
    url = postgres("gradebook_parallel")
    with open(course / "nbgrader_config.py", "a") as fh:
        fh.write(f'\nc.CourseDirectory.db_url = "{url}"\n')
    (course / "gradebook.db").unlink()
    nbs.release(course, PS1)                      # the assignment into the PostgreSQL gradebook
    assert not (course / "gradebook.db").exists(), "SQLite must not be used any more"
    (tmp_path / "roster.csv").write_text("id,first_name,last_name,email\n"
                                         "s1,Ada,Lovelace,ada@uni.example\n")
    make(course, "roster", ROSTER=tmp_path / "roster.csv")
    for student in ("s1", "s2", "s3"):
        nbs.submit(course, student, PS1)
    nbs.submit(course, "s4", PS1, answers=SIGN)

    make(course, "autograde", ASSIGNMENTS=PS1, JOBS=2)
    sign = 16.0 - sum(nbs.test_cells(PS1)[g] for g in SIGN_BROKEN)
    scores, n_subs, n_grades, _ = gradebook_rows(url)
    assert scores == {"s1": 16.0, "s2": 16.0, "s3": 16.0, "s4": sign}
    assert n_subs == 4 and n_grades == 4 * (TEST_CELLS + 1)
    assert not (course / "gradebook.db").exists()

    make(course, "grades")
    rows = {r["student_id"]: r for r in csv.DictReader(open(course / "grades.csv"))}
    assert rows["s1"]["email"] == "ada@uni.example" and float(rows["s4"]["score"]) == sign
