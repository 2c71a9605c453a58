"""The proof that a test cell ran to its end: shared by the kernel side and the nbgrader side."""
from __future__ import annotations

import os

#: MIME type of the display output a finished test cell emits.
MIME = "application/vnd.adcourse.evidence+json"
#: Environment variable holding a per-run token (set by nbgrader_config.py, inherited by kernels).
TOKEN_ENV = "ADCOURSE_EVIDENCE_TOKEN"


def token() -> str:
    return os.environ.get(TOKEN_ENV, "")


def is_evidence_for(output, grade_id: str) -> bool:
    """True if the notebook output ``output`` is a passing evidence record for ``grade_id``."""
    if output.get("output_type") not in ("display_data", "execute_result"):
        return False
    record = output.get("data", {}).get(MIME)
    if not isinstance(record, dict):
        return False
    return (record.get("grade_id") == grade_id and record.get("status") == "passed"
            and record.get("token", "") == token())
