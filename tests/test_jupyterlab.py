"""The live path: a chapter opened in JupyterLab (as the README says), in a real browser.

JupyterLab (pinned in requirements.txt, with jupyterlab-myst) runs headless on 127.0.0.1 with a
random token, serving a copy of a chapter notebook (so nothing is saved into ``book/``). Chromium,
driven by Playwright, opens it, checks that a ``{solution}`` is rendered folded until its title
is clicked, runs the cells the chapter's conditional-GAN explorer needs on a real kernel (the Colab
cell, the setup cell, the cell that trains the model, the widget cell), then moves a slider and
picks another class, and checks that each time the kernel decodes a new image.

The model comes from the run cache, so the test runs after the book build (markers
``book_build`` and ``browser``, see the root conftest.py), which has trained it; it is skipped
like the other browser tests when the book is not built (a failure in CI). The whole test is
bounded (:data:`BUDGET_S`) and the server is always shut down, kernels included.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from browser_support import BOOK_HTML as HTML
from browser_support import CHROMIUM
from browser_support import unavailable as _unavailable

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = HTML / "_screenshots"  # the English edition's, beside tests/test_browser.py's
CHAPTER = "book/gan.ipynb"
BUDGET_S = 180  # the whole test, server start to shutdown; with cached runs it takes under a minute
SETTINGS = {
    # render every cell (no virtual scrolling), so the test can find them in the page
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # never write the copy back while the test runs, and never ask to fetch news
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}

pytestmark = [pytest.mark.book_build, pytest.mark.browser]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(base URL, token, the served folder) of a headless JupyterLab; shut down afterwards."""
    if not (HTML / CHAPTER.replace(".ipynb", ".html")).exists():
        _unavailable(
            "the book is not built (its build caches the chapter's runs): "
            f"no {HTML / CHAPTER.replace('.ipynb', '.html')}"
        )
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} not found (install it: apt-get install -y chromium)")
    tmp = tmp_path_factory.mktemp("lab")
    served = tmp / "served"
    (served / "book").mkdir(parents=True)
    shutil.copy(ROOT / CHAPTER, served / CHAPTER)
    for rel, value in SETTINGS.items():
        path = tmp / "settings" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    token, port = secrets.token_hex(16), _free_port()
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={served}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.user_settings_dir={tmp / 'settings'}",
        f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
    ]
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}: {(tmp / 'server.log').read_text()[-3000:]}")
            try:
                if _get(f"{base}/api/status?token={token}")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start within 60 s: {(tmp / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield base, token, served
    finally:
        _shutdown(proc, base, token)
        log.close()
    # the copy was never saved (autosave off), and book/ was never touched
    assert (
        nbformat.read(served / CHAPTER, as_version=4).cells[0].source
        == nbformat.read(ROOT / CHAPTER, as_version=4).cells[0].source
    )


def _shutdown(proc: subprocess.Popen, base: str, token: str) -> None:
    """Stop the kernels and the server through the REST API; kill what is left."""
    kernels = []
    try:
        kernels = json.loads(_get(f"{base}/api/kernels?token={token}")[1])
        req = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
        urllib.request.urlopen(req, timeout=10).close()
    except OSError:
        pass
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode is not None
    # kernels run in their own sessions: make sure none outlives the server
    for k in kernels:
        for line in subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout.splitlines():
            if f"kernel-{k['id']}.json" in line:
                os.kill(int(line.split()[0]), signal.SIGKILL)
                pytest.fail(f"kernel {k['id']} outlived the server")


def _cells_to_run(nb) -> tuple[list[int], int]:
    """Indices of the cells the chapter's class-conditional explorer needs, and the widget cell's."""
    code = [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    widget = [(i, m.group(1)) for i, s in code for m in [re.search(r"widgets\.explore\((\w+)\)", s)] if m]
    assert widget, f"{CHAPTER} has no widgets.explore(model) cell"
    index, model = widget[-1]  # the chapter's last explorer: the conditional GAN, with a class selector
    defining = [i for i, s in code if i < index and re.search(rf"^{model}\s*=", s, flags=re.M)]
    assert defining, f"no cell of {CHAPTER} defines {model}"
    colab, setup = code[0][0], code[1][0]  # the Colab cell, then the chapter's imports
    return sorted({colab, setup, defining[-1], index}), index


def test_chapter_runs_live_in_jupyterlab(lab, browser):  # noqa: F811 (browser: the fixture imported above)
    start = time.monotonic()

    def left_ms() -> float:
        remaining = BUDGET_S - (time.monotonic() - start)
        assert remaining > 0, f"over the test's budget of {BUDGET_S} s"
        return remaining * 1000

    base, token, served = lab
    nb = nbformat.read(served / CHAPTER, as_version=4)
    run, widget_index = _cells_to_run(nb)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    external, errors = [], []

    def route(r):
        if r.request.url.startswith(base) or r.request.url.startswith(("data:", "blob:", "about:", "ws://127.0.0.1")):
            r.continue_()
        else:  # offline: nothing may come from elsewhere
            external.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{base}/lab/tree/{CHAPTER}?token={token}")
        page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.content"
            " && window.jupyterapp.shell.currentWidget.content.widgets.length > 10",
            timeout=left_ms(),
        )
        page.wait_for_function(
            "() => { const k = window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel;"
            " return k && k.status === 'idle'; }",
            timeout=left_ms(),
        )
        cells = page.locator(".jp-Notebook > .jp-Cell, .jp-Notebook .jp-WindowedPanel-viewport > .jp-Cell")
        assert cells.count() == len(nb.cells)

        # ---- MyST: a solution is rendered folded (jupyterlab-myst), and opens on a click of its title
        solution = (
            page.locator(".jp-MarkdownCell details").filter(has=page.locator("summary", has_text="Solution to")).first
        )
        solution.scroll_into_view_if_needed()
        solution.wait_for(state="visible", timeout=left_ms())
        body = solution.locator(":scope > :not(summary)").first
        assert solution.get_attribute("open") is None and not body.is_visible(), "a solution is visible before a click"
        solution.locator("summary").click(position={"x": 8, "y": 8})  # the title's middle is the exercise link
        body.wait_for(state="visible", timeout=10_000)
        assert page.locator(".jp-MarkdownCell .katex, .jp-MarkdownCell mjx-container").count() > 10, (
            "math is not typeset"
        )

        # ---- run the cells the explorer needs, one by one, on the kernel
        for i in run:
            page.evaluate(
                """async (i) => {
                const panel = window.jupyterapp.shell.currentWidget;
                panel.content.activeCellIndex = i;
                await window.jupyterapp.commands.execute('notebook:run-cell');
            }""",
                i,
            )
            page.wait_for_function(
                """(i) => {
                const panel = window.jupyterapp.shell.currentWidget, cell = panel.content.widgets[i];
                return cell.model.executionCount !== null && panel.sessionContext.session.kernel.status === 'idle';
            }""",
                arg=i,
                timeout=left_ms(),
            )
            errors_out = (
                cells.nth(i)
                .locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
                .all_inner_texts()
            )
            assert not any("Traceback" in t or "Error" in t for t in errors_out), f"cell {i} failed: {errors_out}"

        # ---- the live widget: ipywidgets views (not the book's static fallback), decoded by the kernel
        out = cells.nth(widget_index).locator(".jp-OutputArea")
        image = out.locator(".widget-image").first
        image.wait_for(state="visible", timeout=left_ms())
        assert out.locator(".tl-latent").count() == 0, "JupyterLab showed the static widget instead of the live one"
        sliders = out.locator(".widget-slider")
        select = out.locator(".widget-dropdown select")
        assert sliders.count() >= 1 and select.count() == 1
        image.scroll_into_view_if_needed()

        def state():
            page.wait_for_function(
                "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=left_ms()
            )
            return image.get_attribute("src"), image.screenshot()

        def wait_changed(before, what):
            page.wait_for_function(
                "([img, src]) => img.src !== src",
                arg=[image.element_handle(), before[0]],
                timeout=min(left_ms(), 30_000),
            )
            now = state()
            assert now[1] != before[1], f"{what}: a new image came back but its pixels did not change"
            return now

        current = state()
        handle = sliders.nth(0).locator(".noUi-handle").first
        handle.focus()
        handle.press("End")  # the slider's maximum
        current = wait_changed(current, "moving slider 1")
        if sliders.count() > 1:
            box = sliders.nth(1).locator(".noUi-base, .noUi-target").first.bounding_box()
            page.mouse.click(
                box["x"] + box["width"] * 0.1, box["y"] + box["height"] / 2
            )  # a click on the track: a real drag target
            current = wait_changed(current, "clicking slider 2's track")
        options = select.locator("option")
        assert options.count() > 1
        select.select_option(index=options.count() - 1)
        wait_changed(current, "picking another class")
        shot = SCREENSHOTS / "jupyterlab" / CHAPTER.replace("/", "-").replace(".ipynb", ".png")
        shot.parent.mkdir(parents=True, exist_ok=True)
        out.screenshot(path=str(shot))  # what a student sees after moving the controls
        assert not external, f"JupyterLab requested external URLs: {external}"
        assert not errors, f"uncaught errors in the page: {errors}"
    finally:
        context.close()
    assert time.monotonic() - start < BUDGET_S
