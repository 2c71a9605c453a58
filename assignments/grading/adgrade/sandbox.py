"""Sandboxed workers: the student's code runs in ``adworker`` under bubblewrap, never here.

A :class:`Worker` is one ``bwrap`` process. Inside it the filesystem holds only: the system's
``/usr`` and the Python standard library (read-only; other Python packages there are hidden), the
packages NumPy, IPython and matplotlib need (read-only, each mounted alone), an engine copy made
by :mod:`adgrade.engine_copy` (read-only), the worker's own code, and a throwaway copy of the
submission's folder (read-only, copied by the worker into its working directory, a tmpfs of
WORK_MB: nothing it writes reaches the grader's disk). It has no network (a new network
namespace), no environment but a few plain variables, its own PID namespace, no capabilities,
and limits on address space, CPU time and file size. ``--die-with-parent`` ends it with the grader.
A seccomp filter (:func:`seccomp_program`, loaded by bwrap) lets it start threads but no other
process, so those limits bound the whole worker: as root, ``RLIMIT_NPROC`` binds nothing, and
``RLIMIT_AS`` / ``RLIMIT_CPU`` count per process.

The grader talks to it through its stdin / stdout (:mod:`adworker.main`), with a timeout on every
answer; a worker that dies, hangs or answers garbage raises :class:`WorkerLost` and is killed.
"""
from __future__ import annotations

import hashlib
import importlib.metadata as md
import json
import os
import resource
import select
import shutil
import signal
import site
import subprocess
import sys
import tempfile
from errno import ENOSYS, EPERM

from packaging.requirements import Requirement

GRADING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER_CODE = os.path.join(GRADING, "adworker")
#: Setting this environment variable to 1 grades without bubblewrap (see the README).
UNSANDBOXED_ENV = "ADCOURSE_GRADE_UNSANDBOXED"
#: What student code may import (with everything these need).
WORKER_DISTRIBUTIONS = ("numpy", "ipython", "matplotlib")
FIX = ("install bubblewrap (as root: `apt-get install -y bubblewrap`; on other systems the "
       "package `bubblewrap`) and make sure user namespaces are enabled "
       "(`sysctl kernel.unprivileged_userns_clone=1` where that setting exists)")
SECCOMP_FIX = ("install libseccomp (as root: `apt-get install -y libseccomp2`) and the Python "
               "package pyseccomp (`make lab` or `make test` install it, pinned in constraints.txt)")
MAX_ANSWER = 256 * 2 ** 20
#: size of the worker's working directory, a tmpfs the submission is copied into (MiB): what a
#: notebook writes stays in memory and bounded, never on the grader's disk
WORK_MB = 256
CLONE_THREAD = 0x00010000   # <linux/sched.h>


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create its namespaces here."""


class WorkerLost(RuntimeError):
    """The worker died, hung past its timeout, or answered something that is not an answer."""


def _distribution_closure(names):
    seen, todo = {}, list(names)
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        seen[key] = dist
        for req in dist.requires or []:
            r = Requirement(req)
            if r.marker is None or r.marker.evaluate({"extra": ""}):
                todo.append(r.name)
    return list(seen.values())


def site_entries():
    """{name: path} of the top-level modules and packages of WORKER_DISTRIBUTIONS' closure."""
    entries = {}
    for dist in _distribution_closure(WORKER_DISTRIBUTIONS):
        for f in dist.files or []:
            top = f.parts[0]
            if top in ("..", "__pycache__") or top.endswith((".dist-info", ".egg-info", ".pth")):
                continue
            if len(f.parts) == 1 and not top.endswith((".py", ".so")):
                continue
            path = str(dist.locate_file(top))
            if os.path.exists(path):
                entries[top] = path
    return entries


