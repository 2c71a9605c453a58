"""Issue 9, item 1: `make lab` serves the repository root, opens the course index, and the
instructor's Formgrader works from it; checked in Debian's Chromium.

The Makefile's own `lab` recipe runs (in a temporary copy of the repository, so the
Formgrader's gradebook.db lands there) with this test environment's .venv
(`make -o` keeps make from reinstalling it) and LAB_ARGS for a free port and a token.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from binder_support import (ARTIFACTS, clean_env, copy_repository, free_port, open_lab, stop_process_group,
                            wait_until_up)

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

COPY = ["course", "assignments", "autodiff_core", "nbgrader_config.py", "Makefile", "pyproject.toml",
        "constraints.txt"]


@pytest.fixture(scope="module")
def make_lab(tmp_path_factory):
    require_make = shutil.which("make")
    assert require_make, "make not found"
    base = tmp_path_factory.mktemp("lab")
    repo = copy_repository(base / "repo", COPY)
    home = base / "home"
    home.mkdir()
    venv = Path(sys.prefix)
    port, token = free_port(), secrets.token_hex(16)
    args = (f"--no-browser --ip=127.0.0.1 --port={port} --port-retries=0 "
            f"--IdentityProvider.token={token} --LabApp.expose_app_in_browser=True")
    log = base / "lab.log"
    fh = open(log, "w")
    proc = subprocess.Popen(
        ["make", "-o", f"{venv}/.installed-course", "lab", f"VENV={venv}", f"LAB_ARGS={args}"],
        cwd=repo, env=clean_env(home), stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(proc, f"{url}/api/status", log, "make lab", 180,
                      {"Authorization": f"token {token}"})
        yield {"url": url, "token": token, "repo": repo, "log": log}
    finally:
        stop_process_group(proc)
        fh.close()


def test_make_lab_prints_the_index_and_serves_the_repository_root(make_lab):
    log = make_lab["log"].read_text()
    printed = re.findall(r"(http://127\.0\.0\.1:\d+/\S*)", log)
    assert printed, log[-3000:]
    # the printed address opens the course index, not the Launcher
    assert urlsplit(printed[0]).path == "/lab/tree/course/index.ipynb", printed
    headers = {"Authorization": f"token {make_lab['token']}"}
    root = requests.get(make_lab["url"] + "/api/contents/", headers=headers, timeout=30).json()
    names = {item["name"] for item in root["content"]}
    assert {"course", "assignments", "autodiff_core"} <= names, names


def test_formgrader_works_from_make_lab_in_chromium(make_lab, page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url, token = make_lab["url"], make_lab["token"]
    open_lab(page, url, "course/index.ipynb", token)
    page.screenshot(path=str(ARTIFACTS / "make_lab_index.png"))
    # the file browser opens in course/; its root is the repository's
    page.locator(".jp-BreadCrumbs-home").first.click()
    page.locator(".jp-DirListing-item", has_text="assignments").first.wait_for(state="visible")

    # Nbgrader > Formgrader, as an instructor opens it
    page.get_by_text("Nbgrader", exact=True).click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Formgrader", exact=True).click()
    frame = page.frame_locator("iframe[src*='formgrader']")
    frame.get_by_text("Manage Assignments").first.wait_for(state="visible", timeout=120_000)
    sources = sorted(p.name for p in (make_lab["repo"] / "assignments" / "source").iterdir() if p.is_dir())
    assert sources
    for aid in sources:
        frame.get_by_text(aid, exact=True).first.wait_for(state="visible")
    body = frame.locator("body").inner_text()
    page.screenshot(path=str(ARTIFACTS / "make_lab_formgrader.png"))
    assert "Sorry, the formgrader encountered an error" not in body, body
    assert "not a subdirectory" not in make_lab["log"].read_text()
    # the Formgrader opened the course's own gradebook in the course root
    assert (make_lab["repo"] / "assignments" / "gradebook.db").is_file()

    # and it acts on that course: Generate makes the student version of the first assignment
    aid = sources[0]
    frame.locator("tr", has_text=aid).locator("td.assign a").click()
    frame.locator("#success-modal").get_by_text("Successfully created the student version").wait_for(
        timeout=180_000)
    page.screenshot(path=str(ARTIFACTS / "make_lab_generate.png"))
    assert (make_lab["repo"] / "assignments" / "release" / aid / f"{aid}.ipynb").is_file()
