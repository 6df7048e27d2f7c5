"""Where a project lives on disk: its root, ``.dvc/`` layout, config and lock.

A :class:`Repo` is the context every engine function receives. It creates what it
needs on first use (``.dvc/``, ``.dvc/tmp``, the cache) so no command requires
``init`` first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from ..errors import NotInRepositoryError, PathOutsideRepoError
from .config import Config, load_config
from .flock import hold_flock

DVC_DIR = ".dvc"

# What `dvc init` writes; DVC reads an empty config happily.
_DVC_GITIGNORE = "/config.local\n/tmp\n/cache\n"


class Repo:
    """A project root containing (or about to contain) ``.dvc/``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    @classmethod
    def find(cls, start: str | os.PathLike[str] = ".") -> Repo:
        """The repository that contains ``start``: nearest folder with ``.dvc`` or ``.git``.

        A ``.dvc`` folder wins over an enclosing ``.git`` (DVC projects in a monorepo
        subfolder). Raises :class:`NotInRepositoryError` when neither exists.
        """
        here = Path(start).resolve()
        if here.is_file():
            here = here.parent
        git_root: Path | None = None
        for folder in (here, *here.parents):
            if (folder / DVC_DIR).is_dir():
                return cls(folder)
            if git_root is None and (folder / ".git").exists():
                git_root = folder
        if git_root is not None:
            return cls(git_root)
        raise NotInRepositoryError(str(start))

    # --- layout --------------------------------------------------------------------------

    @property
    def dvc_dir(self) -> Path:
        """``<root>/.dvc``."""
        return self.root / DVC_DIR

    @property
    def tmp_dir(self) -> Path:
        """``<root>/.dvc/tmp``: scratch state, never committed."""
        return self.dvc_dir / "tmp"

    @cached_property
    def config(self) -> Config:
        """``.dvc/config`` merged with ``.dvc/config.local``."""
        return load_config(self.dvc_dir)

    @property
    def cache_dir(self) -> Path:
        """The cache root (``.dvc/cache`` unless ``cache.dir`` says otherwise)."""
        configured = self.config.cache_dir
        if configured:
            path = Path(configured)
            return path if path.is_absolute() else (self.dvc_dir / path).resolve()
        return self.dvc_dir / "cache"

    def ensure_dvc_dir(self) -> bool:
        """Create ``.dvc/`` as ``dvc init`` would; return True if it was created."""
        created = not self.dvc_dir.is_dir()
        self.dvc_dir.mkdir(exist_ok=True)
        config = self.dvc_dir / "config"
        if not config.exists():
            config.write_text("")
        gitignore = self.dvc_dir / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text(_DVC_GITIGNORE)
        self.tmp_dir.mkdir(exist_ok=True)
        return created

    # --- paths ---------------------------------------------------------------------------

    def abspath(self, repo_path: str) -> Path:
        """Absolute path of a repo-relative POSIX path."""
        return self.root if repo_path in ("", ".") else self.root / repo_path

    def relpath(self, path: str | os.PathLike[str]) -> str:
        """Repo-relative POSIX path of ``path`` (absolute, or relative to the cwd).

        Raises :class:`PathOutsideRepoError` when it resolves outside the root.
        """
        absolute = Path(os.path.abspath(path))
        try:
            rel = absolute.relative_to(self.root)
        except ValueError:
            raise PathOutsideRepoError(str(path)) from None
        text = rel.as_posix()
        return text or "."

    # --- locking -------------------------------------------------------------------------

    @contextmanager
    def lock(self, timeout: float = 3.0) -> Iterator[None]:
        """Hold the repository lock: ``.dvc/tmp/lock``, the same flock DVC takes.

        So two jupyter-exp processes, or jupyter-exp and DVC, never write the workspace,
        cache and lock files at once. Waits up to ``timeout`` seconds (-1: forever).
        """
        self.ensure_dvc_dir()
        path = self.tmp_dir / "lock"
        with hold_flock(path, timeout):
            yield
