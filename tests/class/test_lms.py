"""A class run through an LMS, end to end with the real nbgrader CLI behind each make target:
roster import, a Canvas or Moodle zip of submissions collected (`make collect`: nbgrader's
zip_collect with the course's extractor and collector plugins), parallel autograding, the grades
CSV for the LMS gradebook and the feedback zip to upload back."""
from __future__ import annotations

import csv
import datetime as dt
import json
import zipfile

import pytest

from ..assignments import nbgrader_support as nbs
from .class_support import PS1, make, make_zip, notebook_text, submission

pytestmark = pytest.mark.slow

DUE = "2026-03-01 23:59:00 UTC"
ON_TIME = (2026, 3, 1, 20, 15, 0)
EARLIER = (2026, 2, 27, 9, 0, 0)
LATE = (2026, 3, 2, 8, 30, 0)          # 8 h 31 min after the due date


def roster(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "first_name", "last_name", "email"])
        out.writerows(rows)
    return path


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_canvas_round_trip(course, tmp_path):
    nbs.nbgrader(course, "db", "assignment", "add", PS1, f"--duedate={DUE}")
    make(course, "roster", ROSTER=roster(tmp_path / "roster.csv", [
        ("10001", "Jane", "Doe", "jane.doe@uni.example"),
        ("10002", "John", "Roe", "john.roe@uni.example"),
        ("10003", "Jürgen", "Müller", "jm@uni.example"),
        ("10004", "Ann", "Absent", "ann@uni.example"),
    ]))
    ref, blank = notebook_text(course), notebook_text(course, blank=True)
    archive = make_zip(tmp_path / "submissions.zip", [
        # re-submission: Canvas adds -1 to the second upload of the same file name
        (f"doejane_10001_550001_{PS1}.ipynb", blank, EARLIER),
        (f"doejane_10001_550002_{PS1}-1.ipynb", ref, ON_TIME),
        (f"roejohn_LATE_10002_550003_{PS1}.ipynb", ref, LATE),
        # a non-ASCII name part, zipped without the UTF-8 flag; marked LATE, but on time by
        # nbgrader's due date (Canvas's own due date differs): the instructor is warned
        (f"müllerjürgen_LATE_10003_550004_{PS1}.ipynb", blank, ON_TIME),
        ("doejane_10001_550002_notes.txt", "not a notebook", ON_TIME),
    ], utf8_flag=False)
    with zipfile.ZipFile(archive) as zf:   # the zip really lacks the flag: Python sees mojibake
        assert any("müller".encode().decode("cp437") in n for n in zf.namelist())

    proc = make(course, "collect", ASSIGNMENT=PS1, ZIP=archive, LMS="canvas")
    log = proc.stdout + proc.stderr
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["10001", "10002", "10003"]
    for student in ("10001", "10002", "10003"):   # the released notebook's name, nothing else
        assert sorted(p.name for p in (course / "submitted" / student / PS1).iterdir()) == \
            [f"{PS1}.ipynb", "timestamp.txt"]
    assert submission(course, "10001").read_text() == ref, "the later upload (-1) must win"
    assert f"doejane_10001_550001_{PS1}.ipynb, superseded" in log
    assert "10003: canvas says LATE but the time 2026-03-01 20:15:00+00:00 is before" in log
    assert "10002: canvas says" not in log and "10001: canvas says" not in log
    stamp = (course / "submitted" / "10002" / PS1 / "timestamp.txt").read_text().strip()
    assert stamp == "2026-03-02 08:30:00"
    names = json.loads((course / "downloaded" / PS1 / "lms_names.json").read_text())
    assert names["10003"] == {"lms": "canvas", "prefix": "müllerjürgen_LATE_10003_550004_"}
    assert names["10002"]["prefix"] == "roejohn_LATE_10002_550003_"

    # autograde applies the due date: the LATE one is 8 h 31 min late, the others are not
    make(course, "autograde", ASSIGNMENTS=PS1, JOBS=2)
    with nbs.gradebook(course) as gb:
        late, on_time = gb.find_submission(PS1, "10002"), gb.find_submission(PS1, "10001")
        assert late.timestamp == dt.datetime(2026, 3, 2, 8, 30)
        assert late.total_seconds_late == 8 * 3600 + 31 * 60
        assert on_time.total_seconds_late == 0
        assert on_time.score == 16.0 and gb.find_submission(PS1, "10003").score == 0.0

    # the grades CSV for Canvas: roster names, Canvas ids, final scores, Points Possible row
    make(course, "grades", LMS="canvas")
    rows = read_csv(course / "grades_canvas.csv")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", PS1]
    assert rows[1][0].strip() == "Points Possible" and rows[1][5] == "19"
    table = {r[1]: r for r in rows[2:]}
    assert table["10001"][0] == "Doe, Jane" and table["10001"][5] == "16"
    assert table["10003"][0] == "Müller, Jürgen" and table["10003"][5] == "0"
    assert table["10004"][5] == "", "no submission: left to the LMS's missing-work rule"
    # nbgrader's own grades.csv now has the names and e-mails too
    own = {r[3]: r for r in read_csv(course / "grades.csv")[1:]}
    assert own["10003"][4:7] == ["Müller", "Jürgen", "jm@uni.example"]

    # the feedback zip, named with Canvas's prefixes
    make(course, "feedback", ASSIGNMENTS=PS1)
    make(course, "feedback-zip", ASSIGNMENT=PS1)
    with zipfile.ZipFile(course / f"feedback_{PS1}_canvas.zip") as zf:
        assert sorted(zf.namelist()) == sorted([
            f"doejane_10001_550002_{PS1}_feedback.html",
            f"roejohn_LATE_10002_550003_{PS1}_feedback.html",
            f"müllerjürgen_LATE_10003_550004_{PS1}_feedback.html"])
        assert all(i.flag_bits & 0x800 for i in zf.infolist() if not i.filename.isascii())
        html = zf.read(f"doejane_10001_550002_{PS1}_feedback.html").decode()
    assert "BEGIN HIDDEN TESTS" not in html and PS1 in html


