"""Helpers shared by the Binder, student-copy and browser tests (no fixtures here)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# the instructor repository the student copy is built from; this one unless
# BINDER_TEST_SOURCE_REPO points elsewhere (for trying the tests on a stand-in)
SOURCE_REPO = Path(os.environ.get("BINDER_TEST_SOURCE_REPO") or REPO).resolve()
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# environment variables that would make the server read configuration or
# packages from outside the environment under test
_LEAKY_ENV = (
    "JUPYTER_CONFIG_DIR", "JUPYTER_CONFIG_PATH", "JUPYTER_DATA_DIR", "JUPYTER_PATH",
    "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_DIR", "JUPYTERLAB_SETTINGS_DIR",
    "JUPYTERLAB_WORKSPACES_DIR", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONNOUSERSITE",
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require(condition: bool, reason: str) -> None:
    """Skip locally, fail under CI, when a system prerequisite is missing."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"CI is set and a prerequisite is missing: {reason}")
    pytest.skip(reason)


def runtime_python_version(binder: Path) -> str:
    text = (binder / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(3\.\d+)", text)
    assert match, f"binder/runtime.txt should read python-3.X, not {text!r}"
    return match.group(1)


def find_python(version: str) -> str | None:
    """An interpreter of the given major.minor version, or None."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        base = getattr(sys, "_base_executable", None) or sys.executable
        if base and Path(base).exists():
            return base
    return shutil.which(f"python{version}")


def clean_env(home: Path, venv: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY_ENV}
    # keep pip's wheel cache although HOME moves (a rebuild then costs seconds)
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    env["HOME"] = str(home)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    if venv is not None:
        env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = str(venv / "bin") + os.pathsep + env.get("PATH", "")
    return env


def run_logged(cmd, cwd: Path, env: dict[str, str], log: Path, timeout: float) -> None:
    with open(log, "a") as fh:
        fh.write(f"\n$ {' '.join(map(str, cmd))}\n")
        fh.flush()
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout)
    if proc.returncode != 0:
        tail = "".join(log.read_text().splitlines(keepends=True)[-40:])
        pytest.fail(f"{' '.join(map(str, cmd))} exited {proc.returncode}; log {log}:\n{tail}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(proc, url: str, log: Path, what: str, seconds: float, headers=None) -> None:
    """Poll ``url`` until it answers 2xx; fail (with the tail of ``log``) if ``proc`` exits first
    or ``seconds`` pass."""
    import requests
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if requests.get(url, headers=headers, timeout=5).ok:
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not answer in {seconds:g} s:\n{log.read_text()[-4000:]}")
        time.sleep(0.5)


def first_lecture(root: Path) -> Path:
    lectures = sorted((root / "course").glob("[0-9][0-9]_*.ipynb"))
    assert lectures, f"no lecture notebooks course/NN_*.ipynb under {root}"
    return lectures[0]


@contextlib.contextmanager
def chromium():
    """Debian's Chromium, headless, through Playwright (no browser download)."""
    require(CHROMIUM.exists(), f"{CHROMIUM} not found (Debian package chromium)")
    require(importlib.util.find_spec("playwright") is not None, "Python package playwright not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def new_page(browser, timeout_ms: int = 60_000):
    """A page in a fresh context (own cookies) that records console errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(timeout_ms)
    pg.console_errors = []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    return pg


def wait_current(page, path: str) -> None:
    """Wait until JupyterLab's current widget is the notebook at `path`, with its cells."""
    page.wait_for_function(
        """(path) => { const w = window.jupyterapp.shell.currentWidget;
               return w && w.context && w.context.path === path && w.content
                      && w.content.widgets && w.content.widgets.length > 0; }""",
        arg=path,
    )


def stop_process_group(proc: subprocess.Popen) -> None:
    """End a server started with start_new_session=True, and its children (kernels)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


def open_lab(page, base_url: str, path: str, token: str | None = None) -> None:
    """Open JupyterLab in a fresh workspace on `path`, the way the Binder link does."""
    workspace = "t" + uuid.uuid4().hex[:8]
    query = f"?token={token}" if token else ""
    page.goto(f"{base_url}/lab/workspaces/{workspace}/tree/{path}{query}")
    page.wait_for_function("() => window.jupyterapp !== undefined && window.jupyterapp.shell !== undefined")
    wait_current(page, path)


def open_document(page, path: str) -> None:
    # (the command resolves to the widget, which cannot cross to Python: return nothing)
    page.evaluate("async (path) => { await window.jupyterapp.commands.execute('docmanager:open', {path}); }",
                  path)
    wait_current(page, path)


def wait_kernel_idle(page, timeout=120_000) -> None:
    page.wait_for_function(
        """() => { const w = window.jupyterapp.shell.currentWidget;
               const k = w && w.sessionContext && w.sessionContext.session
                         && w.sessionContext.session.kernel;
               return k && k.status === 'idle'; }""",
        timeout=timeout,
    )


# nbgrader's generated artefacts and build leftovers: never copied into a test's repository
GENERATED = shutil.ignore_patterns("release", "submitted", "autograded", "feedback", "gradebook.db",
                                   "*.csv", ".nbgrader.log", "__pycache__", ".ipynb_checkpoints",
                                   "node_modules", "*.egg-info")


def copy_repository(dest: Path, names: list[str]) -> Path:
    """Copy the named top-level files and folders of this repository into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=GENERATED)
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest
