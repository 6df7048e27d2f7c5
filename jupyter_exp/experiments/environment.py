"""The environment variables an experiment's stage commands see, as DVC sets them.

``DVC_EXP_NAME`` is the experiment's name, ``DVC_EXP_BASELINE_REV`` the full sha of the
commit it branches from, and ``DVC_ROOT`` the root of the user's project, also when the
stages run in a temporary worktree (DVC points it at the parent repository too, so
tools such as DVCLive find the real project).
"""

from __future__ import annotations

import os

DVC_EXP_NAME = "DVC_EXP_NAME"
DVC_EXP_BASELINE_REV = "DVC_EXP_BASELINE_REV"
DVC_ROOT = "DVC_ROOT"


def experiment_env(name: str, baseline: str, root: str | os.PathLike[str]) -> dict[str, str]:
    """The variables to add to the stages' environment for experiment ``name``."""
    return {
        DVC_EXP_NAME: name,
        DVC_EXP_BASELINE_REV: baseline,
        DVC_ROOT: os.fspath(root),
    }
