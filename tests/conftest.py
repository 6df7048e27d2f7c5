"""Shared fixtures: real Git repositories in tmp dirs, with an isolated HOME and identity."""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the property tests on a fixed seed sequence: a failure there reproduces.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

FileTree = Mapping[str, "str | bytes | FileTree"]


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own HOME and a fixed Git identity; no user config leaks in."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Committer")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "committer@example.com")
    for var in ("DVC_ROOT", "DVC_EXP_NAME", "DVC_EXP_BASELINE_REV", "GIT_DIR", "GIT_WORK_TREE"):
        monkeypatch.delenv(var, raising=False)
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    return home


def write_tree(root: Path, files: FileTree) -> None:
    """Write a nested ``{name: content | {…}}`` mapping under ``root``.

    String contents are dedented, so tests can write YAML inline.
    """
    for name, content in files.items():
        path = root / name
        if isinstance(content, Mapping):
            path.mkdir(parents=True, exist_ok=True)
            write_tree(path, content)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"))


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` and return its stdout."""
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``make_project({"dvc.yaml": "...", "params.yaml": "..."}, commit=True)``.

    Creates a Git repository in a fresh folder, writes the files, and (by default)
    commits them so ``HEAD`` exists. Returns the root.
    """
    counter = iter(range(1_000_000))

    def factory(
        files: FileTree | None = None, *, commit: bool = True, name: str | None = None
    ) -> Path:
        root = tmp_path / (name or f"project{next(counter)}")
        root.mkdir()
        git(root, "init", "-q")
        write_tree(root, files or {})
        if commit:
            git(root, "add", "-A")
            git(root, "commit", "-q", "--allow-empty", "-m", "initial")
        return root

    return factory


@pytest.fixture
def in_dir(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], Path]:
    """``in_dir(path)`` makes ``path`` the cwd for the rest of the test."""

    def enter(path: Path) -> Path:
        monkeypatch.chdir(path)
        return path

    return enter


def run_cli(
    root: Path, *args: str, env: Mapping[str, str] | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``jupyter-exp ARGS`` as a real subprocess in ``root``."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        ["jupyter-exp", *args],
        cwd=root,
        env=full_env,
        capture_output=True,
        text=True,
        check=check,
        timeout=300,
    )
