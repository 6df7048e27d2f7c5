"""Typed progress events.

The engine never prints. It calls an :data:`EventSink` with these records and each front
end renders them its own way (terminal lines, a widget progress bar, JSON for the
sidebar). Every event is a frozen dataclass with a ``kind`` and :meth:`Event.to_dict`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import ClassVar, Literal

__all__ = [
    "CheckpointTaken",
    "DataSourceChecked",
    "Event",
    "EventSink",
    "HashingProgress",
    "LockfileUpdated",
    "NotebookCellProgress",
    "StageCompleted",
    "StageFailed",
    "StageOutput",
    "StageRestored",
    "StageSkipped",
    "StageStarted",
    "ignore_events",
]


@dataclass(frozen=True)
class Event:
    """Base of all events."""

    kind: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, object]:
        """The event as JSON-able data, with its ``kind``."""
        return {"kind": self.kind, **asdict(self)}


EventSink = Callable[[Event], None]


def ignore_events(event: Event) -> None:
    """An :data:`EventSink` that drops everything."""


SkipReason = Literal["unchanged", "frozen", "missing-data", "declined", "upstream-failed", "dry"]


@dataclass(frozen=True)
class StageStarted(Event):
    """A stage's command is about to run. ``reasons`` say why it is stale."""

    kind: ClassVar[str] = "stage-started"
    stage: str
    cmd: str
    reasons: tuple[str, ...] = ()
    index: int = 0
    total: int = 0


@dataclass(frozen=True)
class StageOutput(Event):
    """A chunk of a running stage's stdout or stderr, as text."""

    kind: ClassVar[str] = "stage-output"
    stage: str
    stream: Literal["stdout", "stderr"]
    text: str


@dataclass(frozen=True)
class StageSkipped(Event):
    """A stage is not run; ``reason`` says why."""

    kind: ClassVar[str] = "stage-skipped"
    stage: str
    reason: SkipReason
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class StageRestored(Event):
    """A stale stage got its outputs from a cache instead of running.

    ``source`` is ``"run-cache"`` (seen this signature before) or ``"cache"`` (the lock
    entry still matches; only the workspace copy of the outputs was missing).
    """

    kind: ClassVar[str] = "stage-restored"
    stage: str
    source: Literal["run-cache", "cache"]


@dataclass(frozen=True)
class StageCompleted(Event):
    """A stage ran successfully and its outputs are committed."""

    kind: ClassVar[str] = "stage-completed"
    stage: str
    duration: float


@dataclass(frozen=True)
class StageFailed(Event):
    """A stage failed; the run stops unless keep-going / ignore-errors."""

    kind: ClassVar[str] = "stage-failed"
    stage: str
    returncode: int
    message: str


@dataclass(frozen=True)
class DataSourceChecked(Event):
    """A ``*.dvc`` data source was verified; ``changed`` if it was re-committed."""

    kind: ClassVar[str] = "data-source-checked"
    path: str
    changed: bool


@dataclass(frozen=True)
class LockfileUpdated(Event):
    """A lock file was written."""

    kind: ClassVar[str] = "lockfile-updated"
    path: str
    stages: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class HashingProgress(Event):
    """Hashing a large directory: ``done`` of ``total`` files."""

    kind: ClassVar[str] = "hashing-progress"
    path: str
    done: int
    total: int


@dataclass(frozen=True)
class NotebookCellProgress(Event):
    """A notebook is executing: ``cell`` of its ``total`` code cells have finished.

    Sent once with ``cell=0`` before the kernel starts, then after each code cell.
    ``stage`` is empty when the notebook runs outside a pipeline.
    """

    kind: ClassVar[str] = "notebook-cell-progress"
    stage: str
    notebook: str
    cell: int
    total: int


@dataclass(frozen=True)
class CheckpointTaken(Event):
    """A checkpoint of ``stage`` was committed (``count``: the stage's so far in this run)."""

    kind: ClassVar[str] = "checkpoint-taken"
    stage: str
    count: int
    duration: float
