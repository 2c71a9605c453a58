"""Issue 5, test 1: the Binder image, rebuilt here without Docker.

From the student copy's binder/ files alone (fresh venv, requirements.txt,
postBuild; see conftest.py) a Jupyter server is started on 127.0.0.1 and
checked through its REST API: it serves, it lands on the course index, the
nbgrader pieces are enabled for students and the instructor ones are off and
locked, a released assignment can be fetched and validated, and a course
notebook runs through one of its kernels.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone
from urllib.parse import urlsplit

import nbformat
import pytest
import requests

from binder_support import first_lecture

pytestmark = [pytest.mark.server, pytest.mark.slow]

STUDENT_PLUGINS = ["@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:validate-assignment"]
INSTRUCTOR_PLUGINS = [
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


def test_nbgrader_server_extensions_as_for_students(jupyter_server):
    # instructor server extensions are off: formgrader and course_list routes are gone
    assert get(jupyter_server, "/formgrader").status_code == 404
    assert get(jupyter_server, "/formgraders").status_code == 404

    # assignment_list is on and lists what postBuild released to the local exchange
    courses = get(jupyter_server, "/courses").json()
    assert courses["success"] and len(courses["value"]) == 1, courses
    course_id = courses["value"][0]
    listing = get(jupyter_server, "/assignments", params={"course_id": course_id}).json()
    assert listing["success"], listing
    released = {a["assignment_id"]: a for a in listing["value"] if a["status"] == "released"}
    assert sorted(released) == released_ids(jupyter_server)

    # validate_assignment is on, and the lab extension's version check passes
    pinned = (jupyter_server.root / "binder" / "requirements.txt").read_text()
    version = re.search(r"^nbgrader==(\S+)", pinned, re.M).group(1)
    assert get(jupyter_server, "/nbgrader_version", params={"version": version}).json()["success"]


def test_fetch_and_validate_a_blank_assignment(jupyter_server):
    course_id = get(jupyter_server, "/courses").json()["value"][0]
    aid = released_ids(jupyter_server)[0]
    fetched = post(jupyter_server, "/assignments/fetch",
                   params={"course_id": course_id, "assignment_id": aid}).json()
    assert fetched["success"], fetched
    mine = [a for a in fetched["value"] if a["assignment_id"] == aid and a["status"] == "fetched"]
    assert mine, fetched
    notebooks = mine[0]["notebooks"]
    assert notebooks
    result = post(jupyter_server, "/assignments/validate", params={"path": notebooks[0]["path"]}).json()
    assert result["success"], result
    value = result["value"]
    if isinstance(value, str):
        value = json.loads(value)
    # a blank assignment runs its visible tests, which fail on the stubs
    assert "failed" in value, value
    assert any("NotImplementedError" in f.get("error", "") for f in value["failed"]), value


def test_lab_plugins_enabled_for_students_and_instructor_ones_locked(jupyter_server):
    config = page_config(jupyter_server)
    disabled = set(config["disabledExtensions"])
    locked = set(config["lockedExtensions"])
    assert set(INSTRUCTOR_PLUGINS) <= disabled
    assert set(INSTRUCTOR_PLUGINS) <= locked
    assert not set(STUDENT_PLUGINS) & disabled
    assert "@jupyter/nbgrader" not in disabled  # the extension itself stays on
    assert "@jupyter/nbgrader" in {e["name"] for e in config["federated_extensions"]}

    locks = get(jupyter_server, "/lab/api/plugins").json()
    assert set(INSTRUCTOR_PLUGINS) <= set(locks["lockRules"])
    # a student cannot switch the formgrader back on from the plugin manager
    attempt = post(jupyter_server, "/lab/api/plugins",
                   json={"cmd": "enable", "plugin_name": "@jupyter/nbgrader:formgrader"})
    assert attempt.status_code >= 400 and "locked" in attempt.text
    assert "@jupyter/nbgrader:formgrader" in page_config(jupyter_server)["disabledExtensions"]


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
