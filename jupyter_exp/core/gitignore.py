"""Keep DVC-tracked data out of Git: ``/name`` lines in the folder's ``.gitignore``.

DVC (scmrepo's ``Git.ignore``) appends ``/<name>`` -- glob characters escaped -- to
the ``.gitignore`` next to the tracked path, unless Git already ignores the path. It
adds a newline first when the file does not end with one and never writes a line
twice. We do the same, deciding "already ignored" with gitignore semantics over
``.git/info/exclude`` and every ``.gitignore`` from the root down.
"""

from __future__ import annotations

import os
import posixpath
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .ignore_rules import Rule, parse_ignore, verdict

if TYPE_CHECKING:
    from .repo import Repo

__all__ = ["GITIGNORE", "ensure_ignored", "escape_entry", "git_root", "is_git_repo", "is_ignored"]

GITIGNORE = ".gitignore"
_GLOB_CHARS = "[]!*#?"


def git_root(path: str | os.PathLike[str]) -> Path | None:
    """The work tree root containing ``path`` (nearest folder with ``.git``), or None."""
    here = Path(os.path.abspath(path))
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return None


def is_git_repo(root: str | os.PathLike[str]) -> bool:
    """True when ``root`` is inside a Git work tree."""
    return git_root(root) is not None


def escape_entry(entry: str) -> str:
    """Escape gitignore glob characters, as Git's own escaping."""
    return "".join("\\" + c if c in _GLOB_CHARS else c for c in entry)


def _git_dir(work_tree: Path) -> Path | None:
    dot_git = work_tree / ".git"
    if dot_git.is_dir():
        return dot_git
    try:  # a worktree or submodule: ".git" is a file pointing at the real git dir
        text = dot_git.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None
    git_dir = Path(text[len("gitdir:") :].strip())
    git_dir = git_dir if git_dir.is_absolute() else (work_tree / git_dir)
    common = git_dir / "commondir"
    if common.is_file():
        ref = Path(common.read_text(encoding="utf-8").strip())
        git_dir = ref if ref.is_absolute() else git_dir / ref
    return git_dir


@lru_cache(maxsize=256)
def _spec(path: str, mtime_ns: int, size: int) -> list[Rule]:
    with open(path, encoding="utf-8", errors="surrogateescape") as fobj:
        return parse_ignore(fobj.read(), "")


def _load(path: Path) -> list[Rule] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _spec(os.fspath(path), st.st_mtime_ns, st.st_size)


def is_ignored(work_tree: Path, rel: str, is_dir: bool = False) -> bool:
    """True when Git ignores ``rel`` (POSIX, relative to ``work_tree``).

    A path is ignored when a parent folder is, or when the deciding pattern (deepest
    ``.gitignore`` first, last match within a file) excludes it.
    """
    git_dir = _git_dir(work_tree)
    exclude = _load(git_dir / "info" / "exclude") if git_dir is not None else None
    parts = rel.split("/")
    for i in range(len(parts)):
        sub = "/".join(parts[: i + 1])
        sub_is_dir = is_dir or i < len(parts) - 1
        folders = ["/".join(parts[:j]) for j in range(i + 1)]  # "", "a", "a/b"...
        said: bool | None = None
        for folder in reversed(folders):
            spec = _load(work_tree / folder / GITIGNORE if folder else work_tree / GITIGNORE)
            if spec is None:
                continue
            local = sub[len(folder) + 1 :] if folder else sub
            said = verdict(spec, local, sub_is_dir)
            if said is not None:
                break
        if said is None and exclude is not None:
            said = verdict(exclude, sub, sub_is_dir)
        if said:
            return True
    return False


def ensure_ignored(repo: Repo, repo_path: str) -> str | None:
    """Add ``/name`` for ``repo_path`` to ``<parent>/.gitignore`` as ``dvc add`` does.

    Does nothing outside a Git work tree or when Git already ignores the path. Returns
    the repo-relative path of the ``.gitignore`` when it was changed.
    """
    work_tree = git_root(repo.root)
    if work_tree is None:
        return None
    target = repo.abspath(repo_path)
    try:
        rel_git = target.relative_to(work_tree).as_posix()
    except ValueError:
        return None
    # dulwich (what DVC asks) looks at the work tree to know whether it is a folder.
    if is_ignored(work_tree, rel_git, is_dir=target.is_dir()):
        return None
    entry = "/" + escape_entry(target.name)
    gitignore = target.parent / GITIGNORE
    try:
        data = gitignore.read_bytes()
    except FileNotFoundError:
        data = b""
    text = data.decode("utf-8", errors="surrogateescape")
    prefix = "" if not text or text.endswith("\n") else "\n"
    line = f"{prefix}{entry}\n"
    if line in set(text.splitlines(keepends=True)):
        return None
    # Append in place like DVC (a+): the file is Git-tracked and small.
    with open(gitignore, "a", encoding="utf-8", errors="surrogateescape") as fobj:
        fobj.write(line)
    return posixpath.normpath(repo.relpath(gitignore))
