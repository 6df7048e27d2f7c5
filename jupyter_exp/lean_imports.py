"""Optional imports our own processes never use, masked to keep start-up short.

Only for processes jupyter-exp owns (the CLI, queue workers, queue entry processes):
a user's kernel or server keeps every module importable.
"""

from __future__ import annotations

import sys

__all__ = ["UNUSED_MODULES", "skip_unused_imports"]

# rfc3987_syntax: jsonschema's format checker imports it when installed (jupyter-events
# pulls it in through jsonschema[format-nongpl]) for "iri" formats no notebook schema
# uses; importing it compiles ~40 Lark grammars, 1.2 s of CPU per process (2.5 s under
# load), paid before the first notebook stage of a process could start.
UNUSED_MODULES = ("rfc3987_syntax",)


def skip_unused_imports() -> None:
    """Make :data:`UNUSED_MODULES` unimportable in this process.

    Code importing them optionally (``with suppress(ImportError)``) then goes without.
    """
    for name in UNUSED_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