def _hidden_python_dirs():
    """Python package folders outside our mounts that must look empty in the sandbox."""
    base = sys.base_prefix
    ver = f"python{sys.version_info.major}.{sys.version_info.minor}"
    cands = [os.path.join(base, "lib", ver, "site-packages"), "/usr/lib/python3/dist-packages",
             f"/usr/lib/{ver}/site-packages", f"/usr/local/lib/{ver}/dist-packages",
             f"/usr/local/lib/{ver}/site-packages"]
    return [d for d in cands if os.path.isdir(d)]


_SECCOMP = None


def seccomp_program():
    """The seccomp filter of a worker, as the BPF program (bytes) that ``bwrap --seccomp FD`` loads.

    Threads yes, processes no: ``clone`` without ``CLONE_THREAD``, ``fork`` and ``vfork`` fail with
    EPERM; ``clone3`` fails with ENOSYS (its flags are in a struct that a filter cannot read; glibc
    then falls back to ``clone``, as on kernels before 5.3). Every other system call is allowed; a
    call through another architecture's ABI kills the worker (libseccomp's default). Built with
    pyseccomp (a ctypes binding of libseccomp, ``seccomp_export_bpf``). A thread shares its
    process's address space and CPU-time account, so the worker's RLIMIT_AS and RLIMIT_CPU bound
    all it runs. Raises SandboxUnavailable (naming the fix) if libseccomp or pyseccomp is missing.
    """
    global _SECCOMP
    if _SECCOMP is None:
        try:
            import pyseccomp as sc
        except (ImportError, RuntimeError, OSError) as exc:     # RuntimeError: no libseccomp
            raise SandboxUnavailable(f"the seccomp filter of the sandbox cannot be built "
                                     f"({type(exc).__name__}: {exc}). Fix: {SECCOMP_FIX}.") from None
        flags_arg = 1 if sc.system_arch() in (sc.Arch.S390, sc.Arch.S390X) else 0  # clone(2) ABI
        f = sc.SyscallFilter(sc.ALLOW)
        f.add_rule(sc.ERRNO(EPERM), "fork")
        f.add_rule(sc.ERRNO(EPERM), "vfork")
        f.add_rule(sc.ERRNO(EPERM), "clone", sc.Arg(flags_arg, sc.MASKED_EQ, CLONE_THREAD, 0))
        f.add_rule(sc.ERRNO(ENOSYS), "clone3")
        with tempfile.TemporaryFile() as fh:
            f.export_bpf(fh)
            fh.seek(0)
            _SECCOMP = fh.read()
    return _SECCOMP


def _seccomp_file():
    """An unlinked file holding :func:`seccomp_program`, at offset 0 (bwrap reads it to the end)."""
    fh = tempfile.TemporaryFile()
    fh.write(seccomp_program())
    fh.flush()
    fh.seek(0)
    return fh


def bwrap_command(engine_dir, workdir, entries, seccomp_fd):
    """The bubblewrap command line of one worker (see the module docstring); ``seccomp_fd``: an
    open file descriptor of :func:`seccomp_program`, inherited by bwrap."""
    base = os.path.realpath(sys.base_prefix)
    cmd = ["bwrap", "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
           "--cap-drop", "ALL", "--die-with-parent", "--new-session",
           "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev",
           "--size", str(256 * 2 ** 20), "--tmpfs", "/tmp"]
    for top in ("lib", "lib64", "bin", "sbin"):
        if os.path.islink(f"/{top}"):
            cmd += ["--symlink", os.readlink(f"/{top}"), f"/{top}"]
        elif os.path.isdir(f"/{top}"):
            cmd += ["--ro-bind", f"/{top}", f"/{top}"]
    if not base.startswith("/usr/"):
        cmd += ["--ro-bind", base, base]
    for d in _hidden_python_dirs():
        cmd += ["--tmpfs", os.path.realpath(d)]
    for name, path in sorted(entries.items()):
        cmd += ["--ro-bind", path, f"/sandbox/site/{name}"]
    cmd += ["--ro-bind", os.path.join(engine_dir, "autodiff_core"), "/sandbox/engine/autodiff_core",
            "--ro-bind", WORKER_CODE, "/sandbox/lib/adworker",
            "--ro-bind", workdir, "/sandbox/submission",
            "--size", str(WORK_MB * 2 ** 20), "--tmpfs", "/sandbox/work", "--chdir", "/sandbox/work",
            "--clearenv", "--setenv", "ADWORKER_SUBMISSION", "/sandbox/submission",
            "--setenv", "HOME", "/tmp", "--setenv", "PATH", "/usr/bin:/bin",
            "--setenv", "LANG", "C.UTF-8", "--setenv", "MPLBACKEND", "Agg",
            "--setenv", "MPLCONFIGDIR", "/tmp", "--setenv", "OPENBLAS_NUM_THREADS", "1",
            "--seccomp", str(seccomp_fd),
            "--", os.path.realpath(sys.executable), "-S", "-E", "-B", "-s",
            "/sandbox/lib/adworker/main.py", "/sandbox/lib", "/sandbox/engine", "/sandbox/site"]
    return cmd


