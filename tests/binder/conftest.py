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
import re
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from binder_support import (SOURCE_REPO, chromium, clean_env, find_python, free_port, new_page, require, run_logged,
                            runtime_python_version, stop_process_group, wait_until_up)


@pytest.fixture(scope="session")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    pg = new_page(browser)
    yield pg
    pg.context.close()


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


def local_setup_recipe(readme: Path) -> list[str]:
    """The shell lines of the student README's "Start on your own machine" block."""
    match = re.search(r"## Start on your own machine.*?```bash\n(.*?)```", readme.read_text(), re.S)
    assert match, f"no set-up recipe in {readme}"
    return [line.split("#", 1)[0].strip() for line in match.group(1).splitlines() if line.strip()]


@pytest.fixture(scope="session")
def binder_env(student_copy, tmp_path_factory) -> BinderEnv:
    """The student README's local set-up, run as written in a fresh clone of the copy
    (its venv inside the copy, as a student makes it), up to starting Jupyter; the same
    steps as repo2docker's (requirements.txt from the repository root, then postBuild)."""
    version = runtime_python_version(student_copy / "binder")
    python = find_python(version)
    require(python is not None, f"no Python {version} interpreter (binder/runtime.txt asks for it)")
    base = tmp_path_factory.mktemp("binder")
    root = base / "student-repo"
    shutil.copytree(student_copy, root)
    home = base / "home"
    home.mkdir()
    log = base / "build.log"
    # `python3` in the recipe is the Python that binder/runtime.txt names
    shim = base / "shim"
    shim.mkdir()
    (shim / "python3").symlink_to(python)
    env = clean_env(home)
    env["PATH"] = f"{shim}{os.pathsep}{env['PATH']}"
    steps = local_setup_recipe(root / "README.md")
    assert steps[-1] == ".venv/bin/jupyter lab", steps  # started by the jupyter_server fixture
    for step in steps[:-1]:
        run_logged(["bash", "-euo", "pipefail", "-c", step], root, env, log, 1200)
    return BinderEnv(root, root / ".venv", home, log)


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
    port = free_port()
    token = secrets.token_hex(16)
    log = binder_env.log.with_name("server.log")
    cmd = [
        str(binder_env.bin / "jupyter"), "lab", "--no-browser",
        "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
        f"--IdentityProvider.token={token}",
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
        wait_until_up(proc, f"{url}/api/status", log, "jupyter lab", 120, server.headers())
        yield server
    finally:
        stop_process_group(proc)  # the server we started, with its kernels
        fh.close()
