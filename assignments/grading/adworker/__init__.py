"""The sandboxed side of grading: the only code that runs next to a student's notebook.

``python -m adworker.main`` is started by :mod:`adgrade.sandbox` inside bubblewrap. It executes
the student's cells and answers requests for the values of the student's functions on inputs the
grader chooses. It holds no reference answer and decides nothing: every value it returns is
judged by the grader, outside the sandbox. Standard library, NumPy and IPython only.
"""
