"""Zip entry names as the student's system wrote them, with or without the UTF-8 flag (quick)."""
import sys
import zipfile

from ..assignments import nbgrader_support as nbs

sys.path.insert(0, str(nbs.COURSE))
from classroom.lms_collect import entry_name  # noqa: E402


def test_entry_names_utf8_fallback_and_genuine_cp437():
    utf8 = zipfile.ZipInfo("Zoë.ipynb".encode().decode("cp437"))   # UTF-8 bytes, no flag
    assert entry_name(utf8) == "Zoë.ipynb"
    cp437 = zipfile.ZipInfo(b"Zo\x89.ipynb".decode("cp437"))  # 0x89 is cp437's 'ë', not UTF-8
    assert entry_name(cp437) == "Zoë.ipynb"
    flagged = zipfile.ZipInfo("Zoë.ipynb")
    flagged.flag_bits |= 0x800
    assert entry_name(flagged) == "Zoë.ipynb"
    nfd = zipfile.ZipInfo("Zoe\u0308.ipynb")   # macOS stores decomposed accents
    nfd.flag_bits |= 0x800
    assert entry_name(nfd) == "Zoë.ipynb"
