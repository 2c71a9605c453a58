"""Issue 5, test 2: the student's JupyterLab in a real browser.

Debian's Chromium, headless, driven by Playwright (no browser download: the
executable is /usr/bin/chromium), against the server that the Binder files
build (conftest.py). It opens the course index, checks which nbgrader plugins
JupyterLab activated, opens and runs a lecture notebook, saves a screenshot to
tests/artifacts/, and validates a blank assignment with nbgrader's Validate
button.
"""

from __future__ import annotations

import importlib.util
import uuid

import pytest

from binder_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, first_lecture, require

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

STUDENT_PLUGINS = ["@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:validate-assignment"]
INSTRUCTOR_PLUGINS = [
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
]


@pytest.fixture(scope="module")
def browser():
    require(CHROMIUM.exists(), f"{CHROMIUM} not found (Debian package chromium)")
    require(importlib.util.find_spec("playwright") is not None, "Python package playwright not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.console_errors = []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    yield pg
    context.close()


def open_lab(page, server, path: str) -> None:
    """Open JupyterLab in a fresh workspace on `path`, the way the Binder link does."""
    workspace = "t" + uuid.uuid4().hex[:8]
    page.goto(f"{server.url}/lab/workspaces/{workspace}/tree/{path}?token={server.token}")
    page.wait_for_function("() => window.jupyterapp !== undefined && window.jupyterapp.shell !== undefined")
    wait_current(page, path)


def wait_current(page, path: str) -> None:
    page.wait_for_function(
        """(path) => { const w = window.jupyterapp.shell.currentWidget;
               return w && w.context && w.context.path === path && w.content
                      && w.content.widgets && w.content.widgets.length > 0; }""",
        arg=path,
    )


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


# `page` first: a missing browser is reported before the server environment is built
def test_course_index_lecture_and_validate_in_chromium(page, jupyter_server):
    server = jupyter_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    # --- the launch: JupyterLab on the course index -------------------------
    open_lab(page, server, "course/index.ipynb")
    assert page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").count() > 0
    page.screenshot(path=str(ARTIFACTS / "binder_index.png"))

    # --- nbgrader's lab extension really loads on this JupyterLab -----------
    active = page.evaluate(
        """(ids) => ids.map(id => [id, window.jupyterapp.hasPlugin(id),
                                   window.jupyterapp.isPluginActivated(id)])""",
        STUDENT_PLUGINS + INSTRUCTOR_PLUGINS,
    )
    state = {pid: (has, on) for pid, has, on in active}
    for pid in STUDENT_PLUGINS:
        assert state[pid] == (True, True), f"{pid} not active: {state}"
    for pid in INSTRUCTOR_PLUGINS:
        assert not state[pid][1], f"{pid} is active for students: {state}"
    page.get_by_text("Nbgrader", exact=True).click()
    items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
    assert "Assignment List" in items, items
    assert not {"Formgrader", "Course List"} & set(items), items

    # --- the Assignment List shows the released problem sets ---------------
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
    lists = page.locator("#released_assignments_list, #fetched_assignments_list")
    release = server.root / "assignments" / "release"
    for aid in sorted(p.name for p in release.iterdir() if p.is_dir()):
        lists.get_by_text(aid).first.wait_for(state="visible")
    page.screenshot(path=str(ARTIFACTS / "binder_assignment_list.png"))

    # --- a lecture notebook, run top to bottom ------------------------------
    lecture = first_lecture(server.root).relative_to(server.root).as_posix()
    open_document(page, lecture)
    wait_kernel_idle(page)
    page.evaluate("async () => { await window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.wait_for_function(
        """() => { const w = window.jupyterapp.shell.currentWidget;
               const cells = w.content.widgets.filter(c => c.model.type === 'code'
                                                          && c.model.sharedModel.getSource().trim());
               return cells.length > 0 && cells.every(c => c.model.executionCount !== null);}""",
        timeout=300_000,
    )
    wait_kernel_idle(page, timeout=300_000)
    errors = page.evaluate(
        """() => window.jupyterapp.shell.currentWidget.content.widgets
                 .filter(c => c.model.type === 'code')
                 .flatMap(c => c.model.toJSON().outputs || [])
                 .filter(o => o.output_type === 'error')
                 .map(o => o.ename + ': ' + o.evalue)"""
    )
    assert not errors, f"{lecture} raised in the browser: {errors}"
    shot = ARTIFACTS / "binder_lecture.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000

    # --- a blank assignment, validated with nbgrader's button --------------
    notebooks = sorted(release.glob("*/*.ipynb"))
    assert notebooks, "no released assignment notebooks in the student copy"
    assignment = notebooks[0].relative_to(server.root).as_posix()
    open_document(page, assignment)
    toolbar = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar")
    toolbar.get_by_text("Validate", exact=True).click()
    dialog = page.locator(".jp-Dialog").filter(has_text="Validation Results")
    dialog.wait_for(timeout=300_000)
    text = dialog.inner_text()
    page.screenshot(path=str(ARTIFACTS / "binder_validate.png"))
    # the visible tests ran against the stubs: they fail, and say so
    assert "The following cell failed" in text, text
    assert "NotImplementedError" in text, text
    dialog.get_by_role("button", name="Ok").click()

    nbgrader_errors = [e for e in page.console_errors if "nbgrader" in e.lower()]
    assert not nbgrader_errors, nbgrader_errors