def test_moodle_round_trip(course, tmp_path):
    make(course, "roster", ROSTER=roster(tmp_path / "roster.csv", [
        ("20001", "Jürgen", "Müller", "jm@uni.example"),
        ("20002", "Zoë", "Ångström", "za@uni.example"),
    ]))
    ref, blank = notebook_text(course), notebook_text(course, blank=True)
    archive = make_zip(tmp_path / "moodle.zip", [
        ("Jürgen Müller_20001_assignsubmission_file_/ps1_elementwise.ipynb", ref, ON_TIME),
        # the browser's "(1)" of a second download; a flat (folder-less) download
        ("Zoë Ångström_20002_assignsubmission_file_/ps1_elementwise (1).ipynb", blank, LATE),
        ("Ann Lee_20003_assignsubmission_file_ps1_elementwise.ipynb", ref, EARLIER),
    ], utf8_flag=True)
    make(course, "collect", ASSIGNMENT=PS1, ZIP=archive, LMS="moodle")
    assert submission(course, "20001").read_text() == ref
    assert submission(course, "20002").read_text() == blank
    assert submission(course, "20003").read_text() == ref
    assert (course / "submitted" / "20003" / PS1 / "timestamp.txt").read_text().strip() \
        == "2026-02-27 09:00:00"

    make(course, "autograde", ASSIGNMENTS=PS1, JOBS=2)
    make(course, "grades", LMS="moodle")
    rows = read_csv(course / "grades_moodle.csv")
    assert rows[0] == ["First name", "Last name", "ID number", "Email address", PS1]
    table = {r[2]: r for r in rows[1:]}
    assert table["20001"] == ["Jürgen", "Müller", "20001", "jm@uni.example", "16"]
    assert table["20002"] == ["Zoë", "Ångström", "20002", "za@uni.example", "0"]
    assert table["20003"][4] == "16"   # collected without a roster entry: no name, still graded

    make(course, "feedback", ASSIGNMENTS=PS1)
    make(course, "feedback-zip", ASSIGNMENT=PS1)
    with zipfile.ZipFile(course / f"feedback_{PS1}_moodle.zip") as zf:
        assert sorted(zf.namelist()) == sorted([
            f"Jürgen Müller_20001_assignsubmission_file_/{PS1}_feedback.html",
            f"Zoë Ångström_20002_assignsubmission_file_/{PS1}_feedback.html",
            f"Ann Lee_20003_assignsubmission_file_/{PS1}_feedback.html"])

