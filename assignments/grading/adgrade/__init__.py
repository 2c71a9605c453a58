"""Hidden-test helpers for the course's nbgrader assignments.

This package lives in ``assignments/grading/``, outside ``source/``, so it is never copied into a
student release. The hidden-test regions of the assignment notebooks import it during autograding
(``nbgrader_config.py`` exports its location in ``ADCOURSE_GRADING_DIR``)::

    import adgrade.ps1
    adgrade.ps1.grade("test_log_vjp_hidden", globals())

Each grade cell ends by emitting an *evidence* record (see :mod:`adgrade.harness`); the nbgrader
preprocessor :class:`nbgrader_hooks.RequireTestEvidence` scores a test cell 0 when that record is
missing, so a submission that disables later cells (an IPython input transformer, an AST
transformer, an event hook...) cannot collect the points of tests that never ran.

Only the standard library is imported here: the nbgrader process imports ``adgrade.evidence``
without loading NumPy, autograd or the course's engine.
"""
