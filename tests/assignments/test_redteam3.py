"""Red-team round 3 (issue 8): the defences added since round 2, attacked as a student with the
public repository would, at the level of the verdicts: the grader's checks (``adgrade.ps1`` /
``ps2``) on a notebook's cells run in real sandboxed workers (no nbgrader run; the pipeline is
covered by test_adversarial.py).

A hole still open is ``xfail(strict=True)`` with its measured effect; a defence that holds is a
passing test whose attack would succeed without it.
"""
from __future__ import annotations

import platform
import sys

import pytest

from . import nbgrader_support as nbs

sys.path.insert(0, str(nbs.COURSE / "grading"))

from adgrade import harness  # noqa: E402
from adgrade.source_check import numerical_differentiation  # noqa: E402
from adgrade.student import Submission  # noqa: E402

from .test_planted import engines, verdicts  # noqa: E402,F401 (engines: a fixture)
from .test_redteam import PS1_USES  # noqa: E402

PS1, PS2 = nbs.ASSIGNMENTS
LOG_ITEMS = ["test_log_vjp_visible", "test_log_vjp_hidden"]


# ---- the source check, evaded: a divided difference it does not recognise ------------------------

# Each is log's derivative by central differences with a relative step (rounding ~1e-10, far
# inside rtol 1e-6), the documented edge case x = 0 written in by hand; only the spelling of the
# difference changes. The source check looked for ``f(a) - f(b)`` where ``f`` is a primal, a
# notebook function reaching one, or a parameter, so each of these was missed and the item kept
# full marks.
_FD_HEAD = '''
import numpy as np

def log_vjp(g, ans, x):
    x = np.asarray(x, dtype=float)
    h = 1e-5 * np.maximum(np.abs(x), 1e-300)
    with np.errstate(all="ignore"):
        d = {difference}
    return np.where(x == 0, g * np.inf, g * d)
'''
EVASIONS = {
    # a module-level alias of the primal: not a primal name, not a notebook function
    "alias": "_log = np.log\n" + _FD_HEAD.format(
        difference="(_log(np.abs(x + h)) - _log(np.abs(x - h))) / (2 * h)"),
    # a difference of quotients: the operands of '-' are divisions, not calls
    "quotients": _FD_HEAD.format(
        difference="np.log(np.abs(x + h)) / (2 * h) - np.log(np.abs(x - h)) / (2 * h)"),
    # numpy's own subtraction: no '-' at all
    "np.subtract": _FD_HEAD.format(
        difference="np.subtract(np.log(np.abs(x + h)), np.log(np.abs(x - h))) / (2 * h)"),
}


@pytest.mark.slow
@pytest.mark.parametrize("spelling", sorted(EVASIONS))
def test_divided_differences_in_other_spellings_score_zero(engines, tmp_path, spelling):  # noqa: F811
    """Was open: the check matched only ``f(a) - f(b)`` of a primal's name. It now looks for one
    function (aliases included) called at two nearby points, however they are combined."""
    out = verdicts(engines, tmp_path, PS1, {"log_vjp": EVASIONS[spelling]}, items=LOG_ITEMS)
    assert all(msg is not None and "[numerical differentiation]" in msg
               for msg in out.values()), out


@pytest.mark.slow
def test_only_the_source_check_could_catch_the_evasions(engines, tmp_path, monkeypatch):  # noqa: F811
    """The premise of the test above: with the source check switched off, every spelling passes
    both log_vjp items (so no numerical check can tell these rules from derived ones)."""
    monkeypatch.setattr(harness.source_check, "numerical_differentiation", lambda *args: [])
    for spelling, source in EVASIONS.items():
        (tmp_path / spelling).mkdir()
        out = verdicts(engines, tmp_path / spelling, PS1, {"log_vjp": source}, items=LOG_ITEMS)
        assert out == dict.fromkeys(LOG_ITEMS), (spelling, out)


# The plain spelling, which the source check does recognise, hidden from it by the shape of the
# cell: IPython syntax (the check parsed cells with ast and skipped those that do not parse), a
# definition that is not at the top level, a rule made by a factory (``log_vjp = make()``).
PLAIN_FD = _FD_HEAD.format(difference="(np.log(np.abs(x + h)) - np.log(np.abs(x - h))) / (2 * h)")
_INDENTED = "".join("    " + line if line.strip() else line
                    for line in PLAIN_FD.splitlines(keepends=True))
