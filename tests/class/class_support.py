"""Helpers of the class-workflow tests: LMS-style zips of submissions, the real nbgrader CLI and
make targets on a temporary copy of the course root, gradebook read-back."""
from __future__ import annotations

import os
import struct
import subprocess
import zipfile
from pathlib import Path

import nbformat

from ..assignments import nbgrader_support as nbs

PS1 = "ps1_elementwise"
REPO = nbs.REPO


def notebook_text(root: Path, assignment: str = PS1, blank: bool = False, answers=None) -> str:
    """A submission of ``assignment`` as the student uploads it (reference answers unless blank)."""
    nb = nbs.read(root / "release" / assignment / f"{assignment}.ipynb")
    chosen = dict({} if blank else nbs.reference_answers(assignment), **(answers or {}))
    for cell in nb.cells:
        if nbs.grade_id(cell) in chosen and cell.metadata["nbgrader"].get("solution"):
            cell.source = chosen[nbs.grade_id(cell)]
    return nbformat.writes(nb)


def make_zip(path: Path, entries, utf8_flag: bool = True) -> Path:
    """Write ``entries`` [(name, text, (Y, M, D, h, m, s)), ...] as a zip at ``path``.

    ``utf8_flag=False`` stores the UTF-8 names without general purpose bit 11, as many zippers
    do (Python's zipfile always sets it for non-ASCII names, so the bit is cleared afterwards in
    both the local and the central headers).
    """
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text, when in entries:
            zf.writestr(zipfile.ZipInfo(name, date_time=when), text)
    if not utf8_flag:
        clear_utf8_flags(path)
    return path


def clear_utf8_flags(path: Path) -> None:
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        infos, start = zf.infolist(), zf.start_dir
    for info in infos:  # local file headers: flags at offset 6
        assert data[info.header_offset:info.header_offset + 4] == b"PK\x03\x04"
        _clear(data, info.header_offset + 6)
    pos = start
    for _ in infos:  # central directory headers: flags at offset 8
        assert data[pos:pos + 4] == b"PK\x01\x02"
        _clear(data, pos + 8)
        n, m, k = struct.unpack("<HHH", data[pos + 28:pos + 34])
        pos += 46 + n + m + k
    path.write_bytes(bytes(data))


def _clear(data: bytearray, offset: int) -> None:
    flags = struct.unpack("<H", data[offset:offset + 2])[0] & ~0x800
    data[offset:offset + 2] = struct.pack("<H", flags)


def make(root: Path, *targets, check=True, timeout=900, **variables):
    """Run ``make`` targets of the repository with the course root ``root``."""
    venv = nbs.BIN.parent  # -o: use the running virtual environment as it is
    args = ["make", "--no-print-directory", "-C", str(REPO), "-o", f"{venv}/.installed",
            *targets, f"COURSE={root}", f"VENV={venv}"]
    args += [f"{k}={v}" for k, v in variables.items()]
    proc = subprocess.run(args, env=nbs.env(), capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"make {' '.join(targets)} exited {proc.returncode}:\n"
                             f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def submission(root: Path, student: str, assignment: str = PS1) -> Path:
    return root / "submitted" / student / assignment / f"{assignment}.ipynb"


def edit_cell(grade_id: str, source: str):
    """An ``edit`` for ``nbs.submit`` that replaces the source of the cell ``grade_id``."""
    def edit(nb):
        for cell in nb.cells:
            if nbs.grade_id(cell) == grade_id:
                cell.source = source
        return nb
    return edit


def gradebook_rows(db_url: str, assignment: str = PS1):
    """(student -> final score, number of submission rows, number of grade rows) of ``assignment``."""
    from nbgrader.api import Gradebook, Grade, SubmittedAssignment, Assignment
    saved = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{nbs.BIN}{os.pathsep}{saved}"
    try:
        with Gradebook(db_url) as gb:
            subs = gb.db.query(SubmittedAssignment).join(Assignment).filter(
                Assignment.name == assignment).all()
            scores = {s.student_id: s.score for s in subs}
            n_grades = sum(len(nb.grades) for s in subs for nb in s.notebooks)
            n_rows = gb.db.query(Grade).count()
            return scores, len(subs), n_grades, n_rows
    finally:
        os.environ["PATH"] = saved
