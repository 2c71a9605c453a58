"""Issue 9, item 4: the course on a one-machine JupyterHub with nbgrader's shared exchange.

deploy/hub/ as the deployment guide (deploy/README.md) sets it up: the `make hub-env`
environment (built here from Debian's Python, as every Unix user must be able to run it),
configurable-http-proxy from npm (`make hub-proxy`), deploy/hub/jupyterhub_config.py with
its nbgrader configuration, run as root. Only the log-in differs: JupyterHub's
DummyAuthenticator (one password) instead of PAM. The test creates three real Unix users
(one instructor, two students; removed at the end), a shared exchange folder, and the
instructor's clone of the course. Then, in Chromium:

  the instructor generates and releases ps1 in the Formgrader; student 1 fetches it in
  the Assignment List, validates it and submits it (blank); student 2 fetches and submits
  a correct answer (nbgrader's CLI as that user); the instructor collects, autogrades and
  releases feedback (nbgrader's CLI as the instructor); student 1 fetches feedback in the
  Assignment List. The gradebook must hold 0 points for the blank submission and full
  marks for the correct one, and each student's feedback file their own score.
"""

from __future__ import annotations

import concurrent.futures

import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from binder_support import (ARTIFACTS, chromium, copy_repository, free_port, new_page, open_document,
                            require, run_logged, stop_process_group, wait_until_up)

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

AID = "ps1_elementwise"
COURSE_ID = "autodiff"
PASSWORD = secrets.token_hex(8)
HUB_CONFIG = """\
c = get_config()  # noqa: F821
load_subconfig({deploy!r})  # noqa: F821
# the one difference from the deployment: no PAM passwords for throwaway test users
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
# lets the test ask JupyterLab which document is open (window.jupyterapp)
c.Spawner.args = ["--LabApp.expose_app_in_browser=True"]
"""
COPY = ["pyproject.toml", "constraints.txt", "LICENSE", "README.md", "Makefile", "autodiff_core",
        "deploy", "assignments", "nbgrader_config.py"]


def _prerequisites():
    require(hasattr(os, "geteuid") and os.geteuid() == 0, "the hub test creates Unix users: run as root")
    for tool in ("useradd", "userdel", "npm", "node", "make"):
        require(shutil.which(tool) is not None, f"{tool} not found")
    require(Path("/usr/bin/python3").exists(), "no /usr/bin/python3 (Debian python3) for the hub environment")


@pytest.fixture(scope="module")
def base():
    _prerequisites()
    # every user's server runs this folder's Python: not below pytest's private tmp
    path = Path(tempfile.mkdtemp(prefix="adhub-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def deployment(base):
    """A copy of the repository with the hub environment and the proxy installed by make."""
    repo = copy_repository(base / "repo", COPY)
    log = base / "install.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON", "JUPYTER"))}
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    venv = base / "venv"
    run_logged(["make", "hub-env", f"HUB_VENV={venv}", "HUB_PYTHON=/usr/bin/python3"], repo, env, log, 1800)
    run_logged(["make", "hub-proxy"], repo, env, log, 600)
    return repo, venv


class Users:
    def __init__(self, base: Path):
        tag = secrets.token_hex(3)
        self.instructor = f"adi{tag}"
        self.students = [f"ads{tag}a", f"ads{tag}b"]
        self.home = base / "home"
        self.home.mkdir(mode=0o755)
        self.created: list[str] = []

    def create(self):
        for name in [self.instructor, *self.students]:
            subprocess.run(["useradd", "--create-home", "--home-dir", str(self.home / name),
                            "--shell", "/bin/bash", "--user-group", name], check=True)
            self.created.append(name)

    def remove(self):
        for name in self.created:
            subprocess.run(["userdel", "--remove", name], capture_output=True)


@pytest.fixture(scope="module")
def users(base):
    u = Users(base)
    try:
        u.create()
        yield u
    finally:
        u.remove()


