"""Expanding a parsed ``dvc.yaml``: ``vars``, ``foreach``, ``matrix`` and ``${}``.

The counterpart of DVC's ``dvc/parsing/__init__.py`` (DataResolver): the context starts
with the default ``params.yaml`` next to ``dvc.yaml`` and the top-level ``vars``; each
stage may add its own ``vars`` (relative to its ``wdir``); ``foreach``/``matrix`` groups
expand to ``group@key`` stages whose names are built exactly as DVC builds them.

A file without any ``${`` skips the context entirely: that is the common case and it
keeps loading a pipeline near a millisecond.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from ...errors import InterpolationError, PathOutsideRepoError
from ..params import read_params_file
from ..repo import Repo
from ..yamlio import find_line
from .interpolate import (
    KEYCRE,
    Context,
    ResolveFailure,
    Source,
    has_interpolation,
    parse_expr,
    to_str,
)
from .model import DEFAULT_PARAMS_FILE
from .paths import PathResolver

JOIN = "@"
_LOCAL: Source = (None, ())


@dataclass
class ResolvedStage:
    """One stage after expansion: its DVC name and its definition with ``${}`` resolved.

    ``keys`` is where the definition sits in the YAML (for line numbers), ``wdir`` the
    resolved, repo-relative working directory, ``tracked`` the params read through
    ``${}`` ({params file: {dotted key: value}}).
    """

    name: str
    group: str
    data: dict[str, Any]
    keys: tuple[str | int, ...]
    wdir: str
    tracked: dict[str, dict[str, Any]] = field(default_factory=dict)


class Resolver:
    """Resolves the stages and top-level sections of one ``dvc.yaml``."""

    def __init__(
        self, repo: Repo, dvcfile: str, text: str, data: dict[str, Any], paths: PathResolver
    ) -> None:
        self.repo = repo
        self.dvcfile = dvcfile
        self.text = text
        self.data = data
        self.paths = paths
        self.dir = posixpath.dirname(dvcfile) or "."
        self.config = _parsing_config(repo)
        self.interpolated = "${" in text
        self.context = Context()
        if self.interpolated or data.get("vars"):
            self._load_vars(self.context, data.get("vars") or [], self.dir, None, ("vars",))

    # --- errors --------------------------------------------------------------------------

    def fail(
        self, exc: ResolveFailure, keys: tuple[str | int, ...], stage: str | None
    ) -> InterpolationError:
        """The InterpolationError for ``exc`` raised under ``keys`` of the YAML."""
        full = (*keys, *exc.keys)
        detail = exc.detail
        if exc.expr is not None:
            field_keys = full
            if field_keys[:1] == ("stages",):
                field_keys = field_keys[3:] if field_keys[2:3] == ("do",) else field_keys[2:]
            where = _describe(field_keys)
            detail = f"cannot interpolate '{exc.expr}'{where}: {detail}"
        return InterpolationError(
            detail, path=self.dvcfile, line=find_line(self.text, full), stage=stage
        )

    # --- vars ----------------------------------------------------------------------------

    def _load_vars(
        self,
        ctx: Context,
        vars_: list[Any],
        wdir: str,
        stage: str | None,
        keys: tuple[str | int, ...],
    ) -> None:
        try:
            for i, item in enumerate(vars_):
                if _contains_interpolation(item):
                    raise ResolveFailure("interpolating is not allowed in 'vars'", (i,))
            if stage is None:
                default = self.paths.repo_path(wdir, DEFAULT_PARAMS_FILE)
                if default and os.path.exists(self.repo.abspath(default)):
                    self._merge_file(ctx, DEFAULT_PARAMS_FILE, wdir, keys, stage)
            for i, item in enumerate(vars_):
                if isinstance(item, str):
                    try:
                        self._merge_file(ctx, item, wdir, (*keys, i), stage)
                    except ResolveFailure as exc:
                        exc.keys = (i,)
                        raise
                else:
                    origin = f"{stage}.vars[{i}]" if stage else f"vars[{i}]"
                    try:
                        ctx.merge(item, None, origin)
                    except ResolveFailure as exc:
                        exc.keys = (i,)
                        raise
        except ResolveFailure as exc:
            raise self.fail(exc, keys, stage) from None

    def _merge_file(
        self, ctx: Context, item: str, wdir: str, keys: tuple[str | int, ...], stage: str | None
    ) -> None:
        file, _, keys_str = item.partition(":")
        repo_path = self.paths.repo_path(wdir, file)
        if repo_path is None:
            raise PathOutsideRepoError(
                file, path=self.dvcfile, line=find_line(self.text, keys), stage=stage
            )
        select = [k for k in keys_str.split(",") if k] if keys_str else None
        if repo_path in ctx.imports:
            loaded = ctx.imports[repo_path]
            if not select and loaded is None:
                return  # the whole file again: allowed, nothing to do
            # dvc/parsing/context.py check_loaded
            if select and loaded is None:
                raise ResolveFailure(f"cannot partially load '{item}' as it is already loaded")
            if not select or set(select) & set(loaded or ()):
                raise ResolveFailure(f"cannot load '{item}' as it is partially loaded already")
        absolute = self.repo.abspath(repo_path)
        if not absolute.exists():
            raise ResolveFailure(f"vars file '{repo_path}' does not exist")
        if absolute.is_dir():
            raise ResolveFailure(f"vars file '{repo_path}' is a directory")
        data = read_params_file(self.repo, repo_path)
        if select:
            missing = [k for k in select if k not in data]
            if missing:
                raise ResolveFailure(f"could not find '{missing[0]}' in '{repo_path}'")
            data = {k: data[k] for k in select}
        ctx.merge(data, repo_path, repo_path)
        if repo_path not in ctx.imports or ctx.imports[repo_path] is None:
            ctx.imports[repo_path] = list(select) if select else None
        else:
            ctx.imports[repo_path].extend(select or [])  # type: ignore[union-attr]

    # --- stages --------------------------------------------------------------------------

    def stages(self) -> Iterator[ResolvedStage]:
        """Every stage of the file, ``foreach``/``matrix`` groups expanded, in file order."""
        for group, definition in (self.data.get("stages") or {}).items():
            keys: tuple[str | int, ...] = ("stages", group)
            if "foreach" in definition:
                yield from self._foreach(group, definition, keys)
            elif "matrix" in definition:
                yield from self._matrix(group, definition, keys)
            else:
                yield self._stage(group, group, definition, keys)

    def _iteration_values(
        self, data: Any, keys: tuple[str | int, ...], group: str
    ) -> tuple[Any, Source, bool]:
        """Resolve foreach/matrix data: (value, its source, whether it came from ``${}``).

        Values looked up with a whole-value ``${x}`` behave like DVC's context nodes:
        their names render with ``str()`` (``True``, not ``true``) and keep their source.
        """
        try:
            if isinstance(data, str) and has_interpolation(data):
                matches = list(KEYCRE.finditer(data))
                if len(matches) == 1 and matches[0].group(0) == data:
                    value, source = self._lookup_with_source(matches[0]["inner"])
                    return value, source, True
            if isinstance(data, (str, dict)):
                return self.context.resolve(data, None, self.config), _LOCAL, False
            return data, _LOCAL, False
        except ResolveFailure as exc:
            raise self.fail(exc, keys, group) from None

    def _lookup_with_source(self, inner: str) -> tuple[Any, Source]:
        try:
            value, path = self.context.select(parse_expr(inner), inner)
        except ResolveFailure as exc:
            exc.expr = f"${{{inner}}}"
            raise
        return value, self.context.source_of(path)

    def _elements(
        self,
        values: list[Any],
        source: Source,
        is_node: bool,
        keys: tuple[str | int, ...],
        group: str,
    ) -> list[tuple[Any, Source, bool]]:
        """Elements of a resolved list with their sources (``${}`` elements keep theirs)."""
        out = []
        for i, value in enumerate(values):
            if source[0] is not None:
                out.append((value, (source[0], (*source[1], str(i))), is_node))
            elif is_node or not isinstance(value, (str, dict, list)):
                out.append((value, _LOCAL, is_node))
            elif isinstance(value, str):
                out.append(self._iteration_values(value, (*keys, i), group))
            else:
                try:
                    out.append((self.context.resolve(value, None, self.config), _LOCAL, False))
                except ResolveFailure as exc:
                    exc.keys = (i, *exc.keys)
                    raise self.fail(exc, keys, group) from None
        return out

    def _foreach(
        self, group: str, definition: dict[str, Any], keys: tuple[str | int, ...]
    ) -> Iterator[ResolvedStage]:
        data, source, is_node = self._iteration_values(
            definition["foreach"], (*keys, "foreach"), group
        )
        template = definition["do"]
        tkeys = (*keys, "do")
        if isinstance(data, dict):
            for key, value in data.items():
                if not isinstance(key, str) and source[0] is not None:
                    continue  # DVC's context drops non-string keys of params data
                item_source = (source[0], (*source[1], str(key))) if source[0] else _LOCAL
                name = f"{group}{JOIN}{to_str(key)}"
                temp = {"item": (value, item_source), "key": (to_str(key), _LOCAL)}
                yield self._stage(name, group, template, tkeys, temp)
            return
        if not isinstance(data, list):
            raise InterpolationError(
                f"'foreach' must give a list or a mapping, got {type(data).__name__}",
                path=self.dvcfile,
                line=find_line(self.text, (*keys, "foreach")),
                stage=group,
            )
        elements = self._elements(data, source, is_node, (*keys, "foreach"), group)
        composite = any(isinstance(v, (dict, list)) for v, _, _ in elements)
        items: dict[str, tuple[Any, Source]] = {}
        for index, (value, src, node) in enumerate(elements):
            # DVC: indexes for lists of lists/mappings, else the (rendered) values
            key = str(index) if composite else (str(value) if node else to_str(value))
            items[key] = (value, src)
        for key, (value, src) in items.items():
            yield self._stage(f"{group}{JOIN}{key}", group, template, tkeys, {"item": (value, src)})

    def _matrix(
        self, group: str, definition: dict[str, Any], keys: tuple[str | int, ...]
    ) -> Iterator[ResolvedStage]:
        template = {k: v for k, v in definition.items() if k != "matrix"}
        dims: dict[str, list[tuple[Any, Source, bool]]] = {}
        for dim, raw in definition["matrix"].items():
            dkeys = (*keys, "matrix", dim)
            value, source, is_node = self._iteration_values(raw, dkeys, group)
            if not isinstance(value, list):
                raise InterpolationError(
                    f"'matrix.{dim}' must give a list, got {type(value).__name__}",
                    path=self.dvcfile,
                    line=find_line(self.text, dkeys),
                    stage=group,
                )
            dims[dim] = self._elements(value, source, is_node, dkeys, group)
        seen: dict[str, dict[str, tuple[Any, Source]]] = {}
        for combination in product(*(enumerate(v) for v in dims.values())):
            fragments = []
            item: dict[str, tuple[Any, Source]] = {}
            for dim, (i, (value, src, node)) in zip(dims, combination, strict=True):
                item[dim] = (value, src)
                if isinstance(value, (dict, list)):
                    fragments.append(f"{dim}{i}")
                else:
                    fragments.append(str(value) if node else to_str(value))
            seen["-".join(fragments)] = item
        for key, item in seen.items():
            value = {dim: v for dim, (v, _) in item.items()}
            temp = {"key": (key, _LOCAL), "item": (value, _LOCAL)}
            extra = {("item", dim): src for dim, (_, src) in item.items() if src[0]}
            yield self._stage(f"{group}{JOIN}{key}", group, template, keys, temp, extra)

    def _stage(
        self,
        name: str,
        group: str,
        definition: dict[str, Any],
        keys: tuple[str | int, ...],
        temp: dict[str, tuple[Any, Source]] | None = None,
        extra_sources: dict[tuple[str, ...], Source] | None = None,
    ) -> ResolvedStage:
        if not self.interpolated:
            wdir = self._join_wdir(definition.get("wdir"), keys, name)
            if definition.get("vars"):
                ctx = self.context.clone()
                ctx.reserved |= set(temp or ())  # item/key stay reserved, as in DVC
                self._load_vars(ctx, definition["vars"], wdir, name, (*keys, "vars"))
            data = {k: v for k, v in definition.items() if k != "vars"}
            return ResolvedStage(name, group, data, keys, wdir)
        ctx = self.context
        with ctx.temporarily(temp or {}, extra_sources or {}):
            try:
                raw_wdir = definition.get("wdir")
                if raw_wdir is not None:
                    raw_wdir = to_str(ctx.resolve(raw_wdir, None, self.config))
            except ResolveFailure as exc:
                exc.keys = ("wdir", *exc.keys)
                raise self.fail(exc, keys, name) from None
            wdir = self._join_wdir(raw_wdir, keys, name)
            vars_ = definition.get("vars")
            if vars_:
                ctx = ctx.clone()
                self._load_vars(ctx, vars_, wdir, name, (*keys, "vars"))
            resolved: dict[str, Any] = {}
            with ctx.track() as tracked:
                for key, value in definition.items():
                    if key == "vars":
                        continue
                    try:
                        resolved[key] = ctx.resolve(value, key, self.config)
                    except ResolveFailure as exc:
                        exc.keys = (key, *exc.keys)
                        raise self.fail(exc, keys, name) from None
        return ResolvedStage(name, group, resolved, keys, wdir, tracked)

    def _join_wdir(self, wdir: Any, keys: tuple[str | int, ...], stage: str) -> str:
        if not wdir:
            return self.dir
        repo_path = self.paths.repo_path(self.dir, str(wdir))
        if repo_path is None or not self.paths.dir_inside(repo_path):
            raise PathOutsideRepoError(
                str(wdir),
                path=self.dvcfile,
                line=find_line(self.text, (*keys, "wdir")),
                stage=stage,
            )
        return repo_path

    # --- top-level sections ---------------------------------------------------------------

    def section(self, key: str) -> Any:
        """A top-level section (``params``, ``metrics``, ``plots``...) resolved."""
        value = self.data.get(key)
        if value is None:
            return {} if key == "artifacts" else []
        if not self.interpolated:
            return value
        try:
            return self.context.resolve(value, None, self.config)
        except ResolveFailure as exc:
            raise self.fail(exc, (key,), None) from None


def _contains_interpolation(value: Any) -> bool:
    if isinstance(value, str):
        return has_interpolation(value)
    if isinstance(value, dict):
        return any(
            _contains_interpolation(k) or _contains_interpolation(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_contains_interpolation(v) for v in value)
    return False


def _describe(keys: tuple[str | int, ...]) -> str:
    """``('outs', 0, 'model.pkl')`` -> ``outs[0].model.pkl`` for messages."""
    text = ""
    for key in keys:
        if isinstance(key, int):
            text += f"[{key}]"
        else:
            text += f".{key}" if text else str(key)
    return f" in '{text}'" if text else ""


def _parsing_config(repo: Repo) -> dict[str, str]:
    # DVC's `parsing` config section: how booleans and lists render in a dict in `cmd`.
    config = repo.config
    out = {}
    for key in ("bool", "list"):
        value = config.get("parsing", key)
        if value:
            out[key] = value
    return out
