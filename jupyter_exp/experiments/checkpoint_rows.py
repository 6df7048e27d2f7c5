"""``exp show`` rows of checkpoint experiments: the chain as a tree under its experiment.

:func:`~.collect.collect_states` already reads every commit of an experiment's chain
(tip first, as DVC's ``ExpRange``). The table shows the tip as the experiment's row and,
for a chain of several commits, one row per older checkpoint below it, as DVC 2 did:
``checkpoint_tip``, ``checkpoint_commit``..., ``checkpoint_base`` (the first checkpoint),
each with its own metrics and params, its ``parent`` commit and the experiment's name.
Every experiment row gets a step (0 for the first commit after the baseline), shown in a
``Step`` column when the table holds any checkpoint chain, so metrics can be plotted per
checkpoint: ``df[df.Experiment == name].plot(x="Step", y="loss")``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .expstate import ExpRange, ExpState
    from .show import Row

CHECKPOINT_TIP = "checkpoint_tip"
CHECKPOINT_COMMIT = "checkpoint_commit"
CHECKPOINT_BASE = "checkpoint_base"
CHECKPOINT_TYPES = (CHECKPOINT_TIP, CHECKPOINT_COMMIT, CHECKPOINT_BASE)
STEP_COLUMN = "Step"


def checkpoint_rows(
    exp_row: Row, exp_range: ExpRange, fill: Callable[[Row, ExpState], None]
) -> list[Row]:
    """Rows for the older commits of ``exp_range`` (shown after ``exp_row``, its tip).

    Sets ``exp_row``'s step (and, for a chain, its type and parent). An experiment of
    one commit gets step 0 and no extra rows. ``fill`` puts a commit's values in a row.
    """
    from .show import Row

    revs = exp_range.revs
    total = len(revs)
    exp_row.step = total - 1
    if total == 1:
        return []
    exp_row.typ = CHECKPOINT_TIP
    exp_row.parent = revs[1].rev[:7]
    rows = []
    for i, state in enumerate(revs[1:], start=1):
        last = i == total - 1
        parent = exp_row.baseline if last else revs[i + 1].rev
        row = Row(
            typ=CHECKPOINT_BASE if last else CHECKPOINT_COMMIT,
            rev=state.rev[:7],
            sha=state.rev,
            baseline=exp_row.baseline,
            experiment=exp_row.experiment,
            parent=parent[:7] if parent else None,
            state=exp_row.state,
            executor=exp_row.executor,
            step=total - 1 - i,
        )
        fill(row, state)
        rows.append(row)
    return rows


def has_checkpoints(states: Sequence[ExpState]) -> bool:
    """True when an experiment of ``states`` is a chain (the table then gets a step column)."""
    return any(len(r.revs) > 1 for state in states for r in state.experiments or ())
