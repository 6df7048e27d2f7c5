"""The Binder files: wired as repo2docker expects, and the launch script builds the demo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BINDER = REPO / "binder"


def test_scripts_are_executable_and_start_hands_over() -> None:
    for name in ("postBuild", "start"):
        assert os.access(BINDER / name, os.X_OK), name
    lines = [line for line in (BINDER / "start").read_text().splitlines() if line.strip()]
    assert lines[-1] == 'exec "$@"'
    assert "pip install" in (BINDER / "postBuild").read_text()


def test_repo2docker_picks_up_the_binder_folder() -> None:
    repo2docker = shutil.which("repo2docker")
    if repo2docker is None:
        pytest.skip("jupyter-repo2docker is not installed")
    done = subprocess.run(
        [repo2docker, "--no-build", "--no-run", "--debug", str(REPO)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    dockerfile = done.stdout + done.stderr
    assert "binder/environment.yml" in dockerfile
    assert "./binder/postBuild" in dockerfile
    assert 'R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in dockerfile


@pytest.mark.slow
def test_start_creates_the_demo_project_once(tmp_path: Path) -> None:
    env = dict(
        os.environ, HOME=str(tmp_path), PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    )
    first = subprocess.run(
        [str(BINDER / "start"), "echo", "launched"], env=env, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith("launched")
    demo = tmp_path / "demo-project"
    refs = subprocess.run(
        ["git", "for-each-ref", "refs/exps/"], cwd=demo, capture_output=True, text=True
    ).stdout.splitlines()
    assert len(refs) == 2
    # A second launch keeps the project (and its experiments) as they are.
    again = subprocess.run([str(BINDER / "start"), "true"], env=env, capture_output=True)
    assert again.returncode == 0
    assert (
        len(
            subprocess.run(
                ["git", "for-each-ref", "refs/exps/"], cwd=demo, capture_output=True, text=True
            ).stdout.splitlines()
        )
        == 2
    )
