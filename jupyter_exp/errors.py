"""The one exception tree of jupyter-exp.

Every error the engine raises is a :class:`JupyterExpError` carrying structured fields;
``str(error)`` is a single factual line built from them (file, line, stage, path, ...).
Front ends turn it into their own form exactly once: the CLI prints it and exits with
:attr:`JupyterExpError.exit_code`, the magics raise ``UsageError``, the server answers
JSON with :attr:`JupyterExpError.http_status`.

::

    JupyterExpError
    ├── InvalidArgumentError            a bad option or argument given to the API
    ├── ProjectError
    │   ├── NotInRepositoryError        no Git/DVC repository contains the path
    │   └── RepositoryLockedError       another process holds the repository lock
    ├── PipelineError                   dvc.yaml / *.dvc cannot be used (file, line, stage)
    │   ├── PipelineSyntaxError         not parseable YAML
    │   ├── PipelineSchemaError         parsed, but not DVC 3's schema
    │   ├── InterpolationError          a ${...} that cannot be resolved
    │   ├── PathOutsideRepoError        a dep/out/wdir escapes the repository
    │   ├── CyclicGraphError            stages depend on each other in a loop
    │   ├── OutputDuplicatedError       two stages write the same output
    │   ├── OverlappingOutputError      an output inside another stage's output
    │   ├── StageNotFoundError          a target names no stage or dvc.yaml
    │   └── PlotDefinitionError         a `plots:` entry cannot be drawn (file, plot id)
    ├── ParamsError                     a params file or key cannot be used
    │   ├── ParamsFileError             unreadable / unparseable params file
    │   └── MissingParamError           a tracked key is not in the file
    ├── DataError
    │   ├── MissingDependencyError      a dependency does not exist
    │   ├── MissingOutputError          a stage finished without writing an output
    │   ├── CacheMissingError           an object is not in the cache
    │   └── OutputNotRemovableError     refusing to delete something we do not own
    ├── StageFailedError                a stage's command exited non-zero
    │   ├── ReproductionFailedError     a repro that kept going ended with failures
    │   └── NotebookError               a notebook could not be executed to its end
    │       ├── NotebookCellError       a cell raised, or the kernel died while running it
    │       └── KernelNotFoundError     no installed Jupyter kernel has that name
    ├── RunCancelledError               a run was cancelled on request (its stage stopped)
    ├── GitError                        a git operation failed (command, stderr)
    │   └── RevisionNotFoundError       a revision/ref/remote name resolves to nothing
    └── ExperimentError
        ├── ExperimentNotFoundError     no experiment by that name or revision
        ├── ExperimentExistsError       the name is taken (use force)
        ├── InvalidExperimentNameError  not a valid Git ref component
        └── WorkspaceConflictError      applying would overwrite uncommitted edits
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "CacheMissingError",
    "CyclicGraphError",
    "DataError",
    "ExperimentError",
    "ExperimentExistsError",
    "ExperimentNotFoundError",
    "GitError",
    "InterpolationError",
    "InvalidArgumentError",
    "InvalidExperimentNameError",
    "JupyterExpError",
    "KernelNotFoundError",
    "MissingDependencyError",
    "MissingOutputError",
    "MissingParamError",
    "NotInRepositoryError",
    "NotebookCellError",
    "NotebookError",
    "OutputDuplicatedError",
    "OutputNotRemovableError",
    "OverlappingOutputError",
    "ParamsError",
    "ParamsFileError",
    "PathOutsideRepoError",
    "PipelineError",
    "PipelineSchemaError",
    "PipelineSyntaxError",
    "PlotDefinitionError",
    "ProjectError",
    "RepositoryLockedError",
    "ReproductionFailedError",
    "RevisionNotFoundError",
    "RunCancelledError",
    "StageFailedError",
    "StageNotFoundError",
    "WorkspaceConflictError",
]


class JupyterExpError(Exception):
    """Base of every error raised by jupyter-exp.

    Subclasses store their facts as attributes and build ``str()`` from them.
    """

    exit_code: int = 1
    http_status: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, object]:
        """The error as JSON-able data (for the server and events)."""
        fields = {
            k: v
            for k, v in vars(self).items()
            if k != "message" and not k.startswith("_") and _jsonable(v)
        }
        return {"error": type(self).__name__, "message": self.message, **fields}


def _jsonable(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, list, tuple, dict))


class InvalidArgumentError(JupyterExpError):
    """An option or argument given to the API is not acceptable."""

    exit_code = 2

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        self.argument = argument
        super().__init__(message)


# --- project -----------------------------------------------------------------------------


class ProjectError(JupyterExpError):
    """The project (repository) itself cannot be used."""


class NotInRepositoryError(ProjectError):
    """No Git or DVC repository contains ``path``."""

    http_status = 404

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"'{path}' is not inside a Git or DVC repository")


class RepositoryLockedError(ProjectError):
    """Another process holds the repository lock."""

    http_status = 409

    def __init__(self, lock_path: str, timeout: float) -> None:
        self.lock_path = lock_path
        self.timeout = timeout
        super().__init__(
            f"the repository is locked by another jupyter-exp or DVC process "
            f"(waited {timeout:g}s for '{lock_path}')"
        )


# --- pipeline ----------------------------------------------------------------------------


class PipelineError(JupyterExpError):
    """A pipeline file (dvc.yaml, dvc.lock, *.dvc) cannot be used.

    ``str()`` reads ``file:line: stage 'name': detail`` with the parts that are known.
    """

    def __init__(
        self,
        detail: str,
        *,
        path: str | None = None,
        line: int | None = None,
        stage: str | None = None,
    ) -> None:
        self.detail = detail
        self.path = path
        self.line = line
        self.stage = stage
        super().__init__(_locate(detail, path, line, stage))


def _locate(detail: str, path: str | None, line: int | None, stage: str | None) -> str:
    where = ""
    if path:
        where = f"{path}:{line}: " if line else f"{path}: "
    if stage:
        where += f"stage '{stage}': "
    return where + detail


class PipelineSyntaxError(PipelineError):
    """The file is not valid YAML."""


class PipelineSchemaError(PipelineError):
    """The file is YAML but not a valid DVC 3 pipeline (unknown key, wrong type...)."""


class InterpolationError(PipelineError):
    """A ``${...}`` expression cannot be resolved."""


class PathOutsideRepoError(PipelineError):
    """A path in the pipeline resolves outside the repository."""

    def __init__(
        self,
        target: str,
        *,
        path: str | None = None,
        line: int | None = None,
        stage: str | None = None,
    ) -> None:
        self.target = target
        super().__init__(
            f"path '{target}' is outside the repository", path=path, line=line, stage=stage
        )


class CyclicGraphError(PipelineError):
    """The stages form a cycle."""

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = list(cycle)
        super().__init__("pipeline has a cycle: " + " -> ".join([*self.cycle, self.cycle[0]]))


class OutputDuplicatedError(PipelineError):
    """Two stages declare the same output."""

    def __init__(self, output: str, stages: Sequence[str]) -> None:
        self.output = output
        self.stages = list(stages)
        names = ", ".join(f"'{s}'" for s in self.stages)
        super().__init__(f"output '{output}' is written by several stages: {names}")


class OverlappingOutputError(PipelineError):
    """An output lies inside another stage's output directory."""

    def __init__(self, output: str, stage: str, parent: str, parent_stage: str) -> None:
        self.output = output
        self.parent = parent
        self.parent_stage = parent_stage
        super().__init__(
            f"output '{output}' is inside output '{parent}' of stage '{parent_stage}'",
            stage=stage,
        )


