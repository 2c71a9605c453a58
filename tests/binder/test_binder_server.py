"""Issue 5, test 1 (and issue 9): the Binder image, rebuilt here without Docker.

From the student copy's binder/ files alone (the student README's local set-up:
a venv inside the copy, requirements.txt, postBuild; see conftest.py) a Jupyter
server is started on 127.0.0.1 and checked through its REST API: it serves, it
lands on the course index (also as `jupyter notebook`), build clutter is
hidden, nbgrader offers Validate only (its exchange and the instructor pieces
are off and locked), a released assignment validates, and a course notebook
runs through one of its kernels.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import urlsplit

import nbformat
import pytest
import requests

from binder_support import first_lecture, free_port, stop_process_group

pytestmark = [pytest.mark.server, pytest.mark.slow]

STUDENT_PLUGINS = ["@jupyter/nbgrader:validate-assignment"]
OFF_PLUGINS = [
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
]


def get(server, path, **kw):
    return requests.get(server.url + path, headers=server.headers(), timeout=60, **kw)


def post(server, path, **kw):
    return requests.post(server.url + path, headers=server.headers(), timeout=300, **kw)


def page_config(server) -> dict:
    html = get(server, "/lab").text
    match = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
    assert match, "no page config in /lab"
    return json.loads(match.group(1))


def released_ids(server) -> list[str]:
    release = server.root / "assignments" / "release"
    ids = sorted(p.name for p in release.iterdir() if p.is_dir()) if release.is_dir() else []
    assert ids, "the student copy has no released assignments (assignments/release/*)"
    return ids


def test_server_serves_and_lands_on_the_course_index(jupyter_server):
    status = get(jupyter_server, "/api/status")
    assert status.status_code == 200 and "started" in status.json()

    landing = get(jupyter_server, "/", allow_redirects=False)
    assert landing.status_code in (301, 302)
    assert urlsplit(landing.headers["Location"]).path.endswith("/lab/tree/course/index.ipynb")

    index = get(jupyter_server, "/api/contents/course/index.ipynb")
    assert index.status_code == 200 and index.json()["type"] == "notebook"
    # the package is installed from binder/requirements.txt (-e .)
    spec = get(jupyter_server, "/api/kernelspecs").json()
    assert spec["default"] in spec["kernelspecs"]


def test_build_clutter_is_hidden_from_the_file_browser(jupyter_server):
    # `pip install -e .` leaves the package's egg-info in the repository root ...
    assert list(jupyter_server.root.glob("*.egg-info")), "no *.egg-info: this test would prove nothing"
    # ... and the student's file browser does not show it
    names = {item["name"] for item in get(jupyter_server, "/api/contents/").json()["content"]}
    assert {"course", "assignments"} <= names, names
    assert not [n for n in names if n.endswith(".egg-info")], names


def test_jupyter_notebook_lands_on_the_course_index_too(binder_env):
    """repo2docker's default command is `jupyter notebook`, whose own landing page is /tree."""
    port, token = free_port(), secrets.token_hex(16)
    cmd = [str(binder_env.bin / "jupyter"), "notebook", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", "--port-retries=0", f"--IdentityProvider.token={token}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    with open(binder_env.log.with_name("notebook.log"), "w") as fh:
        proc = subprocess.Popen(cmd, cwd=binder_env.root, env=binder_env.env(), stdout=fh,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"jupyter notebook exited {proc.returncode}"
            try:
                landing = requests.get(url, headers={"Authorization": f"token {token}"},
                                       allow_redirects=False, timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "jupyter notebook did not answer in 120 s"
                time.sleep(0.5)
        assert landing.status_code in (301, 302), landing.status_code
        assert urlsplit(landing.headers["Location"]).path.endswith("/lab/tree/course/index.ipynb")
    finally:
        stop_process_group(proc)


def test_nbgrader_offers_students_validate_only(jupyter_server):
    # no exchange (every Binder student is the same user in a throwaway container): the
    # assignment_list routes behind Fetch, Submit and Fetch Feedback are gone
    for path in ("/assignments", "/courses", "/assignments/submit", "/assignments/fetch_feedback"):
        assert get(jupyter_server, path).status_code == 404, path
    # instructor server extensions are off too
    assert get(jupyter_server, "/formgrader").status_code == 404
    assert get(jupyter_server, "/formgraders").status_code == 404
    # validate_assignment is on, and the lab extension's version check passes
    pinned = (jupyter_server.root / "binder" / "requirements.txt").read_text()
    version = re.search(r"^nbgrader==(\S+)", pinned, re.M).group(1)
    assert get(jupyter_server, "/nbgrader_version", params={"version": version}).json()["success"]


def test_validate_a_blank_released_assignment(jupyter_server):
    aid = released_ids(jupyter_server)[0]
    path = f"assignments/release/{aid}/{aid}.ipynb"
    assert (jupyter_server.root / path).is_file()
    result = post(jupyter_server, "/assignments/validate", params={"path": path}).json()
    assert result["success"], result
    value = result["value"]
    if isinstance(value, str):
        value = json.loads(value)
    # a blank assignment runs its visible tests, which fail on the stubs
    assert "failed" in value, value
    assert any("NotImplementedError" in f.get("error", "") for f in value["failed"]), value


def test_lab_plugins_validate_on_and_the_others_off_and_locked(jupyter_server):
    config = page_config(jupyter_server)
    disabled = set(config["disabledExtensions"])
    locked = set(config["lockedExtensions"])
    assert set(OFF_PLUGINS) <= disabled
    assert set(OFF_PLUGINS) <= locked
    assert not set(STUDENT_PLUGINS) & disabled
    assert "@jupyter/nbgrader" not in disabled  # the extension itself stays on
    assert "@jupyter/nbgrader" in {e["name"] for e in config["federated_extensions"]}

    locks = get(jupyter_server, "/lab/api/plugins").json()
    assert set(OFF_PLUGINS) <= set(locks["lockRules"])
    # a student cannot switch Submit (the Assignment List) back on from the plugin manager
    for plugin in ("@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:formgrader"):
        attempt = post(jupyter_server, "/lab/api/plugins", json={"cmd": "enable", "plugin_name": plugin})
        assert attempt.status_code >= 400 and "locked" in attempt.text, plugin
        assert plugin in page_config(jupyter_server)["disabledExtensions"]


class KernelClient:
    """Just enough of the Jupyter messaging protocol over the server's websocket."""

    def __init__(self, server, kernel_id):
        import websocket

        ws_url = server.url.replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels"
        self.ws = websocket.create_connection(ws_url, header=[f"Authorization: token {server.token}"],
                                              timeout=300)
        self.session = uuid.uuid4().hex

    def execute(self, code: str) -> tuple[dict, list[dict]]:
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                       "session": self.session, "version": "5.3",
                       "date": datetime.now(timezone.utc).isoformat()},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        reply, outputs, idle = None, [], False
        while reply is None or not idle:
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if msg["channel"] == "shell" and kind == "execute_reply":
                reply = msg["content"]
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
            elif kind in ("stream", "execute_result", "display_data", "error"):
                outputs.append({"type": kind, **msg["content"]})
        return reply, outputs

    def close(self):
        self.ws.close()


def test_course_notebook_runs_through_a_server_kernel(jupyter_server):
    lecture = first_lecture(jupyter_server.root)
    rel = lecture.relative_to(jupyter_server.root).as_posix()
    session = post(jupyter_server, "/api/sessions", json={
        "path": rel, "type": "notebook", "name": lecture.name, "kernel": {"name": "python3"},
    })
    assert session.status_code == 201, session.text
    kernel_id = session.json()["kernel"]["id"]
    client = KernelClient(jupyter_server, kernel_id)
    try:
        reply, outputs = client.execute(
            "import sys, os, autodiff_core\nprint(sys.prefix)\nprint(autodiff_core.__file__)\nprint(os.getcwd())"
        )
        assert reply["status"] == "ok", outputs
        printed = "".join(o.get("text", "") for o in outputs).split("\n")
        # the kernel is the image's Python, importing the package installed from the copy
        assert printed[0] == str(jupyter_server.venv)
        assert printed[1].startswith(str(jupyter_server.root / "autodiff_core"))
        assert printed[2] == str(lecture.parent)

        nb = nbformat.read(lecture, as_version=4)
        code_cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
        assert code_cells, f"{rel} has no code"
        for i, cell in enumerate(code_cells):
            reply, outputs = client.execute(cell.source)
            errors = [o for o in outputs if o["type"] == "error"]
            assert reply["status"] == "ok" and not errors, (
                f"{rel}, code cell {i}: {reply.get('ename')}: {reply.get('evalue')}\n{cell.source[:500]}"
            )
    finally:
        client.close()
        requests.delete(f"{jupyter_server.url}/api/sessions/{session.json()['id']}",
                        headers=jupyter_server.headers(), timeout=60)
