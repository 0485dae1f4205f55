"""A real browser opens a lesson in JupyterLab, runs every cell, and moves its controls.

What a learner does, done by headless Chromium (Debian's ``chromium`` package, driven by the
``playwright`` Python package; ``playwright install`` is never needed):

1. JupyterLab starts on 127.0.0.1 with a random token on a temporary copy of ``notebooks/``
   (JupyterLab autosaves outputs; the committed notebooks stay clean), kernels in fast mode.
2. The lesson (``TARGET_NOTEBOOKS``: the first one that exists) opens; Run > Run All Cells.
3. Once the kernel is idle and every code cell has an execution count, no cell may show a
   traceback and every widget must have rendered.
4. The "Run" button of a widget is clicked (lesson 01's training lab) or, without one, the
   first slider is moved with the keyboard; the plot in that cell's output must change.

Screenshots land in ``test-artifacts/browser/``. The test skips only when chromium or
playwright is missing. Run it alone with ``pytest -m browser -s``. To try it on other
notebooks, point ``WGAN_LESSONS_BROWSER_NOTEBOOKS`` at a folder holding one of the targets.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = Path(os.environ.get("WGAN_LESSONS_BROWSER_NOTEBOOKS", ROOT / "notebooks"))
#: The lesson the browser opens: the first of these that exists in notebooks/.
TARGET_NOTEBOOKS = ("01_gan_minimax.ipynb", "02_wasserstein_1d.ipynb")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions",
                 "--metrics-recording-only", "--disable-gpu"]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
SERVER_START_S = 60      # JupyterLab answering /api/status
RUN_ALL_S = 240          # every cell executed, kernel idle (fast mode; 33 s alone, several times that while
                         # `make test` trains presets on both cores in other processes)
PLOT_CHANGE_S = 45       # the plot redrawn after the click / slider move

STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
CODE_CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-CodeCell"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(480)]


def target_notebook() -> Path | None:
    for name in TARGET_NOTEBOOKS:
        if (NOTEBOOKS_DIR / name).exists():
            return NOTEBOOKS_DIR / name
    return None


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def target() -> Path:
    """The lesson to open; fails if lessons exist but none is a target (a rename must update the list)."""
    nb = target_notebook()
    if nb is None:
        lessons = sorted(p.name for p in NOTEBOOKS_DIR.glob("[0-9]*.ipynb"))
        if lessons:
            pytest.fail(f"none of TARGET_NOTEBOOKS {TARGET_NOTEBOOKS} is in {NOTEBOOKS_DIR} (it holds {lessons}); "
                        "update TARGET_NOTEBOOKS in tests/test_browser.py")
        pytest.skip(f"no lesson notebooks in {NOTEBOOKS_DIR} yet (the browser opens one of {TARGET_NOTEBOOKS})")
    return nb


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM}: install it with apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install 'playwright>=1.40' "
                    "(no `playwright install` needed, the test uses the system chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def _write_lab_settings(settings: Path) -> None:
    """User settings for this server only: every cell in the DOM, no news or update pop-ups."""
    files = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
            {"fetchNews": "false", "checkForUpdates": False},
    }
    for rel, value in files.items():
        (settings / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings / rel).write_text(json.dumps(value))


@pytest.fixture(scope="module")
def lab(target, browser, tmp_path_factory):
    """A JupyterLab server on a temporary copy of notebooks/; yields (base_url, token, root)."""
    import secrets

    tmp = tmp_path_factory.mktemp("jupyterlab")
    root = tmp / "notebooks"
    shutil.copytree(NOTEBOOKS_DIR, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    _write_lab_settings(tmp / "settings")
    port, token = _free_port(), secrets.token_hex(24)
    env = dict(os.environ, WGAN_LESSONS_FAST="1", JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
               JUPYTER_CONFIG_DIR=str(tmp / "config"))
    env.pop("MPLBACKEND", None)  # the kernel then uses the inline backend, as for a learner
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.extension_manager=readonly", "--ServerApp.terminals_enabled=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI containers run as root
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def log_tail() -> str:
        log.flush()
        return (tmp / "server.log").read_text(errors="replace")[-3000:]

    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {proc.returncode}:\n{log_tail()}")
            try:
                if _get(f"{base}/api/status?token={token}")[0] == 200:
                    break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {SERVER_START_S}s:\n{log_tail()}")
            time.sleep(0.3)
        yield base, token, root
    finally:
        _stop_server(proc, base, token)
        log.close()
        print(f"\nJupyterLab log: {tmp / 'server.log'}", file=sys.stderr)


def _stop_server(proc: subprocess.Popen, base: str, token: str) -> None:
    """Shut down the kernels and the server; escalate to signals on the server's own process group."""
    if proc.poll() is None:
        try:  # POST /api/shutdown stops every kernel, then the server
            req = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
            urllib.request.urlopen(req, timeout=5).close()
        except (urllib.error.URLError, OSError):
            pass
    for sig, wait in ((None, 15), (signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if sig is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# --------------------------------------------------------------------------- page helpers


def _wait(predicate, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


_CELL_STATE_JS = """(sel) => {
  const cells = [...document.querySelectorAll(sel)];
  return cells.map((c) => {
    const p = c.querySelector('.jp-InputArea-prompt');
    const src = c.querySelector('.jp-InputArea-editor .cm-content');
    return {prompt: p ? p.textContent.trim() : '', empty: !src || src.textContent.trim() === ''};
  });
}"""


def _kernel_status(page) -> str:
    ind = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator")
    if ind.count():
        return ind.first.get_attribute("data-status") or ""
    return "unknown"


def _kernel_connected(base: str, token: str) -> bool:
    """The server's view: a kernel is idle and the page holds a websocket to it."""
    try:
        kernels = json.loads(_get(f"{base}/api/kernels?token={token}")[1])
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return any(k.get("execution_state") == "idle" and k.get("connections", 0) > 0 for k in kernels)


def _accept_kernel_dialog(page) -> bool:
    """Accept a 'Select Kernel' dialog (JupyterLab asks when a notebook runs before its kernel is up)."""
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    if dialog.count():
        dialog.locator(".jp-mod-accept").first.click()
        return True
    return False


def _all_executed(page):
    cells = page.evaluate(_CELL_STATE_JS, CODE_CELLS)
    todo = [c for c in cells if not c["empty"]]
    done = todo and all(re.fullmatch(r"\[\d+\]:", c["prompt"]) for c in todo)
    return done and _kernel_status(page) in ("idle", "unknown")


def _run_all_finished(page) -> bool:
    """Every cell ran, or one failed (Run All stops there; the error is reported afterwards)."""
    _accept_kernel_dialog(page)
    return bool(_all_executed(page) or _tracebacks(page))


def _widgets_settled(page) -> bool:
    return page.get_by_text("Loading widget...").count() == 0


def _tracebacks(page) -> list[str]:
    """Error outputs: JupyterLab 4 renders them, like stderr, as application/vnd.jupyter.stderr."""
    return [t for t in page.locator(STDERR).all_inner_texts()
            if "Traceback" in t or re.search(r"^\w*(Error|Exception)\b", t, re.M)]


def _assert_clean(page, when: str) -> None:
    tracebacks = _tracebacks(page)
    assert not tracebacks, f"{when}: a cell shows an error:\n" + "\n---\n".join(t[-1500:] for t in tracebacks)
    bad = page.get_by_text("Error displaying widget")
    assert bad.count() == 0, f"{when}: a widget failed to render: {bad.first.inner_text()!r}"
    assert _widgets_settled(page), f"{when}: a widget is still 'Loading widget...'"


_PLOT_JS = """async (el) => {
  // A digest of every picture in the output area: <img> bytes (data: or blob: URLs, e.g. an
  // ipywidgets.Image), canvases and SVGs; so a redraw of the same picture is no change.
  const digest = async (data) => {
    const buf = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const h = await crypto.subtle.digest('SHA-256', buf);
    return [...new Uint8Array(h)].map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  const parts = [];
  for (const img of el.querySelectorAll('img')) {
    const src = img.getAttribute('src') || '';
    if (src.startsWith('blob:')) {
      try { parts.push('img:' + await digest(await (await fetch(src)).arrayBuffer())); }
      catch (e) { parts.push('img:' + src); }
    } else {
      parts.push('img:' + await digest(src));
    }
  }
  for (const c of el.querySelectorAll('canvas')) {
    try { parts.push('canvas:' + await digest(c.toDataURL())); } catch (e) {}
  }
  for (const s of el.querySelectorAll('svg')) {
    if (!s.closest('button, .jp-InputPrompt, .jp-OutputPrompt')) parts.push('svg:' + await digest(s.outerHTML));
  }
  return parts.join('\\n');
}"""


def _plot_fingerprint(page, area) -> str | bytes:
    """The images, canvases and SVGs of an output area; a screenshot of it when there are none."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.mouse.move(0, 0)
    fp = area.evaluate(_PLOT_JS)
    return fp if fp else area.screenshot(animations="disabled")


def _cell_of(locator):
    return locator.locator("xpath=ancestor::div[contains(concat(' ', normalize-space(@class), ' '), ' jp-Cell ')][1]")


def _move_slider(page, slider) -> str:
    """Move an ipywidgets slider with the keyboard (mouse drag as a fallback); returns what was done."""
    readout = slider.locator(".widget-readout").first
    before = readout.inner_text() if readout.count() else None
    handle = slider.locator(".noUi-handle").first
    for key in ("ArrowRight", "ArrowLeft"):
        handle.focus()
        for _ in range(3):
            page.keyboard.press(key)
            time.sleep(0.1)
        if before is None or readout.inner_text() != before:
            return f"slider {before} -> {readout.inner_text() if before is not None else '?'} ({key} x3)"
    box = handle.bounding_box()
    track = slider.locator(".noUi-target").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] + track["width"] * 0.8, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    return f"slider {before} -> {readout.inner_text()} (drag)"


# --------------------------------------------------------------------------- the test


def test_lesson_runs_and_reacts_in_a_real_browser(target, browser, lab):
    nb = target
    base, token, _ = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = nb.stem
    for old in ARTIFACTS.glob(f"{stem}-*.png"):  # no stale failure shots from an earlier run
        old.unlink()
    t0 = time.perf_counter()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page_errors: list[str] = []
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    page.set_default_timeout(30_000)
    try:
        page.goto(f"{base}/lab/tree/{nb.name}?token={token}&reset", wait_until="domcontentloaded")
        page.wait_for_selector(CODE_CELLS, timeout=60_000)
        _wait(lambda: _kernel_connected(base, token) or _accept_kernel_dialog(page), 60, "the kernel to start")
        _wait(lambda: _kernel_connected(base, token), 60, "the kernel to start")
        t_open = time.perf_counter() - t0

        # Run > Run All Cells, through the menu bar as a learner would
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        time.sleep(1.0)
        try:
            _wait(lambda: _accept_kernel_dialog(page) and False or _all_executed(page) or _tracebacks(page), RUN_ALL_S, "every code cell to run and the kernel to be idle", 0.5)
        except AssertionError:
            page.screenshot(path=ARTIFACTS / f"{stem}-timeout.png")
            prompts = [c["prompt"] for c in page.evaluate(_CELL_STATE_JS, CODE_CELLS)]
            raise AssertionError(f"cells did not all run in {RUN_ALL_S}s; prompts {prompts}; "
                                 f"kernel {_kernel_status(page)}") from None
        t_run = time.perf_counter() - t0 - t_open
        _wait(lambda: _widgets_settled(page), 20, "widgets to finish loading")
        assert page.locator(".jp-OutputArea-output .jupyter-widgets").count(), "no widget rendered"
        _assert_clean(page, "after Run All Cells")

        # The control: a widget's Run button (the training lab), else the first slider
        run = page.locator(".jp-OutputArea-output button.widget-button", has_text=re.compile(r"^\s*Run\s*$"))
        slider = page.locator(".jp-OutputArea-output .widget-slider").filter(has=page.locator(".noUi-handle"))
        control = run.first if run.count() else slider.first if slider.count() else None
        assert control is not None, f"{nb.name} shows neither a widget 'Run' button nor a slider"
        control.scroll_into_view_if_needed()
        area = _cell_of(control).locator(".jp-Cell-outputArea").first
        before = _plot_fingerprint(page, area)
        page.screenshot(path=ARTIFACTS / f"{stem}-1-after-run-all.png", full_page=True)
        area.screenshot(path=ARTIFACTS / f"{stem}-widget-before.png")

        if run.count():
            control.click()
            action = "clicked Run"
        else:
            action = _move_slider(page, control)
        time.sleep(1.0)
        _wait(lambda: _plot_fingerprint(page, area) != before, PLOT_CHANGE_S,
              f"the plot to change after: {action}", 0.5)
        _wait(lambda: _kernel_status(page) in ("idle", "unknown"), PLOT_CHANGE_S, "the kernel to be idle again")
        time.sleep(1.0)  # let the last redraw land
        area.screenshot(path=ARTIFACTS / f"{stem}-widget-after.png")
        page.screenshot(path=ARTIFACTS / f"{stem}-2-after-interaction.png", full_page=True)
        _assert_clean(page, f"after the interaction ({action})")
        assert _plot_fingerprint(page, area) != before, f"the plot is back to where it was after: {action}"
        t_total = time.perf_counter() - t0
        print(f"\n{nb.name} in the browser: opened {t_open:.1f}s, ran all {t_run:.1f}s, {action}, "
              f"kernel status '{_kernel_status(page)}'; "
              f"total {t_total:.1f}s; screenshots in {ARTIFACTS}", file=sys.stderr)
        if page_errors:
            print("page errors (not failing the test):\n  " + "\n  ".join(page_errors), file=sys.stderr)
    except BaseException:
        try:
            page.screenshot(path=ARTIFACTS / f"{stem}-failure.png", full_page=True)
        except Exception:
            pass
        raise
    finally:
        page.close()
