"""Turn the engine's result objects (dataclasses, paths, dates, sets) into JSON data."""

from __future__ import annotations

import dataclasses
import enum
import os
from datetime import date, datetime
from typing import Any

__all__ = ["to_data"]


def to_data(value: Any) -> Any:
    """``value`` as JSON-able data; objects with ``to_dict()`` are asked first."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_data(to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((to_data(v) for v in value), key=str)
    if isinstance(value, (list, tuple)):
        return [to_data(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return to_data(value.value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)
