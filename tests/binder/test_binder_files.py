"""Quick checks of the binder/ files: pins agree with the README set-up, and
postBuild refuses to build a student image from instructor material."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib

import pytest

from binder_support import REPO, require

BINDER = REPO / "binder"


def pins(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line)
        if m:
            out[normalise(m.group(1))] = m.group(2)
    return out


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    return normalise(re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0])


@pytest.fixture(scope="module")
def constraints() -> dict[str, str]:
    return pins((REPO / "constraints.txt").read_text())


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_runtime_is_an_explicit_supported_python(pyproject):
    runtime = (BINDER / "runtime.txt").read_text().strip()
    m = re.fullmatch(r"python-3\.(\d+)", runtime)
    assert m, runtime
    minimum = re.search(r">=\s*3\.(\d+)", pyproject["project"]["requires-python"])
    assert int(m.group(1)) >= int(minimum.group(1))


def test_binder_requirements_use_the_readme_pins(constraints, pyproject):
    lines = [l.split("#", 1)[0].strip() for l in (BINDER / "requirements.txt").read_text().splitlines()]
    lines = [l for l in lines if l]
    # the same pin file as `make lab` / `make test`, and the package itself
    assert "-c ../constraints.txt" in lines
    assert any(re.fullmatch(r"-e \.(\[[a-z,]+\])?", l) for l in lines), lines
    explicit = pins("\n".join(lines))
    for must in ("jupyterlab", "nbgrader", "notebook", "jupyter-server", "numpy"):
        assert must in explicit, f"{must} not pinned in binder/requirements.txt"
    for name, version in explicit.items():
        assert constraints.get(name) == version, (
            f"binder/requirements.txt pins {name}=={version}, constraints.txt {constraints.get(name)}")


@pytest.mark.parametrize("extra", ["course", "test"])
def test_every_extra_is_pinned(extra, constraints, pyproject):
    missing = [s for s in pyproject["project"]["optional-dependencies"][extra]
               if requirement_name(s) not in constraints]
    assert not missing, f"[{extra}] packages without a pin in constraints.txt: {missing}"


def test_playwright_is_a_pinned_test_dependency(constraints, pyproject):
    names = {requirement_name(s) for s in pyproject["project"]["optional-dependencies"]["test"]}
    assert "playwright" in names and "playwright" in constraints


def test_postbuild_is_valid_bash():
    assert os.access(BINDER / "postBuild", os.X_OK), "binder/postBuild must be executable"
    subprocess.run(["bash", "-n", str(BINDER / "postBuild")], check=True)


def _fake_bin(tmp_path):
    """Stand-ins on PATH: `python` answers a temporary sys.prefix (postBuild
    asks it for nothing else) and `jupyter` records its arguments, so the
    script under test writes only below tmp_path."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    prefix = tmp_path / "prefix"
    prefix.mkdir()
    py = bin_dir / "python"
    py.write_text(f"#!/bin/sh\necho {prefix}\n")
    py.chmod(0o755)
    stub = bin_dir / "jupyter"
    stub.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path / 'jupyter-called'}\nexit 0\n")
    stub.chmod(0o755)
    return bin_dir


