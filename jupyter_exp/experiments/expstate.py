"""The records ``exp show`` collects, shaped as DVC's (``serialize.py`` of DVC's experiments).

:class:`ExpState` is the workspace, a baseline or an experiment commit; a baseline's
``experiments`` are :class:`ExpRange` records (an experiment: its commits, tip first); each
holds :class:`ExpData` (params, metrics, deps, outs). ``to_dict`` gives exactly what
``dvc exp show --json`` prints. :class:`ExternalExperiment` is how a queue module hands
in experiments that are not refs (yet).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "SUCCESS",
    "ExpData",
    "ExpRange",
    "ExpState",
    "ExternalExperiment",
    "states_to_json",
]

SUCCESS = "Success"


@dataclass
class ExpData:
    """One revision's data (DVC's ``SerializableExp``)."""

    rev: str
    timestamp: datetime | None = None
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    deps: dict[str, dict[str, Any]] = field(default_factory=dict)
    outs: dict[str, dict[str, Any]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """As DVC's JSON: the timestamp in ISO format."""
        return {
            "rev": self.rev,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "params": self.params,
            "metrics": self.metrics,
            "deps": self.deps,
            "outs": self.outs,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExpData:
        """Back from :meth:`to_dict` (the timestamp parsed again)."""
        stamp = data.get("timestamp")
        return cls(
            rev=data["rev"],
            timestamp=datetime.fromisoformat(stamp) if stamp else None,
            params=data.get("params", {}),
            metrics=data.get("metrics", {}),
            deps=data.get("deps", {}),
            outs=data.get("outs", {}),
            meta=data.get("meta", {}),
        )


@dataclass
class ExpRange:
    """One experiment: its commits, tip first (DVC's ``ExpRange``).

    ``state`` (``Success``, ``Queued``, ``Running``, ``Failed``) and ``executor_name``
    are what the table shows; ``executor`` is DVC's executor record for the JSON.
    """

    revs: list[ExpState]
    name: str | None = None
    state: str = SUCCESS
    executor_name: str | None = None
    executor: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """As DVC's JSON."""
        return {
            "revs": [rev.to_dict() for rev in self.revs],
            "executor": self.executor,
            "name": self.name,
        }


@dataclass
class ExpState:
    """The workspace, a baseline commit, or an experiment commit (DVC's ``ExpState``)."""

    rev: str
    name: str | None = None
    data: ExpData | None = None
    error: dict[str, str] | None = None
    experiments: list[ExpRange] | None = None

    def to_dict(self) -> dict[str, Any]:
        """As DVC's JSON."""
        return {
            "rev": self.rev,
            "name": self.name,
            "data": self.data.to_dict() if self.data else None,
            "error": self.error,
            "experiments": [e.to_dict() for e in self.experiments] if self.experiments else None,
        }


@dataclass(frozen=True)
class ExternalExperiment:
    """An experiment known to another module (the queue) rather than a ref.

    ``commit``, when given, is read like an experiment commit (a queued entry's
    params); metrics are left out for queued ones, as DVC does. ``root``, for an
    experiment running in the workspace or a temporary worktree, is that project folder:
    its row shows the folder's workspace as it is now, as DVC shows it.
    """

    baseline: str
    rev: str
    state: str
    name: str | None = None
    executor: str | None = None
    timestamp: datetime | None = None
    commit: str | None = None
    executor_info: dict[str, Any] | None = None
    root: str | None = None


def states_to_json(states: Sequence[ExpState]) -> list[dict[str, Any]]:
    """The list ``dvc exp show --json`` prints."""
    return [state.to_dict() for state in states]
