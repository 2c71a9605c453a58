"""Red-team round 4 (issue 8): honest but unusual answers that must keep full marks, and attacks
on the own-rules composition check (``PlantedCheck.follows_from_own_rules``), at the level of the
verdicts: the grader's checks on a notebook's cells run in real sandboxed workers (no nbgrader).

A hole still open (or an honest answer that loses points) is ``xfail(strict=True)`` with its
measured effect; a defence that holds is a passing test whose attack would succeed without it.
"""
from __future__ import annotations

import tracemalloc

import pytest

from . import nbgrader_support as nbs
from .test_planted import engines, verdicts  # noqa: F401 (engines: a fixture)

PS1 = nbs.ASSIGNMENTS[0]
RULE_ITEMS = ["test_log_vjp_visible", "test_log_vjp_hidden", "test_sqrt_vjp_visible",
              "test_sqrt_vjp_hidden"]
WALK_ITEMS = ["test_walkthrough_visible", "test_walkthrough_hidden"]


# ---- honest, unusual answers ---------------------------------------------------------------------

EINSUM_AND_LOOP = {
    "log_vjp": '''
def log_vjp(g, ans, x):
    g, x = np.broadcast_arrays(np.asarray(g, dtype=float), np.asarray(x, dtype=float))
    return np.einsum("...,...->...", g, np.reciprocal(x))
''',
    "sqrt_vjp": '''
def sqrt_vjp(g, ans, x):
    g, ans = np.broadcast_arrays(np.asarray(g, dtype=float), np.asarray(ans, dtype=float))
    out = np.empty(g.shape)
    for i in np.ndindex(g.shape):          # one entry at a time
        out[i] = g[i] / (2.0 * ans[i])
    return out
'''}
FLOATS_AND_KWARGS = {
    "log_vjp": '''
def log_vjp(g, ans, x, *, eps=0.0, **kwargs):
    out = np.divide(g, np.add(x, eps))
    return float(out) if np.ndim(out) == 0 else out      # a Python float for scalars
''',
    "sqrt_vjp": '''
def sqrt_vjp(g, ans, x, scale=0.5):
    return np.asarray(scale * np.asarray(g) / ans)[()]   # a 0-d array becomes a NumPy scalar
'''}
WALK_KEYWORDS = {"walkthrough": '''
def walkthrough(w1, w2):
    v1 = np.log(w1)
    v2 = w2 * v1
    v3 = np.sqrt(v2)
    v2_bar = 1.0 + sqrt_vjp(g=1.0, ans=v3, x=v2)
    return v2 + v3, log_vjp(x=w1, ans=v1, g=v2_bar * w2), v2_bar * v1
'''}
# the reverse sweep in a helper defined in a later cell
WALK_HELPER_CELL = ({"walkthrough": '''
def walkthrough(w1, w2):
    v1, v3, v2 = _forward(w1, w2)
    return (v2 + v3,) + _reverse(w1, w2, v1, v2, v3)
'''}, '''
def _forward(w1, w2):
    v1 = np.log(w1)
    v2 = w2 * v1
    return v1, np.sqrt(v2), v2


def _reverse(w1, w2, v1, v2, v3):
    v2_bar = 1.0 + sqrt_vjp(1.0, v3, v2)
    return log_vjp(v2_bar * w2, v1, w1), v2_bar * v1
''')


@pytest.mark.slow
@pytest.mark.parametrize("answers", [EINSUM_AND_LOOP, FLOATS_AND_KWARGS],
                         ids=["einsum and a loop", "floats, 0-d, extra keywords"])
def test_unusual_honest_rules_keep_full_marks(engines, tmp_path, answers):  # noqa: F811
    out = verdicts(engines, tmp_path, PS1, answers, items=RULE_ITEMS + WALK_ITEMS)
    assert out == dict.fromkeys(RULE_ITEMS + WALK_ITEMS), out


