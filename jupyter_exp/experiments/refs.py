"""The ref layout of experiments, exactly as DVC 3 uses it.

``refs/exps/<baseline[:2]>/<baseline[2:]>/<name>`` points at the experiment's commit
(whose parent is the baseline commit). DVC's own bookkeeping refs live under
``refs/exps/exec/``, ``refs/exps/celery/``, ``refs/exps/temp/``, ``refs/exps/apply/`` and
``refs/exps/stash``; they are never experiments.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..errors import InvalidExperimentNameError

EXPS_NAMESPACE = "refs/exps"
# DVC's executor refs: the baseline/branch of the run in progress.
EXEC_NAMESPACE = f"{EXPS_NAMESPACE}/exec"
EXEC_BASELINE = f"{EXEC_NAMESPACE}/EXEC_BASELINE"
EXEC_BRANCH = f"{EXEC_NAMESPACE}/EXEC_BRANCH"
EXEC_HEAD = f"{EXEC_NAMESPACE}/EXEC_HEAD"
EXEC_APPLY = f"{EXEC_NAMESPACE}/EXEC_APPLY"
RESERVED = ("exec", "celery", "temp", "apply", "stash", "jupyter-exp")

_SHA = re.compile(r"^[0-9a-f]{40}$")
# What Git forbids in a ref component, plus '/' (a name is one component here).
_BAD_CHARS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\/]")


class ExpRef(NamedTuple):
    """An experiment ref: the baseline commit it branches from and its name.

    A NamedTuple, not a dataclass, so ``exp show`` starts without importing
    :mod:`dataclasses`; :meth:`to_dict` keeps the server's JSON of it a mapping.
    """

    baseline: str
    name: str

    def to_dict(self) -> dict[str, str]:
        """``{"baseline", "name"}``."""
        return {"baseline": self.baseline, "name": self.name}

    def __str__(self) -> str:
        return f"{EXPS_NAMESPACE}/{self.baseline[:2]}/{self.baseline[2:]}/{self.name}"

    @property
    def ref(self) -> str:
        """The full ref name."""
        return str(self)

    @classmethod
    def parse(cls, ref: str) -> ExpRef | None:
        """The :class:`ExpRef` of ``ref``, or None when it is not an experiment ref."""
        parts = ref.split("/")
        if len(parts) != 5 or "/".join(parts[:2]) != EXPS_NAMESPACE:
            return None
        if parts[2] in RESERVED:
            return None
        baseline = parts[2] + parts[3]
        if not _SHA.match(baseline):
            return None
        return cls(baseline, parts[4])


def baseline_prefix(baseline: str) -> str:
    """The ref prefix holding every experiment of ``baseline``."""
    return f"{EXPS_NAMESPACE}/{baseline[:2]}/{baseline[2:]}/"


def validate_name(name: str) -> str:
    """Return ``name`` if Git and DVC accept it as an experiment name, else raise."""
    if not name:
        raise InvalidExperimentNameError(name, "it is empty")
    bad = _BAD_CHARS.search(name)
    if bad:
        shown = "a space" if bad.group() == " " else repr(bad.group())
        raise InvalidExperimentNameError(name, f"it contains {shown}")
    if ".." in name or "@{" in name:
        raise InvalidExperimentNameError(name, "it contains '..' or '@{'")
    if name.startswith((".", "-")) or name.endswith((".", ".lock")) or name == "@":
        raise InvalidExperimentNameError(
            name, "it may not start with '.' or '-', or end with '.' or '.lock'"
        )
    if name in RESERVED:
        raise InvalidExperimentNameError(name, "the name is reserved")
    return name
