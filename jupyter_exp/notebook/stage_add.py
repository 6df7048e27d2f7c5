"""Write a notebook stage into a ``dvc.yaml`` (``jupyter exp stage add --notebook ...``).

The stage is what a user would write by hand, in DVC's own key order (``desc``,
``cmd``, ``deps``, ``params``, ``outs``, ``metrics``, ``plots``): the command is
``jupyter exp notebook NB -o OUT -p KEY...``, the notebook is a dependency, the keys
are tracked params and the executed notebook is an output. The file is edited as DVC's
``stage add`` does, through ruamel's round-trip loader, so comments, key order and
quoting of everything else are kept; the indentation of an existing file is detected
and reused. After writing, the project is loaded again and the file restored if the
new stage broke it (an output another stage writes, a cycle...).
"""

from __future__ import annotations

import io
import os
import posixpath
import string
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from ..errors import InvalidArgumentError, PipelineError, PipelineSyntaxError
from . import DEFAULT_PARAMS_FILE, NotebookRequest

__all__ = ["add_stage", "default_stage_name", "notebook_stage"]

# DVC's rule (dvc/stage/utils.py is_valid_name): no punctuation but '_' and '-'.
_INVALID_NAME_CHARS = frozenset(string.punctuation) - {"_", "-"}


def default_stage_name(notebook: str) -> str:
    """``notebooks/train.ipynb`` -> ``train`` (other punctuation becomes ``_``)."""
    stem = posixpath.splitext(posixpath.basename(notebook.replace(os.sep, "/")))[0]
    return "".join("_" if c in _INVALID_NAME_CHARS else c for c in stem) or "notebook"


def check_stage_name(name: str) -> None:
    """Raise :class:`InvalidArgumentError` for a name DVC would refuse."""
    if not name or _INVALID_NAME_CHARS & set(name) or name != name.strip():
        raise InvalidArgumentError(
            f"invalid stage name '{name}': it cannot contain punctuation characters "
            "other than '_' and '-'",
            argument="--name",
        )


def notebook_stage(
    request: NotebookRequest,
    *,
    deps: Sequence[str] = (),
    outs: Sequence[str] = (),
    metrics: Sequence[str] = (),
    metrics_no_cache: Sequence[str] = (),
    plots: Sequence[str] = (),
    plots_no_cache: Sequence[str] = (),
    desc: str | None = None,
) -> dict[str, Any]:
    """The ``dvc.yaml`` entry for a stage running ``request`` (DVC's key order).

    Deps are sorted as DVC writes them; params keys keep the order of ``-p``.
    """
    entry: dict[str, Any] = {}
    if desc:
        entry["desc"] = desc
    entry["cmd"] = request.command()
    entry["deps"] = sorted({request.notebook, *deps})
    keys = list(dict.fromkeys(spec.key for spec in request.params))
    if keys:
        if request.params_file == DEFAULT_PARAMS_FILE:
            entry["params"] = keys
        else:
            entry["params"] = [{request.params_file: keys}]
    entry["outs"] = [request.output, *(o for o in outs if o != request.output)]
    metric_entries = [*metrics, *({m: {"cache": False}} for m in metrics_no_cache)]
    if metric_entries:
        entry["metrics"] = metric_entries
    plot_entries = [*plots, *({p: {"cache": False}} for p in plots_no_cache)]
    if plot_entries:
        entry["plots"] = plot_entries
    return entry


def add_stage(
    dvcfile: str | os.PathLike[str],
    name: str,
    entry: dict[str, Any],
    *,
    force: bool = False,
    check: Callable[[], object] | None = None,
) -> Literal["created", "added", "modified"]:
    """Put stage ``name`` into ``dvcfile``; say whether the file was created, or the stage
    added to it or replaced in it.

    ``check`` is called once the file is written (e.g. loading the project); if it
    raises :class:`PipelineError` the file is put back as it was and the error re-raised.
    Raises :class:`InvalidArgumentError` when the name is invalid or taken (unless
    ``force``, which replaces the stage in place), :class:`PipelineSyntaxError` when
    the existing file is not YAML, :class:`PipelineError` when it has no usable
    ``stages`` mapping.
    """
    check_stage_name(name)
    path = Path(dvcfile)
    shown = path.name if path.parent == Path(".") else os.fspath(path)
    old_text = path.read_text(encoding="utf-8") if path.exists() else None
    yaml, data = _load_round_trip(old_text, shown)
    stages = data.get("stages")
    if stages is None:
        data["stages"] = stages = {}
    elif not isinstance(stages, dict):
        raise PipelineError("'stages' is not a mapping", path=shown)
    if name in stages and not force:
        raise InvalidArgumentError(
            f"stage '{name}' already exists in '{shown}'; use --force to overwrite it",
            argument="--name",
        )
    outcome = "created" if old_text is None else "modified" if name in stages else "added"
    stages[name] = entry
    stream = io.StringIO()
    yaml.dump(data, stream)
    _write_atomic(path, stream.getvalue())
    if check is not None:
        try:
            check()
        except PipelineError:
            if old_text is None:
                path.unlink(missing_ok=True)
            else:
                _write_atomic(path, old_text)
            raise
    return outcome


def _load_round_trip(text: str | None, shown: str) -> tuple[Any, Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.util import load_yaml_guess_indent

    yaml = YAML()
    yaml.default_flow_style = False
    # Long commands stay on one line, as people write them (ruamel folds at 80 columns,
    # which would also re-fold every long line already in the file).
    yaml.width = 4096
    if not text or not text.strip():
        return yaml, CommentedMap()
    try:
        data, indent, block_seq_indent = load_yaml_guess_indent(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise PipelineSyntaxError(
            f"invalid YAML: {getattr(exc, 'problem', None) or exc}", path=shown, line=line
        ) from None
    if data is None:
        return yaml, CommentedMap()
    if not isinstance(data, dict):
        raise PipelineError("expected a mapping at the top level", path=shown)
    # ruamel guesses the sequences' layout (content column, dash offset); the mappings'
    # indentation is read from the first nested key.
    mapping = _mapping_indent(text) or 2
    if block_seq_indent is None:
        yaml.indent(mapping=mapping, sequence=mapping, offset=max(mapping - 2, 0))
    else:
        yaml.indent(mapping=mapping, sequence=indent, offset=block_seq_indent)
    return yaml, data


def _mapping_indent(text: str) -> int | None:
    """Indentation of the first indented mapping key (``  train:`` -> 2)."""
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith(("#", "-")) or stripped == line:
            continue
        if ":" in stripped:
            return len(line) - len(stripped)
    return None


def _write_atomic(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777 if path.exists() else None
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fobj:
            fobj.write(text)
            fobj.flush()
            os.fsync(fobj.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
