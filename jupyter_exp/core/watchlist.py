"""What a no-op ``repro`` decision rested on: the paths the up-to-date stamp watches.

See :mod:`jupyter_exp.core.uptodate` for how the stamp is checked and why it is safe.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable

from ..errors import CacheMissingError
from .context import RunContext
from .index import Index
from .objects import HashInfo
from .params import consulted_params_files
from .pipeline.model import Stage
from .uptodate import walk_tree

_IGNORE_FILES = (".gitignore", ".dvcignore")


def watched_paths(index: Index, ctx: RunContext, stages: Iterable[Stage]) -> list[str]:
    """Repo-relative paths whose stat signatures decide that ``stages`` are up to date."""
    repo = index.repo
    root = str(repo.root)
    paths: set[str] = {".dvc/config", ".dvc/config.local", ".git/info/exclude"}
    for folder in index.visited:
        paths.add(folder)
        paths.update(posixpath.join(folder, name) for name in _IGNORE_FILES)
    paths.update(f.path for f in index.files)
    for path in consulted_params_files():
        rel = os.path.relpath(path, root)
        if not rel.startswith(".."):
            paths.add(rel)
    for stage in stages:
        paths.add(stage.dvcfile)
        if not stage.is_data_source:
            paths.add(stage.lockfile)
        for item in (*stage.deps, *stage.outs):
            paths.update(walk_tree(root, item.repo_path))
        paths.update(p.repo_path for p in stage.params)
        entry = ctx.lock_entry(stage)
        if entry is None:
            continue
        for out in stage.outs:
            info = entry.outs.get(out.def_path)
            if out.cache and info is not None:
                paths.update(_cache_objects(ctx, info, root))
    return sorted(paths)


def _cache_objects(ctx: RunContext, info: HashInfo, root: str) -> list[str]:
    """Cache files an output needs (the ``.dir`` object and each file of a directory)."""
    cache = ctx.cache
    objects = [cache.object_path(info.md5)]
    if info.isdir:
        try:
            tree = cache.read_tree(info.md5)
        except CacheMissingError:
            tree = []
        objects += [cache.object_path(entry.md5) for entry in tree]
    return [os.path.relpath(path, root) for path in objects]
