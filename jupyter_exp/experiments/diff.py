"""``exp diff``: the params, metrics, deps and outs that differ between two revisions.

As ``dvc exp diff``: ``a`` defaults to ``HEAD`` and ``b`` to the workspace; either may be
a Git revision or an experiment name. Params are every file a stage tracks (whole
file or the tracked keys), top-level ``params`` files, ``params.yaml`` and the values
``${}`` read from ``vars`` files; metrics are the stages' ``metrics`` outputs and the
top-level ``metrics`` files (see :mod:`.revision`). Values are compared the way DVC's
``utils/diff.py`` does (lists as their text, nested keys joined with ``.``, a numeric
``diff`` when both sides are numbers), so ``--json`` matches DVC's. Deps and outs compare
the hashes each revision's ``dvc.lock`` (and ``*.dvc`` files) record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.repo import Repo
from ..git import Git
from .revision import open_revision, resolve_revision

if TYPE_CHECKING:
    import pandas

WORKSPACE = "workspace"


# --- comparing two revisions -------------------------------------------------------------


@dataclass
class ExpDiff:
    """What differs between revision ``a`` and ``b`` (labels as the user typed them).

    ``metrics`` and ``params`` are ``{file: {key: {"old", "new"[, "diff"]}}}`` exactly as
    ``dvc exp diff --json`` prints them; ``deps`` and ``outs`` are
    ``{path: {"old": md5, "new": md5}}`` from the revisions' ``dvc.lock``/``.dvc`` files
    (None where a side does not record the path).
    """

    a: str
    b: str
    a_rev: str | None
    b_rev: str | None
    metrics: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    params: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    deps: dict[str, dict[str, str | None]] = field(default_factory=dict)
    outs: dict[str, dict[str, str | None]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able data: DVC's ``metrics``/``params`` plus our ``deps``/``outs``."""
        return {
            "metrics": self.metrics,
            "params": self.params,
            "deps": self.deps,
            "outs": self.outs,
        }

    def __bool__(self) -> bool:
        return any((self.metrics, self.params, self.deps, self.outs))

    def rows(self) -> list[dict[str, Any]]:
        """One row per changed value: ``kind, path, key, old, new, diff``."""
        rows = []
        for kind, section in (("metric", self.metrics), ("param", self.params)):
            for path in sorted(section):
                for key in sorted(section[path]):
                    change = section[path][key]
                    rows.append(
                        {
                            "kind": kind,
                            "path": path,
                            "key": key,
                            "old": change.get("old"),
                            "new": change.get("new"),
                            "diff": change.get("diff"),
                        }
                    )
        for kind, data in (("dep", self.deps), ("out", self.outs)):
            for path in sorted(data):
                change = data[path]
                rows.append(
                    {
                        "kind": kind,
                        "path": path,
                        "key": None,
                        "old": change["old"],
                        "new": change["new"],
                        "diff": None,
                    }
                )
        return rows

    def to_dataframe(self) -> pandas.DataFrame:
        """The :meth:`rows` as a pandas DataFrame (pandas is imported only here)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("ExpDiff.to_dataframe() needs pandas: pip install pandas") from None
        columns = ["kind", "path", "key", "old", "new", "diff"]
        return pd.DataFrame(self.rows(), columns=columns)


def exp_diff(
    repo: Repo,
    git: Git,
    a: str | None = None,
    b: str | None = None,
    *,
    all: bool = False,  # DVC's name for the option
    param_deps: bool = False,
) -> ExpDiff:
    """Compare revision ``a`` (default ``HEAD``) with ``b`` (default: the workspace).

    ``a``/``b`` are Git revisions or experiment names. ``all`` keeps unchanged values;
    ``param_deps`` limits params to those stages depend on. Raises
    :class:`RevisionNotFoundError` for a name that resolves to nothing.
    """
    a_rev = resolve_revision(git, a or "HEAD")
    b_rev = resolve_revision(git, b) if b else None
    result = ExpDiff(a or "HEAD", b or WORKSPACE, a_rev, b_rev)
    with open_revision(repo, git, a_rev) as old, open_revision(repo, git, b_rev) as new:
        result.metrics = diff_files(old.metrics(), new.metrics(), with_unchanged=all)
        result.params = diff_files(
            old.params(deps_only=param_deps), new.params(deps_only=param_deps), with_unchanged=all
        )
        old_deps, old_outs = old.data_hashes()
        new_deps, new_outs = new.data_hashes()
    result.deps = _diff_hashes(old_deps, new_deps, all)
    result.outs = _diff_hashes(old_outs, new_outs, all)
    return result


def _diff_hashes(
    old: Mapping[str, str], new: Mapping[str, str], with_unchanged: bool
) -> dict[str, dict[str, str | None]]:
    result = {}
    for path in sorted({*old, *new}):
        if with_unchanged or old.get(path) != new.get(path):
            result[path] = {"old": old.get(path), "new": new.get(path)}
    return result


# DVC's dvc/utils/diff.py semantics, written out here so the JSON is the same.

_UNPARSABLE = "unable to parse"


def diff_files(
    old: Mapping[str, Any], new: Mapping[str, Any], *, with_unchanged: bool = False
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{file: {key: {"old", "new"[, "diff"]}}}`` for two ``{file: data}`` mappings."""
    result = {}
    for path in sorted({*old, *new}):
        changes = _diff_data(_format(old.get(path, {})), _format(new.get(path, {})), with_unchanged)
        if changes:
            result[path] = changes
    return result


def _format(data: Any) -> Any:
    # DVC's format_dict: lists become their Python text, so they compare as strings.
    if isinstance(data, Mapping):
        return {k: _format(v) for k, v in data.items()}
    if isinstance(data, list):
        return str(data)
    return data


def _diff_data(old: Any, new: Any, with_unchanged: bool) -> dict[str, dict[str, Any]]:
    if isinstance(old, Mapping) or isinstance(new, Mapping):
        flat_old, flat_new = _flatten(old), _flatten(new)
        changes = {}
        for key in sorted({*flat_old, *flat_new}, key=str):
            change = _diff_value(flat_old.get(key), flat_new.get(key), with_unchanged)
            if change:
                changes[key] = change
        return changes
    change = _diff_value(old, new, with_unchanged)
    return {"": change} if change else {}


def _flatten(data: Any) -> dict[str, Any]:
    if not data:
        return {}
    if not isinstance(data, Mapping):
        return {"": _UNPARSABLE}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            for sub, item in _flatten(value).items():
                flat[f"{key}.{sub}"] = item
        else:
            flat[str(key)] = value
    return flat


def _diff_value(old: Any, new: Any, with_unchanged: bool) -> dict[str, Any] | None:
    if not with_unchanged and old == new:
        return None
    change: dict[str, Any] = {"old": old, "new": new}
    if isinstance(old, (int, float)) and isinstance(new, (int, float)):
        change["diff"] = new - old
    return change
