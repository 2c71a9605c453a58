"""Issue 5, test 2, and issue 9: the student's JupyterLab in a real browser.

Debian's Chromium, headless, driven by Playwright (no browser download: the
executable is /usr/bin/chromium), against the server that the Binder files
build (conftest.py, from the student README's own recipe). It opens the course
index, checks that nbgrader offers Validate and nothing of its exchange (no
Assignment List, so no Submit or Fetch Feedback that would reach no one) or of
the instructor's tools, follows the index's link to a problem set, runs a
lecture notebook, and validates a blank assignment whose header says how to
hand in. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import pytest

from binder_support import ARTIFACTS, first_lecture, open_document, open_lab, wait_current, wait_kernel_idle

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

STUDENT_PLUGINS = ["@jupyter/nbgrader:validate-assignment"]
OFF_PLUGINS = [
    "@jupyter/nbgrader:assignment-list",   # Fetch, Submit, Fetch Feedback: no exchange on Binder
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
]
OFF_COMMANDS = ["nbgrader:open-assignment-list", "nbgrader:open-formgrader", "nbgrader:open-course-list"]


# `page` first: a missing browser is reported before the server environment is built
def test_course_index_lecture_and_validate_in_chromium(page, jupyter_server):
    server = jupyter_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    # --- the launch: JupyterLab on the course index -------------------------
    open_lab(page, server.url, "course/index.ipynb", server.token)
    assert page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").count() > 0
    page.screenshot(path=str(ARTIFACTS / "binder_index.png"))

    # --- nbgrader: Validate only -------------------------------------------
    active = page.evaluate(
        """(ids) => ids.map(id => [id, window.jupyterapp.hasPlugin(id),
                                   window.jupyterapp.isPluginActivated(id)])""",
        STUDENT_PLUGINS + OFF_PLUGINS,
    )
    state = {pid: (has, on) for pid, has, on in active}
    for pid in STUDENT_PLUGINS:
        assert state[pid] == (True, True), f"{pid} not active: {state}"
    for pid in OFF_PLUGINS:
        assert not state[pid][1], f"{pid} is active for Binder students: {state}"
    commands = page.evaluate("(ids) => ids.filter(id => window.jupyterapp.commands.hasCommand(id))",
                             OFF_COMMANDS)
    assert not commands, f"commands offered to Binder students: {commands}"
    menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    if "Nbgrader" in menus:
        page.get_by_text("Nbgrader", exact=True).click()
        items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
        assert not {"Assignment List", "Formgrader", "Course List"} & set(items), items
        page.keyboard.press("Escape")
    for name in ("Submit", "Fetch Feedback", "Fetch"):
        assert page.get_by_role("button", name=name, exact=True).count() == 0, name

    # --- the index's problem-set link leads to the released notebook --------
    release = server.root / "assignments" / "release"
    aid = sorted(p.name for p in release.iterdir() if p.is_dir())[0]
    link = page.locator(f'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-RenderedMarkdown a[href*="{aid}"]').first
    href = link.get_attribute("href")
    assert "assignments/release/" in href, href
    link.scroll_into_view_if_needed()
    link.click()
    # the released notebook opens (a folder link would give "File Load Error")
    wait_current(page, f"assignments/release/{aid}/{aid}.ipynb")
    page.screenshot(path=str(ARTIFACTS / "binder_index_link.png"))
    assert page.locator(".jp-Dialog").count() == 0, page.locator(".jp-Dialog").all_inner_texts()

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

    # --- a blank assignment: the hand-in header, then Validate ---------------
    notebooks = sorted(release.glob("*/*.ipynb"))
    assert notebooks, "no released assignment notebooks in the student copy"
    assignment = notebooks[0].relative_to(server.root).as_posix()
    open_document(page, assignment)
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    header = panel.locator(".jp-Cell").first.inner_text()
    assert "How to hand in" in header and "Download" in header and "Upload" in header, header
    assert "no Submit button" in header, header
    toolbar = panel.locator(".jp-NotebookPanel-toolbar")
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
