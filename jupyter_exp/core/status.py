"""What changed for a stage since ``dvc.lock`` was written, with DVC's words and rules.

:class:`StageStatus` mirrors DVC 3's ``Stage.status()``: dependencies are ``modified``
or ``deleted``, params keys ``new``/``modified``/``deleted``, outputs ``deleted``,
``modified`` or ``not in cache``, plus ``changed command`` and ``always changed``.
:meth:`StageStatus.changed` applies ``Stage.changed()``'s rules, including frozen
stages and ``--allow-missing``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .context import MISSING, RunContext
from .index import Index
from .pipeline.model import Stage
from .repo import Repo

StatusEntry = str | dict[str, Any]
StatusReport = dict[str, list[StatusEntry]]


@dataclass
class StageStatus:
    """The differences between the workspace and the recorded state of one stage."""

    stage: Stage
    deps: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    outs: dict[str, str] = field(default_factory=dict)
    cmd_changed: bool = False

    def changed(self, *, allow_missing: bool = False) -> bool:
        """Whether the stage needs to be reproduced (DVC's ``Stage.changed``)."""
        if self.cmd_changed:
            return True
        if not self.stage.frozen:
            if self.stage.always_changed:
                return True
            if any(not (allow_missing and s == "deleted") for s in self.deps.values()):
                return True
            if self.params:
                return True
        missing = ("deleted", "not in cache")
        return any(not (allow_missing and s in missing) for s in self.outs.values())

    @property
    def only_outputs_missing(self) -> bool:
        """True when the definition and inputs match the lock and only outputs are gone.

        Then the lock entry itself says what to check out from the cache.
        """
        return (
            not self.cmd_changed
            and not self.deps
            and not self.params
            and not self.stage.always_changed
            and all(s in ("deleted", "modified") for s in self.outs.values())
        )

    def to_dvc(self) -> list[StatusEntry]:
        """This status as one value of ``dvc status --json``."""
        entries: list[StatusEntry] = []
        deps: dict[str, Any] = {}
        if not self.stage.frozen:
            deps.update(self.deps)
            deps.update(self.params)
        if deps:
            entries.append({"changed deps": deps})
        if self.outs:
            entries.append({"changed outs": dict(self.outs)})
        if self.stage.always_changed:
            entries.append("always changed")
        if self.cmd_changed:
            entries.append("changed command")
        return entries

    def reasons(self) -> tuple[str, ...]:
        """Short human-readable facts about what changed (for events)."""
        out: list[str] = []
        if self.cmd_changed:
            out.append("command changed")
        if self.stage.always_changed:
            out.append("always changed")
        out += [f"dependency '{p}' {s}" for p, s in self.deps.items()]
        for path, keys in self.params.items():
            if isinstance(keys, dict):
                out += [f"param '{k}' {s} in '{path}'" for k, s in keys.items()]
            else:
                out.append(f"params file '{path}' {keys}")
        out += [f"output '{p}' {s}" for p, s in self.outs.items()]
        return tuple(out)


def stage_status(ctx: RunContext, stage: Stage) -> StageStatus:
    """Compare ``stage`` with its lock entry and the workspace."""
    entry = ctx.lock_entry(stage)
    status = StageStatus(stage)
    if not stage.is_data_source:
        status.cmd_changed = entry is not None and entry.cmd != stage.cmd
        if not stage.frozen:
            for dep in stage.deps:
                state = _dep_state(
                    ctx, dep.repo_path, entry.deps.get(dep.def_path) if entry else None
                )
                if state:
                    status.deps[dep.repo_path] = state
            status.params = _params_state(ctx, stage, entry)
    for out in stage.outs:
        recorded = entry.outs.get(out.def_path) if entry else None
        state = _out_state(ctx, out.repo_path, recorded, out.cache)
        if state:
            status.outs[out.repo_path] = state
    return status


def _dep_state(ctx: RunContext, repo_path: str, recorded: Any) -> str | None:
    current = ctx.hash(repo_path)
    if current is None:
        return "deleted"
    if recorded is None or not current[0].same_content(recorded):
        return "modified"
    return None


def _out_state(ctx: RunContext, repo_path: str, recorded: Any, cached: bool) -> str | None:
    if recorded is not None and cached and not ctx.cache.has(recorded):
        return "not in cache"
    return _dep_state(ctx, repo_path, recorded)


def _params_state(ctx: RunContext, stage: Stage, entry: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    current = ctx.params_status_values(stage)
    for dep in stage.params:
        actual = current.get(dep.def_path, {})
        if not ctx.repo.abspath(dep.repo_path).exists():
            result[dep.repo_path] = "deleted"
            continue
        if entry is None:
            result[dep.repo_path] = "new"
            continue
        info = entry.params.get(dep.def_path, {})
        keys = list(dep.keys) or list(dict.fromkeys([*actual, *info]))
        changes: dict[str, str] = {}
        for key in keys:
            value = actual.get(key, MISSING)
            if value is MISSING:
                changes[key] = "deleted"
            elif key not in info:
                changes[key] = "new"
            elif not _same_value(value, info[key]):
                changes[key] = "modified"
        if changes:
            result[dep.repo_path] = changes
    return result


def _same_value(actual: Any, recorded: Any) -> bool:
    # DVC's comparison exactly (plain ==, tuples read from Python params equal lists),
    # so DVC and we agree on what is up to date.
    if isinstance(actual, tuple):
        actual = list(actual)
    return bool(actual == recorded)


def compute_status(repo: Repo, targets: tuple[str, ...] = ()) -> StatusReport:
    """``dvc status --json`` for the targets (and what they depend on) or every stage."""
    index = Index.load(repo)
    roots = index.resolve(targets) if targets else index.stages
    selected = index.graph.with_upstream(roots)
    ctx = RunContext(repo, index.recorded)
    try:
        report: StatusReport = {}
        for stage in index.graph.topological(selected):
            entries = stage_status(ctx, stage).to_dvc()
            if entries:
                report[stage.address] = entries
        return report
    finally:
        ctx.close()
