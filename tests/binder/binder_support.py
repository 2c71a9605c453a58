"""Helpers shared by the Binder, student-copy and browser tests (no fixtures here)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
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


def first_lecture(root: Path) -> Path:
    lectures = sorted((root / "course").glob("[0-9][0-9]_*.ipynb"))
    assert lectures, f"no lecture notebooks course/NN_*.ipynb under {root}"
    return lectures[0]
