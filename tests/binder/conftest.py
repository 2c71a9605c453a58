"""Fixtures for the Binder, student-copy and browser tests.

The expensive pieces are session-scoped and shared:

* ``student_copy``: the folder built by scripts/build_student_copy.py (what an
  instructor publishes and what Binder builds from);
* ``binder_env``: a fresh virtual environment built from the student copy's
  binder/ files alone, the way repo2docker does it: the Python named in
  binder/runtime.txt, ``pip install -r binder/requirements.txt`` from the
  repository root, then ``binder/postBuild``;
* ``jupyter_server``: ``jupyter lab`` from that environment on 127.0.0.1.

A test whose system prerequisite is missing (no Python of the runtime.txt
version, no Chromium, no Playwright) is skipped with the reason, except under
CI (CI set to anything but empty/0/false/no), where it fails instead.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from binder_support import SOURCE_REPO, clean_env, find_python, free_port, require, run_logged, runtime_python_version


@pytest.fixture(scope="session")
def student_copy(tmp_path_factory) -> Path:
    """The student-facing copy built by the instructor command."""
    out = tmp_path_factory.mktemp("student") / "student-copy"
    proc = subprocess.run(
        [sys.executable, str(SOURCE_REPO / "scripts" / "build_student_copy.py"), "--out", str(out)],
        cwd=SOURCE_REPO, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, f"build_student_copy.py failed:\n{proc.stdout}\n{proc.stderr}"
    return out


@dataclass
class BinderEnv:
    root: Path      # the repository the image is built from (the student copy)
    venv: Path
    home: Path
    log: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def env(self) -> dict[str, str]:
        return clean_env(self.home, self.venv)


@pytest.fixture(scope="session")
def binder_env(student_copy, tmp_path_factory) -> BinderEnv:
    version = runtime_python_version(student_copy / "binder")
    python = find_python(version)
    require(python is not None, f"no Python {version} interpreter (binder/runtime.txt asks for it)")
    base = tmp_path_factory.mktemp("binder")
    home = base / "home"
    home.mkdir()
    venv = base / "venv"
    log = base / "build.log"
    env = clean_env(home)
    run_logged([python, "-m", "venv", str(venv)], student_copy, env, log, 300)
    benv = BinderEnv(student_copy, venv, home, log)
    # what repo2docker does with binder/: requirements.txt from the repo root,
    # then postBuild, with the environment's bin first on PATH
    run_logged([str(benv.bin / "python"), "-m", "pip", "install", "-r", "binder/requirements.txt"],
               student_copy, benv.env(), log, 1200)
    run_logged(["bash", "binder/postBuild"], student_copy, benv.env(), log, 600)
    return benv


@dataclass
class Server:
    url: str
    token: str
    root: Path
    venv: Path
    log: Path

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}


@pytest.fixture(scope="session")
def jupyter_server(binder_env) -> Server:
    import requests

    port = free_port()
    token = secrets.token_hex(16)
    log = binder_env.log.with_name("server.log")
    cmd = [
        str(binder_env.bin / "jupyter"), "lab", "--no-browser",
        "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={binder_env.root}",
        # lets the browser test ask JupyterLab which plugins are active
        "--LabApp.expose_app_in_browser=True",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    fh = open(log, "w")
    proc = subprocess.Popen(cmd, cwd=binder_env.root, env=binder_env.env(), stdout=fh,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    server = Server(url, token, binder_env.root, binder_env.venv, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited {proc.returncode}:\n{log.read_text()[-4000:]}")
            try:
                if requests.get(f"{url}/api/status", headers=server.headers(), timeout=5).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not answer in 120 s:\n{log.read_text()[-4000:]}")
            time.sleep(0.5)
        yield server
    finally:
        # end the server we started (its own process group: kernels go too)
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)
        fh.close()