def run_as(user: str, cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    pw = pwd.getpwnam(user)
    full = {"HOME": pw.pw_dir, "USER": user, "LOGNAME": user, "PATH": env["PATH"], "LANG": "C.UTF-8", **env}
    proc = subprocess.run(cmd, cwd=cwd, env=full, user=pw.pw_uid, group=pw.pw_gid, extra_groups=[],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{user}: {' '.join(cmd)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def hub(base, deployment, users):
    repo, venv = deployment
    exchange = base / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)  # nbgrader's instructions: everyone reads and writes the exchange root
    # the instructor's clone of the course repository
    clone = users.home / users.instructor / "autodiff-course"
    shutil.copytree(repo / "assignments", clone / "assignments")
    shutil.copy2(repo / "nbgrader_config.py", clone / "nbgrader_config.py")
    subprocess.run(["chown", "-R", f"{users.instructor}:{users.instructor}", str(clone)], check=True)

    state = base / "hub-state"
    state.mkdir(mode=0o700)
    config = state / "test_config.py"
    config.write_text(HUB_CONFIG.format(deploy=str(repo / "deploy" / "hub" / "jupyterhub_config.py"),
                                        password=PASSWORD))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON", "JUPYTER"))}
    env.update({
        "PATH": f"{venv / 'bin'}{os.pathsep}/usr/bin:/bin",
        "AUTODIFF_INSTRUCTORS": users.instructor,
        "AUTODIFF_STUDENTS": ",".join(users.students),
        "NBGRADER_EXCHANGE_ROOT": str(exchange),
        "AUTODIFF_HUB_BIND_URL": f"http://127.0.0.1:{port}",
        "AUTODIFF_HUB_API_PORT": str(free_port()),
        "AUTODIFF_PROXY_API_PORT": str(free_port()),
    })
    log = base / "hub.log"
    fh = open(log, "w")
    proc = subprocess.Popen([str(venv / "bin" / "jupyterhub"), "-f", str(config)], cwd=state, env=env,
                            stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(proc, f"{url}/hub/api", log, "jupyterhub", 120)
        yield {"url": url, "log": log, "exchange": exchange, "clone": clone, "venv": venv,
               "repo": repo, "users": users}
    finally:
        stop_process_group(proc)  # the hub; its proxy and the users' servers are its children
        fh.close()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy2(log, ARTIFACTS / "hub.log")
        # a single-user server left behind: only the test's own users run processes
        for name in [users.instructor, *users.students]:
            pids = subprocess.run(["ps", "-u", name, "-o", "pid="], capture_output=True, text=True).stdout
            for pid in pids.split():
                try:
                    os.kill(int(pid), signal.SIGTERM)
                except ProcessLookupError:
                    pass


def log_in(browser, hub, user: str):
    page = new_page(browser, timeout_ms=120_000)
    page.goto(f"{hub['url']}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_url(re.compile(rf".*/user/{user}/lab.*"), timeout=240_000)
    page.wait_for_function("() => window.jupyterapp !== undefined && window.jupyterapp.shell !== undefined")
    return page


def modal_ok(frame, modal_id: str, text: str):
    modal = frame.locator(f"#{modal_id}")
    modal.get_by_text(text).first.wait_for(timeout=240_000)
    modal.locator("button").last.click()
    modal.wait_for(state="hidden")


def nbgrader_cli_env(hub, course_root: Path | None = None) -> dict[str, str]:
    """What the hub's pre-spawn hook gives a user's server, for nbgrader's CLI."""
    common = hub["repo"] / "deploy" / "hub" / "etc" / "common"
    env = {"PATH": f"{hub['venv'] / 'bin'}{os.pathsep}/usr/bin:/bin", "JUPYTER_CONFIG_PATH": str(common),
           "NBGRADER_EXCHANGE_ROOT": str(hub["exchange"])}
    if course_root is not None:
        env["AUTODIFF_COURSE_ROOT"] = str(course_root)
    return env


def test_release_fetch_validate_submit_collect_autograde_feedback(hub):
    # Playwright's sync API refuses a thread with a running asyncio loop, which earlier tests of
    # the suite (nbclient's kernels) can leave behind: drive the browser from a fresh thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_round_trip, hub).result()


def _round_trip(hub):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    users = hub["users"]
    course_root = hub["clone"] / "assignments"
    s1, s2 = users.students
    nbgrader = str(hub["venv"] / "bin" / "nbgrader")
    with chromium() as browser:
        # --- the instructor: Formgrader > Generate, Release ------------------------
        teacher = log_in(browser, hub, users.instructor)
        teacher.goto(f"{hub['url']}/user/{users.instructor}/formgrader/manage_assignments")
        row = teacher.locator("tr", has_text=AID)
        row.locator("td.assign a").click()
        modal_ok(teacher, "success-modal", "Successfully created the student version")
        row.locator("td.release a").click()
        modal_ok(teacher, "success-modal", f"Successfully released '{AID}'")
        teacher.screenshot(path=str(ARTIFACTS / "hub_formgrader_released.png"))
        assert (hub["exchange"] / COURSE_ID / "outbound" / AID / f"{AID}.ipynb").is_file()

        # --- student 1, in the browser: fetch, validate, submit --------------------
        student = log_in(browser, hub, s1)
        student.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
        items = student.locator(".lm-Menu-itemLabel").all_inner_texts()
        assert "Assignment List" in items and "Formgrader" not in items, items
        student.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
        released = student.locator("#released_assignments_list")
        released.locator(".list_item", has_text=AID).get_by_role("button", name="Fetch").click()
        fetched = student.locator("#fetched_assignments_list")
        fetched.get_by_text(AID).first.wait_for()
        path = f"{AID}/{AID}.ipynb"
        assert (users.home / s1 / path).is_file()
        open_document(student, path)
        toolbar = student.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar")
        toolbar.get_by_text("Validate", exact=True).click()
        dialog = student.locator(".jp-Dialog").filter(has_text="Validation Results")
        dialog.wait_for(timeout=300_000)
        assert "NotImplementedError" in dialog.inner_text()
        dialog.get_by_role("button", name="Ok").click()
        student.evaluate("async () => { await window.jupyterapp.commands.execute('nbgrader:open-assignment-list'); }")
        fetched.locator(".list_item", has_text=AID).get_by_role("button", name="Submit").click()
        student.locator("#submitted_assignments_list").get_by_text(AID).first.wait_for(timeout=120_000)
        student.screenshot(path=str(ARTIFACTS / "hub_student_submitted.png"))

        # --- student 2, nbgrader's CLI: a correct answer ---------------------------
        env2 = nbgrader_cli_env(hub)
        home2 = users.home / s2
        run_as(s2, [nbgrader, "fetch_assignment", AID, "--course", COURSE_ID], home2, env2)
        answer = home2 / AID / f"{AID}.ipynb"
        solve(answer, course_root / "source" / AID / f"{AID}.ipynb")
        run_as(s2, [nbgrader, "submit", AID, "--course", COURSE_ID], home2, env2)

        # --- the instructor, nbgrader's CLI: collect, autograde, feedback ---------
        env1 = nbgrader_cli_env(hub, course_root)
        for step in (["collect", AID], ["autograde", AID], ["generate_feedback", AID],
                     ["release_feedback", AID]):
            run_as(users.instructor, [nbgrader, *step], course_root, env1)

        # --- student 1 fetches feedback in the Assignment List --------------------
        student.locator("#refresh_assignments_list").click()
        submitted = student.locator("#submitted_assignments_list")
        submitted.get_by_role("button", name="Fetch Feedback").first.click()
        deadline = time.monotonic() + 120
        while not list((users.home / s1 / AID / "feedback").glob(f"*/{AID}.html")):
            assert time.monotonic() < deadline, "no feedback fetched for student 1"
            time.sleep(1)
        student.screenshot(path=str(ARTIFACTS / "hub_student_feedback.png"))
        run_as(s2, [nbgrader, "fetch_feedback", AID, "--course", COURSE_ID], home2, env2)

    # --- the grades: 0 for the blank notebook, full marks for the correct one -----
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course_root / 'gradebook.db'}") as gb:
        scores = {name: (sub.code_score, sub.max_code_score, sub.score, sub.max_score)
                  for name in (s1, s2) for sub in [gb.find_submission(AID, name)]}
    code, max_code, _, _ = scores[s1]
    assert max_code > 0 and code == 0, scores          # blank notebook
    code, max_code, _, _ = scores[s2]
    assert code == max_code, scores                      # the instructor's solutions
    for name, (_, _, score, max_score) in scores.items():
        html = next((users.home / name / AID / "feedback").glob(f"*/{AID}.html")).read_text()
        # nbgrader's feedback template: "<notebook> (Score: x / y)", rounded to 2 places
        assert f"{AID} (Score: {round(float(score), 2)} / {round(float(max_score), 2)})" in html, name


def solve(notebook: Path, source: Path) -> None:
    """Put the instructor's solutions into a student's fetched notebook (as its owner would)."""
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nbformat.read(source, as_version=4).cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = answers[meta["grade_id"]]
    st = notebook.stat()
    nbformat.write(nb, notebook)
    os.chown(notebook, st.st_uid, st.st_gid)