@pytest.mark.slow
def test_a_walkthrough_calling_rules_by_keyword_keeps_full_marks(engines, tmp_path):  # noqa: F811
    out = verdicts(engines, tmp_path, PS1, WALK_KEYWORDS, items=WALK_ITEMS)
    assert out == dict.fromkeys(WALK_ITEMS), out


@pytest.mark.slow
def test_helpers_in_a_later_cell_keep_full_marks(engines, tmp_path):  # noqa: F811
    answers, extra = WALK_HELPER_CELL
    out = verdicts(engines, tmp_path, PS1, answers, items=WALK_ITEMS, extra=extra)
    assert out == dict.fromkeys(WALK_ITEMS), out


WALK_JVP_KEYWORDS = {"walkthrough": '''
def walkthrough(w1, w2):          # log's JVP and VJP are the same multiplication
    v1, v2 = np.log(w1), w2 * np.log(w1)
    v3 = np.sqrt(v2)
    v2_bar = 1.0 + sqrt_jvp(t=1.0, ans=v3, x=v2)
    return v2 + v3, log_jvp(t=v2_bar * w2, ans=v1, x=w1), v2_bar * v1
'''}


@pytest.mark.slow
def test_a_walkthrough_calling_jvp_rules_by_keyword_keeps_full_marks(engines, tmp_path):  # noqa: F811
    """Was: the planted rules had the VJP signature (g, ans, x), so sqrt_jvp(t=1.0, ...) failed both
    items ("rule() missing 1 required positional argument: 'g'")."""
    out = verdicts(engines, tmp_path, PS1, WALK_JVP_KEYWORDS, items=WALK_ITEMS)
    assert out == dict.fromkeys(WALK_ITEMS), out


# ---- the own-rules check, attacked from the rule it fetches ---------------------------------------

# log_vjp answers correctly when the walkthrough calls it, and sees the grader's probe (any other
# caller): there it returns tiny arrays of shapes (K, 1) and (1, K) in turn, a few kB on the wire.
# The grader's L has two log nodes feeding w1, so accumulating those two cotangents would make a
# K x K array (128 MB at K = 4000) in the grader process itself; the engine's check of a VJP's
# shape against its argument (autodiff_core.reverse.check_shape) refuses them first.
K = 4000
PROBE_AWARE = {"log_vjp": f'''
import sys

_calls = [0]


def log_vjp(g, ans, x):
    if sys._getframe(1).f_code.co_name == "walkthrough":
        return g / x
    _calls[0] += 1
    return np.ones((({K}, 1), (1, {K}))[_calls[0] % 2])
''',
               # log_jvp stands in for log_vjp in the check: it lies the same way
               "jvps": "log_jvp = log_vjp\n\n\ndef sqrt_jvp(t, ans, x):\n    return t / (2.0 * ans)\n"}


