"""A lesson run as a student runs it: JupyterLab (as Binder starts it), a browser, all cells.

JupyterLab from this .venv serves a copy of one fast lesson on localhost without a token;
headless chromium (the same one as tests/test_site.py) opens it, runs every cell, moves the
first control of the lesson's interactive figure and checks that the figure is redrawn (its
image and alt text change) with no error output anywhere. The server, its kernel and the
browser are stopped at the end whatever happens.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from test_site import CHROMIUM, CHROMIUM_ARGS, LOCAL_HOSTS

ROOT = Path(__file__).resolve().parents[1]
LESSON = "02_setup.ipynb"          # about 6 s to run, one interactive figure (a slider)
START_TIMEOUT = 60                 # seconds for the server to answer
RUN_TIMEOUT = 240_000              # ms for "run all cells"
REDRAW_TIMEOUT = 60_000            # ms for the figure to change after the control moves

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(url, notebook name, server log) of a token-less JupyterLab on a copy of the lesson."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (make test-site does it)")
    work = tmp_path_factory.mktemp("lab")
    root = work / "lessons"
    root.mkdir()
    shutil.copy(ROOT / "lessons" / LESSON, root / LESSON)     # the repository's copy is untouched
    settings = work / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # every cell in the page (JupyterLab 4 otherwise renders only the cells near the viewport)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = dict(os.environ, OMP_NUM_THREADS="1",
               JUPYTER_CONFIG_DIR=str(work / "config"), JUPYTER_RUNTIME_DIR=str(work / "runtime"),
               JUPYTER_DATA_DIR=str(work / "data"), IPYTHONDIR=str(work / "ipython"),
               JUPYTERLAB_SETTINGS_DIR=str(work / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"))
    port = _free_port()
    log = open(work / "server.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--allow-root", "--LabApp.extension_manager=readonly",
         f"--ServerApp.root_dir={root}", "--IdentityProvider.token=", "--ServerApp.password=",
         "--ServerApp.allow_remote_access=False", "--LabApp.expose_app_in_browser=True",
         "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("JupyterLab did not start:\n" + (work / "server.log").read_text()[-3000:])
            time.sleep(0.5)
        yield url, LESSON, work / "server.log"
    finally:
        # the server and everything it started (kernels) are in one process group
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            server.wait(timeout=10)
        log.close()


FIGURE = """() => {
  const img = document.querySelector(".jp-Notebook .widget-output img, .jp-Notebook .jupyter-widgets-output-area img");
  return img ? {src: img.getAttribute("src") || "", alt: img.getAttribute("alt") || ""} : null;
}"""

ERRORS = """() => Array.from(document.querySelectorAll(
    ".jp-Notebook .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"))
  .map(e => e.textContent).filter(t => /Error|Traceback/.test(t)).map(t => t.slice(0, 300))"""


def test_lesson_runs_and_its_widget_responds(lab):
    from playwright.sync_api import sync_playwright

    url, name, server_log = lab
    left_localhost = []

    def route(r):
        if urlparse(r.request.url).hostname in LOCAL_HOSTS or r.request.url.startswith("data:"):
            r.continue_()
        else:
            left_localhost.append(r.request.url)
            r.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.route("**/*", route)
            page = context.new_page()
            page.goto(f"{url}/lab/tree/{name}", wait_until="load")
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell "
                                   "&& document.querySelector('.jp-Notebook .jp-CodeCell')",
                                   timeout=90_000)
            # wait for the kernel, then run every cell; the command resolves when all have run
            page.wait_for_function(
                """() => { const w = window.jupyterapp.shell.currentWidget;
                           const k = w && w.sessionContext && w.sessionContext.session
                                     && w.sessionContext.session.kernel;
                           return k && k.status === "idle"; }""", timeout=90_000)
            ok = page.evaluate(
                """ms => Promise.race([
                       window.jupyterapp.commands.execute('notebook:run-all-cells'),
                       new Promise(r => setTimeout(() => r("timed out"), ms))])""", RUN_TIMEOUT)
            page.wait_for_function(
                """() => !Array.from(document.querySelectorAll('.jp-Notebook .jp-InputPrompt'))
                          .some(p => p.textContent.includes('*'))""", timeout=RUN_TIMEOUT)
            errors = page.evaluate(ERRORS)
            assert ok is True and not errors, f"the lesson did not run cleanly ({ok}): {errors}"

            page.wait_for_function(f"({FIGURE})() !== null", timeout=30_000)
            before = page.evaluate(FIGURE)
            assert before["src"].startswith("data:image/png"), before["src"][:60]

            control = page.locator(".jp-Notebook .widget-slider .noUi-handle, "
                                   ".jp-Notebook .widget-slider input[type=range]").first
            control.scroll_into_view_if_needed()
            control.focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_function(f"b => {{ const f = ({FIGURE})(); return f && f.src !== b; }}",
                                   arg=before["src"], timeout=REDRAW_TIMEOUT)
            after = page.evaluate(FIGURE)
            assert after["src"] != before["src"]
            assert len(after["alt"].split()) >= 3, f"the figure's alt text: {after['alt']!r}"
            assert not page.evaluate(ERRORS)
            assert not left_localhost, f"requests leaving localhost: {left_localhost[:5]}"
        except Exception:
            print(server_log.read_text()[-3000:])
            raise
        finally:
            browser.close()
