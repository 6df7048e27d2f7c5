"""The JupyterLab extension (labextension/): its unit tests pass and it is installed.

``pip install -e '.[test]'`` builds it from the committed yarn.lock (hatch-jupyter-builder)
and installs it under ``share/jupyter/labextensions/jupyter-exp``, where JupyterLab finds
prebuilt extensions.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SOURCE = REPO_ROOT / "labextension"
NAME = "jupyter-exp"


def _plain(text: str) -> str:
    """``text`` without terminal colour codes."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is needed (CI installs node 20 and jupyterlab)")
        pytest.skip(f"{tool} is not installed")
    return found


@pytest.mark.slow
def test_typescript_unit_tests_pass() -> None:
    """``jlpm test`` (vitest over the sidebar's pure modules) in labextension/."""
    _need("node")
    jlpm = _need("jlpm")
    if not (SOURCE / "node_modules" / ".bin" / "vitest").exists():
        done = subprocess.run(
            [jlpm, "install", "--immutable"], cwd=SOURCE, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    env = os.environ | {"CI": "1", "NO_COLOR": "1", "FORCE_COLOR": "0"}
    done = subprocess.run([jlpm, "test"], cwd=SOURCE, capture_output=True, text=True, env=env)
    output = _plain(done.stdout + done.stderr)
    assert done.returncode == 0, output[-5000:]
    assert re.search(r"Tests\s+\d+ passed", output), output[-2000:]
    assert "failed" not in output.split("Test Files")[-1], output[-2000:]


def _installed_dir() -> Path:
    return Path(sys.prefix) / "share" / "jupyter" / "labextensions" / NAME


def test_installed_where_jupyterlab_finds_it() -> None:
    """The environment's labextensions folder holds the built extension with its files."""
    folder = _installed_dir()
    assert (folder / "package.json").exists(), f"{folder} is missing: pip install -e '.[test]'"
    meta = json.loads((folder / "package.json").read_text())
    assert meta["name"] == NAME
    build = meta["jupyterlab"]["_build"]
    assert (folder / build["load"]).exists()
    assert (folder / "static" / "style.js").exists()
    schema = json.loads((folder / "schemas" / NAME / "plugin.json").read_text())
    assert {"refreshInterval", "defaultColumns", "maxRows"} <= set(schema["properties"])


def test_labextension_list_shows_it_enabled() -> None:
    """``jupyter labextension list`` names it, enabled and OK."""
    jupyter = _need("jupyter")
    done = subprocess.run(
        [jupyter, "labextension", "list"],
        capture_output=True,
        text=True,
        env=os.environ | {"NO_COLOR": "1"},
    )
    output = _plain(done.stdout + done.stderr)
    assert done.returncode == 0, output
    line = next((ln for ln in output.splitlines() if ln.strip().startswith(f"{NAME} ")), None)
    assert line is not None, output
    assert "enabled" in line and "OK" in line, line