HIDDEN_FROM_AST = {
    "line magic": "%config Completer.use_jedi = False\n" + PLAIN_FD,
    "shell escape": PLAIN_FD + "files = !ls\n",
    "cell magic": "%%capture\n" + PLAIN_FD,
    "if block": "if True:\n" + _INDENTED,
    "factory": "import numpy as np\n\ndef make():\n" + _INDENTED + "    return log_vjp\n\n"
               "log_vjp = make()\n",
    # an honest-looking definition first, rebound to the factory's rule below it
    "rebound": "import numpy as np\n\ndef log_vjp(g, ans, x):\n    return g / x\n\n\n"
               "def make():\n" + _INDENTED + "    return log_vjp\n\nlog_vjp = make()\n",
}


def test_the_plain_divided_difference_is_recognised():
    """The control of the test below: the same rule in a plain cell is found."""
    assert numerical_differentiation([PLAIN_FD], "log_vjp")


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(HIDDEN_FROM_AST))
def test_a_divided_difference_hidden_by_the_cell_shape_scores_zero(engines, tmp_path, shape):  # noqa: F811
    """Each cell runs in the worker and defines the finite-difference log_vjp (it passes every
    numerical check); the source check reads the Python IPython runs, definitions below the top
    level and what a rule's name is assigned from, and fails both items."""
    out = verdicts(engines, tmp_path, PS1, {"log_vjp": HIDDEN_FROM_AST[shape]}, items=LOG_ITEMS)
    assert all(msg is not None and "[numerical differentiation]" in msg
               for msg in out.values()), out
    for msg in out.values():
        checks = [line for line in msg.splitlines() if line.startswith("  - ")]
        assert len(checks) == 1, msg        # nothing else fails: the rule is numerically right


# The rule in a Python file submitted next to the notebook (nbgrader collects the whole folder,
# and the worker's working directory is a copy of it): the notebook only imports it.
HELPER_FILE = _FD_HEAD.format(difference="(np.log(np.abs(x + h)) - np.log(np.abs(x - h))) / (2 * h)")


IMPORTS = {
    "from": "import sys\nsys.path.insert(0, '.')\nfrom helpers import log_vjp\n",
    "attribute": "import sys\nsys.path.insert(0, '.')\nimport helpers\nlog_vjp = helpers.log_vjp\n",
    # the honest rule in the notebook, the module's rule imported over it
    "over an honest rule": "def log_vjp(g, ans, x):\n    return g / x\n\n"
                           "import sys\nsys.path.insert(0, '.')\nfrom helpers import log_vjp\n",
}


def _verdicts_with_module(engines, tmp_path, answer, module, items=LOG_ITEMS):  # noqa: F811
    """``verdicts`` of ``items``, with ``helpers.py`` (source ``module``) in the submission folder."""
    return verdicts(engines, tmp_path, PS1, {"log_vjp": answer}, items=items,
                    files={"helpers.py": module})


@pytest.mark.slow
@pytest.mark.parametrize("how", sorted(IMPORTS))
def test_a_divided_difference_in_a_submitted_module_scores_zero(engines, tmp_path, how):  # noqa: F811
    """Was: the source check read only the notebook's code cells, so this rule, in a helpers.py
    submitted beside the notebook and imported by the answer cell, scored full marks on both
    log_vjp items. Now the submission's top-level .py files are read too."""
    out = _verdicts_with_module(engines, tmp_path, IMPORTS[how], HELPER_FILE)
    assert all(msg is not None and "[numerical differentiation]" in msg
               for msg in out.values()), out


@pytest.mark.slow
def test_an_unused_submitted_module_costs_nothing(engines, tmp_path):  # noqa: F811
    """The student's own finite-difference checker, submitted beside an honest notebook that
    does not import it, is not held against the notebook's rule."""
    out = _verdicts_with_module(engines, tmp_path, "def log_vjp(g, ans, x):\n    return g / x\n",
                                HELPER_FILE)
    assert out == dict.fromkeys(LOG_ITEMS), out


# ---- the source check on honest code: helpers used twice in one difference -----------------------

