"""Log metrics and params from a notebook or a script, in files DVC reads.

>>> import jupyter_exp
>>> for epoch in range(3):
...     jupyter_exp.log_metric("train/loss", 1 / (epoch + 1), step=epoch)
>>> jupyter_exp.log_metric("accuracy", 0.93)
>>> jupyter_exp.log_params({"model": "resnet", "layers": 18})

The files follow DVCLive's layout, so DVC (``dvc metrics show``, ``dvc plots show``,
``dvc exp show``) and tools made for DVCLive read them, and a notebook can switch to
DVCLive later without touching ``dvc.yaml``::

    dvclive/metrics.json               latest value of every metric, nested on "/",
                                       and "step" when steps are logged
    dvclive/plots/metrics/NAME.tsv     one row per logged step: "step<TAB>name"
    dvclive/params.yaml                what log_params was given

Declare them in the stage (``jupyter exp stage add ... -M dvclive/metrics.json
--plots-no-cache dvclive/plots``) so DVC tracks them. Like DVCLive, the first call in
a process starts a fresh log: the files above left by an earlier run are removed
(``start(resume=True)`` keeps and extends them). Paths are relative to the current
directory when the log starts (a notebook stage's working directory); the folder is
``dvclive`` unless ``start(dir=...)`` or ``$JUPYTER_EXP_LOG_DIR`` says otherwise.

Only the standard library and jupyter-exp's own dependencies are used; nothing here
needs DVC, DVCLive, or a project.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from .errors import InvalidArgumentError, PipelineSyntaxError

__all__ = ["DEFAULT_DIR", "Log", "log_metric", "log_param", "log_params", "start"]

DEFAULT_DIR = "dvclive"
ENV_DIR = "JUPYTER_EXP_LOG_DIR"
PlotsFormat = Literal["tsv", "json"]

_LOCK = threading.RLock()
_CURRENT: Log | None = None


class Log:
    """One log folder: the summary, the per-step plots files and the params file."""

    def __init__(
        self, directory: str | os.PathLike[str], *, resume: bool = False, plots: PlotsFormat = "tsv"
    ) -> None:
        if plots not in ("tsv", "json"):
            raise InvalidArgumentError(
                f"plots format must be 'tsv' or 'json', not {plots!r}", argument="plots"
            )
        self.dir = Path(directory).absolute()
        self.plots_format: PlotsFormat = plots
        self.summary: dict[str, Any] = {}
        self.params: dict[str, Any] = {}
        if resume:
            self.summary = _read_json(self.metrics_file) or {}
            self.params = _read_yaml(self.params_file) or {}
        else:
            self._clean()

    @property
    def metrics_file(self) -> Path:
        """``<dir>/metrics.json``."""
        return self.dir / "metrics.json"

    @property
    def params_file(self) -> Path:
        """``<dir>/params.yaml``."""
        return self.dir / "params.yaml"

    @property
    def plots_dir(self) -> Path:
        """``<dir>/plots/metrics``: one file per metric logged with a step."""
        return self.dir / "plots" / "metrics"

    def plot_file(self, name: str) -> Path:
        """The plots file of metric ``name`` (``train/loss`` -> ``train/loss.tsv``)."""
        return self.plots_dir / f"{name}.{self.plots_format}"

    def log_metric(self, name: str, value: Any, step: int | None = None) -> None:
        """Record ``value`` as the latest ``name``; with ``step``, add a row to its plot."""
        parts = _metric_path(name)
        value = _metric_value(name, value)
        if step is not None:
            if isinstance(step, bool) or not isinstance(step, int):
                raise InvalidArgumentError(
                    f"step must be an integer, not {step!r}", argument="step"
                )
            self._append_plot(name, parts[-1], step, value)
            self.summary["step"] = step
        node = self.summary
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
        _write_atomic(self.metrics_file, json.dumps(self.summary, indent=4) + "\n")

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Merge ``params`` into ``params.yaml`` (written as DVC writes YAML)."""
        if not isinstance(params, Mapping):
            raise InvalidArgumentError(
                f"params must be a mapping, not {type(params).__name__}", argument="params"
            )
        from .core.yamlio import dump_yaml

        self.params.update({str(k): _plain(v) for k, v in params.items()})
        _write_atomic(self.params_file, dump_yaml(self.params))

    def _append_plot(self, name: str, column: str, step: int, value: Any) -> None:
        path = self.plot_file(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.plots_format == "json":
            rows = _read_json(path) or []
            rows.append({"step": step, column: value})
            _write_atomic(path, json.dumps(rows, indent=4) + "\n")
            return
        new = not path.exists()
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t", lineterminator=os.linesep)
        if new:
            writer.writerow(["step", column])
        writer.writerow([step, value])
        with open(path, "a", encoding="utf-8", newline="") as fobj:
            fobj.write(buffer.getvalue())

    def _clean(self) -> None:
        """Remove what an earlier run logged here (our files only)."""
        for path in (self.metrics_file, self.params_file):
            path.unlink(missing_ok=True)
        if self.plots_dir.is_dir():
            for suffix in ("tsv", "json"):
                for path in self.plots_dir.rglob(f"*.{suffix}"):
                    path.unlink()


def start(
    dir: str | os.PathLike[str] | None = None,  # DVCLive's name for it
    *,
    resume: bool = False,
    plots: PlotsFormat = "tsv",
) -> Log:
    """Start a new log in ``dir`` (default ``$JUPYTER_EXP_LOG_DIR`` or ``dvclive``).

    Earlier files there are removed unless ``resume``; ``plots`` picks ``.tsv`` (as
    DVCLive) or ``.json`` per-step files. Later ``log_*`` calls write to this log.
    """
    global _CURRENT
    with _LOCK:
        _CURRENT = Log(dir or os.environ.get(ENV_DIR) or DEFAULT_DIR, resume=resume, plots=plots)
        return _CURRENT


def _current() -> Log:
    with _LOCK:
        return _CURRENT if _CURRENT is not None else start()


def log_metric(name: str, value: float, step: int | None = None) -> None:
    """Record metric ``name`` (``"loss"``, ``"train/loss"``) in ``metrics.json``.

    With ``step`` the value is also appended to ``plots/metrics/NAME.tsv`` and the
    summary's ``step`` is set, as DVCLive does. NaN and infinities are written as the
    strings ``"nan"``/``"inf"`` (JSON has no such numbers).
    """
    log = _current()
    with _LOCK:
        log.log_metric(name, value, step)


def log_params(params: Mapping[str, Any]) -> None:
    """Record ``params`` (merged with earlier calls) in ``params.yaml``."""
    log = _current()
    with _LOCK:
        log.log_params(params)


def log_param(name: str, value: Any) -> None:
    """Record one parameter (see :func:`log_params`)."""
    log_params({name: value})


# --- helpers -----------------------------------------------------------------------------


def _metric_path(name: str) -> list[str]:
    parts = name.split("/") if isinstance(name, str) else []
    if not parts or any(p in ("", ".", "..") for p in parts):
        raise InvalidArgumentError(
            f"invalid metric name {name!r}: use names like 'loss' or 'train/loss'",
            argument="name",
        )
    return parts


def _metric_value(name: str, value: Any) -> int | float | str:
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()  # numpy scalars, without importing numpy
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgumentError(
            f"metric '{name}' must be a number, not {type(value).__name__}", argument="value"
        )
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    return value


def _plain(value: Any) -> Any:
    """Params as YAML can hold them: numpy scalars unwrapped, tuples as lists."""
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def _read_yaml(path: Path) -> Any:
    from .core.yamlio import load_yaml

    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, PipelineSyntaxError):  # unreadable: start afresh
        return None


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fobj:
            fobj.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_UMASK: int | None = None


def _umask() -> int:
    # Read once: os.umask can only be read by setting it, which races with threads.
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK
