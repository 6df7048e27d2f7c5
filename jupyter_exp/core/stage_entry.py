"""The ``dvc.yaml`` entry ``dvc stage add`` writes for its flags, as DVC serialises it.

Follows ``dvc/stage/serialize.py`` (``to_pipeline_file``) and ``dvc/commands/stage.py``:

- keys in the order ``desc, cmd, wdir, deps, params, outs, metrics, plots,
  always_changed``, empty ones left out;
- the command joined from its words, a word with a space quoted with ``"`` (DVC's
  ``parse_cmd``);
- deps sorted; params grouped by file (``[file:]k1,k2``, ``file:`` alone tracks the
  whole file), the default file's keys first and sorted, then the other files sorted;
- every output sorted by path inside its section, with ``cache: false`` and
  ``persist: true`` as flags.

The same path given twice, or as both a dependency and an output, is refused as DVC
refuses it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidArgumentError
from .pipeline.model import DEFAULT_PARAMS_FILE

__all__ = ["StageSpec", "parse_command", "stage_entry"]


@dataclass(frozen=True)
class StageSpec:
    """What ``stage add``'s flags declare (paths relative to ``wdir``, as typed)."""

    command: Sequence[str]
    deps: Sequence[str] = ()
    params: Sequence[str] = ()
    outs: Sequence[str] = ()
    outs_no_cache: Sequence[str] = ()
    outs_persist: Sequence[str] = ()
    outs_persist_no_cache: Sequence[str] = ()
    metrics: Sequence[str] = ()
    metrics_no_cache: Sequence[str] = ()
    plots: Sequence[str] = ()
    plots_no_cache: Sequence[str] = ()
    wdir: str = "."
    always_changed: bool = False
    desc: str | None = None


def parse_command(words: Sequence[str]) -> str:
    """The command line DVC writes for ``words`` (its ``parse_cmd``)."""
    if len(words) < 2:
        return " ".join(words)

    def quote(word: str) -> str:
        if not word:
            return '""'
        if " " in word and '"' not in word:
            return f'"{word}"'
        return word

    return " ".join(quote(word) for word in words)


def _params(items: Sequence[str]) -> list[Any]:
    by_file: dict[str, list[str]] = {}
    for item in items:
        path, _, keys = item.rpartition(":")
        by_file.setdefault(path or DEFAULT_PARAMS_FILE, []).extend(k for k in keys.split(",") if k)
    result: list[Any] = []
    for path in sorted(by_file):
        keys = sorted(by_file[path])
        if keys and path == DEFAULT_PARAMS_FILE:
            result = keys + result
        else:
            result.append({path: keys or None})
    return result


def _normalised(path: str) -> str:
    return os.path.normpath(path).replace(os.sep, "/")


def _check_duplicates(deps: Sequence[str], outs: Sequence[str]) -> None:
    for label, paths in (("dependency", deps), ("output", outs)):
        seen: set[str] = set()
        for path in paths:
            if _normalised(path) in seen:
                raise InvalidArgumentError(
                    f"file '{path}' is specified more than once ({label})", argument=path
                )
            seen.add(_normalised(path))
    both = sorted({_normalised(p) for p in deps} & {_normalised(p) for p in outs})
    if both:
        raise InvalidArgumentError(
            f"'{both[0]}' is specified as an output and as a dependency", argument=both[0]
        )


def stage_entry(spec: StageSpec) -> dict[str, Any]:
    """The stage's ``dvc.yaml`` mapping, in DVC's key order.

    Raises :class:`InvalidArgumentError` for an empty command or a path given twice.
    """
    cmd = parse_command(spec.command)
    if not cmd.strip():
        raise InvalidArgumentError("command is not specified", argument="command")
    # (path, section, flags) for every output, DVC's flag order: cache, then persist.
    outputs: list[tuple[str, str, dict[str, Any]]] = [
        *((p, "outs", {}) for p in spec.outs),
        *((p, "outs", {"cache": False}) for p in spec.outs_no_cache),
        *((p, "outs", {"persist": True}) for p in spec.outs_persist),
        *((p, "outs", {"cache": False, "persist": True}) for p in spec.outs_persist_no_cache),
        *((p, "metrics", {}) for p in spec.metrics),
        *((p, "metrics", {"cache": False}) for p in spec.metrics_no_cache),
        *((p, "plots", {}) for p in spec.plots),
        *((p, "plots", {"cache": False}) for p in spec.plots_no_cache),
    ]
    _check_duplicates(spec.deps, [path for path, _, _ in outputs])
    sections: dict[str, list[Any]] = {"outs": [], "metrics": [], "plots": []}
    for path, section, flags in sorted(outputs, key=lambda item: item[0]):
        sections[section].append({path: flags} if flags else path)
    wdir = _normalised(spec.wdir) if spec.wdir else "."
    entry: dict[str, Any] = {
        "desc": spec.desc,
        "cmd": cmd,
        "wdir": None if wdir == "." else wdir,
        "deps": sorted(spec.deps),
        "params": _params(spec.params),
        **sections,
        "always_changed": spec.always_changed,
    }
    return {key: value for key, value in entry.items() if value}
