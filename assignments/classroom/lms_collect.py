"""nbgrader ``zip_collect`` plugins for the zip of submissions an LMS hands out (Canvas, Moodle).

``UnicodeZipExtractor`` (an nbgrader ``ExtractorPlugin``) unpacks the zip keeping each entry's
name and time:

* names: the zip format stores UTF-8 names only when flag bit 11 is set; otherwise names are
  cp437 (APPNOTE.TXT, section 4.4.4 and appendix D), which is how Python's ``zipfile`` decodes
  them. LMS and desktop zippers often write UTF-8 without setting the flag, so a name decoded as
  cp437 is re-encoded and read as UTF-8 when that succeeds (cp437 text stays as it is); names
  are normalised to NFC (macOS zips store NFD).
* times: each file's modification time is the entry's time (the LMS's upload time), read in the
  LMS server's time zone ``UnicodeZipExtractor.timezone``.

``CanvasCollector`` and ``MoodleCollector`` (nbgrader ``FileNameCollectorPlugin`` subclasses)
read the student and the notebook from the LMS's file names:

* Canvas: ``<name>_[LATE_]<user id>_<attachment id>_<uploaded file name>``; a re-upload of the
  same file name gets ``-1``, ``-2``, ... before the extension
  (``doejane_10001_550002_ps1_elementwise-1.ipynb``). The student id is the Canvas user id.
* Moodle: ``<Full Name>_<participant id>_assignsubmission_file_/<file name>`` (folders) or the
  same prefix glued to the file name (flat download). The student id is the participant id.

Several files of one student for one notebook: the latest wins (entry time, then attachment id,
then re-upload number); the others are skipped with a message. The uploaded file name is mapped
to the released notebook (re-upload and browser ``(1)`` suffixes dropped; a one-notebook
assignment takes any ``.ipynb``). The time goes to nbgrader as the submission's timestamp
(``timestamp.txt``), so ``nbgrader autograde`` applies the due date and the late penalty.
Canvas's ``LATE`` marker is logged, with a warning when it disagrees with the gradebook's due
date. Each student's LMS file-name prefix is kept in ``downloaded/<assignment>/lms_names.json``
for the feedback zip (``scripts/feedback_zip.py``).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from nbgrader.plugins import ExtractorPlugin, FileNameCollectorPlugin
from nbgrader.utils import find_all_notebooks
from traitlets import Unicode

UTF8_FLAG = 0x800  # general purpose bit 11: the entry's name is UTF-8


def entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's file name as the student's system wrote it (see the module docstring)."""
    name = info.filename
    if not info.flag_bits & UTF8_FLAG:
        try:
            name = name.encode("cp437").decode("utf-8")
        except UnicodeError:
            pass  # a genuine cp437 (or ASCII) name
    return unicodedata.normalize("NFC", name)


class UnicodeZipExtractor(ExtractorPlugin):
    """Unpacks every ``.zip`` of the archive folder (names and times kept); copies other files."""

    timezone = Unicode("UTC", help="Time zone of the LMS server: zip entry times are local "
                                   "times without a zone (IANA name, e.g. Europe/Berlin)."
                       ).tag(config=True)

    def extract(self, archive_path: str, extracted_path: str) -> None:
        for root, _, files in os.walk(archive_path):
            for name in sorted(files):
                src = os.path.join(root, name)
                if zipfile.is_zipfile(src):
                    self.log.info("Extracting %s", src)
                    self._unzip(src, extracted_path)
                else:
                    dest = os.path.join(extracted_path, os.path.relpath(src, archive_path))
                    os.makedirs(os.path.dirname(dest), exist_ok=True)
                    shutil.copy2(src, dest)

    def _unzip(self, src: str, dest_root: str) -> None:
        zone = ZoneInfo(self.timezone)
        with zipfile.ZipFile(src) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                parts = [p for p in entry_name(info).split("/") if p not in ("", ".")]
                if ".." in parts or not parts:
                    self.log.warning("Skipped unsafe zip entry %r", info.filename)
                    continue
                if zipfile.is_zipfile(zf.open(info)):  # a zip inside the zip
                    self.log.warning("Skipped nested archive %r: unpack it first", info.filename)
                    continue
                dest = os.path.join(dest_root, *parts)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with zf.open(info) as fin, open(dest, "wb") as fout:
                    shutil.copyfileobj(fin, fout)
                when = dt.datetime(*info.date_time, tzinfo=zone).timestamp()
                os.utime(dest, (when, when))


@dataclass
class Upload:
    """One submitted file, as the LMS named it."""
    path: str
    student_id: str
    uploaded_name: str
    prefix: str           # the LMS's file-name prefix of this student (for the feedback zip)
    order: tuple          # larger = later
    late: bool = False
    notebook: str = ""    # the released notebook it stands for


CANVAS_RE = re.compile(r"^(?P<name>[^_/]+)_(?P<late>LATE_)?(?P<uid>\d+)_(?P<aid>\d+)_(?P<file>.+)$")
CANVAS_REUPLOAD_RE = re.compile(r"^(?P<stem>.+)-(?P<n>\d+)$")
MOODLE_RE = re.compile(
    r"(?:^|/)(?P<name>[^/]+)_(?P<uid>\d+)_assignsubmission_file_/?(?P<file>[^/]+)$")
BROWSER_COPY_RE = re.compile(r"^(?P<stem>.+?) ?\((?P<n>\d+)\)$")


