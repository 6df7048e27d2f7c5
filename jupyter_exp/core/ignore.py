"""Which workspace files DVC looks at: ``.dvcignore`` and the built-in ignores.

DVC never collects ``.git``, ``.hg/`` and ``.dvc/`` entries inside a directory, and skips
what ``.dvcignore`` files (gitignore syntax, each rooted at its own folder, deeper files
overriding shallower ones) exclude. It refuses to collect a directory that itself
contains a ``.dvcignore``. Symlinks to files count as files (their target's content);
symlinks to directories are not followed, as ``os.walk`` does for DVC.

:func:`walk_files` is the single directory walk used for hashing and for checkout's
clean-up, so both agree on what belongs to a directory output.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import DataError
from .ignore_rules import parse_ignore, verdict

__all__ = ["DVCIGNORE", "DvcIgnore", "WalkEntry", "walk_files"]

DVCIGNORE = ".dvcignore"
# DVC's default patterns: ".hg/", ".git/", ".git", ".dvc/" (anywhere in the tree).
_IGNORED_NAMES = frozenset({".git"})
_IGNORED_DIR_NAMES = frozenset({".git", ".hg", ".dvc"})


@dataclass(frozen=True)
class WalkEntry:
    """A file found by :func:`walk_files`: POSIX path inside the walked dir and its stat."""

    relpath: str
    path: str
    stat: os.stat_result


class _Spec:
    """The patterns of one ``.dvcignore``, rooted at ``base`` (repo-relative POSIX)."""

    def __init__(self, base: str, lines: list[str]) -> None:
        self.base = "" if base in ("", ".") else base
        self.rules = parse_ignore("\n".join(lines), "")

    def check(self, repo_path: str, is_dir: bool) -> bool | None:
        """True ignored, False re-included, None not mentioned."""
        if self.base:
            if not repo_path.startswith(self.base + "/"):
                return None
            rel = repo_path[len(self.base) + 1 :]
        else:
            rel = repo_path
        return verdict(self.rules, rel, is_dir)


@lru_cache(maxsize=128)
def _load_spec(path: str, folder: str, mtime_ns: int, size: int) -> _Spec | None:
    # Keyed by stat so an edited .dvcignore is re-read, an unchanged one parsed once.
    try:
        with open(path, encoding="utf-8") as fobj:
            return _Spec(folder, fobj.read().splitlines())
    except (FileNotFoundError, IsADirectoryError):
        return None


class DvcIgnore:
    """The ignore rules of a repository rooted at ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._specs: dict[str, _Spec | None] = {}

    def _spec(self, folder: str) -> _Spec | None:
        if folder not in self._specs:
            path = self.root / folder / DVCIGNORE if folder else self.root / DVCIGNORE
            try:
                st = os.stat(path)
            except (FileNotFoundError, NotADirectoryError):
                self._specs[folder] = None
            else:
                self._specs[folder] = _load_spec(
                    os.fspath(path), folder, st.st_mtime_ns, st.st_size
                )
        return self._specs[folder]

    def specs_above(self, repo_path: str) -> list[_Spec]:
        """``.dvcignore`` specs of the folders containing ``repo_path``, deepest first."""
        folders = [""]
        parent = posixpath.dirname(repo_path)
        parts = parent.split("/") if parent else []
        folders += ["/".join(parts[: i + 1]) for i in range(len(parts))]
        return [s for s in (self._spec(f) for f in reversed(folders)) if s is not None]

    def matches(self, repo_path: str, is_dir: bool) -> bool:
        """True when ``repo_path`` itself is excluded (its parents are not looked at)."""
        name = repo_path.rsplit("/", 1)[-1]
        if name in _IGNORED_NAMES or (is_dir and name in _IGNORED_DIR_NAMES):
            return True
        return _decide(self.specs_above(repo_path), repo_path, is_dir)

    def is_ignored(self, repo_path: str, is_dir: bool) -> bool:
        """True when DVC would not see ``repo_path`` (itself or a parent ignored)."""
        if repo_path in ("", "."):
            return False
        parts = repo_path.split("/")
        for i, name in enumerate(parts):
            last = i == len(parts) - 1
            sub_is_dir = is_dir or not last
            if name in _IGNORED_NAMES or (sub_is_dir and name in _IGNORED_DIR_NAMES):
                return True
            sub = "/".join(parts[: i + 1])
            if _decide(self.specs_above(sub), sub, sub_is_dir):
                return True
        return False


def _decide(specs: list[_Spec], repo_path: str, is_dir: bool) -> bool:
    for spec in specs:  # deepest first: the first one that mentions the path decides
        verdict = spec.check(repo_path, is_dir)
        if verdict is not None:
            return verdict
    return False


def walk_files(
    top: Path,
    repo_path: str | None = None,
    ignore: DvcIgnore | None = None,
    *,
    strict: bool = True,
) -> Iterator[WalkEntry]:
    """Every file under the directory ``top`` that DVC would collect.

    ``repo_path`` is ``top`` relative to the repository (needed for ``.dvcignore``
    rules; without ``ignore`` only the built-in ignores apply). Raises
    :class:`DataError` for a ``.dvcignore`` inside ``top`` or a broken symlink;
    with ``strict=False`` (clean-up walks) both are yielded instead, broken links with
    their ``lstat``.
    """
    prefix = "" if repo_path in (None, "", ".") else f"{repo_path}/"
    specs = ignore.specs_above(prefix + "x") if ignore is not None else []
    top_str = os.fspath(top)
    stack: list[tuple[str, str]] = [(top_str, "")]
    while stack:
        folder, rel_folder = stack.pop()
        with os.scandir(folder) as entries:
            items = list(entries)
        for entry in items:
            name = entry.name
            if name == DVCIGNORE and strict:
                shown = (prefix + rel_folder).rstrip("/") if repo_path else folder
                raise DataError(f"{DVCIGNORE} file should not be in collected dir path: '{shown}'")
            rel = f"{rel_folder}/{name}" if rel_folder else name
            try:
                is_dir = entry.is_dir()  # follows symlinks, as os.walk does
            except OSError:
                is_dir = False
            if name in _IGNORED_NAMES or (is_dir and name in _IGNORED_DIR_NAMES):
                continue
            if specs and _decide(specs, prefix + rel, is_dir):
                continue
            if is_dir:
                if not entry.is_symlink():
                    stack.append((entry.path, rel))
                continue
            try:
                st = entry.stat()  # follows symlinks: a link counts as its target
            except FileNotFoundError:
                if strict:
                    raise DataError(f"'{entry.path}' is a broken symlink") from None
                st = entry.stat(follow_symlinks=False)
                yield WalkEntry(rel, entry.path, st)
                continue
            if stat.S_ISREG(st.st_mode):
                yield WalkEntry(rel, entry.path, st)