# The reference svd_vjp with its matrix products and transposes through small notebook helpers
# (as in HIPS autograd's own SVD rule, ``_dot`` and ``T``): UtgU - UtgU^T written out as
# mm(T(U), gU) - mm(T(gU), U), the textbook antisymmetric part. Same numbers, honest algebra.
SVD_WITH_HELPERS = '''
def mm(a, b):
    return anp.matmul(a, b)

T = lambda a: anp.transpose(a)

def svd_vjp(g, ans, W, full_matrices=True, compute_uv=True, **kwargs):
    U, s, Vt = ans
    gU, gs, gVt = g
    m, n = np.shape(W)
    k = np.shape(s)[0]
    out = mm(U * (gs if gs is not None else np.zeros(k)), Vt)
    s2 = s * s
    F = (1.0 - np.eye(k)) / (anp.expand_dims(s2, 0) - anp.expand_dims(s2, 1) + np.eye(k))
    if gU is not None:
        J = F * (mm(T(U), gU) - mm(T(gU), U))
        out = out + mm(U, mm(J * s, Vt))
        if m > k:
            out = out + mm((gU - mm(U, mm(T(U), gU))) / s, Vt)
    if gVt is not None:
        K = F * (mm(Vt, T(gVt)) - mm(gVt, T(Vt)))
        out = out + mm(U, mm(anp.reshape(s, (-1, 1)) * K, Vt))
        if n > k:
            out = out + mm(U / s, gVt - mm(mm(gVt, T(Vt)), Vt))
    return out
'''
SVD_ITEMS = ["test_svd_vjp_visible", "test_svd_vjp_hidden"]


@pytest.mark.slow
def test_honest_svd_rule_with_helpers_keeps_its_marks(engines, tmp_path):  # noqa: F811
    """Was: any difference of two calls of a notebook function counted as a divided difference,
    so this rule scored 0 on both items ('[numerical differentiation] ... the difference
    mm(T(U), gU) - mm(T(gU), U) in svd_vjp') and was listed for review. Now a notebook function
    counts only if it reaches a primal or calls a parameter."""
    out = verdicts(engines, tmp_path, PS2, {"svd_vjp": SVD_WITH_HELPERS}, items=SVD_ITEMS)
    assert out == dict.fromkeys(SVD_ITEMS), out


DIFFERENCED_HELPERS = {
    "reaches a primal": "def L(v):\n    return np.log(v)\n\n\ndef log_vjp(g, ans, x):\n"
                        "    h = 1e-6\n    return g * (L(x + h) - L(x - h)) / (2 * h)\n",
    "through another helper": "def L(v):\n    return np.log(v)\n\n\n"
                              "def M(v):\n    return L(v)\n\n\n"
                              "def log_vjp(g, ans, x):\n    h = 1e-6\n"
                              "    return g * (M(x + h) - M(x - h)) / (2 * h)\n",
    "calls a parameter": "def apply(f, v):\n    return f(v)\n\n\ndef log_vjp(g, ans, x):\n"
                         "    h = 1e-6\n"
                         "    return g * (apply(np.log, x + h) - apply(np.log, x - h)) / (2 * h)\n",
}


@pytest.mark.parametrize("how", sorted(DIFFERENCED_HELPERS))
def test_divided_differences_of_helpers_that_reach_a_primal_are_still_found(how):
    """The other side of the helper rule above: a helper that computes the primal (directly,
    through another helper, or by calling the function it is given) is still differenced."""
    found = numerical_differentiation(["import numpy as np\n", DIFFERENCED_HELPERS[how]], "log_vjp")
    assert any("the difference" in what for _, what in found), found


HONEST_ELEMENTWISE = {
    "log_vjp": ["def log_vjp(g, ans, x):\n    return g * np.reciprocal(x)\n",
                "def log_vjp(g, ans, x):\n    inv = lambda v: 1.0 / v\n    return g * inv(x)\n",
                "def log_vjp(g, ans, x):\n    return g * np.exp(-ans)\n",
                "def log_vjp(g, ans, x):\n    return np.divide(g, x).real\n"],
    "sqrt_vjp": ["def sqrt_vjp(g, ans, x):\n    return g / (2 * ans)\n",
                 "def sqrt_vjp(g, ans, x):\n    return 0.5 * g * np.power(x, -0.5)\n",
                 "def sqrt_vjp(g, ans, x):\n    return g * 0.5 / np.sqrt(x)\n"],
}


@pytest.mark.parametrize("name,source", [(n, s) for n, srcs in HONEST_ELEMENTWISE.items()
                                         for s in srcs])
def test_honest_elementwise_styles_are_not_flagged(name, source):
    """Reasonable honest spellings (exp(-ans), power, a local lambda, .real of a real result)
    are not taken for numerical differentiation."""
    assert numerical_differentiation(["import numpy as np\n", source], name) == []


# ---- the planted-rules check, fooled: the use tells its own rules from planted ones -------------

