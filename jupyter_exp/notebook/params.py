"""Resolve ``-p KEY[:NAME]`` against a params file into papermill parameters.

Values are read as DVC reads params files (YAML 1.2, JSON, TOML, Python), so the
notebook gets exactly what ``dvc.lock`` records for the same keys.
"""

from __future__ import annotations

import keyword
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..core.params import select_params
from ..core.params_write import parse_params_text
from ..errors import InvalidArgumentError, ParamsFileError
from . import ParamSpec

__all__ = ["read_params", "resolve_parameters"]


def read_params(path: str | os.PathLike[str], *, display: str | None = None) -> dict[str, Any]:
    """The parsed params file at ``path``; errors name it as ``display``.

    Raises :class:`ParamsFileError` when it is missing or does not parse.
    """
    shown = display or os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParamsFileError(shown, "does not exist") from None
    except IsADirectoryError:
        raise ParamsFileError(shown, "is a directory, expected a params file") from None
    except UnicodeDecodeError:
        raise ParamsFileError(shown, "is not valid UTF-8") from None
    except OSError as exc:
        raise ParamsFileError(shown, exc.strerror or str(exc)) from None
    return parse_params_text(text, shown)


def resolve_parameters(
    specs: Sequence[ParamSpec],
    data: Mapping[str, Any],
    *,
    path: str,
    python_names: bool = False,
) -> dict[str, Any]:
    """``{variable: value}`` for the notebook, in the order the specs give them.

    ``-p train.lr`` gives ``lr``; ``-p train.lr:rate`` gives ``rate``; ``-p train`` (a
    mapping) gives one variable per key of ``train``; ``-p train:cfg`` gives ``cfg``, the
    whole mapping. Raises :class:`MissingParamError` for a key not in ``data`` (named
    ``path``), and :class:`InvalidArgumentError` when two specs give the same variable
    or, with ``python_names``, a variable Python cannot assign (``batch-size``, ``0``).
    """
    parameters: dict[str, Any] = {}
    source: dict[str, str] = {}
    for spec in specs:
        value = select_params(dict(data), [spec.key], path=path)[spec.key]
        if spec.name:
            items: Iterable[tuple[str, str, Any]] = [(spec.name, spec.key, value)]
        elif isinstance(value, Mapping):
            items = [(str(k), f"{spec.key}.{k}", v) for k, v in value.items()]
        else:
            items = [(spec.key.rsplit(".", 1)[-1], spec.key, value)]
        for name, key, item in items:
            if name in parameters:
                raise InvalidArgumentError(
                    f"notebook parameter '{name}' is given by both '-p {source[name]}' and "
                    f"'-p {spec}'; rename one with -p KEY:NAME",
                    argument="-p",
                )
            if python_names and (not name.isidentifier() or keyword.iskeyword(name)):
                raise InvalidArgumentError(
                    f"params key '{key}' gives '{name}', which is not a Python variable "
                    f"name; name it with -p {key}:{_suggest(name)}",
                    argument="-p",
                )
            parameters[name] = item
            source[name] = str(spec)
    return parameters


def _suggest(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    if not cleaned or cleaned[0].isdigit() or keyword.iskeyword(cleaned):
        cleaned = f"p_{cleaned}"
    return cleaned
