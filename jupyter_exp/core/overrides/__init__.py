"""``-S`` params overrides: parse Hydra-style override text, expand sweeps, apply to files.

``parse_overrides(["train.lr=0.01", "+train.seed=1"])`` gives :class:`Override` values;
:func:`expand_sweeps` turns ``a=1,2`` style sweeps into one list per combination (what
``--queue`` queues); :func:`apply_overrides` rewrites the params files in place,
keeping their formatting. The grammar and rules are in ``docs/params-overrides.md``.
"""

from __future__ import annotations

from .apply import apply_overrides
from .grammar import Override, format_value, parse_override, parse_overrides
from .sweep import expand_sweeps

__all__ = [
    "Override",
    "apply_overrides",
    "expand_sweeps",
    "format_value",
    "parse_override",
    "parse_overrides",
]
