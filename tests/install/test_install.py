"""Issue 9, item 7: quiet, clean installs.

The repository is installed (not editable) into fresh virtual environments: the engine
alone pulls in NumPy and nothing of Jupyter, `[plot]` adds matplotlib, the version is
`autodiff_core.__version__`, and the build prints no setuptools deprecation warning
(a control installs a copy whose pyproject.toml uses the deprecated license table and
must see the warning). `make lab` installs the course extra, not the test tools.
Marked slow: each install takes 20 to 60 s (pip's cache makes the wheels local).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPRECATION = re.compile(r"SetuptoolsDeprecationWarning|is deprecated|deprecated calls", re.I)


def source_copy(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "LICENSE", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "autodiff_core", src / "autodiff_core",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return src


def fresh_install(tmp_path: Path, target: str, name: str = "venv") -> tuple[Path, str]:
    venv = tmp_path / name
    base = getattr(sys, "_base_executable", None) or sys.executable
    subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-v",
                           "-c", str(REPO / "constraints.txt"), target],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return venv, output


def python(venv: Path, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=venv)


@pytest.mark.slow
def test_the_engine_installs_alone_quietly_with_its_version(tmp_path):
    src = source_copy(tmp_path)
    venv, output = fresh_install(tmp_path, str(src))
    warnings = [line for line in output.splitlines() if DEPRECATION.search(line)]
    assert not warnings, "\n".join(warnings)
    version = python(venv, "import autodiff_core, importlib.metadata as m; "
                           "print(autodiff_core.__version__, m.version('autodiff-course'))")
    assert version.returncode == 0, version.stderr
    mine, installed = version.stdout.split()
    assert mine == installed and re.fullmatch(r"\d+\.\d+\.\d+", mine), version.stdout
    # the engine alone: NumPy, no plotting, no Jupyter
    works = python(venv, "import autodiff_core as ad, autodiff_core.numpy as np; "
                         "print(ad.grad(lambda x: np.sin(x) * x)(1.0))")
    assert works.returncode == 0 and abs(float(works.stdout) - 1.3817732906760363) < 1e-12, works
    for absent in ("matplotlib", "jupyterlab", "nbgrader", "pytest"):
        assert python(venv, f"import {absent}").returncode != 0, f"{absent} installed with the engine"


@pytest.mark.slow
def test_the_plot_extra_adds_matplotlib(tmp_path):
    src = source_copy(tmp_path)
    venv, _ = fresh_install(tmp_path, f"{src}[plot]")
    assert python(venv, "import matplotlib").returncode == 0
    assert python(venv, "import jupyterlab").returncode != 0


@pytest.mark.slow
def test_control_the_deprecated_license_table_is_seen(tmp_path):
    """The warning check above can fail: the old `license = { text = ... }` form warns."""
    src = source_copy(tmp_path)
    text = (src / "pyproject.toml").read_text()
    assert re.search(r'^license = "MIT"$', text, re.M)
    text = re.sub(r'^license = "MIT"\nlicense-files = .*\n', 'license = { text = "MIT" }\n', text, flags=re.M)
    (src / "pyproject.toml").write_text(text)
    _, output = fresh_install(tmp_path, str(src))
    assert [line for line in output.splitlines() if DEPRECATION.search(line)], output[-3000:]


def test_pyproject_license_is_an_spdx_string_with_its_file():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert all((REPO / f).is_file() for f in project["license-files"])
    assert "version" in project["dynamic"]
    assert set(project["optional-dependencies"]["plot"]) == {"matplotlib", "networkx"}


def test_make_lab_installs_the_course_not_the_test_tools(tmp_path):
    proc = subprocess.run(["make", "-n", "lab", f"VENV={tmp_path / 'venv'}"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    installs = [l for l in proc.stdout.splitlines() if "pip install" in l and "-e" in l]
    assert installs and all("'.[course]'" in l for l in installs), proc.stdout