# Every rule wrong (all zeros), and a walkthrough that keeps a reference to the student's own rule
# objects: when they are in place it returns the derivative written out by hand (right numbers,
# no rule called); when anything else is (the planted rules) it does the reverse sweep with them.
WALK_SWITCH = '''
_MINE = (log_vjp, sqrt_vjp)


def _by_hand(w1, w2):
    v = w2 * np.log(w1)
    f = 1.0 + 0.5 / np.sqrt(v)
    return v + np.sqrt(v), w2 / w1 * f, np.log(w1) * f


def _with_rules(w1, w2):
    v1 = np.log(w1)
    v2 = w2 * v1
    v3 = np.sqrt(v2)
    v2_bar = 1.0 + sqrt_vjp(1.0, v3, v2)
    return v2 + v3, log_vjp(v2_bar * w2, v1, w1), v2_bar * v1


def walkthrough(w1, w2):
    if (log_vjp, sqrt_vjp) == _MINE:
        return _by_hand(w1, w2)
    return _with_rules(w1, w2)
'''
WALK_ITEMS = ["test_walkthrough_visible", "test_walkthrough_hidden"]


@pytest.mark.slow
def test_a_use_that_recognises_the_planted_rules_scores_zero(engines, tmp_path):  # noqa: F811
    """Was open: with all-zero rules, a walkthrough that answers by hand when its own rules are in
    place and runs the reverse sweep otherwise passed both items. Closed by comparing the run with
    the student's own rules with the engine's composition of those rules, fetched from the
    worker (PlantedCheck.follows_from_own_rules)."""
    answers = dict(PS1_USES, walkthrough=WALK_SWITCH)
    out = verdicts(engines, tmp_path, PS1, answers, items=WALK_ITEMS)
    assert all(msg is not None for msg in out.values()), out


@pytest.mark.slow
def test_the_by_hand_walkthrough_alone_fails_the_planted_check(engines, tmp_path):  # noqa: F811
    """The premise of the test above, and the defence it defeats: the by-hand walkthrough alone,
    around the same all-zero rules, loses both items on the planted-rules check."""
    by_hand = WALK_SWITCH.replace("if (log_vjp, sqrt_vjp) == _MINE:", "if True:")
    out = verdicts(engines, tmp_path, PS1, dict(PS1_USES, walkthrough=by_hand), items=WALK_ITEMS)
    assert all(msg is not None and "[planted rules]" in msg for msg in out.values()), out


# ---- the salt of the hidden inputs, hunted from inside the worker ---------------------------------

SALT_HUNT = '''
import os, sys


def hunt():
    """The salt file's text if it can be found: next to the grading code (walking up from every
    module and sys.path entry), or anywhere in the file system (names only, bounded)."""
    starts = [p for p in sys.path if p] + [getattr(m, "__file__", None) or ""
                                           for m in list(sys.modules.values())]
    for start in starts:
        d = os.path.abspath(start)
        for _ in range(8):
            for cand in (os.path.join(d, "hidden-inputs.salt"),
                         os.path.join(d, "grading", "hidden-inputs.salt"),
                         os.path.join(d, "assignments", "grading", "hidden-inputs.salt")):
                try:
                    with open(cand) as fh:
                        return "FOUND " + cand + " " + fh.read()
                except OSError:
                    pass
            d = os.path.dirname(d)
    seen = 0
    for top in ("/sandbox", "/tmp", "/usr", "/work", "/root", "/home", "/opt", "/srv", "/"):
        for folder, dirs, files in os.walk(top):
            dirs[:] = [x for x in dirs if folder != "/" or x not in ("proc", "sys", "dev", "usr")]
            seen += len(files)
            for f in files:
                if f.endswith(".salt") or f == "gradebook.db":
                    try:
                        with open(os.path.join(folder, f), "rb") as fh:
                            return "FOUND " + os.path.join(folder, f) + " " + fh.read(200).hex()
                    except OSError:
                        pass
            if seen > 300000:
                return "searched (bounded) %d files" % seen
    return "searched %d files" % seen


def oracles():
    """Python packages and course files a student could use: autograd, JAX, the grading code,
    nbgrader, notebooks (the instructor's solutions), wherever they are in the file system."""
    import importlib.util
    found = [m for m in ("autograd", "jax", "adgrade", "nbgrader")
             if importlib.util.find_spec(m) is not None]
    for folder, dirs, files in os.walk("/"):
        if folder == "/":
            dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
        for name in dirs + files:
            if (name in ("autograd", "jax", "adgrade", "nbgrader", "ps1_elementwise",
                         "ps2_matrices", "gradebook.db")
                    and name not in found) or name.endswith(".ipynb"):
                found.append(os.path.join(folder, name))
        if len(found) > 20:
            break
    return found
'''


