"""DVC's record of an experiment running in the workspace, written and read.

While ``dvc exp run`` runs in the workspace, DVC 3 keeps two JSON files in
``.dvc/tmp/exps/run/workspace/``:

- ``workspace.json``: dvc-task's ``ProcessInfo`` (``pid``, ``stdin``, ``stdout``,
  ``stderr``, ``returncode``);
- ``workspace.run``: the executor's ``ExecutorInfo`` (``git_url``, ``baseline_rev``,
  ``location``, ``root_dir``, ``dvc_dir``, ``name``, ``wdir``, ``result_*``, ``status``:
  DVC's ``TaskStatus``, 2 = running).

``dvc exp show`` lists a Running experiment named ``name`` under ``baseline_rev``, with
the workspace's params and metrics, as long as ``pid`` lives and ``status`` is below
success (``WorkspaceQueue.collect_active_data``). We write the same files around a
workspace run, so DVC lists ours, and read them, so ``jupyter exp show`` lists DVC's
runs (and ours) the same way. DVC's executor also sets ``refs/exps/exec/EXEC_*`` and
detaches ``HEAD`` for its own Git work; ``exp show`` reads neither, and we do neither
(see docs/design.md).

Standard library only: ``exp show`` reads this on every run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from typing import Any

WORKSPACE = "workspace"
RUN_DIR = ("exps", "run", WORKSPACE)  # under .dvc/tmp
PROC_FILE = f"{WORKSPACE}.json"
INFO_FILE = f"{WORKSPACE}.run"
# DVC's TaskStatus values: PENDING, PREPARING, RUNNING are "still running" for exp show.
TASK_RUNNING = 2
_ACTIVE = (0, 1, 2)


def run_folder(tmp_dir: str | os.PathLike[str]) -> str:
    """``.dvc/tmp/exps/run/workspace`` of the project whose ``.dvc/tmp`` is ``tmp_dir``."""
    return os.path.join(os.fspath(tmp_dir), *RUN_DIR)


@contextlib.contextmanager
def workspace_run(
    tmp_dir: str | os.PathLike[str],
    *,
    git_root: str | os.PathLike[str],
    dvc_root: str | os.PathLike[str],
    baseline: str,
    name: str,
) -> Iterator[None]:
    """Record, while the block runs, that experiment ``name`` runs in the workspace.

    The files go away when the block ends, however it ends (success, failure, Ctrl+C);
    after a ``kill -9`` they stay, and both DVC and :func:`running_in_workspace` see
    that their pid is gone.
    """
    folder = run_folder(tmp_dir)
    git_root = os.path.abspath(git_root)
    dvc_dir = os.path.relpath(os.path.join(os.path.abspath(dvc_root), ".dvc"), git_root)
    info = {
        "git_url": f"file://{git_root}",
        "baseline_rev": baseline,
        "location": WORKSPACE,
        "root_dir": git_root,
        "dvc_dir": dvc_dir.replace(os.sep, "/"),
        "name": name,
        "wdir": ".",
        "result_hash": None,
        "result_ref": None,
        "result_force": False,
        "status": TASK_RUNNING,
    }
    proc = {"pid": os.getpid(), "stdin": None, "stdout": None, "stderr": None, "returncode": None}
    written = False
    try:
        os.makedirs(folder, exist_ok=True)
        _write(os.path.join(folder, INFO_FILE), info)
        _write(os.path.join(folder, PROC_FILE), proc)
        written = True
    except OSError:
        pass  # being listed by `exp show` is not worth failing the run for
    try:
        yield
    finally:
        if written and _read(os.path.join(folder, PROC_FILE)).get("pid") == os.getpid():
            shutil.rmtree(folder, ignore_errors=True)


def running_in_workspace(tmp_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``ExecutorInfo`` of the experiment running in the workspace, with its
    ``pid`` added, or None when none runs (no files, a dead pid, a finished status)."""
    folder = run_folder(tmp_dir)
    info = _read(os.path.join(folder, INFO_FILE))
    if not info:
        return None
    pid = _read(os.path.join(folder, PROC_FILE)).get("pid")
    if not isinstance(pid, int) or not _alive(pid) or info.get("status") not in _ACTIVE:
        return None
    if not isinstance(info.get("baseline_rev"), str):
        return None
    return {**info, "pid": pid}


def executor_record(info: dict[str, Any]) -> dict[str, Any]:
    """The ``executor`` of ``dvc exp show --json`` for a :func:`running_in_workspace` info."""
    local = {
        "root": info.get("root_dir"),
        "log": None,
        "pid": info.get("pid"),
        "returncode": None,
        "task_id": None,
    }
    return {"state": "running", "name": WORKSPACE, "local": local}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OSError:
        return False
    return True


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fobj:
            data = json.load(fobj)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: str, data: dict[str, Any]) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fobj:
        json.dump(data, fobj)
    os.replace(tmp, path)
