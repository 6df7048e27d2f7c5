"""Cached outputs to and from the DVC data remote configured in ``.dvc/config``.

The remote is ``core.remote`` (or the one named) with ``['remote "name"'] url = ...``;
a relative local path is taken from the ``.dvc/`` folder, as DVC does. Objects are laid
out as DVC 3 lays them out: ``<url>/files/md5/<md5[:2]>/<md5[2:]>`` (directories as
their ``.dir`` object plus each file), run-cache records under ``<url>/runs/``. So DVC
pulls what we push and the other way round.

A local path needs nothing more; any other URL (``s3://``, ``gs://``, ``ssh://``...)
goes through fsspec and the filesystem package for its protocol, imported only then.
Every object received is checked against its md5 before it enters the cache; every
object written lands under a temp name first and is renamed into place.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..core.cache import CACHE_MODE, Cache
from ..core.fsutil import tmp_name
from ..core.hashing import md5_file
from ..core.objects import HashInfo
from ..core.repo import Repo
from ..errors import CacheMissingError, DataError, InvalidArgumentError

OBJECTS_PREFIX = "files/md5"
RUNS_PREFIX = "runs"


class _Storage(Protocol):
    def exists(self, rel: str) -> bool: ...
    def put(self, src: Path, rel: str) -> None: ...
    def get(self, rel: str, dest: Path) -> None: ...
    def find(self, rel: str) -> Iterator[str]: ...


@dataclass(frozen=True)
class DataRemote:
    """A DVC remote: its name in the config and its URL (an absolute path when local)."""

    name: str
    url: str

    @property
    def is_local(self) -> bool:
        """True for a path on this machine."""
        return "://" not in self.url or self.url.startswith("file://")

    def storage(self) -> _Storage:
        """The object store behind the URL (fsspec is imported only for non-local URLs)."""
        if self.is_local:
            return _LocalStorage(Path(self.url.removeprefix("file://")))
        return _FsspecStorage(self.url)


@dataclass
class TransferResult:
    """Objects copied, and those the source did not have."""

    transferred: int = 0
    missing: list[str] = field(default_factory=list)


def get_data_remote(repo: Repo, name: str | None = None) -> DataRemote | None:
    """The remote ``name`` (default ``core.remote``); None when none is configured.

    Raises :class:`InvalidArgumentError` for a name that has no ``url`` in the config.
    """
    config = repo.config
    chosen = name or config.get("core", "remote")
    if not chosen:
        return None
    url = config.get(f'remote "{chosen}"', "url")
    if not url:
        raise InvalidArgumentError(
            f"no DVC remote named '{chosen}' in .dvc/config", argument="remote"
        )
    if "://" not in url:
        url = os.path.normpath(os.path.join(repo.dvc_dir, os.path.expanduser(url)))
    return DataRemote(chosen, url)


def _object_rel(md5: str) -> str:
    return f"{OBJECTS_PREFIX}/{md5[:2]}/{md5[2:]}"


def push_objects(repo: Repo, remote: DataRemote, infos: Iterable[HashInfo]) -> TransferResult:
    """Upload what ``infos`` need (a directory: each file, then its ``.dir``).

    Objects the remote has are skipped; ``missing`` lists md5s not in the local cache.
    """
    cache = Cache(repo)
    store = remote.storage()
    result = TransferResult()
    for md5 in _with_tree_files(cache, infos, result):
        if not cache.exists(md5):
            result.missing.append(md5)
        elif not store.exists(_object_rel(md5)):
            store.put(cache.object_path(md5), _object_rel(md5))
            result.transferred += 1
    return result


def _with_tree_files(cache: Cache, infos: Iterable[HashInfo], result: TransferResult) -> list[str]:
    ordered: dict[str, None] = {}
    for info in infos:
        if info.isdir:
            try:
                ordered.update((e.md5, None) for e in cache.read_tree(info.md5))
            except CacheMissingError:
                result.missing.append(info.md5)
                continue
        ordered[info.md5] = None  # a .dir object goes after its files, as DVC does
    return list(ordered)


def pull_objects(repo: Repo, remote: DataRemote, infos: Iterable[HashInfo]) -> TransferResult:
    """Download into the cache what ``infos`` need and the cache lacks.

    ``missing`` lists md5s the remote does not have. Raises :class:`DataError` when a
    downloaded object does not match its md5 (it is discarded).
    """
    cache = Cache(repo)
    store = remote.storage()
    result = TransferResult()
    for info in infos:
        if info.isdir and not _fetch(cache, store, info.md5, result):
            continue
        wanted = [e.md5 for e in cache.read_tree(info.md5)] if info.isdir else [info.md5]
        for md5 in dict.fromkeys(wanted):
            _fetch(cache, store, md5, result)
    return result


def _fetch(cache: Cache, store: _Storage, md5: str, result: TransferResult) -> bool:
    """Make sure object ``md5`` is in the cache; False if the remote lacks it."""
    if cache.exists(md5):
        return True
    rel = _object_rel(md5)
    if not store.exists(rel):
        result.missing.append(md5)
        return False
    dest = cache.object_path(md5)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(dest)
    try:
        store.get(rel, tmp)
        if md5_file(tmp) != md5.removesuffix(".dir"):
            raise DataError(f"object {md5} from the DVC remote is corrupt (md5 mismatch)")
        os.chmod(tmp, CACHE_MODE)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    result.transferred += 1
    return True


def push_run_cache(repo: Repo, remote: DataRemote) -> int:
    """Upload the run-cache records the remote lacks; the number uploaded."""
    runs = Path(repo.cache_dir) / RUNS_PREFIX
    store = remote.storage()
    count = 0
    for path in sorted(runs.rglob("*")) if runs.is_dir() else []:
        rel = f"{RUNS_PREFIX}/{path.relative_to(runs).as_posix()}"
        if path.is_file() and not path.name.endswith(".tmp") and not store.exists(rel):
            store.put(path, rel)
            count += 1
    return count


def pull_run_cache(repo: Repo, remote: DataRemote) -> int:
    """Download the run-cache records the cache lacks; the number downloaded."""
    root = Path(repo.cache_dir)
    store = remote.storage()
    count = 0
    for rel in store.find(RUNS_PREFIX):
        dest = root / rel
        if dest.exists():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = tmp_name(dest)
        try:
            store.get(rel, tmp)
            os.replace(tmp, dest)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        count += 1
    return count


# --- storages ----------------------------------------------------------------------------


class _LocalStorage:
    """A remote that is a folder on this machine."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def exists(self, rel: str) -> bool:
        return (self.root / rel).exists()

    def put(self, src: Path, rel: str) -> None:
        dest = self.root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = tmp_name(dest)
        try:
            shutil.copyfile(src, tmp)
            os.chmod(tmp, CACHE_MODE)  # DVC's local remotes keep objects read-only
            os.replace(tmp, dest)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def get(self, rel: str, dest: Path) -> None:
        shutil.copyfile(self.root / rel, dest)

    def find(self, rel: str) -> Iterator[str]:
        base = self.root / rel
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.endswith(".tmp"):
                yield path.relative_to(self.root).as_posix()


