"""Loading one ``dvc.yaml`` into :class:`~.model.Stage` objects (DVC 3 semantics).

Parse (libyaml, YAML 1.2) -> validate the raw data (:mod:`.schema`) -> expand ``vars``,
``foreach``, ``matrix`` and ``${}`` (:mod:`.resolve`) -> build stages the way DVC's
``StageLoader.load_stage`` does: ``deps`` then ``params`` (merged per file, plain keys
going to ``params.yaml``), ``outs`` then ``metrics`` then ``plots`` (entries for the same
path merged), every path resolved against the stage's ``wdir`` and kept inside the repo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from ...errors import (
    PathOutsideRepoError,
    PipelineError,
    PipelineSchemaError,
    PipelineSyntaxError,
    StageNotFoundError,
)
from ..repo import Repo
from ..yamlio import Yaml12Loader, find_line, load_yaml
from .model import DEFAULT_PARAMS_FILE, Dependency, Output, ParamsDependency, PipelineFile, Stage
from .paths import PathResolver
from .resolve import ResolvedStage, Resolver
from .schema import ANNOTATION_KEYS, PLOT_PROPS, validate_pipeline

_KINDS = (("outs", "out"), ("metrics", "metric"), ("plots", "plot"))


@dataclass
class LoadedPipelineFile(PipelineFile):
    """A :class:`PipelineFile` plus what DVC learns while resolving it.

    ``tracked_vars`` maps each stage name to the params it read through ``${}``:
    ``{params file (repo path): {dotted key: value}}``. DVC shows these in
    ``params show``/``exp show`` but does not record them in ``dvc.lock``.
    """

    tracked_vars: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


def load_pipeline_file(repo: Repo, dvcfile: str) -> LoadedPipelineFile:
    """Load and validate the ``dvc.yaml`` at repo-relative POSIX path ``dvcfile``.

    Raises :class:`PipelineSyntaxError`, :class:`PipelineSchemaError`,
    :class:`InterpolationError`, :class:`PathOutsideRepoError` (each with file and line),
    :class:`ParamsFileError` for an unreadable ``vars``/``params.yaml`` file, and
    :class:`StageNotFoundError` when the file does not exist.
    """
    try:
        with open(repo.abspath(dvcfile), encoding="utf-8") as fobj:
            text = fobj.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise StageNotFoundError(dvcfile, path=dvcfile) from None
    except UnicodeDecodeError:
        raise PipelineSyntaxError("the file is not valid UTF-8", path=dvcfile) from None
    except OSError as exc:
        raise PipelineError(f"cannot read the file: {exc.strerror}", path=dvcfile) from None
    data, stage_lines = _parse(text, dvcfile)
    validate_pipeline(data, text, dvcfile)
    paths = PathResolver(str(repo.root))
    resolver = Resolver(repo, dvcfile, text, data, paths)
    builder = _StageBuilder(dvcfile, text, paths)
    result = LoadedPipelineFile(path=dvcfile)
    for resolved in resolver.stages():
        stage = builder.build(resolved, stage_lines.get(resolved.group))
        result.stages.append(stage)
        if resolved.tracked:
            result.tracked_vars[stage.name] = resolved.tracked
    result.params = resolver.section("params")
    result.metrics = resolver.section("metrics")
    result.plots = resolver.section("plots")
    result.artifacts = resolver.section("artifacts")
    result.datasets = resolver.section("datasets")
    return result


def _parse(text: str, path: str) -> tuple[Any, dict[str, int]]:
    """The data of ``text`` and the line of each stage name, from one libyaml pass."""
    loader = Yaml12Loader(text)
    try:
        node = loader.get_single_node()
        try:
            data = _construct(loader, node) if node is not None else {}
        except RecursionError:  # a self-referencing alias: let PyYAML build it
            data = loader.construct_document(node)
    except yaml.YAMLError:
        load_yaml(text, path)  # raises PipelineSyntaxError with the line
        raise
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == "stages" and isinstance(value_node, yaml.MappingNode):
                for name_node, _ in value_node.value:
                    lines[name_node.value] = name_node.start_mark.line + 1
    return ({} if data is None else data), lines


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"


def _construct(loader: Any, node: yaml.Node) -> Any:
    """Python data of ``node``, as the loader would build it, about 5x faster.

    Strings, plain mappings and lists are built here; every other node (numbers,
    booleans, dates, merge keys, explicit tags) goes through the loader's constructor,
    so results are identical to ``load_yaml``.
    """
    cls = node.__class__
    if cls is yaml.ScalarNode:
        return node.value if node.tag == _STR else loader.construct_object(node, deep=True)
    if cls is yaml.MappingNode and node.tag == _MAP:
        out = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                return loader.construct_object(node, deep=True)
            key = _construct(loader, key_node)
            if not isinstance(key, (str, int, float, bool, type(None))):
                return loader.construct_object(node, deep=True)  # its errors, its rules
            out[key] = _construct(loader, value_node)
        return out
    if cls is yaml.SequenceNode and node.tag == _SEQ:
        return [_construct(loader, item) for item in node.value]
    return loader.construct_object(node, deep=True)


class _StageBuilder:
    """Builds :class:`Stage` objects from resolved definitions of one file."""

    def __init__(self, dvcfile: str, text: str, paths: PathResolver) -> None:
        self.dvcfile = dvcfile
        self.text = text
        self.paths = paths

    def fail(self, detail: str, resolved: ResolvedStage, keys: tuple[str | int, ...]) -> None:
        raise PipelineSchemaError(
            detail,
            path=self.dvcfile,
            line=find_line(self.text, (*resolved.keys, *keys)),
            stage=resolved.name,
        )

    def repo_path(self, resolved: ResolvedStage, def_path: Any, keys: tuple[str | int, ...]) -> str:
        if not isinstance(def_path, str) or not def_path:
            self.fail(
                f"'{_where(keys)}' must be a non-empty path, got {def_path!r}", resolved, keys
            )
        repo_path = self.paths.repo_path(resolved.wdir, def_path)
        if repo_path is None:
            raise PathOutsideRepoError(
                def_path,
                path=self.dvcfile,
                line=find_line(self.text, (*resolved.keys, *keys)),
                stage=resolved.name,
            )
        return repo_path

    def build(self, resolved: ResolvedStage, line: int | None) -> Stage:
        d = resolved.data
        cmd = d.get("cmd")
        if isinstance(cmd, list):
            if not cmd:
                self.fail("'cmd' is empty", resolved, ("cmd",))
            cmd = list(cmd)
        elif not isinstance(cmd, str):
            self.fail(f"'cmd' must be a string or a list, got {cmd!r}", resolved, ("cmd",))
        elif not cmd.strip():
            self.fail("'cmd' is empty", resolved, ("cmd",))
        deps = tuple(
            Dependency(p, self.repo_path(resolved, p, ("deps", i)))
            for i, p in enumerate(d.get("deps") or [])
        )
        return Stage(
            name=resolved.name,
            dvcfile=self.dvcfile,
            wdir=resolved.wdir,
            cmd=cmd,
            deps=deps,
            params=self._params(resolved, d.get("params") or []),
            outs=self._outs(resolved),
            frozen=bool(d.get("frozen", False)),
            always_changed=bool(d.get("always_changed", False)),
            desc=d.get("desc"),
            meta=d.get("meta"),
            line=line,
        )

    def _params(self, resolved: ResolvedStage, items: list[Any]) -> tuple[ParamsDependency, ...]:
        # dvc/dependency/__init__.py _merge_params: plain keys belong to params.yaml
        # unless that file is tracked whole; `file:` with no keys tracks the whole file.
        whole = {
            name for item in items if isinstance(item, dict) for name, k in item.items() if not k
        }
        merged: dict[str, list[str]] = {}
        where: dict[str, tuple[str | int, ...]] = {}
        for i, item in enumerate(items):
            if isinstance(item, str):
                if DEFAULT_PARAMS_FILE not in whole:
                    merged.setdefault(DEFAULT_PARAMS_FILE, []).append(item)
                    where.setdefault(DEFAULT_PARAMS_FILE, ("params", i))
                continue
            if not isinstance(item, dict):
                self.fail(f"'params[{i}]' must be a key or a mapping", resolved, ("params", i))
            for file, keys in item.items():
                where.setdefault(str(file), ("params", i, file))
                if file in whole:
                    merged[file] = []
                    continue
                if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                    self.fail(
                        f"params of '{file}' must be a list of keys", resolved, ("params", i, file)
                    )
                merged.setdefault(file, []).extend(keys)
        deps = []
        for file, keys in merged.items():
            repo_path = self.repo_path(resolved, file, where[file])
            deps.append(ParamsDependency(file, repo_path, tuple(dict.fromkeys(keys))))
        return tuple(deps)

    def _outs(self, resolved: ResolvedStage) -> tuple[Output, ...]:
        outs: list[Output] = []
        for section, kind in _KINDS:
            # dvc/output.py _merge_data: entries for the same path are merged, in order
            merged: dict[str, dict[str, Any]] = {}
            where: dict[str, tuple[str | int, ...]] = {}
            for i, item in enumerate(resolved.data.get(section) or []):
                if isinstance(item, str):
                    merged.setdefault(item, {})
                    where.setdefault(item, (section, i))
                    continue
                if not isinstance(item, dict):
                    self.fail(
                        f"'{section}[{i}]' must be a path or a mapping", resolved, (section, i)
                    )
                for path, flags in item.items():
                    if not isinstance(path, str):
                        self.fail(f"'{section}[{i}]' path must be a string", resolved, (section, i))
                    merged.setdefault(path, {}).update(flags or {})
                    where.setdefault(path, (section, i, path))
            for path, flags in merged.items():
                repo_path = self.repo_path(resolved, path, where[path])
                outs.append(_output(path, repo_path, kind, flags))
        return tuple(outs)


def _output(def_path: str, repo_path: str, kind: str, flags: dict[str, Any]) -> Output:
    annotations = {k: flags[k] for k in ANNOTATION_KEYS if k in flags}
    # DVC projects plot props in its schema's order (funcy.project), not the file's
    plot_props = {k: flags[k] for k in PLOT_PROPS if k in flags} if kind == "plot" else {}
    return Output(
        def_path=def_path,
        repo_path=repo_path,
        kind=kind,  # type: ignore[arg-type]
        cache=bool(flags.get("cache", True)),
        persist=bool(flags.get("persist", False)),
        remote=flags.get("remote"),
        push=bool(flags.get("push", True)),
        checkpoint=bool(flags.get("checkpoint", False)),
        annotations=annotations,
        plot_props=plot_props,
    )


def _where(keys: tuple[str | int, ...]) -> str:
    text = ""
    for key in keys:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text