class StageNotFoundError(PipelineError):
    """A target names no stage, dvc.yaml or .dvc file."""

    http_status = 404

    def __init__(self, target: str, *, path: str | None = None) -> None:
        self.target = target
        super().__init__(f"no stage or pipeline file named '{target}'", path=path)


class PlotDefinitionError(PipelineError):
    """Plot ``plot`` of ``path`` (a ``dvc.yaml``) cannot be drawn: a bad template, a field
    its data file ``source`` lacks, a data file that is unreadable or nowhere."""

    def __init__(self, detail: str, *, path: str, plot: str, source: str | None = None) -> None:
        self.plot = plot
        self.source = source
        super().__init__(f"plot '{plot}': {detail}", path=path)
        self.detail = detail


# --- params ------------------------------------------------------------------------------


class ParamsError(JupyterExpError):
    """A params file or key cannot be used."""

    def __init__(self, message: str, *, path: str, key: str | None = None) -> None:
        self.path = path
        self.key = key
        super().__init__(message)


class ParamsFileError(ParamsError):
    """A params file is missing, unreadable, or not parseable in its format."""

    def __init__(self, path: str, detail: str) -> None:
        self.detail = detail
        super().__init__(f"params file '{path}': {detail}", path=path)


class MissingParamError(ParamsError):
    """A tracked params key does not exist in its file."""

    def __init__(self, path: str, key: str, *, stage: str | None = None) -> None:
        self.stage = stage
        prefix = f"stage '{stage}': " if stage else ""
        super().__init__(f"{prefix}params key '{key}' not found in '{path}'", path=path, key=key)