@pytest.mark.parametrize("plant", ["source-folder", "solution-marker"])
def test_postbuild_refuses_instructor_material(tmp_path, plant):
    repo = tmp_path / "repo"
    (repo / "assignments" / "release" / "ps1").mkdir(parents=True)
    (repo / "course").mkdir()
    if plant == "source-folder":
        (repo / "assignments" / "source" / "ps1").mkdir(parents=True)
    else:
        marker = "### BEGIN " + "SOLUTION"
        (repo / "course" / "01_x.ipynb").write_text('{"cells": [{"source": "%s"}]}' % marker)
    env = dict(os.environ, PATH=f"{_fake_bin(tmp_path)}{os.pathsep}/usr/bin:/bin")
    proc = subprocess.run(["bash", str(BINDER / "postBuild")], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "student" in proc.stderr or "markers" in proc.stderr, proc.stderr
    assert not (tmp_path / "jupyter-called").exists(), "postBuild went on after refusing"


def test_postbuild_student_layout_steps(tmp_path):
    """Control for the test above, and postBuild's own steps without a venv."""
    repo = tmp_path / "repo"
    (repo / "assignments" / "release" / "ps1").mkdir(parents=True)
    (repo / "assignments" / "release" / "ps1" / "ps1.ipynb").write_text("{}")
    env = dict(os.environ, PATH=f"{_fake_bin(tmp_path)}{os.pathsep}/usr/bin:/bin")
    proc = subprocess.run(["bash", str(BINDER / "postBuild")], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    calls = (tmp_path / "jupyter-called").read_text().splitlines()
    assert "server extension enable --sys-prefix nbgrader.server_extensions.validate_assignment" in calls
    # no exchange on Binder: the Assignment List (Fetch, Submit, Fetch Feedback) goes with
    # the instructor pieces
    for ext in ("assignment_list", "formgrader", "course_list"):
        assert f"server extension disable --sys-prefix nbgrader.server_extensions.{ext}" in calls
    for plugin in ("assignment-list", "formgrader", "create-assignment", "course-list"):
        assert f"labextension disable --level=sys_prefix @jupyter/nbgrader:{plugin}" in calls
        assert f"labextension lock --level=sys_prefix @jupyter/nbgrader:{plugin}" in calls
    assert not any("disable" in c and "validate" in c for c in calls)

    etc = tmp_path / "prefix" / "etc" / "jupyter"
    for name, app in (("server", "ServerApp"), ("lab", "LabApp"), ("notebook", "JupyterNotebookApp")):
        config = json.loads((etc / f"jupyter_{name}_config.json").read_text())
        assert config[app]["default_url"] == "/lab/tree/course/index.ipynb", app
    server = json.loads((etc / "jupyter_server_config.json").read_text())
    assert "*.egg-info" in server["ContentsManager"]["hide_globs"]


def test_postbuild_leak_scan_skips_installed_environments(tmp_path):
    """The README's local set-up puts a venv inside the copy; nbgrader's own files in it
    carry the markers. The same file outside an environment is refused (the control)."""
    marker = "### BEGIN " + "SOLUTION\n"
    repo = tmp_path / "repo"
    (repo / "assignments" / "release" / "ps1").mkdir(parents=True)
    (repo / "course").mkdir()
    for venv in (".venv", "env"):
        (repo / venv).mkdir()
        (repo / venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
        lib = repo / venv / "lib" / "python3.11" / "site-packages" / "nbgrader"
        lib.mkdir(parents=True)
        (lib / "clearsolutions.py").write_text(marker)
    env = dict(os.environ, PATH=f"{_fake_bin(tmp_path)}{os.pathsep}/usr/bin:/bin")
    run = lambda: subprocess.run(["bash", str(BINDER / "postBuild")], cwd=repo, env=env,
                                 capture_output=True, text=True, timeout=60)
    proc = run()
    assert proc.returncode == 0, proc.stderr
    (repo / "course" / "clearsolutions.py").write_text(marker)
    proc = run()
    assert proc.returncode != 0 and "course/clearsolutions.py" in proc.stderr, proc.stderr


@pytest.mark.parametrize("ci, outcome", [("", "skip"), ("0", "skip"), ("true", "fail"), ("1", "fail")])
def test_missing_prerequisite_skips_locally_and_fails_under_ci(monkeypatch, ci, outcome):
    monkeypatch.setenv("CI", ci)
    expected = pytest.skip.Exception if outcome == "skip" else pytest.fail.Exception
    with pytest.raises(expected, match="chromium"):
        require(False, "/usr/bin/chromium not found")
    require(True, "present: no effect")