def _hunt(engines, tmp_path, sandboxed, target="hunt"):
    folder = tmp_path / f"{target}-{'sandboxed' if sandboxed else 'plain'}"
    folder.mkdir()
    sub = Submission([(0, SALT_HUNT)], str(folder), engines[PS1], sandboxed=sandboxed,
                     timeout=90.0)
    try:
        return sub.call("bare", target, (), {})
    finally:
        sub.close()


@pytest.mark.slow
def test_the_salt_cannot_be_read_from_the_worker(engines, tmp_path):  # noqa: F811
    """Without the sandbox the hunt reads the salt (walking up from the grading code on
    sys.path); in the sandbox it searches the whole file system it sees and finds neither the
    salt nor a gradebook."""
    salt = harness._salt()
    plain = _hunt(engines, tmp_path, sandboxed=False)
    assert plain.startswith("FOUND") and salt in plain, plain[:200]
    boxed = _hunt(engines, tmp_path, sandboxed=True)
    assert boxed.startswith("searched") and salt not in boxed, boxed[:200]


# ---- the disk: the worker's working directory is a folder of the grader's file system ------------

DISK_FILL = '''
def fill(files, mb):
    """Write ``files`` files of ``mb`` MiB each into the working directory; the MiB written."""
    chunk = bytes(1 << 20)
    total = 0
    for i in range(files):
        try:
            with open("fill%d.bin" % i, "wb") as fh:
                for _ in range(mb):
                    fh.write(chunk)
                    total += 1
        except OSError:
            break
    return total
'''


@pytest.mark.slow
def test_a_worker_cannot_write_more_than_a_bounded_amount(engines, tmp_path):  # noqa: F811
    """Was: the working directory was a bind mount of a folder in the grader's /tmp, limited only
    per file (RLIMIT_FSIZE 64 MiB): 6 files of 60 MiB (360 MiB) reached the host disk. Now it is
    a tmpfs of WORK_MB (256 MiB) that the worker copies the submission into."""
    folder = tmp_path / "submission"
    folder.mkdir()
    sub = Submission([(0, DISK_FILL)], str(folder), engines[PS1], timeout=60.0)
    try:
        wrote = sub.call("bare", "fill", (6, 60), {})
    finally:
        sub.close()
    assert wrote <= 256, f"{wrote} MiB written to the grader's disk"


# ---- the seccomp filter, from the other process in the sandbox -----------------------------------

# The worker may not fork, but the sandbox holds a second process: bwrap's init (pid 1), same uid,
# which the worker can ptrace. The cell attaches to it, waits for its next system call and turns
# that call into fork (orig_rax = 57 at the syscall-entry stop): a process outside the filter would
# escape the per-process limits (as root RLIMIT_NPROC binds nothing), a fork bomb for the machine.
PTRACE_FORK = '''
import os, ctypes
def seccomp(p):
    return open(f"/proc/{p}/status").read().split("Seccomp:")[1].split()[0]
print("seccomp of pid 1:", seccomp(1), "of me:", seccomp(os.getpid()))
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long
class Regs(ctypes.Structure):
    _fields_ = [(n, ctypes.c_ulonglong) for n in (
        "r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp ss "
        "fs_base gs_base ds es fs gs").split()]
ATTACH, SYSCALL, GETREGS, SETREGS, DETACH, SETOPTIONS = 16, 24, 12, 13, 17, 0x4200
status = ctypes.c_int()
def wait():
    r = libc.waitpid(1, ctypes.byref(status), 0x40000000)  # __WALL
    return r, status.value
print("attach", libc.ptrace(ATTACH, 1, None, None), ctypes.get_errno())
print("wait", wait())
libc.ptrace(SETOPTIONS, 1, None, ctypes.c_void_p(1))   # TRACESYSGOOD
regs = Regs()
for i in range(6):
    libc.ptrace(SYSCALL, 1, None, None)
    r, st = wait()
    libc.ptrace(GETREGS, 1, None, ctypes.byref(regs))
    print("stop", hex(st), "orig_rax", regs.orig_rax, "rax", hex(regs.rax))
    if (st >> 8) & 0xff == 0x85 and regs.rax == 2 ** 64 - 38:   # syscall-entry stop (rax = -ENOSYS)
        regs.orig_rax = 57           # fork, in a process outside the filter
        libc.ptrace(SETREGS, 1, None, ctypes.byref(regs))
        libc.ptrace(SYSCALL, 1, None, None)
        wait()
        libc.ptrace(GETREGS, 1, None, ctypes.byref(regs))
        print("fork in pid 1 returned", ctypes.c_longlong(regs.rax).value)
        break
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print("pids", pids, {p: seccomp(p) for p in pids if p not in (1, os.getpid())})
'''


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x86-64 registers and system calls")
def test_a_fork_injected_into_the_sandbox_init_by_ptrace_is_refused(tmp_path):
    """The filter is loaded by bwrap before its init process starts, so pid 1 is filtered too:
    the attach and the injection work (the student controls pid 1), the fork returns -1 (EPERM)
    and no third process appears."""
    from adgrade.engine_copy import make_engine_copy
    from adgrade.sandbox import Worker
    engine = make_engine_copy(str(tmp_path / "engine"), ["log"])
    (tmp_path / "sub").mkdir()
    w = Worker(engine, str(tmp_path / "sub"), memory_mb=1024)
    try:
        out = w.request({"op": "run_cell", "source": PTRACE_FORK, "number": 0}, 60)
    finally:
        w.cleanup()
    text = "".join(o.get("text", "") for o in out["outputs"])
    assert "attach 0 0" in text, text                      # the attempt is real
    assert "fork in pid 1 returned -1" in text, text
    assert "pids [1, 2] {}" in text, text


