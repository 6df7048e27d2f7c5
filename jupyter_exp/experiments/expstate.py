"""The records ``exp show`` collects, shaped as DVC's (``serialize.py`` of DVC's experiments).

:class:`ExpState` is the workspace, a baseline or an experiment commit; a baseline's
``experiments`` are :class:`ExpRange` records (an experiment: its commits, tip first); each
holds :class:`ExpData` (params, metrics, deps, outs). ``to_dict`` gives exactly what
``dvc exp show --json`` prints. :class:`ExternalExperiment` is how a queue module hands
in experiments that are not refs (yet).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

__all__ = [
    "SUCCESS",
    "ExpData",
    "ExpRange",
    "ExpState",
    "ExternalExperiment",
    "states_to_json",
]

SUCCESS = "Success"


class _Record:
    """Equality and repr from ``__slots__``: what the dataclasses these were gave, without
    importing :mod:`dataclasses` (and :mod:`inspect`) on ``exp show``'s warm path."""

    __slots__: tuple[str, ...] = ()
    __hash__ = None  # type: ignore[assignment]  # mutable

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


class ExpData(_Record):
    """One revision's data (DVC's ``SerializableExp``)."""

    __slots__ = ("deps", "meta", "metrics", "outs", "params", "rev", "timestamp")

    def __init__(
        self,
        rev: str,
        timestamp: datetime | None = None,
        params: dict[str, dict[str, Any]] | None = None,
        metrics: dict[str, dict[str, Any]] | None = None,
        deps: dict[str, dict[str, Any]] | None = None,
        outs: dict[str, dict[str, Any]] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.rev = rev
        self.timestamp = timestamp
        self.params = {} if params is None else params
        self.metrics = {} if metrics is None else metrics
        self.deps = {} if deps is None else deps
        self.outs = {} if outs is None else outs
        self.meta = {} if meta is None else meta

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


class ExpRange(_Record):
    """One experiment: its commits, tip first (DVC's ``ExpRange``).

    ``state`` (``Success``, ``Queued``, ``Running``, ``Failed``) and ``executor_name``
    are what the table shows; ``executor`` is DVC's executor record for the JSON.
    """

    __slots__ = ("executor", "executor_name", "name", "revs", "state")

    def __init__(
        self,
        revs: list[ExpState],
        name: str | None = None,
        state: str = SUCCESS,
        executor_name: str | None = None,
        executor: dict[str, Any] | None = None,
    ) -> None:
        self.revs = revs
        self.name = name
        self.state = state
        self.executor_name = executor_name
        self.executor = executor

    def to_dict(self) -> dict[str, Any]:
        """As DVC's JSON."""
        return {
            "revs": [rev.to_dict() for rev in self.revs],
            "executor": self.executor,
            "name": self.name,
        }


class ExpState(_Record):
    """The workspace, a baseline commit, or an experiment commit (DVC's ``ExpState``)."""

    __slots__ = ("data", "error", "experiments", "name", "rev")

    def __init__(
        self,
        rev: str,
        name: str | None = None,
        data: ExpData | None = None,
        error: dict[str, str] | None = None,
        experiments: list[ExpRange] | None = None,
    ) -> None:
        self.rev = rev
        self.name = name
        self.data = data
        self.error = error
        self.experiments = experiments

    def to_dict(self) -> dict[str, Any]:
        """As DVC's JSON."""
        return {
            "rev": self.rev,
            "name": self.name,
            "data": self.data.to_dict() if self.data else None,
            "error": self.error,
            "experiments": [e.to_dict() for e in self.experiments] if self.experiments else None,
        }


class ExternalExperiment(NamedTuple):
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
