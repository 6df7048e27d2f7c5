"""The experiments table as a pandas DataFrame (pandas is imported only here).

Columns are named as ``dvc.api.exp_show`` names its keys, in the same order, so code
written for ``pd.DataFrame(dvc.api.exp_show())`` works on ours. The values are better
typed than DVC's (which turns every number into a float and every other value into a
string):

- ``Created``: ``datetime64`` (NaT for the workspace);
- a metric/param column of integers only: nullable ``Int64``; of numbers: ``float64``;
  of booleans only: nullable ``boolean``; anything else stays ``object`` with the values
  as read (strings, lists...). Missing values are ``<NA>``/``NaN``/``None``;
- dependency columns hold the md5 strings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .show import ExpTable

if TYPE_CHECKING:
    import pandas as pd


def to_dataframe(table: ExpTable) -> pd.DataFrame:
    """``table`` as a DataFrame, one row per table row, columns as DVC names them."""
    import pandas as pd

    data: dict[str, Any] = {}
    for column in table.columns:
        values = [table.cell(row, column) for row in table.rows]
        if column.name == "Created" and column.kind == "meta":
            data[column.name] = pd.to_datetime(pd.Series(values, dtype="object"))
        elif column.kind in ("metric", "param"):
            data[column.name] = _typed(pd, values)
        elif column.name == "Step" and column.kind == "meta":  # checkpoint experiments
            data[column.name] = pd.Series(values, dtype="Int64")
        else:
            data[column.name] = pd.Series(values, dtype="object")
    frame = pd.DataFrame(data, columns=[c.name for c in table.columns])
    frame.index = pd.RangeIndex(len(table.rows))
    return frame


def _typed(pd: Any, values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="boolean")
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="Int64")
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pd.Series([float("nan") if v is None else float(v) for v in values])
    return pd.Series(values, dtype="object")
