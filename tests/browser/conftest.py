"""Real-browser fixtures: JupyterLab on 127.0.0.1 driven by Playwright in Debian's Chromium.

Every test in this folder is marked ``browser`` and ``slow``. The browser is the system
Chromium (``/usr/bin/chromium``, or ``$JUPYTER_EXP_CHROMIUM``): Playwright's own browser
download is not reachable from these machines. Without Chromium or Playwright the tests
skip on a developer machine and fail under CI, where ``.ci/run`` installs both.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT = 60.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests need {reason} (CI must install it: see .ci/run)")
    pytest.skip(f"browser tests need {reason}")


def _chromium() -> str:
    candidate = os.environ.get("JUPYTER_EXP_CHROMIUM") or shutil.which("chromium") or ""
    if not candidate or not Path(candidate).exists():
        _unavailable("Chromium (apt-get install chromium)")
    return candidate


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium shared by a module's tests.

    Not the whole session: Playwright's sync API keeps an asyncio loop running in the
    main thread while it is open, and the server tests (pytest-jupyter) need their own.
    """
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright (pip install playwright)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page (1400x900) per test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    """``screenshot(page, name)`` saves ``test-artifacts/screenshots/<name>.png``."""

    def take(page: Any, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def wait_kernel_idle() -> Callable[..., None]:
    """``wait_kernel_idle(page)``: the current notebook's kernel is connected and idle.

    A Shift+Enter sent before that can be dropped by JupyterLab.
    """

    def wait(page: Any, timeout: float = 60_000) -> None:
        page.wait_for_function(
            """() => {
                const app = window.jupyterapp;
                const widget = app && app.shell.currentWidget;
                const session = widget && widget.sessionContext && widget.sessionContext.session;
                const kernel = session && session.kernel;
                return !!kernel && kernel.connectionStatus === 'connected'
                    && kernel.status === 'idle';
            }""",
            timeout=timeout,
        )

    return wait


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """A running ``jupyter lab`` process serving ``root``."""

    def __init__(self, root: Path, port: int, token: str, log: Path, process: Any) -> None:
        self.root = root
        self.port = port
        self.token = token
        self.log = log
        self.process = process
        self.base_url = f"http://127.0.0.1:{port}/"

    def url(self, path: str = "lab") -> str:
        """The address of ``path`` on the server, with the token."""
        separator = "&" if "?" in path else "?"
        return f"{self.base_url}{path.lstrip('/')}{separator}token={self.token}"

    def log_text(self) -> str:
        """What the server printed so far (for failure messages)."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited early:\n{self.log_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"jupyter lab did not answer in time:\n{self.log_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_jupyter(
    state: Path, root: Path, app: str, app_class: str, extra: Sequence[str] = ()
) -> LabServer:
    """Start ``python -m <app>`` (``jupyterlab`` or ``notebook``) serving ``root``.

    Configuration, runtime, settings and workspaces live in ``state``; the environment's
    installed extensions (ours, ipywidgets, anywidget) stay visible. ``app_class`` is
    the traitlets class taking the app's options (``LabApp``, ``JupyterNotebookApp``).
    """
    settings = state / "app-settings"
    settings.mkdir()
    (settings / "overrides.json").write_text(
        json.dumps({"@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}})
    )
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(state / "config"),
        JUPYTER_RUNTIME_DIR=str(state / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(state / "user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"),
    )
    port, token = _free_port(), "jupyter-exp-browser-test"
    log = state / f"{app}.log"
    command = [
        sys.executable,
        "-m",
        app,
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--allow-root",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        f"--{app_class}.expose_app_in_browser=True",
        f"--{app_class}.app_settings_dir={settings}",
        *extra,
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    server = LabServer(root, port, token, log, process)
    try:
        server.wait_ready()
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Path], LabServer]]:
    """``lab(root)`` starts JupyterLab on ``root`` and stops it after the test."""
    servers: list[LabServer] = []

    def start(root: Path) -> LabServer:
        server = start_jupyter(
            tmp_path_factory.mktemp("lab"),
            root,
            "jupyterlab",
            "LabApp",
            [
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ],
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
