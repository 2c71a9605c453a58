"""The worker is one process: its seccomp filter lets student code start threads but no process,
so the worker's memory and CPU-time limits bound everything it runs (issue 8). Each defence is
tried with code that succeeds without the filter (``fork`` works for root and for any user under
RLIMIT_NPROC); honest work (threads, NumPy, IPython magics, matplotlib) must keep working.
No nbgrader here: these run the real bubblewrap worker directly."""
from __future__ import annotations

import ctypes.util
import platform
import sys

import pytest

from . import nbgrader_support as nbs

sys.path.insert(0, str(nbs.COURSE / "grading"))

from adgrade import sandbox  # noqa: E402
from adgrade.engine_copy import make_engine_copy  # noqa: E402
from adgrade.sandbox import SandboxUnavailable, Worker, check_sandbox  # noqa: E402


@pytest.fixture(scope="module")
def bare_engine(tmp_path_factory):
    return make_engine_copy(str(tmp_path_factory.mktemp("engine")), None)


@pytest.fixture
def worker(tmp_path, bare_engine):
    w = Worker(bare_engine, str(tmp_path), memory_mb=1024)
    yield w
    w.cleanup()


def run(w, source, ipython=False, timeout=60):
    return w.request({"op": "run_cell", "source": source, "number": 1, "ipython": ipython},
                     timeout)


def printed(answer):
    assert answer["error"] is None, answer
    return "".join(o.get("text", "") for o in answer["outputs"] if o.get("stream") == "stdout")


# every way Python (and glibc under it) starts a process; each prints what happened
STARTS = {
    "os.fork": "os.fork()",
    "subprocess": "subprocess.run(['/usr/bin/true'])",
    "os.posix_spawn": "os.posix_spawn('/usr/bin/true', ['true'], {})",
    "multiprocessing": "p = multiprocessing.Process(target=print); p.start(); p.join()",
}


@pytest.mark.parametrize("how", sorted(STARTS))
def test_worker_cannot_start_a_process(worker, how):
    out = run(worker, "import os, subprocess, multiprocessing\n"
                      f"try:\n    {STARTS[how]}\n    print('started')\n"
                      "except OSError as e:\n    print('refused', e.errno)\n")
    assert printed(out).split() == ["refused", "1"], f"{how} in the worker: {printed(out)!r}"


def test_raw_process_system_calls_are_refused(worker):
    """fork, vfork and clone without CLONE_THREAD: EPERM; clone3: ENOSYS (glibc's fallback)."""
    out = run(worker, """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
for name, nr, args in (("fork", 57, ()), ("vfork", 58, ()), ("clone", 56, (17, 0, 0, 0, 0)),
                       ("clone3", 435, (0, 0))):
    ctypes.set_errno(0)
    r = libc.syscall(nr, *args)
    if r == 0:
        libc._exit(0)          # a child that got through ends at once
    print(name, r, ctypes.get_errno())
""")
    assert printed(out).splitlines() == ["fork -1 1", "vfork -1 1", "clone -1 1", "clone3 -1 38"]


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x86-64's x32 ABI")
def test_a_system_call_through_another_abi_kills_the_worker(worker):
    """fork by its x32 number (x86-64's second ABI) would slip past a filter that only knows the
    native numbers; libseccomp's filter kills the worker instead (SIGSYS)."""
    with pytest.raises(sandbox.WorkerLost, match="SIGSYS|status 159"):
        run(worker, "import ctypes\nctypes.CDLL(None).syscall(57 | 0x40000000)\nprint('alive')")


