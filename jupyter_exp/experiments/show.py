"""``exp show`` as a table: columns named as DVC names them, rows in DVC's order.

:func:`build_table` turns collected :class:`~.collect.ExpState` records into an
:class:`ExpTable`, the neutral model every front end renders (terminal table, CSV,
Markdown, pandas, widgets, JSON for the server). It follows ``tabulate`` in
``dvc/repo/experiments/show.py``:

- columns: ``Experiment, rev, typ, Created, parent, State, Executor``, then every
  metric, every param (flattened with dots: ``train.lr``), then every dependency path
  (sorted) holding its hash. A metric/param name is prefixed with its file
  (``params.yaml:lr``) only when the same name exists in several files;
- rows: the workspace, then each baseline followed by its experiments (newest first,
  or by ``sort_by``), typed ``baseline`` / ``branch_commit`` / ``branch_base`` (last).

Column selection follows DVC: ``include_*``/``exclude_*`` globs (DVC 2's flags:
``fnmatch`` on the flattened name, optionally ``file:`` prefixed, comma lists allowed),
``keep``/``drop`` regular expressions on column names (DVC 3's flags) and
``only_changed``. Values stay raw (numbers stay numbers); formatting is the
renderers' job.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from fnmatch import fnmatch
from typing import Any, Literal

from ..core.repo import Repo
from ..errors import InvalidArgumentError
from ..git import Git
from .checkpoint_rows import STEP_COLUMN, checkpoint_rows, has_checkpoints
from .collect import WORKSPACE, CollectOptions, collect_states
from .expstate import ExpRange, ExpState

__all__ = [
    "META_COLUMNS",
    "Column",
    "ExpTable",
    "Row",
    "ShowOptions",
    "build_table",
    "flatten",
    "show_table",
]

META_COLUMNS = ("Experiment", "rev", "typ", "Created", "parent", "State", "Executor")
Kind = Literal["meta", "metric", "param", "dep"]
_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class ShowOptions:
    """How to shape the table (the display flags of ``exp show``)."""

    include_metrics: tuple[str, ...] = ()
    exclude_metrics: tuple[str, ...] = ()
    include_params: tuple[str, ...] = ()
    exclude_params: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    only_changed: bool = False
    sort_by: str | None = None
    sort_order: Literal["asc", "desc"] = "asc"


@dataclass(frozen=True)
class Column:
    """A column: its header, what it holds, and for data columns the file and key."""

    name: str
    kind: Kind
    path: str | None = None
    key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {"name": self.name, "kind": self.kind, "path": self.path, "key": self.key}


@dataclass
class Row:
    """One line of the table.

    ``rev`` is what DVC shows (``workspace``, a branch/tag name, or 7 hex digits);
    ``sha`` the full commit (None for the workspace); ``values`` maps data column names
    to raw values (a missing value is absent); ``errors`` names the columns whose file
    could not be read (DVC shows ``!`` there).
    """

    typ: str
    rev: str
    sha: str | None
    baseline: str | None
    experiment: str | None = None
    created: datetime | None = None
    parent: str | None = None
    state: str | None = None
    executor: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    errors: set[str] = field(default_factory=set)
    # Checkpoint experiments (see checkpoint_rows.py): 0 for the first commit.
    step: int | None = None

    def meta(self) -> dict[str, Any]:
        """The values of the meta columns, by header."""
        return {
            "Experiment": self.experiment,
            "rev": self.rev,
            "typ": self.typ,
            "Created": self.created,
            "parent": self.parent,
            "State": self.state,
            "Executor": self.executor,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: meta columns, ``id``/``baseline`` and the values."""
        meta = self.meta()
        meta["Created"] = self.created.isoformat() if self.created else None
        if self.step is not None:
            meta[STEP_COLUMN] = self.step
        return {
            "id": self.sha or WORKSPACE,
            "baseline": self.baseline,
            **meta,
            "values": {k: _jsonable(v) for k, v in self.values.items()},
            "errors": sorted(self.errors),
        }