class _FsspecStorage:
    """Any fsspec URL (``s3://``, ``gs://``, ``ssh://``, ``memory://``...)."""

    def __init__(self, url: str) -> None:
        try:
            import fsspec
        except ImportError:
            raise InvalidArgumentError(
                f"the DVC remote '{url}' needs fsspec and the filesystem package for its "
                "protocol (e.g. pip install fsspec s3fs)",
                argument="remote",
            ) from None
        try:
            fs, root = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as exc:
            raise InvalidArgumentError(
                f"cannot open the DVC remote '{url}': {exc}", argument="remote"
            ) from None
        self.fs: Any = fs
        self.root = root.rstrip("/")

    def _path(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    def exists(self, rel: str) -> bool:
        return bool(self.fs.exists(self._path(rel)))

    def put(self, src: Path, rel: str) -> None:
        path = self._path(rel)
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        self.fs.put_file(os.fspath(src), path)

    def get(self, rel: str, dest: Path) -> None:
        self.fs.get_file(self._path(rel), os.fspath(dest))

    def find(self, rel: str) -> Iterator[str]:
        base = self._path(rel)
        if not self.fs.exists(base):
            return
        for path in sorted(self.fs.find(base)):
            yield path[len(self.root) + 1 :] if path.startswith(self.root) else path
