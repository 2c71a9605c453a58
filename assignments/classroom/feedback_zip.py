"""Pack the feedback HTML of one assignment into one zip to upload back to the LMS.

Run from the course root (``make feedback-zip ASSIGNMENT=a`` does)::

    python -m classroom.feedback_zip ASSIGNMENT [--out FILE]

Each student's ``feedback/<student>/<assignment>/*.html`` goes into the zip under the file-name
prefix the LMS gave that student's submission, as recorded by ``make collect`` in
``downloaded/<assignment>/lms_names.json``, so the LMS can match every file to its student:

* Canvas: ``<name>_[LATE_]<user id>_<attachment id>_<assignment>_feedback.html`` (the download's
  prefix), for *Re-upload Submissions* in the assignment's gradebook menu, which matches files
  to students by that prefix.
* Moodle: ``<Full Name>_<participant id>_assignsubmission_file_/<assignment>_feedback.html``, for
  *Upload multiple feedback files in a zip*.

Students without a recorded prefix (not collected from an LMS zip) go in as
``<student>/<notebook>.html``. Writes ``feedback_<assignment>_<lms>.zip`` in the course root
(UTF-8 names, flag set) and prints what it packed; exits 1 if there is no feedback at all.
"""
from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path


def entries(root: Path, assignment: str):
    """(name in the zip, HTML path) for every feedback file of ``assignment``; and the LMS."""
    names_file = root / "downloaded" / assignment / "lms_names.json"
    names = json.loads(names_file.read_text(encoding="utf-8")) if names_file.exists() else {}
    lms = {v["lms"] for v in names.values()}
    out = []
    for html in sorted(root.glob(f"feedback/*/{assignment}/*.html")):
        student = html.parts[-3]
        known = names.get(student)
        if known is None:
            out.append((f"{student}/{html.name}", html))
        elif known["lms"] == "canvas":
            out.append((f"{known['prefix']}{html.stem}_feedback.html", html))
        else:
            out.append((f"{known['prefix']}/{html.stem}_feedback.html", html))
    return out, (lms.pop() if len(lms) == 1 else "lms")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment")
    parser.add_argument("--out", help="zip to write (default feedback_<assignment>_<lms>.zip)")
    args = parser.parse_args(argv)
    root = Path.cwd()
    files, lms = entries(root, args.assignment)
    if not files:
        print(f"feedback-zip: no feedback/*/{args.assignment}/*.html (run make feedback first)",
              file=sys.stderr)
        return 1
    out = Path(args.out or f"feedback_{args.assignment}_{lms}.zip")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, path in files:
            zf.write(path, name)
    print(f"feedback-zip: {len(files)} files -> {out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