def test_threads_work_and_share_the_memory_limit(worker):
    """Threads (plain, a pool, NumPy in threads) run; the memory limit (1 GiB here) counts them
    together: one thread can hold 384 MiB, two cannot (the interpreter and NumPy take ~320 MiB of
    address space before)."""
    out = run(worker, """
import threading
from concurrent.futures import ThreadPoolExecutor
import numpy as np
with ThreadPoolExecutor(4) as ex:
    print(sum(ex.map(lambda k: float(np.linalg.solve(np.eye(3) * k, np.ones(3)).sum()),
                     range(1, 9))))
held, barrier = [], threading.Barrier(2, timeout=30)
def hold():
    try:
        held.append(np.ones(48 * 2 ** 20))       # 384 MiB
    except MemoryError:
        held.append(None)
    barrier.wait()
ts = [threading.Thread(target=hold) for _ in range(2)]
[t.start() for t in ts]
[t.join() for t in ts]
print(sum(h is not None for h in held))
""")
    lines = printed(out).split()
    assert abs(float(lines[0]) - 3 * sum(1 / k for k in range(1, 9))) < 1e-12
    assert lines[1] == "1", "two threads held 384 MiB each under a 1 GiB limit, or none could"


def test_ipython_magics_and_matplotlib_work(worker):
    """``%matplotlib inline``, a line magic and a matplotlib figure displayed as PNG, all in the
    first IPython cell (matplotlib's font set-up tries to run ``fc-list``; refused, it falls back
    to its own fonts). ``%matplotlib inline`` raised in the worker and lost the rest of its cell;
    the first cell's rich outputs were lost (the capture began before the shell existed)."""
    out = run(worker, """
%matplotlib inline
import io
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display
x = np.linspace(0, 1, 50)
fig, ax = plt.subplots()
ax.plot(x, x ** 2)
ax.set_title("x squared")
buf = io.BytesIO()
fig.savefig(buf, format="png")
display(Image(buf.getvalue()))
%timeit -n 1 -r 1 np.sum(x)
""", ipython=True)
    assert "per loop" in printed(out)
    assert any("image/png" in o.get("display", {}) for o in out["outputs"]), out["outputs"]


def test_missing_libseccomp_names_the_fix(monkeypatch, tmp_path):
    """Without libseccomp, pyseccomp cannot load: autograde must stop (check_sandbox raises, and
    GradeInSandbox turns that into SystemExit), never run without the filter."""
    check_sandbox()                                   # works here (CI installs libseccomp2)
    real = ctypes.util.find_library
    monkeypatch.setattr(ctypes.util, "find_library", lambda n: None if n == "seccomp" else real(n))
    monkeypatch.delitem(sys.modules, "pyseccomp", raising=False)
    monkeypatch.setattr(sandbox, "_SECCOMP", None)
    with pytest.raises(SandboxUnavailable, match="apt-get install -y libseccomp2"):
        check_sandbox()
    with pytest.raises(SandboxUnavailable, match="apt-get install -y libseccomp2"):
        Worker(str(tmp_path / "engine"), str(tmp_path))


def test_a_filter_bwrap_cannot_load_stops_grading(monkeypatch):
    """bwrap refuses a filter it cannot load (here: 7 bytes, not whole BPF instructions): the
    check fails naming the seccomp fix, rather than grading without the filter."""
    monkeypatch.setattr(sandbox, "_SECCOMP", b"\x06\x00\x00\x00\x00\x00\xff")
    with pytest.raises(SandboxUnavailable, match="seccomp.*apt-get install -y libseccomp2"):
        check_sandbox()


def test_the_notebooks_own_modules_import_as_in_jupyter(tmp_path, bare_engine):
    """A helpers.py handed in beside the notebook imports, as in the student's Jupyter (the
    worker's working directory was not on sys.path: 'No module named helpers'); what the worker
    writes stays in its own tmpfs, not in the folder it was copied from."""
    (tmp_path / "helpers.py").write_text("def twice(x):\n    return 2 * x\n")
    w = Worker(bare_engine, str(tmp_path), memory_mb=1024)
    try:
        out = run(w, "from helpers import twice\nprint(twice(21))\nopen('note.txt', 'w').write('x')")
    finally:
        w.cleanup()
    assert printed(out).strip() == "42"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["helpers.py"]