class LmsCollector(FileNameCollectorPlugin):
    """Common part of the LMS collectors: the latest upload wins, names map to the release."""

    lms = "lms"
    marks_late = False  # the LMS puts a LATE marker into late submissions' names

    def parse(self, relpath: str, mtime: float) -> Upload | None:
        raise NotImplementedError

    def collect(self, submitted_file: str) -> dict | None:
        if os.path.splitext(submitted_file)[1] not in self.valid_ext:
            return None
        if not hasattr(self, "_chosen"):
            self._chosen = self._choose(self._extracted_root())
        upload = self._chosen.get(submitted_file)
        if upload is None:
            return None
        when = dt.datetime.fromtimestamp(os.path.getmtime(submitted_file), dt.timezone.utc)
        return {"student_id": upload.student_id, "file_id": upload.notebook,
                "timestamp": when.isoformat()}

    # -- helpers ---------------------------------------------------------------------------------

    @property
    def _coursedir(self):
        return self.parent.coursedir

    def _extracted_root(self) -> str:
        app = self.parent
        return os.path.normpath(app._format_collect_path(app.extracted_directory))

    def _released(self) -> list[str]:
        cd = self._coursedir
        return find_all_notebooks(cd.format_path(cd.release_directory, ".", cd.assignment_id))

    def _notebook(self, upload: Upload) -> str:
        """The released notebook an uploaded file name stands for."""
        released = self._released()
        name = upload.uploaded_name
        stem, ext = os.path.splitext(name)
        for pattern in (CANVAS_REUPLOAD_RE, BROWSER_COPY_RE):
            m = pattern.match(stem)
            if m and m["stem"] + ext in released:
                return m["stem"] + ext
        if name not in released and len(released) == 1:
            self.log.warning("%s: file %r taken as the assignment's notebook %s",
                             upload.student_id, name, released[0])
            return released[0]
        return name

    def _choose(self, root: str) -> dict[str, Upload]:
        """Parse every file under ``root``; keep the latest upload per (student, notebook)."""
        latest: dict[tuple, Upload] = {}
        for folder, _, files in os.walk(root):
            for f in files:
                path = os.path.join(folder, f)
                if os.path.splitext(f)[1] not in self.valid_ext:
                    continue
                upload = self.parse(os.path.relpath(path, root), os.path.getmtime(path))
                if upload is None:
                    self.log.warning("Skipped %s: not a %s submission file name", path, self.lms)
                    continue
                upload.path, upload.notebook = path, self._notebook(upload)
                key = (upload.student_id, upload.notebook)
                old = latest.get(key)
                if old is None or upload.order > old.order:
                    newer, older = upload, old
                else:
                    newer, older = old, upload
                latest[key] = newer
                if older is not None:
                    self.log.warning("%s: skipped %s, superseded by the later upload %s",
                                     key[0], os.path.basename(older.path),
                                     os.path.basename(newer.path))
        chosen = {u.path: u for u in latest.values()}
        self._report_late(chosen.values())
        self._save_names(root, chosen.values())
        return chosen

    def _report_late(self, uploads) -> None:
        due = self._due_date()
        for u in uploads:
            when = dt.datetime.fromtimestamp(os.path.getmtime(u.path), dt.timezone.utc)
            naive = when.replace(tzinfo=None)
            if u.late:
                self.log.info("%s: marked LATE by %s, submitted %s", u.student_id, self.lms, when)
            if self.marks_late and due is not None and u.late != (naive > due):
                self.log.warning("%s: %s says %s but the time %s is %s the gradebook's due date %s",
                                 u.student_id, self.lms, "LATE" if u.late else "on time", when,
                                 "before" if naive <= due else "after", due)

    def _due_date(self):
        from nbgrader.api import Gradebook, MissingEntry
        try:
            with Gradebook(self._coursedir.db_url) as gb:
                return gb.find_assignment(self._coursedir.assignment_id).duedate
        except MissingEntry:
            return None

    def _save_names(self, root: str, uploads) -> None:
        names = {u.student_id: {"lms": self.lms, "prefix": u.prefix} for u in uploads}
        with open(os.path.join(os.path.dirname(root), "lms_names.json"), "w") as fh:
            json.dump(names, fh, indent=1, ensure_ascii=False, sort_keys=True)


class CanvasCollector(LmsCollector):
    """File names of Canvas's *Download Submissions* zip (see the module docstring)."""

    lms = "canvas"
    marks_late = True

    def parse(self, relpath: str, mtime: float) -> Upload | None:
        m = CANVAS_RE.match(os.path.basename(relpath))
        if not m:
            return None
        stem, _ = os.path.splitext(m["file"])
        again = CANVAS_REUPLOAD_RE.match(stem)
        return Upload(path="", student_id=m["uid"], uploaded_name=m["file"],
                      prefix=f"{m['name']}_{m['late'] or ''}{m['uid']}_{m['aid']}_",
                      order=(mtime, int(m["aid"]), int(again["n"]) if again else 0),
                      late=bool(m["late"]))


class MoodleCollector(LmsCollector):
    """File names of Moodle's *Download all submissions* zip (see the module docstring)."""

    lms = "moodle"

    def parse(self, relpath: str, mtime: float) -> Upload | None:
        m = MOODLE_RE.search(relpath.replace(os.sep, "/"))
        if not m:
            return None
        copy = BROWSER_COPY_RE.match(os.path.splitext(m["file"])[0])
        return Upload(path="", student_id=m["uid"], uploaded_name=m["file"],
                      prefix=f"{m['name']}_{m['uid']}_assignsubmission_file_",
                      order=(mtime, int(copy["n"]) if copy else 0))
