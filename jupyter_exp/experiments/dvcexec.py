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

A run in a temporary folder (``dvc exp run --temp``) has its ``ExecutorInfo`` in
``.dvc/tmp/exps/standalone/run/<id>/<id>.run`` (``location`` ``tempdir``, ``root_dir``
the temporary repository; a ``<id>.json`` ProcessInfo when a process manager started
it) and is Running while that folder exists (``TempDirQueue.iter_active``); DVC shows
the temporary repository's workspace, plus every commit between its ``HEAD`` and the
baseline. Our ``--temp`` runs and queue workers write the same around their worktree,
whose ``HEAD`` is the baseline (see :mod:`.executors.temp`).

Standard library only: ``exp show`` reads this on every run.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

WORKSPACE = "workspace"
TEMPDIR = "tempdir"
RUN_DIR = ("exps", "run", WORKSPACE)  # under .dvc/tmp
STANDALONE_DIR = ("exps", "standalone", "run")  # under .dvc/tmp
INFO_SUFFIX = ".run"
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
    info = _executor_info(WORKSPACE, git_root, dvc_root, baseline, name)
    with _recorded(tmp_dir, run_folder(tmp_dir), WORKSPACE, info, log=None):
        yield


@contextlib.contextmanager
def temp_run(
    tmp_dir: str | os.PathLike[str],
    run_id: str,
    *,
    git_root: str | os.PathLike[str],
    dvc_root: str | os.PathLike[str],
    baseline: str,
    name: str,
    log: str | os.PathLike[str] | None,
) -> Iterator[None]:
    """Record, while the block runs, that ``name`` runs in the worktree ``git_root``.

    ``tmp_dir`` is the main project's ``.dvc/tmp``; ``run_id`` names the run (the
    snapshot commit it started from, DVC's stash rev); ``log`` is the stages' log.
    """
    info = _executor_info(TEMPDIR, git_root, dvc_root, baseline, name)
    folder = os.path.join(os.fspath(tmp_dir), *STANDALONE_DIR, run_id)
    with _recorded(tmp_dir, folder, run_id, info, log=os.fspath(log) if log else None):
        yield


def _executor_info(
    location: str,
    git_root: str | os.PathLike[str],
    dvc_root: str | os.PathLike[str],
    baseline: str,
    name: str,
) -> dict[str, Any]:
    """DVC's ``ExecutorInfo`` fields, exactly (DVC builds the class from them)."""
    git_root = os.path.abspath(git_root)
    dvc_dir = os.path.relpath(os.path.join(os.path.abspath(dvc_root), ".dvc"), git_root)
    return {
        "git_url": f"file://{git_root}",
        "baseline_rev": baseline,
        "location": location,
        "root_dir": git_root,
        "dvc_dir": dvc_dir.replace(os.sep, "/"),
        "name": name,
        "wdir": ".",
        "result_hash": None,
        "result_ref": None,
        "result_force": False,
        "status": TASK_RUNNING,
    }


@contextlib.contextmanager
def _recorded(
    tmp_dir: str | os.PathLike[str], folder: str, stem: str, info: dict, *, log: str | None
) -> Iterator[None]:
    proc_path = os.path.join(folder, f"{stem}.json")
    proc = {"pid": os.getpid(), "stdin": None, "stdout": log, "stderr": None, "returncode": None}
    written = False
    try:
        os.makedirs(folder, exist_ok=True)
        _write(os.path.join(folder, f"{stem}{INFO_SUFFIX}"), info)
        _write(proc_path, proc)
        written = True
    except OSError:
        pass  # being listed by `exp show` is not worth failing the run for
    try:
        yield
    finally:
        if written and _read(proc_path).get("pid") == os.getpid():
            import shutil  # here: exp show reads this module on every run

            shutil.rmtree(folder, ignore_errors=True)
            _remove_empty_parents(folder, os.path.join(os.fspath(tmp_dir), "exps"))


def _remove_empty_parents(folder: str, top: str) -> None:
    """Remove the folders between ``folder`` and ``top`` (exclusive) left empty."""
    parent = os.path.dirname(folder)
    while len(parent) > len(top) and parent.startswith(top):
        try:
            os.rmdir(parent)
        except OSError:
            return  # not empty (another run), or gone
        parent = os.path.dirname(parent)


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


def running_in_temp(tmp_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """``ExecutorInfo`` of every run in a temporary folder (``id``, and ``pid``/``log``
    when a process record exists, added), in the order DVC lists them (its folder
    listing order). A run is over when its folder is gone, its status finished, or its
    recorded process dead.
    """
    top = os.path.join(os.fspath(tmp_dir), *STANDALONE_DIR)
    try:
        ids = os.listdir(top)
    except OSError:
        return []
    found = []
    for run_id in ids:
        info = _read(os.path.join(top, run_id, f"{run_id}{INFO_SUFFIX}"))
        root = info.get("root_dir")
        if info.get("status") not in _ACTIVE or not isinstance(root, str):
            continue
        if not isinstance(info.get("baseline_rev"), str) or not os.path.isdir(root):
            continue
        proc = _read(os.path.join(top, run_id, f"{run_id}.json"))
        pid = proc.get("pid")
        if proc and (not isinstance(pid, int) or not _alive(pid)):
            continue
        found.append({**info, "id": run_id, "pid": pid, "log": proc.get("stdout")})
    return found


def executor_record(info: dict[str, Any]) -> dict[str, Any]:
    """The ``executor`` of ``dvc exp show --json`` for a running ``info`` (as returned by
    :func:`running_in_workspace` or :func:`running_in_temp`)."""
    local = None
    if info.get("pid") is not None:
        local = {
            "root": info.get("root_dir"),
            "log": info.get("log"),
            "pid": info.get("pid"),
            "returncode": None,
            "task_id": None,
        }
    return {"state": "running", "name": info.get("location"), "local": local}


def project_root(info: dict[str, Any]) -> str:
    """The DVC project folder of a running ``info`` (where its ``.dvc`` is)."""
    return os.path.dirname(os.path.normpath(os.path.join(info["root_dir"], info["dvc_dir"])))


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