# --- data --------------------------------------------------------------------------------


class DataError(JupyterExpError):
    """Workspace data or cache content is not what the pipeline needs."""


class MissingDependencyError(DataError):
    """A stage dependency does not exist in the workspace."""

    def __init__(self, path: str, *, stage: str | None = None) -> None:
        self.path = path
        self.stage = stage
        prefix = f"stage '{stage}': " if stage else ""
        super().__init__(f"{prefix}dependency '{path}' does not exist")


class MissingOutputError(DataError):
    """A stage command succeeded but did not produce a declared output."""

    def __init__(self, path: str, *, stage: str) -> None:
        self.path = path
        self.stage = stage
        super().__init__(f"stage '{stage}': output '{path}' was not created by the command")


class CacheMissingError(DataError):
    """An object expected in the cache is not there."""

    def __init__(self, path: str, md5: str) -> None:
        self.path = path
        self.md5 = md5
        super().__init__(f"'{path}' ({md5}) is not in the cache")


class OutputNotRemovableError(DataError):
    """Refusing to remove or overwrite a path we do not own."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"refusing to overwrite '{path}': {reason}")


# --- execution ---------------------------------------------------------------------------


class StageFailedError(JupyterExpError):
    """A stage's command exited with a non-zero status (or was killed)."""

    def __init__(self, stage: str, returncode: int, cmd: str | None = None) -> None:
        self.stage = stage
        self.returncode = returncode
        self.cmd = cmd
        how = f"was killed by signal {-returncode}" if returncode < 0 else f"exited {returncode}"
        super().__init__(f"stage '{stage}' failed: command {how}")

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        return self.returncode if 0 < self.returncode < 256 else 1


