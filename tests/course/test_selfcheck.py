"""course/selfcheck.py: verdicts, blank answers, and that no message ever shows the expected value."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as onp
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "course"))
import selfcheck  # noqa: E402

SECRET = 0.6931471805599453          # the expected value in these tests: it must never be printed


@pytest.fixture(autouse=True)
def _fresh_results():
    selfcheck.RESULTS.clear()
    yield
    selfcheck.RESULTS.clear()


def _verdict(capsys, name):
    out = capsys.readouterr().out
    assert "0.693" not in out and "0.69" not in out, f"the expected value leaked: {out!r}"
    return selfcheck.RESULTS[name], out


@pytest.mark.parametrize("got, verdict", [
    (..., "blank"), (None, "blank"), ((..., ...), "blank"), ([None, ...], "blank"),
    (SECRET, "right"), (SECRET * (1 + 1e-9), "right"), (0.7, "wrong"), ("0.69", "wrong"),
])
def test_check_scalar(capsys, got, verdict):
    expected = (SECRET, SECRET) if isinstance(got, (tuple, list)) else SECRET
    selfcheck.check("t", got, expected, hint="log 2")
    assert _verdict(capsys, "t")[0] == verdict


def test_check_returns_none_so_a_check_cell_shows_only_its_line():
    assert selfcheck.check("t", SECRET, SECRET) is None
    assert selfcheck.check_function("f", lambda: SECRET, reference=lambda: SECRET, inputs=[()]) is None


def test_partly_filled_tuple_is_wrong_and_says_which_item(capsys):
    selfcheck.check("t", (SECRET, ...), (SECRET, SECRET))
    verdict, out = _verdict(capsys, "t")
    assert verdict == "wrong" and "item 1" in out


def test_wrong_shape_is_named(capsys):
    selfcheck.check("t", onp.zeros(3), onp.full(2, SECRET))
    verdict, out = _verdict(capsys, "t")
    assert verdict == "wrong" and "shape (2,)" in out and "shape (3,)" in out


def test_strings_compare_case_insensitively(capsys):
    selfcheck.check("t", " Forward ", "forward")
    assert _verdict(capsys, "t")[0] == "right"
    selfcheck.check("u", "reverse", "forward")
    assert _verdict(capsys, "u")[0] == "wrong"


def _blank_body(x):
    ...


def _not_implemented(x):
    raise NotImplementedError


@pytest.mark.parametrize("fn, verdict", [
    (None, "blank"), (_blank_body, "blank"), (_not_implemented, "blank"),
    (lambda x: onp.log(x), "right"), (lambda x: onp.log(x) + 1e-3, "wrong"), (lambda x: 1 / 0, "wrong"),
])
def test_check_function(capsys, fn, verdict):
    selfcheck.check_function("f", fn, reference=onp.log, inputs=[(2.0,), (onp.array([2.0, 3.0]),)])
    assert _verdict(capsys, "f")[0] == verdict


def test_check_function_names_the_failing_input(capsys):
    selfcheck.check_function("f", lambda x: onp.log(x) * (onp.size(x) == 1), reference=onp.log,
                             inputs=[(2.0,), (onp.array([2.0, 3.0]),)])
    verdict, out = _verdict(capsys, "f")
    assert verdict == "wrong" and "on input ([2. 3.])" in out


def test_check_function_reports_the_students_exception(capsys):
    selfcheck.check_function("f", lambda x: 1 / 0, reference=onp.log, inputs=[(2.0,)])
    verdict, out = _verdict(capsys, "f")
    assert verdict == "wrong" and "ZeroDivisionError" in out


@pytest.mark.parametrize("got, verdict", [(..., "blank"), (1e-5, "right"), (1e-12, "wrong"), ("x", "wrong")])
def test_check_that(capsys, got, verdict):
    selfcheck.check_that("h", got, lambda h: 1e-7 < h < 1e-3, hint="balance the two errors")
    assert _verdict(capsys, "h")[0] == verdict