def unsandboxed_command(engine_dir):
    """The documented opt-out: the same worker as a plain subprocess (no isolation at all)."""
    return [sys.executable, "-B", os.path.join(WORKER_CODE, "main.py"), GRADING, engine_dir]


def check_sandbox():
    """Raise SandboxUnavailable (saying how to fix it) unless bubblewrap can start here with the
    worker's seccomp filter."""
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed. Fix: {FIX}.")
    with _seccomp_file() as fh:
        proc = subprocess.run(["bwrap", "--unshare-all", "--unshare-user", "--die-with-parent",
                               "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib",
                               "--symlink", "usr/lib64", "/lib64", "--seccomp", str(fh.fileno()),
                               "--", "/usr/bin/true"], pass_fds=(fh.fileno(),),
                              capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        fix = SECCOMP_FIX if "seccomp" in proc.stderr.lower() else FIX
        raise SandboxUnavailable(f"bubblewrap cannot create its sandbox here: "
                                 f"{proc.stderr.strip()[:300]}. Fix: {fix}.")


def _symlinks(folder, names):
    """copytree's ignore: every symbolic link (a submission's link could name the gradebook or
    source/; nbgrader's own copy into autograded/ follows links, so the worker copies from
    submitted/ and leaves links out)."""
    return [n for n in names if os.path.islink(os.path.join(folder, n))]


def symlinks_in(folder):
    """The symbolic links under ``folder`` (relative paths), for the review report."""
    found = []
    for top, dirs, files in os.walk(folder):
        found += [os.path.relpath(os.path.join(top, n), folder) for n in dirs + files
                  if os.path.islink(os.path.join(top, n))]
    return sorted(found)


class Worker:
    """One sandboxed ``adworker`` process; :meth:`request` sends one request, returns its answer."""

    def __init__(self, engine_dir, submission_dir, *, sandboxed=True, memory_mb=2048,
                 cpu_seconds=120, file_mb=64, start_timeout=60.0):
        seccomp = _seccomp_file() if sandboxed else None      # raises before anything is made
        self._tmp = tempfile.mkdtemp(prefix="adgrade-work-")
        workdir = os.path.join(self._tmp, "work")
        shutil.copytree(submission_dir, workdir, symlinks=True, ignore=_symlinks)
        self._stderr = open(os.path.join(self._tmp, "stderr"), "w+b")
        if sandboxed:
            cmd = bwrap_command(engine_dir, workdir, _entries(), seccomp.fileno())
            cwd, keep = None, (seccomp.fileno(),)
        else:
            cmd, cwd, keep = unsandboxed_command(engine_dir), workdir, ()
        limits = [(resource.RLIMIT_AS, memory_mb * 2 ** 20), (resource.RLIMIT_CPU, cpu_seconds),
                  (resource.RLIMIT_FSIZE, file_mb * 2 ** 20), (resource.RLIMIT_CORE, 0)]

        def set_limits():
            for which, value in limits:
                resource.setrlimit(which, (value, value))
        env = {"PATH": "/usr/bin:/bin", "HOME": workdir, "OPENBLAS_NUM_THREADS": "1",
               "MPLBACKEND": "Agg", "LANG": "C.UTF-8"}
        try:
            self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=self._stderr,
                                         preexec_fn=set_limits, start_new_session=True,
                                         pass_fds=keep)
        finally:
            if seccomp is not None:
                seccomp.close()
        self._buf = b""
        self._next_id = 0
        self._start_timeout = start_timeout
        self._ready = False

    def wait_ready(self):
        if not self._ready:
            answer = self._read(self._start_timeout)
            if answer.get("ready") is not True:
                raise self._lost("did not start")
            self._ready = True

    def request(self, msg, timeout):
        """Send ``msg`` (a dict), return the worker's answer (a dict) within ``timeout`` s."""
        self.wait_ready()
        self._next_id += 1
        try:
            self.proc.stdin.write(json.dumps(dict(msg, id=self._next_id), allow_nan=False).encode()
                                  + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._lost("died") from None
        answer = self._read(timeout)
        if answer.get("id") != self._next_id:
            raise self._lost("answered out of turn")
        return answer

    def _read(self, timeout):
        fd = self.proc.stdout.fileno()
        deadline = _now() + timeout
        while b"\n" not in self._buf:
            left = deadline - _now()
            if left <= 0:
                raise self._lost(f"did not answer within {timeout:g} s")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise self._lost("died")
                self._buf += chunk
                if len(self._buf) > MAX_ANSWER:
                    raise self._lost("sent an answer larger than the limit")
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            answer = json.loads(line)
        except (ValueError, RecursionError):     # RecursionError: nested too deeply
            raise self._lost("sent a malformed answer") from None
        if not isinstance(answer, dict):
            raise self._lost("sent a malformed answer")
        return answer

    def _lost(self, what):
        self.close()
        status = self.proc.returncode
        detail = ""
        if status is not None and status < 0:
            detail = f" (killed by signal {signal.Signals(-status).name})"
        elif status:
            detail = f" (exit status {status})"
        return WorkerLost(f"the sandboxed worker {what}{detail}")

    def stderr_tail(self, n=2000):
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()[-n:].decode(errors="replace")

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass

    def cleanup(self):
        self.close()
        self._stderr.close()
        try:
            shutil.rmtree(self._tmp)
        except (OSError, RecursionError):
            # a student can make a tree deeper than Python's recursion limit in well under a
            # second: rmtree then gives up, rm -rf (no recursion limit) finishes the job
            subprocess.run(["/bin/rm", "-rf", "--one-file-system", self._tmp], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _now():
    import time
    return time.monotonic()


_ENTRIES = None


def _installed_fingerprint():
    """What :func:`site_entries` depends on: the interpreter and the distributions installed in
    its site-packages (the names of the ``*.dist-info`` folders carry their versions)."""
    h = hashlib.sha256(repr((sys.prefix, sys.version, WORKER_DISTRIBUTIONS)).encode())
    for d in [*site.getsitepackages(), site.getusersitepackages()]:
        if os.path.isdir(d):
            h.update(d.encode() + b"\0" + "\0".join(sorted(
                n for n in os.listdir(d) if n.endswith((".dist-info", ".egg-info")))).encode())
    return h.hexdigest()[:20]


def _entries():
    """:func:`site_entries`, kept in the user's cache: reading the distributions' file lists
    costs about 1 s, every autograde run."""
    global _ENTRIES
    if _ENTRIES is None:
        cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                             "adgrade", f"site-{_installed_fingerprint()}.json")
        try:
            with open(cache, encoding="utf-8") as fh:
                entries = json.load(fh)
            if not all(isinstance(p, str) and os.path.exists(p) for p in entries.values()):
                raise ValueError("stale")
        except (OSError, ValueError, AttributeError):
            entries = site_entries()
            os.makedirs(os.path.dirname(cache), exist_ok=True)
            tmp = f"{cache}.{os.getpid()}"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(entries, fh)
            os.replace(tmp, cache)
        _ENTRIES = entries
    return _ENTRIES
