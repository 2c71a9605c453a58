"""LMS hand-in: a Canvas or Moodle zip of submissions collected by `make collect` (the real
`nbgrader zip_collect` with the course's extractor and collector plugins)."""
from __future__ import annotations

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


def test_canvas_zip_latest_upload_wins_late_times_kept_names_without_utf8_flag(course, tmp_path):
    nbs.nbgrader(course, "db", "assignment", "add", PS1, f"--duedate={DUE}")
    ref, blank = notebook_text(course), notebook_text(course, blank=True)
    archive = make_zip(tmp_path / "submissions.zip", [
        # re-submission: Canvas adds -1 to the second upload of the same file name
        (f"doejane_10001_550001_{PS1}.ipynb", blank, EARLIER),
        (f"doejane_10001_550002_{PS1}-1.ipynb", ref, ON_TIME),
        (f"roejohn_LATE_10002_550003_{PS1}.ipynb", ref, LATE),
        # a non-ASCII name part, zipped without the UTF-8 flag
        (f"müllerjürgen_10003_550004_{PS1}.ipynb", blank, ON_TIME),
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
    stamp = (course / "submitted" / "10002" / PS1 / "timestamp.txt").read_text().strip()
    assert stamp == "2026-03-02 08:30:00"
    names = json.loads((course / "downloaded" / PS1 / "lms_names.json").read_text())
    assert names["10003"] == {"lms": "canvas", "prefix": "müllerjürgen_10003_550004_"}
    assert names["10002"]["prefix"] == "roejohn_LATE_10002_550003_"

    # autograde applies the due date: the LATE one is late by 8 h 31 min, the others are not
    make(course, "autograde", ASSIGNMENTS=PS1)
    with nbs.gradebook(course) as gb:
        late = gb.find_submission(PS1, "10002")
        on_time = gb.find_submission(PS1, "10001")
        assert late.timestamp == dt.datetime(2026, 3, 2, 8, 30)
        assert late.total_seconds_late == 8 * 3600 + 31 * 60
        assert on_time.total_seconds_late == 0
        assert on_time.score == 16.0 and gb.find_submission(PS1, "10003").score == 0.0


def test_moodle_zip_in_folders_and_flat(course, tmp_path):
    ref = notebook_text(course)
    archive = make_zip(tmp_path / "moodle.zip", [
        ("Jürgen Müller_20001_assignsubmission_file_/ps1_elementwise.ipynb", ref, ON_TIME),
        ("Zoë Ångström_20002_assignsubmission_file_/ps1_elementwise (1).ipynb", ref, LATE),
        ("Ann Lee_20003_assignsubmission_file_ps1_elementwise.ipynb", ref, EARLIER),
    ], utf8_flag=True)
    make(course, "collect", ASSIGNMENT=PS1, ZIP=archive, LMS="moodle")
    for student in ("20001", "20002", "20003"):
        assert submission(course, student).read_text() == ref
    names = json.loads((course / "downloaded" / PS1 / "lms_names.json").read_text())
    assert names["20002"]["prefix"] == "Zoë Ångström_20002_assignsubmission_file_"
    assert (course / "submitted" / "20003" / PS1 / "timestamp.txt").read_text().strip() \
        == "2026-02-27 09:00:00"


def test_entry_names_utf8_fallback_and_genuine_cp437():
    import sys
    sys.path.insert(0, str(nbs.COURSE))
    from classroom.lms_collect import entry_name

    utf8 = zipfile.ZipInfo("Zoë.ipynb".encode().decode("cp437"))   # UTF-8 bytes, no flag
    assert entry_name(utf8) == "Zoë.ipynb"
    cp437 = zipfile.ZipInfo("Zo\x89.ipynb")  # cp437 byte 0x89 is 'ë', not valid UTF-8 alone
    assert entry_name(zipfile.ZipInfo(b"Zo\x89.ipynb".decode("cp437"))) == "Zoë.ipynb"
    flagged = zipfile.ZipInfo("Zoë.ipynb")
    flagged.flag_bits |= 0x800
    assert entry_name(flagged) == "Zoë.ipynb"
    nfd = zipfile.ZipInfo("Zoe\u0308.ipynb")   # macOS stores decomposed accents
    nfd.flag_bits |= 0x800
    assert entry_name(nfd) == "Zoë.ipynb"
    del cp437
