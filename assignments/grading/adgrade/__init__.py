"""The course's grading checks, run in the nbgrader process (never in a student's worker).

``ASSIGNMENTS`` maps an assignment name to its checks module, which defines ``MODES`` (the engine
copies its items need, see :mod:`adgrade.engine_copy`) and ``ITEMS`` (test cell grade id ->
(the student function it is about, the check)). :mod:`nbgrader_hooks` runs them.
This package lives outside ``source/``: it is never released, and never mounted in a worker.
"""
from . import ps1, ps2

ASSIGNMENTS = {"ps1_elementwise": ps1, "ps2_matrices": ps2}
