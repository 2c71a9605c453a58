"""Running a class with nbgrader: the course's nbgrader plugins for LMS hand-in
(``lms_collect``) and LMS grade export (``lms_export``), the checksum-warning summary
(``overwrite_summary``), parallel incremental autograding (``parallel_autograde``, with its
grading processes ``autograde_worker``) and the feedback zip for the LMS (``feedback_zip``). The
course config (``assignments/nbgrader_config.py``) wires the plugins in; nbgrader imports them as
``classroom.<module>`` from the course root, and the tools run as ``python -m classroom.<tool>``
there (the Makefile's class targets do)."""
