"""The pipeline as data: stages, their dependencies, params and outputs.

Paths come in two forms. ``def_path`` is what the user wrote in ``dvc.yaml`` (relative
to the stage's working directory); it is what ``dvc.lock`` records. ``repo_path`` is the
normalised POSIX path relative to the repository root; it is what the graph, hashing
and cache work with.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any, Literal

OutputKind = Literal["out", "metric", "plot"]

DEFAULT_PARAMS_FILE = "params.yaml"


def join_repo_path(wdir: str, def_path: str) -> str:
    """Normalise ``def_path`` written relative to ``wdir`` (both POSIX, repo-relative)."""
    joined = posixpath.normpath(posixpath.join(wdir, def_path))
    return "." if joined in ("", ".") else joined


@dataclass(frozen=True)
class Output:
    """One entry of ``outs``, ``metrics`` or ``plots`` of a stage.

    ``annotations`` keeps ``desc``, ``type``, ``labels`` and ``meta``; ``plot_props``
    keeps the plot options (``x``, ``y``, ``template``...) in DVC's schema order, as
    DVC's loader does.
    """

    def_path: str
    repo_path: str
    kind: OutputKind = "out"
    cache: bool = True
    persist: bool = False
    remote: str | None = None
    push: bool = True
    checkpoint: bool = False
    annotations: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    plot_props: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Dependency:
    """One entry of ``deps``: a file or directory the stage reads."""

    def_path: str
    repo_path: str


@dataclass(frozen=True)
class ParamsDependency:
    """Params read by a stage from one params file.

    ``keys`` is empty when the whole file is tracked (``- params2.yaml:`` with no list).
    A bare string in ``params`` is a key of the default ``params.yaml``, as in DVC. Keys
    are dotted paths (``train.lr``) or whole sections (``train``).
    """

    def_path: str
    repo_path: str
    keys: tuple[str, ...] = ()

    @property
    def whole_file(self) -> bool:
        """True when every key of the file is tracked."""
        return not self.keys


@dataclass(frozen=True)
class Stage:
    """A stage of a ``dvc.yaml`` pipeline (or a ``*.dvc`` data source, with no ``cmd``).

    ``name`` is the stage name as DVC writes it in ``dvc.lock``: ``train``, or
    ``train@lr-0.1`` for ``foreach``/``matrix`` items. ``dvcfile`` is the repo-relative
    path of the file that defines it; ``wdir`` the repo-relative working directory.
    ``line`` is where the stage is defined, for error messages.
    """

    name: str
    dvcfile: str
    wdir: str = "."
    cmd: str | list[str] | None = None
    deps: tuple[Dependency, ...] = ()
    params: tuple[ParamsDependency, ...] = ()
    outs: tuple[Output, ...] = ()
    frozen: bool = False
    always_changed: bool = False
    desc: str | None = None
    meta: Any = None
    line: int | None = None

    @property
    def is_data_source(self) -> bool:
        """True for a ``*.dvc`` file stage: outputs only, no command."""
        return self.cmd is None

    @property
    def address(self) -> str:
        """How DVC names the stage in messages and targets.

        ``train`` for the root ``dvc.yaml``, ``sub/dvc.yaml:train`` elsewhere, and the
        file path itself for a ``*.dvc`` data source.
        """
        if self.is_data_source:
            return self.dvcfile
        if self.dvcfile == "dvc.yaml":
            return self.name
        return f"{self.dvcfile}:{self.name}"

    @property
    def lockfile(self) -> str:
        """Repo-relative path of the ``dvc.lock`` next to the ``dvc.yaml``."""
        return posixpath.join(posixpath.dirname(self.dvcfile), "dvc.lock")

    @property
    def cmd_text(self) -> str:
        """The command as one line, for display (list commands joined by ``&&``)."""
        if self.cmd is None:
            return ""
        if isinstance(self.cmd, list):
            return " && ".join(self.cmd)
        return self.cmd


@dataclass
class PipelineFile:
    """One loaded ``dvc.yaml``: its stages plus the top-level sections DVC accepts.

    Top-level ``params``, ``metrics``, ``plots`` and ``artifacts`` are kept as loaded
    (after interpolation) so later front ends can show them.
    """

    path: str
    stages: list[Stage] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    metrics: list[Any] = field(default_factory=list)
    plots: list[Any] = field(default_factory=list)
    artifacts: dict[str, Any] = field(default_factory=dict)
    datasets: list[Any] = field(default_factory=list)