@dataclass
class ExpTable:
    """The experiments table: columns (meta first) and rows."""

    columns: list[Column]
    rows: list[Row]

    @property
    def data_columns(self) -> list[Column]:
        """The metric, param and dep columns."""
        return [c for c in self.columns if c.kind != "meta"]

    def column_names(self) -> list[str]:
        """Headers in order."""
        return [c.name for c in self.columns]

    def cell(self, row: Row, column: Column) -> Any:
        """The raw value of ``row`` in ``column`` (None when missing)."""
        if column.kind == "meta":
            if column.name == STEP_COLUMN:
                return row.step
            return row.meta().get(column.name)
        return row.values.get(column.name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: ``{"columns": [...], "rows": [...]}``."""
        return {
            "columns": [c.to_dict() for c in self.columns],
            "rows": [r.to_dict() for r in self.rows],
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def flatten(data: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as ``{"a.b": value}`` (DVC's ``flatten``; empty mappings vanish)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out


# --- names ---------------------------------------------------------------------------

Names = dict[str, dict[str, None]]


def _all_states(states: Iterable[ExpState]) -> Iterable[ExpState]:
    for state in states:
        yield state
        for exp_range in state.experiments or ():
            yield from _all_states(exp_range.revs)


def _collect_names(states: Sequence[ExpState]) -> tuple[Names, Names, list[str]]:
    metrics: Names = {}
    params: Names = {}
    deps: set[str] = set()
    for state in _all_states(states):
        if state.data is None:
            continue
        for target, section in ((metrics, state.data.metrics), (params, state.data.params)):
            for path, result in section.items():
                data = result.get("data", {})
                if isinstance(data, Mapping):
                    target.setdefault(path, {}).update(dict.fromkeys(flatten(data)))
        deps.update(state.data.deps)
    return metrics, params, sorted(deps)


def _split_filters(items: Iterable[str]) -> list[str]:
    """``file:a,b`` -> ``file:a``, ``file:b`` (DVC's ``_parse_filter_list``)."""
    out = []
    for item in items:
        path, _, names = item.rpartition(":")
        out.extend(f"{path}:{n}" if path else n for n in names.split(","))
    return out


def _match(names: Names, label: str, patterns: Sequence[str]) -> Names:
    by_path: dict[str, list[str]] = {}
    for pattern in patterns:
        path, _, name = pattern.rpartition(":")
        by_path.setdefault(path, []).append(name)
    found: Names = {}
    for path, globs in by_path.items():
        paths = [path] if path else list(names)
        for glob in globs:
            matches = [n for p in paths for n in names.get(p, {}) if fnmatch(n, glob)]
            if not matches:
                raise InvalidArgumentError(
                    f"'{glob}' does not match any known {label}", argument=glob
                )
            for p in paths:
                hits = {n: None for n in names.get(p, {}) if fnmatch(n, glob)}
                if hits:
                    found.setdefault(p, {}).update(hits)
    return found


def filter_names(names: Names, label: str, include: Sequence[str], exclude: Sequence[str]) -> Names:
    """Keep the names ``include`` matches (all if empty), minus what ``exclude`` matches."""
    include, exclude = _split_filters(include), _split_filters(exclude)
    both = sorted(set(include) & set(exclude))
    if both:
        raise InvalidArgumentError(
            f"'{', '.join(both)}' specified in both --include-{label} and --exclude-{label}"
        )
    if include:
        matched = _match(names, label, include)
        # Keep the file's order, not the order of the patterns.
        kept = {
            p: {n: None for n in keys if n in matched.get(p, {})}
            for p, keys in names.items()
            if p in matched
        }
    else:
        kept = {p: dict(keys) for p, keys in names.items()}
    if exclude:
        for path, keys in _match(names, label, exclude).items():
            for key in keys:
                kept.get(path, {}).pop(key, None)
    return {p: keys for p, keys in kept.items() if keys}


def _headers(names: Names, counter: Counter[str], kind: Kind) -> list[Column]:
    return [
        Column(name if counter[name] == 1 else f"{path}:{name}", kind, path, name)
        for path, keys in names.items()
        for name in keys
    ]


# --- rows ----------------------------------------------------------------------------


def _display_rev(rev: str, name: str | None = None) -> str:
    if name:
        return name
    return rev[:7] if _SHA.match(rev) else rev


def _fill(row: Row, state: ExpState, columns: Sequence[Column]) -> None:
    data = state.data
    if data is None:
        return
    row.created = data.timestamp
    for column in columns:
        if column.kind == "dep":
            dep = data.deps.get(column.path or "")
            if dep and dep.get("hash") is not None:
                row.values[column.name] = dep["hash"]
            continue
        section = data.metrics if column.kind == "metric" else data.params
        result = section.get(column.path or "")
        if result is None:
            continue
        if "error" in result:
            row.errors.add(column.name)
            continue
        payload = result.get("data", {})
        flat = flatten(payload) if isinstance(payload, Mapping) else {column.path: payload}
        value = flat.get(column.key or "")
        if value is not None:
            row.values[column.name] = value


def _sort_column(sort_by: str, metrics: Names, params: Names) -> tuple[str, str, str]:
    """(file, key, "metrics"|"params") that ``sort_by`` names (DVC's ``_sort_column``)."""
    parts = sort_by.split(":")
    matches: set[tuple[str, str, str]] = set()
    bare = sort_by
    for split in range(len(parts)):
        path, name = ":".join(parts[:split]), ":".join(parts[split:])
        if not path:
            bare = name
        if name in metrics.get(path, {}):
            matches.add((path, name, "metrics"))
        if name in params.get(path, {}):
            matches.add((path, name, "params"))
    if not matches:
        for kind, names in (("metrics", metrics), ("params", params)):
            matches.update((path, bare, kind) for path in names if bare in names[path])
    if len(matches) == 1:
        return matches.pop()
    if matches:
        found = ", ".join(sorted(f"{path}:{name}" for path, name, _ in matches))
        raise InvalidArgumentError(
            f"Ambiguous sort column '{sort_by}' matched '{found}'", argument=sort_by
        )
    raise InvalidArgumentError(f"Unknown sort column '{sort_by}'", argument=sort_by)


def _sort_value(exp_range: ExpRange, path: str, key: str, kind: str) -> Any:
    data = exp_range.revs[0].data if exp_range.revs else None
    if data is None:
        return None
    section = data.metrics if kind == "metrics" else data.params
    payload = section.get(path, {}).get("data", {})
    return flatten(payload).get(key) if isinstance(payload, Mapping) else None


def _sorted(
    ranges: list[ExpRange], target: tuple[str, str, str], descending: bool
) -> list[ExpRange]:
    """Ranges ordered by a value; missing values always last.

    Numbers (booleans included) compare as numbers, before strings, before anything
    else (compared as text). DVC compares raw values and fails on mixed types, and puts
    missing values first when descending; we do neither.
    """
    present, missing = [], []
    for exp_range in ranges:
        value = _sort_value(exp_range, *target)
        (missing if value is None else present).append((value, exp_range))

    def key(item: tuple[Any, ExpRange]) -> tuple[int, Any]:
        value = item[0]
        if isinstance(value, (int, float)):
            return 0, value
        if isinstance(value, str):
            return 1, value
        return 2, str(value)

    present.sort(key=key, reverse=descending)
    return [r for _, r in present] + [r for _, r in missing]


def build_table(states: Sequence[ExpState], options: ShowOptions = ShowOptions()) -> ExpTable:
    """The table of ``states`` (from :func:`~.collect.collect_states`).

    Raises :class:`InvalidArgumentError` for a glob matching nothing, a name both
    included and excluded, or an unknown/ambiguous ``sort_by``.
    """
    metrics, params, deps = _collect_names(states)
    sort_target = _sort_column(options.sort_by, metrics, params) if options.sort_by else None
    metrics = filter_names(metrics, "metrics", options.include_metrics, options.exclude_metrics)
    params = filter_names(params, "params", options.include_params, options.exclude_params)
    # As DVC: a file both metrics and params counts once, with its params names.
    merged = {**metrics, **params}
    counter: Counter[str] = Counter(name for keys in merged.values() for name in keys)
    counter.update(META_COLUMNS)
    chains = has_checkpoints(states)
    counter.update([STEP_COLUMN] if chains else [])
    columns = [Column(name, "meta") for name in META_COLUMNS]
    columns += [Column(STEP_COLUMN, "meta")] if chains else []
    columns += _headers(metrics, counter, "metric")
    columns += _headers(params, counter, "param")
    columns += [Column(path, "dep", path, None) for path in deps]
    data_columns = [c for c in columns if c.kind != "meta"]
    fill = lambda row, state: _fill(row, state, data_columns)  # noqa: E731

    rows: list[Row] = []
    for state in states:
        baseline_sha = state.rev if _SHA.match(state.rev) else None
        row = Row(
            typ="baseline",
            rev=_display_rev(state.rev, state.name),
            sha=baseline_sha,
            baseline=baseline_sha,
        )
        _fill(row, state, data_columns)
        rows.append(row)
        ranges = list(state.experiments or ())
        if sort_target is not None:
            ranges = _sorted(ranges, sort_target, options.sort_order == "desc")
        for i, exp_range in enumerate(ranges):
            tip = exp_range.revs[0]
            exp_row = Row(
                typ="branch_base" if i == len(ranges) - 1 else "branch_commit",
                rev=_display_rev(tip.rev),
                sha=tip.rev if _SHA.match(tip.rev) else None,
                baseline=baseline_sha,
                experiment=tip.name or exp_range.name,
                state=exp_range.state,
                executor=exp_range.executor_name,
            )
            _fill(exp_row, tip, data_columns)
            rows.append(exp_row)
            rows.extend(checkpoint_rows(exp_row, exp_range, fill))

    table = ExpTable(columns, rows)
    if options.only_changed:
        _drop_unchanged(table)
    if options.keep or options.drop:
        _keep_drop(table, options.keep, options.drop)
    return table


def _drop_unchanged(table: ExpTable) -> None:
    """Drop data columns whose value is the same in every row (missing counts as one)."""
    changed = []
    for column in table.columns:
        if column.kind != "meta":
            seen = {repr(row.values.get(column.name)) for row in table.rows}
            if len(seen) <= 1:
                continue
        changed.append(column)
    table.columns = changed


def _keep_drop(table: ExpTable, keep: Sequence[str], drop: Sequence[str]) -> None:
    """DVC 3's ``--drop``/``--keep``: drop matching columns unless ``keep`` matches."""
    try:
        keep_re = re.compile("|".join(keep)) if keep else None
        drop_re = re.compile("|".join(drop)) if drop else None
    except re.error as exc:
        raise InvalidArgumentError(f"invalid column pattern: {exc}") from None
    if drop_re is None:
        return
    table.columns = [
        c
        for c in table.columns
        if not drop_re.match(c.name) or (keep_re is not None and keep_re.match(c.name))
    ]


def show_table(
    repo: Repo, collect_options: CollectOptions, options: ShowOptions, *, git: Git | None = None
) -> ExpTable:
    """Collect (see :func:`~.collect.collect_states`) and tabulate in one call."""
    return build_table(collect_states(repo, collect_options, git=git), options)