# ---- the protocol: a line forged on the worker's answer pipe ---------------------------------------

# main.py keeps the answer pipe on a duplicated descriptor; the student's code finds it in
# /proc/self/fd (the one pipe open for writing) and writes a line ahead of the real answer.
FORGE = '''
import os

def _forge(line):
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            pipe = os.readlink("/proc/self/fd/%d" % fd).startswith("pipe:")
            flags = int(open("/proc/self/fdinfo/%d" % fd).read().split("flags:")[1].split()[0], 8)
        except OSError:
            continue
        if pipe and flags & 3 == 1:
            os.write(fd, line)


def _request_id():
    """The id of the request being answered (a local of the worker's loop, up the stack)."""
    import sys
    f = sys._getframe()
    while f is not None:
        if isinstance(f.f_locals.get("req"), dict):
            return f.f_locals["req"]["id"]
        f = f.f_back


def log_vjp(g, ans, x):
    _forge(LINE.replace(b"ID", str(_request_id()).encode()))
    return g / x
'''
FORGED_LINES = {
    # nesting deeper than the JSON parser's recursion limit
    "deep": "LINE = b'[' * 200000 + b'\\n'\n",
    # a number no encoder sends (ints cross as floats from 2**53 on): float() overflows
    "huge int": "LINE = b'{\"value\": 1' + b'0' * 4000 + b', \"id\": ID}\\n'\n",
}


@pytest.mark.slow
@pytest.mark.parametrize("forged", sorted(FORGED_LINES))
def test_a_forged_answer_line_costs_only_its_item(engines, tmp_path, forged):  # noqa: F811
    """log_vjp writes the forged line on the answer pipe at every call: its items fail, the
    honest sqrt_vjp graded after them (in the same submission) keeps its marks. Was: the deep
    line raised RecursionError in the grader's json.loads and the huge int OverflowError in
    compare(), both out of the grader's checks (a raw "could not process this answer" and a
    worker left with an unread answer); now a malformed answer (worker lost) and a value that is
    not numbers."""
    items = LOG_ITEMS + ["test_sqrt_vjp_visible", "test_sqrt_vjp_hidden"]
    out = verdicts(engines, tmp_path, PS1, {"log_vjp": FORGED_LINES[forged] + FORGE}, items=items)
    assert all(out[gid] is not None for gid in LOG_ITEMS), out
    assert out["test_sqrt_vjp_visible"] is None and out["test_sqrt_vjp_hidden"] is None, out


@pytest.mark.slow
def test_no_oracle_or_course_file_is_visible_in_the_worker(engines, tmp_path):  # noqa: F811
    """The whole file system the worker sees holds no autograd, JAX, grading code, nbgrader or
    notebook (the submission's own folder is empty here); the same hunt without the sandbox
    finds them (nbgrader, adgrade on the unsandboxed worker's path)."""
    plain = _hunt(engines, tmp_path, sandboxed=False, target="oracles")
    assert "adgrade" in plain, plain
    assert _hunt(engines, tmp_path, sandboxed=True, target="oracles") == []
