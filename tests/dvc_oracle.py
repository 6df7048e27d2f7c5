"""DVC 3 as a test oracle, installed from PyPI in its own virtual environment.

Compatibility means "what DVC does on the same workspace", so tests run the real ``dvc``
next to our engine and compare bytes. The venv lives outside the project
(``~/.cache/jupyter-exp/dvc-venv`` unless ``JUPYTER_EXP_DVC_VENV`` says otherwise) and is
created on first use, under a file lock so parallel pytest workers install it once.

Register the fixture with ``pytest_plugins = ["dvc_oracle"]`` (tests/ is on ``sys.path``)
and mark the tests ``@pytest.mark.oracle``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from filelock import FileLock

__all__ = [
    "DVC_SPEC",
    "DVC_VENV",
    "dvc",
    "dvc_env",
    "dvc_executable",
    "dvc_python",
    "ensure_dvc",
    "run_dvc",
    "run_dvc_python",
]

# Evaluated at import time, i.e. with the real HOME: tests patch HOME per test, and the
# venv must not be reinstalled into every test's fresh HOME.
DVC_VENV = Path(
    os.environ.get("JUPYTER_EXP_DVC_VENV", os.path.expanduser("~/.cache/jupyter-exp/dvc-venv"))
)
DVC_SPEC = "dvc>=3,<4"
# Installing DVC and its ~100 dependencies takes a few minutes on a cold machine.
_INSTALL_TIMEOUT = 1800

_BIN = "Scripts" if os.name == "nt" else "bin"
_EXE = ".exe" if os.name == "nt" else ""


def dvc_executable() -> Path:
    """Path of the ``dvc`` script in the oracle venv (may not exist yet)."""
    return DVC_VENV / _BIN / f"dvc{_EXE}"


def dvc_python() -> Path:
    """Path of the oracle venv's Python interpreter (may not exist yet)."""
    return DVC_VENV / _BIN / f"python{_EXE}"


@functools.lru_cache(maxsize=1)
def _installed_version() -> str | None:
    """``dvc --version`` of the oracle venv, None when it is absent or broken."""
    exe = dvc_executable()
    if not exe.exists():
        return None
    done = subprocess.run(
        [str(exe), "--version"],
        env=dvc_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    version = done.stdout.strip()
    return version if done.returncode == 0 and version.startswith("3.") else None


def ensure_dvc() -> Path:
    """Return the oracle ``dvc`` executable, installing ``dvc>=3,<4`` first if needed.

    Works on a fresh machine that only reaches PyPI: creates the venv with this
    interpreter's ``venv`` module and pip-installs DVC into it. A file lock next to the
    venv serialises concurrent installs (pytest-xdist workers, parallel CI jobs); a
    half-installed venv left by an interrupted run is replaced.
    """
    if _installed_version() is not None:
        return dvc_executable()
    DVC_VENV.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(DVC_VENV) + ".lock", timeout=_INSTALL_TIMEOUT):
        _installed_version.cache_clear()
        if _installed_version() is None:
            _install()
            _installed_version.cache_clear()
            if _installed_version() is None:
                raise RuntimeError(f"DVC was installed in {DVC_VENV} but `dvc --version` fails")
    return dvc_executable()


def _install() -> None:
    log = DVC_VENV.parent / "dvc-install.log"
    if DVC_VENV.exists():
        shutil.rmtree(DVC_VENV)
    with open(log, "w", encoding="utf-8") as out:

        def run(*argv: str) -> int:
            out.write("$ " + " ".join(argv) + "\n")
            out.flush()
            return subprocess.run(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=_INSTALL_TIMEOUT,
                check=False,
                env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_USER")},
            ).returncode

        pip_args = ("install", "--disable-pip-version-check", "--no-input", DVC_SPEC)
        if run(sys.executable, "-m", "venv", str(DVC_VENV)) == 0:
            code = run(str(dvc_python()), "-m", "pip", *pip_args)
        else:
            # No ensurepip (e.g. Debian without python3-venv): an empty venv, filled by
            # this interpreter's pip pointed at it.
            shutil.rmtree(DVC_VENV, ignore_errors=True)
            code = run(sys.executable, "-m", "venv", "--without-pip", str(DVC_VENV))
            if code == 0:
                code = run(sys.executable, "-m", "pip", "--python", str(dvc_python()), *pip_args)
    if code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"installing {DVC_SPEC} into {DVC_VENV} failed:\n{tail}")


def dvc_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment DVC runs in: this process's (the test's HOME) minus leaks.

    No analytics, no update check, no Studio calls; no DVC_* variables from an enclosing
    DVC run; no PYTHONPATH that would mix our packages into DVC's venv. DVC's site cache
    (/var/tmp/dvc by default) goes under HOME so tests stay independent.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DVC_") and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    home = env.get("HOME") or os.path.expanduser("~")
    env.update(
        DVC_NO_ANALYTICS="1",
        DVC_TEST="true",  # disables DVC's updater check
        DVC_STUDIO_OFFLINE="true",
        DVC_SITE_CACHE_DIR=os.path.join(home, ".cache", "dvc-site"),
    )
    env.update(extra or {})
    return env


def run_dvc(
    root: str | os.PathLike[str],
    *args: str,
    check: bool = False,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run ``dvc ARGS`` in ``root`` with :func:`dvc_env`; ``check`` raises with its output."""
    exe = ensure_dvc()
    done = subprocess.run(
        [str(exe), *args],
        cwd=root,
        env=dvc_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"dvc {' '.join(args)} exited {done.returncode} in {root}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
    return done


def run_dvc_python(code: str, stdin: str = "", timeout: float = 300) -> str:
    """Run Python ``code`` in the oracle venv (DVC importable); return its stdout."""
    ensure_dvc()
    done = subprocess.run(
        [str(dvc_python()), "-c", code],
        input=stdin,
        env=dvc_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"oracle python failed:\n{done.stderr}")
    return done.stdout


@pytest.fixture(scope="session")
def dvc() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``dvc(root, *args, check=True)``: run the oracle DVC (installed on first use)."""
    ensure_dvc()

    def call(
        root: str | os.PathLike[str], *args: str, check: bool = True, **kwargs: object
    ) -> subprocess.CompletedProcess[str]:
        return run_dvc(root, *args, check=check, **kwargs)  # type: ignore[arg-type]

    return call
