"""Finding every ``dvc.yaml`` of a project, fast.

One ``os.scandir`` walk that never enters ``.git``, ``.dvc``, hidden folders, nested DVC
projects (folders with their own ``.dvc``), symlinked folders, or folders ignored by a
``.gitignore``/``.dvcignore`` on the way (DVC skips git-ignored and dvc-ignored pipeline
files too). Pruning ignored folders matters: DVC outputs, often large data folders, are
git-ignored.
"""

from __future__ import annotations

import os

from ..ignore_rules import Rule, is_ignored, parse_ignore
from ..repo import Repo

PIPELINE_FILE = "dvc.yaml"
_IGNORE_FILES = (".gitignore", ".dvcignore")


def find_pipeline_files(repo: Repo, visited: list[str] | None = None) -> list[str]:
    """Repo-relative POSIX paths of every ``dvc.yaml`` in the project, sorted.

    ``visited``, when given, receives every folder the walk looked into (the
    up-to-date stamp watches them for new pipeline files).
    """
    root = str(repo.root)
    found: list[str] = []
    rules: list[Rule] = []
    exclude = os.path.join(root, ".git", "info", "exclude")
    if os.path.isfile(exclude):
        rules.extend(parse_ignore(_read(exclude), ""))
    _walk(root, "", rules, found, visited)
    found.sort()
    return found


def _walk(
    folder: str, rel: str, rules: list[Rule], found: list[str], visited: list[str] | None
) -> None:
    if visited is not None:
        visited.append(rel or ".")
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except (PermissionError, FileNotFoundError, NotADirectoryError):
        return
    names = {e.name for e in entries}
    if rel and ".dvc" in names:
        return  # a nested DVC project: its pipelines are its own
    local = rules
    for name in _IGNORE_FILES:
        if name in names:
            extra = parse_ignore(_read(os.path.join(folder, name)), rel)
            if extra:
                local = [*local, *extra]
    for entry in entries:
        name = entry.name
        path = f"{rel}/{name}" if rel else name
        if name == PIPELINE_FILE:
            if entry.is_file() and not (local and is_ignored(local, path, False)):
                found.append(path)
            continue
        if name.startswith(".") or not entry.is_dir(follow_symlinks=False):
            continue
        if local and is_ignored(local, path, True):
            continue
        _walk(entry.path, path, local, found, visited)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fobj:
            return fobj.read()
    except OSError:
        return ""