class ReproductionFailedError(StageFailedError):
    """A ``--keep-going`` / ``--ignore-errors`` run finished with failed stages.

    ``failures`` holds each stage's own error (a :class:`StageFailedError`, or a
    :class:`DataError` such as a missing output).
    """

    def __init__(self, failures: Sequence[JupyterExpError]) -> None:
        self.failures = list(failures)
        self.stages = [str(getattr(f, "stage", "")) for f in self.failures]
        JupyterExpError.__init__(
            self,
            f"{len(self.failures)} stage(s) failed: " + ", ".join(f"'{s}'" for s in self.stages),
        )
        first = self.failures[0]
        self.stage = self.stages[0]
        self.returncode = getattr(first, "returncode", 1)
        self.cmd = getattr(first, "cmd", None)

    def to_dict(self) -> dict[str, object]:
        """The error as JSON-able data, each failure as its own dict."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "stages": self.stages,
            "failures": [f.to_dict() for f in self.failures],
        }


class NotebookError(StageFailedError):
    """A notebook (``jupyter exp notebook``, alone or as a stage's command) did not run to its end.

    ``notebook`` and ``output`` are paths as given on the command line; ``output`` is set
    when a (partially) executed notebook was written there for inspection. ``stage`` is
    None when the notebook ran outside a pipeline.
    """

    def __init__(
        self,
        detail: str,
        *,
        notebook: str,
        stage: str | None = None,
        output: str | None = None,
        cmd: str | None = None,
    ) -> None:
        self.detail = detail
        self.notebook = notebook
        self.stage = stage  # type: ignore[assignment]
        self.output = output
        self.returncode = 1
        self.cmd = cmd
        prefix = f"stage '{stage}': " if stage else ""
        kept = f" (partially executed notebook kept in '{output}')" if output else ""
        JupyterExpError.__init__(self, f"{prefix}notebook '{notebook}' {detail}{kept}")


class NotebookCellError(NotebookError):
    """Code cell ``cell`` of ``total`` raised ``ename: evalue``, or the kernel died in it.

    ``traceback`` holds the last lines of the kernel's traceback (colours stripped);
    ``ename`` is ``"DeadKernelError"`` when the kernel process died.
    """

    def __init__(
        self,
        *,
        notebook: str,
        cell: int,
        total: int,
        ename: str,
        evalue: str,
        traceback: Sequence[str] = (),
        stage: str | None = None,
        output: str | None = None,
        cmd: str | None = None,
    ) -> None:
        self.cell = cell
        self.total = total
        self.ename = ename
        self.evalue = evalue
        self.traceback = list(traceback)
        where = f"cell {cell} of {total}"
        if ename == "DeadKernelError":
            detail = f"failed: the kernel died while running {where}"
        else:
            value = evalue.strip().splitlines()[0] if evalue.strip() else ""
            detail = f"failed in {where}: {ename}" + (f": {value}" if value else "")
        super().__init__(detail, notebook=notebook, stage=stage, output=output, cmd=cmd)


class KernelNotFoundError(NotebookError):
    """The notebook asks for kernel ``kernel``, which is not installed; ``available`` are."""

    def __init__(
        self,
        kernel: str,
        available: Sequence[str],
        *,
        notebook: str,
        stage: str | None = None,
        cmd: str | None = None,
    ) -> None:
        self.kernel = kernel
        self.available = sorted(available)
        names = ", ".join(self.available) or "none"
        super().__init__(
            f"needs kernel '{kernel}', which is not installed (installed kernels: {names})",
            notebook=notebook,
            stage=stage,
            cmd=cmd,
        )


class RunCancelledError(JupyterExpError):
    """A run was cancelled on request; ``stage`` is the stage stopped (None between stages).

    Like Ctrl+C: the stage's processes are stopped, the workspace keeps what they left,
    and no experiment is recorded.
    """

    exit_code = 130
    http_status = 409

    def __init__(self, stage: str | None = None) -> None:
        self.stage = stage
        where = f" while stage '{stage}' was running" if stage else ""
        super().__init__(f"the run was cancelled{where}")


# --- git and experiments -----------------------------------------------------------------


class GitError(JupyterExpError):
    """A git command failed. ``command`` is its argv, ``stderr`` what git said."""

    http_status = 500

    def __init__(self, command: Sequence[str], stderr: str, status: int | None = None) -> None:
        self.command = list(command)
        self.stderr = stderr.strip()
        self.status = status
        last = self.stderr.splitlines()[-1] if self.stderr else f"exit status {status}"
        super().__init__(f"git {' '.join(self.command[:2])} failed: {last}")


class RevisionNotFoundError(GitError):
    """A revision, ref or remote name does not resolve."""

    http_status = 404

    def __init__(self, revision: str, kind: str = "revision") -> None:
        self.revision = revision
        self.kind = kind
        JupyterExpError.__init__(self, f"unknown {kind} '{revision}'")
        self.command = []
        self.stderr = ""
        self.status = None


class ExperimentError(JupyterExpError):
    """An experiment operation cannot be done."""


class ExperimentNotFoundError(ExperimentError):
    """No experiment matches ``name`` (a name, a ref, or a commit prefix)."""

    http_status = 404

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no experiment named '{name}'")


class ExperimentExistsError(ExperimentError):
    """An experiment ``name`` exists for this baseline already."""

    http_status = 409

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"experiment '{name}' already exists; use force to overwrite it")


class InvalidExperimentNameError(ExperimentError):
    """``name`` cannot be an experiment name (a Git ref component)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"invalid experiment name '{name}': {reason}")


class WorkspaceConflictError(ExperimentError):
    """An operation would overwrite uncommitted changes in ``paths``."""

    http_status = 409

    def __init__(self, paths: Sequence[str], action: str) -> None:
        self.paths = list(paths)
        self.action = action
        shown = ", ".join(f"'{p}'" for p in self.paths[:5])
        more = f" and {len(self.paths) - 5} more" if len(self.paths) > 5 else ""
        super().__init__(
            f"{action} would overwrite uncommitted changes in {shown}{more}; "
            "commit or stash them, or use force"
        )