@pytest.mark.slow
def test_a_rule_that_sees_the_probe_cannot_blow_up_the_grader(engines, tmp_path):  # noqa: F811
    tracemalloc.start()
    try:
        out = verdicts(engines, tmp_path, PS1, PROBE_AWARE, items=WALK_ITEMS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2 ** 20, f"grader peak {peak / 2 ** 20:.0f} MB"
    # and the lie does not pay: the use no longer follows from the rule the grader fetches
    assert all(msg is not None and "[planted rules]" in msg for msg in out.values()), out


@pytest.mark.slow
def test_only_the_shape_check_stops_the_blow_up(engines, tmp_path, monkeypatch):  # noqa: F811
    """The premise of the test above: without the engine's shape check of a VJP's result, the
    grader itself builds the K x K cotangent."""
    import autodiff_core.reverse
    monkeypatch.setattr(autodiff_core.reverse, "check_shape", lambda *args: None)
    tracemalloc.start()
    try:
        verdicts(engines, tmp_path, PS1, PROBE_AWARE, items=WALK_ITEMS[:1])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak >= K * K * 8, f"grader peak {peak / 2 ** 20:.0f} MB"


PS2 = nbs.ASSIGNMENTS[1]
SOLVE_ITEMS = ["test_solve_vjp_A_visible", "test_solve_vjp_A_hidden", "test_solve_vjp_b_visible",
               "test_solve_vjp_b_hidden", "test_least_squares_visible", "test_least_squares_hidden"]
# the solve rules with an explicit inverse and einsum (numerically fine for the well-conditioned
# matrices of the assignment), plain NumPy, no anp
SOLVE_INV_EINSUM = {
    "solve_vjp_A": '''
def solve_vjp_A(g, ans, A, b):
    gb = np.einsum("ji,j...->i...", np.linalg.inv(A), g)       # inv(A)^T g
    n = np.shape(A)[0]                                          # sum over the columns of b:
    return -np.einsum("ik,jk->ij", np.reshape(gb, (n, -1)), np.reshape(ans, (n, -1)))
''',
    "solve_vjp_b": '''
def solve_vjp_b(g, ans, A, b):
    return np.einsum("ji,j...->i...", np.linalg.inv(A), g)
'''}


@pytest.mark.slow
def test_solve_rules_with_inv_and_einsum_keep_full_marks(engines, tmp_path):  # noqa: F811
    out = verdicts(engines, tmp_path, PS2, SOLVE_INV_EINSUM, items=SOLVE_ITEMS)
    assert out == dict.fromkeys(SOLVE_ITEMS), out


PLUGIN_ITEMS = ["test_plugin_visible", "test_plugin_hidden"]


@pytest.mark.slow
def test_float_and_keyword_rules_plug_into_the_engine(engines, tmp_path):  # noqa: F811
    """The rules returning Python floats / NumPy scalars, with extra keyword parameters, plugged
    into ad.grad and ad.jvp by the reference grad_with_my_rules / jvp_with_my_rules."""
    out = verdicts(engines, tmp_path, PS1, FLOATS_AND_KWARGS, items=PLUGIN_ITEMS)
    assert out == dict.fromkeys(PLUGIN_ITEMS), out


# The rules answer the walkthrough, and end their worker when the grader fetches them for the
# own-rules check (a lost worker is no value): the check must not count the silence as agreement.
PROBE_KILLS = {"log_vjp": '''
import os
import sys


def log_vjp(g, ans, x):
    if sys._getframe(1).f_code.co_name == "walkthrough":
        return g / x
    os._exit(0)
''', "jvps": "log_jvp = log_vjp\n\n\ndef sqrt_jvp(t, ans, x):\n    return t / (2.0 * ans)\n"}
# the same rules, honest when the grader calls them: the control, full marks
PROBE_HONEST = dict(PROBE_KILLS, log_vjp=PROBE_KILLS["log_vjp"].replace("os._exit(0)",
                                                                         "return g / x"))


@pytest.mark.slow
def test_a_rule_that_ends_its_worker_when_probed_loses_the_use(engines, tmp_path):  # noqa: F811
    (tmp_path / "control").mkdir()
    control = verdicts(engines, tmp_path / "control", PS1, PROBE_HONEST, items=WALK_ITEMS[:1])
    assert control == dict.fromkeys(WALK_ITEMS[:1]), control
    out = verdicts(engines, tmp_path, PS1, PROBE_KILLS, items=WALK_ITEMS[:1])
    assert all(msg is not None and "[planted rules]" in msg for msg in out.values()), out


# a lambda, and a rule whose arithmetic lives in a helper of a later cell
LAMBDA_AND_LATER_HELPER = ({"log_vjp": "log_vjp = lambda g, ans, x: np.multiply(g, _inverse(x))\n",
                            "sqrt_vjp": "def sqrt_vjp(g, ans, x):\n"
                                        "    return 0.5 * np.multiply(g, _inverse(ans))\n"},
                           "def _inverse(a):\n    return 1.0 / np.asarray(a, dtype=float)\n")


@pytest.mark.slow
def test_a_lambda_and_a_helper_in_a_later_cell_keep_full_marks(engines, tmp_path):  # noqa: F811
    answers, extra = LAMBDA_AND_LATER_HELPER
    items = RULE_ITEMS + WALK_ITEMS + PLUGIN_ITEMS
    out = verdicts(engines, tmp_path, PS1, answers, items=items, extra=extra)
    assert out == dict.fromkeys(items), out


# The own-rules check's tolerance is relative to the largest entry of [L, dL/dw1, dL/dw2]: a rule
# returning ~1e300 makes that tolerance ~1e294. Tried: a walkthrough that sweeps with the rules it
# is given when they are not its own (planted) and answers by hand with its own (wrong) rule, the
# rule huge so that "anything follows from it". It holds: the huge entry is itself compared.
HUGE_RULE = {
    "log_vjp": "def log_vjp(g, ans, x):\n    return np.multiply(g, 1e300)\n",
    "jvps": "log_jvp = log_vjp\n\n\ndef sqrt_jvp(t, ans, x):\n    return t / (2.0 * ans)\n",
    "walkthrough": '''
_mine = log_vjp


def walkthrough(w1, w2):
    v1 = np.log(w1)
    v2 = w2 * v1
    v3 = np.sqrt(v2)
    v2_bar = 1.0 + sqrt_vjp(1.0, v3, v2)
    if log_vjp is not _mine:                        # planted rules: sweep with them
        return v2 + v3, log_vjp(v2_bar * w2, v1, w1), v2_bar * v1
    return v2 + v3, v2_bar * w2 / w1, v2_bar * v1   # my rule: around it, by hand
'''}
# the same with a merely wrong rule (2 g / x): the check catches it (the control)
WRONG_RULE = dict(HUGE_RULE, log_vjp="def log_vjp(g, ans, x):\n    return 2.0 * g / x\n")


@pytest.mark.slow
def test_a_merely_wrong_rule_around_which_the_use_computes_loses_it(engines, tmp_path):  # noqa: F811
    out = verdicts(engines, tmp_path, PS1, WRONG_RULE, items=WALK_ITEMS[:1])
    assert all(msg is not None and "[planted rules]" in msg for msg in out.values()), out


@pytest.mark.slow
def test_a_huge_rule_does_not_widen_the_own_rules_tolerance(engines, tmp_path):  # noqa: F811
    out = verdicts(engines, tmp_path, PS1, HUGE_RULE, items=WALK_ITEMS[:1])
    assert all(msg is not None and "[planted rules]" in msg for msg in out.values()), out


WALK_MATH = {"walkthrough": '''
import math


def walkthrough(w1, w2):          # the forward sweep with the math module, Python floats
    v1 = math.log(w1)
    v2 = w2 * v1
    v3 = math.sqrt(v2)
    v2_bar = 1.0 + sqrt_vjp(1.0, v3, v2)
    return v2 + v3, log_vjp(v2_bar * w2, v1, w1), v2_bar * v1
'''}


@pytest.mark.slow
def test_a_walkthrough_with_the_math_module_keeps_full_marks(engines, tmp_path):  # noqa: F811
    out = verdicts(engines, tmp_path, PS1, WALK_MATH, items=WALK_ITEMS)
    assert out == dict.fromkeys(WALK_ITEMS), out


# The check tries each member of a group as the stand-in for the group (a use may call log_jvp in
# the walkthrough). So with a wrong log_vjp and a right log_jvp (the reference jvps cell), the same
# walkthrough computed around its own log_vjp "follows" from log_jvp.
WRONG_VJP_RIGHT_JVP = {k: v for k, v in WRONG_RULE.items() if k != "jvps"}


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="measured: test_walkthrough_visible passes (verdict None) "
                   "for a walkthrough that computes around its wrong log_vjp (2 g / x), because "
                   "the reference log_jvp, tried as the group's stand-in, gives the true values")
def test_a_right_jvp_does_not_cover_a_wrong_vjp_computed_around(engines, tmp_path):  # noqa: F811
    out = verdicts(engines, tmp_path, PS1, WRONG_VJP_RIGHT_JVP, items=WALK_ITEMS[:1])
    assert all(msg is not None and "[planted rules]" in msg for msg in out.values()), out
