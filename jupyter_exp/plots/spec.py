"""What a chart is once built: a title and a Vega-Lite spec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["SCHEMA", "PlotSpec"]

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


@dataclass
class PlotSpec:
    """A chart: ``spec`` is a complete Vega-Lite v5 spec (plain dicts, JSON-able)."""

    title: str
    spec: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """``{"title", "spec"}``, as the server sends it."""
        return {"title": self.title, "spec": self.spec}
