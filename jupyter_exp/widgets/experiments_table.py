"""``ExperimentsTable``: the experiments of a project as an interactive table, with actions.

An :class:`itables.widget.ITable` (DataTables: sort by a header click, search, select rows
with a click) under a toolbar acting on the selected rows: Apply, Branch, Remove, Diff,
Plot, Queue a copy (params editor), Start/Stop the queue, Refresh. Messages and errors
go to a one-line status; diffs and charts to an output area. While the queue has work,
a background thread refreshes the table (see :mod:`jupyter_exp.widgets.live`); the
selection is kept by experiment name across refreshes.

Everything goes through :class:`jupyter_exp.Project`; a
:class:`~jupyter_exp.errors.JupyterExpError` becomes its one-line message in the status.
"""

from __future__ import annotations

import html
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets
from IPython.display import HTML
from itables import JavascriptFunction
from itables.widget import ITable

from ..errors import JupyterExpError, WorkspaceConflictError
from .live import LiveRefresh
from .prompts import Field, Prompt
from .rows import WORKSPACE, ShownRow, ShownRows

if TYPE_CHECKING:
    from ..api import Project

__all__ = ["ExperimentsTable"]

# DataTables options: click toggles a row's selection (no modifier key to learn), a click
# on a header sorts (itables' default keeps header text selectable and sorts on the icon
# only), search box and row count always there (itables hides them for tables that fit
# one page). A refresh with new data re-creates the DataTable: stateSave (in the browser
# tab's sessionStorage) brings back the user's sort, search and page. The selection comes
# from Python (kept by name), so the Select extension's saved rows are dropped: restored,
# they would name rows by position in the old data.
TABLE_OPTIONS: dict[str, Any] = {
    "select": {"style": "multi"},
    "stateSave": True,
    "stateDuration": -1,
    "stateLoadParams": JavascriptFunction("function (settings, data) { delete data.select; }"),
    "warn_on_undocumented_option": False,  # its typing does not list stateLoadParams
    "showIndex": False,
    "text_in_header_can_be_selected": False,
    "classes": "display compact nowrap",
    "style": "table-layout:auto;width:auto;margin:0;caption-side:bottom",
    "layout": {"topStart": None, "topEnd": "search", "bottomStart": "info", "bottomEnd": "paging"},
    "pageLength": 20,
    "order": [],
}
PLOT_KINDS = (
    ("Bars per experiment", "bars"),
    ("By checkpoint step", "steps"),
    ("Parallel coordinates", "parallel"),
)


class ExperimentsTable(ipywidgets.VBox):
    """The experiments of ``project`` (a :class:`~jupyter_exp.Project` or a path).

    ``exp_show_options`` are :meth:`Project.exp_show`'s keyword arguments (``all_branches``,
    ``hide_queued``, ``sort_by``...). ``refresh_interval`` is the live refresh period in
    seconds. Attributes: ``table`` (the ITable), ``buttons`` (by action name), ``jobs``,
    ``plot_kind``, ``status``, ``prompt`` (the open question, or None), ``output``,
    ``live`` (the :class:`LiveRefresh`).
    """

    def __init__(
        self,
        project: Project | str | os.PathLike[str] = ".",
        *,
        refresh_interval: float = 2.0,
        **exp_show_options: Any,
    ) -> None:
        if isinstance(project, (str, os.PathLike)):
            from ..api import Project

            project = Project(project)
        self.project = project
        self.options = exp_show_options
        self.shown: ShownRows | None = None
        self.prompt: Prompt | None = None
        self.message = ""  # the status line's text
        self.failed = False  # whether that text is an error
        # Button handlers run on the kernel's thread, live refresh on its own: one at a time.
        self._lock = threading.RLock()

        self.table = ITable(**TABLE_OPTIONS)
        self.table.observe(self._selection_changed, names="selected_rows")
        self.buttons: dict[str, ipywidgets.Button] = {}
        self.jobs = ipywidgets.BoundedIntText(
            value=1, min=1, max=64, description="-j", layout=ipywidgets.Layout(width="90px")
        )
        self.jobs.style.description_width = "20px"
        self.plot_kind = ipywidgets.Dropdown(
            options=PLOT_KINDS, value="bars", layout=ipywidgets.Layout(width="150px")
        )
        self.status = ipywidgets.HTML(layout=ipywidgets.Layout(min_height="1.6em"))
        self.prompt_area = ipywidgets.VBox()
        self.output = ipywidgets.Output()
        self.status.add_class("jupyter-exp-status")
        self.output.add_class("jupyter-exp-output")
        self.live = LiveRefresh(
            self._poll,
            refresh_interval,
            on_error=self._live_failed,
            keep_watching=self._on_screen,
        )

        toolbar = ipywidgets.HBox(
            [
                self._button("apply", "Apply", "Put the experiment's files in the workspace"),
                self._button("branch", "Branch", "Create a Git branch at the experiment"),
                self._button("remove", "Remove", "Remove the selected experiments"),
                self._button("diff", "Diff", "Compare two selected rows"),
                self._button("plot", "Plot", "Chart the selected rows (all when none)"),
                self.plot_kind,
                self._button("queue_copy", "Queue a copy", "Queue the experiment's params"),
                self._button("start", "Start queue", "Start queue workers (-j of them)"),
                self.jobs,
                self._button("stop", "Stop queue", "Workers take no new experiment"),
                self._button("refresh", "Refresh", "Read the experiments again"),
            ],
            layout=ipywidgets.Layout(flex_flow="row wrap"),
        )
        super().__init__([toolbar, self.prompt_area, self.status, self.table, self.output])
        self.add_class("jupyter-exp-experiments")
        # Front ends report how many views show the widget: while one does, the table
        # keeps watching (slowly) for runs started elsewhere; a re-run cell removes the
        # view and the watching stops with it.
        self._view_count = 0
        self.observe(self._views_changed, names="_view_count")
        self.refresh()
        self._selection_changed()

    # --- selection ---------------------------------------------------------------------

    def selected(self) -> list[ShownRow]:
        """The selected rows, in table order."""
        if self.shown is None:
            return []
        return self.shown.pick(sorted(self.table.selected_rows))

    def selected_keys(self) -> list[str]:
        """The selected rows' keys (experiment names; the revision for others)."""
        return [row.key for row in self.selected()]

    def select(self, keys: Sequence[str]) -> None:
        """Select the rows with these keys (experiment names or revisions)."""
        if self.shown is not None:
            self.table.selected_rows = self.shown.positions(keys)

    def _selection_changed(self, _change: Any = None) -> None:
        count = len(self.table.selected_rows)
        need = {"apply": count == 1, "branch": count == 1, "queue_copy": count == 1}
        need |= {"remove": count >= 1, "diff": count == 2}
        for name, enabled in need.items():
            self.buttons[name].disabled = not enabled

    # --- refresh -----------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the experiments again, keeping the selection (by name), and start the
        live refresh if the queue has work."""
        with self._lock:
            self._reload()
        self._follow_queue()

    def _reload(self) -> bool:
        """Re-read the table; True when the queue still has work for it to show."""
        keys = self.selected_keys()
        shown = ShownRows(self.project.exp_show_table(**self.options))
        positions = shown.positions(keys)
        if self.shown is not None and shown.frame.equals(self.shown.frame):
            # Same data: no re-render, so the front end keeps its sort order and search.
            self.shown = shown
            if positions != sorted(self.table.selected_rows):
                self.table.selected_rows = positions
        else:
            self.shown = shown
            # update() recomputes every DataTables option it is not given: give them all.
            self.table.update(
                shown.frame,
                selected_rows=positions,
                columnDefs=_column_classes(shown),
                **TABLE_OPTIONS,
            )
        return shown.active()

    def _follow_queue(self) -> None:
        """Poll in the background while an entry runs, or waits for a live worker."""
        if self._queue_busy():
            self.live.start()

    def _on_screen(self) -> bool:
        return bool(self._view_count)

    def _views_changed(self, change: Any) -> None:
        if change["new"]:
            self.live.start()

    def _queue_busy(self) -> bool:
        status = self.project.queue_status()
        states = {entry.state for entry in status.entries}
        return "Running" in states or ("Queued" in states and bool(status.workers))

    def _poll(self) -> bool:
        with self._lock:
            busy = self._queue_busy()
            self._reload()
        return busy

    def _live_failed(self, error: Exception) -> None:
        detail = str(error) if isinstance(error, JupyterExpError) else repr(error)
        self._say(f"Live refresh stopped: {detail}", error=True)

    def close(self) -> None:
        """Stop the live refresh and close the widgets."""
        self.live.stop(timeout=10)
        self.table.close()
        super().close()

    # --- actions -----------------------------------------------------------------------

    def _button(self, name: str, label: str, tooltip: str) -> ipywidgets.Button:
        button = ipywidgets.Button(
            description=label, tooltip=tooltip, layout=ipywidgets.Layout(width="auto")
        )
        button.on_click(lambda _button: self._run(getattr(self, f"_on_{name}")))
        button.add_class(f"jupyter-exp-{name.replace('_', '-')}")
        self.buttons[name] = button
        return button

    def _run(self, action: Callable[[], None]) -> None:
        """Run a button's action; our errors become the status line."""
        try:
            with self._lock:
                action()
        except JupyterExpError as error:
            self._say(str(error), error=True)

    def _on_refresh(self) -> None:
        self._close_prompt()
        self.refresh()
        self._say(f"Refreshed: {len(self.shown.rows) if self.shown else 0} rows.")

    def _on_apply(self) -> None:
        row = self._one_experiment("apply")
        if row is None:
            return
        try:
            self._apply(row, force=False)
        except WorkspaceConflictError as conflict:
            # Usual right after a run: the workspace holds its results. Ask, then force
            # (Project saves the workspace under refs/exps/apply/stash either way).
            paths = ", ".join(conflict.paths[:5]) + (" ..." if len(conflict.paths) > 5 else "")
            self._ask(
                f"Applying '{row.key}' overwrites uncommitted changes in {paths} "
                "(they are saved first and can be restored).",
                "Apply anyway",
                lambda _answers: self._apply(row, force=True),
                danger=True,
            )

    def _apply(self, row: ShownRow, *, force: bool) -> None:
        result = self.project.exp_apply(row.target, force=force)
        self._close_prompt()
        self.refresh()
        hint = f" To undo: {result.restore_hint}" if force and result.restore_hint else ""
        self._say(
            f"Changes for experiment '{result.name}' have been applied to your workspace.{hint}"
        )

    def _on_branch(self) -> None:
        row = self._one_experiment("branch")
        if row is None:
            return

        def create(answers: dict[str, str]) -> None:
            result = self.project.exp_branch(row.target, answers["branch"] or None)
            self._close_prompt()
            self._say(
                f"Git branch '{result.branch}' has been created from "
                f"experiment '{result.experiment}'."
            )

        self._ask(
            f"Create a Git branch at '{row.key}'",
            "Create branch",
            create,
            [Field("branch", placeholder=f"{row.key}-branch")],
        )

    def _on_remove(self) -> None:
        rows = self.selected()
        if not rows:
            self._say("Select the experiments to remove.", error=True)
            return
        if not all(row.is_experiment for row in rows):
            self._say("Only experiments can be removed, not the workspace or a baseline.", True)
            return
        names = [row.key for row in rows]

        def remove(_answers: dict[str, str]) -> None:
            queued = [row.target for row in rows if row.queue_entry]
            done = [row.target for row in rows if not row.queue_entry]
            removed = self.project.exp_remove(done) if done else []
            dropped = [e.name for e in self.project.queue_remove(queued)] if queued else []
            self._close_prompt()
            self.refresh()
            self._say(f"Removed: {', '.join([*removed, *dropped]) or 'nothing'}.")

        self._ask(f"Remove {', '.join(names)}?", "Remove", remove, danger=True)

    def _on_diff(self) -> None:
        rows = self.selected()
        if len(rows) != 2:
            self._say("Select exactly two rows to diff.", error=True)
            return
        # The table lists newer rows first: compare the lower (older) with the upper.
        new, old = rows
        diff = self.project.exp_diff(_revision(old), _revision(new))
        frame = diff.to_dataframe()
        title = f"Diff {old.key} → {new.key}"
        table = frame.to_html(index=False, na_rep="", classes="jupyter-exp-diff")
        self._show(HTML(f"<b>{html.escape(title)}</b>{table}"))
        self._say(f"{title}: {len(frame)} change(s)." if len(frame) else f"{title}: no change.")

    def _on_plot(self) -> None:
        from ..ipython import plots

        if self.shown is None:
            return
        frame = self.shown.typed_frame(sorted(self.table.selected_rows))
        kind = self.plot_kind.value
        try:
            chart = plots.choose_chart(
                frame,
                frame.attrs["column_kinds"],
                steps=kind == "steps",
                parallel=kind == "parallel",
            )
        except ValueError as error:  # nothing to plot: the user's choice, not a bug
            self._say(f"Cannot plot: {error}", error=True)
            return
        self._show(chart)
        self._say(f"Plotted {chart.title}.")

    def _on_queue_copy(self) -> None:
        rows = self.selected()
        if len(rows) != 1 or self.shown is None:
            self._say("Select one row to queue a copy of.", error=True)
            return
        row = rows[0]
        position = self.shown.rows.index(row)
        params = self.shown.params(position)
        fields = [Field(_override_key(column), _override_value(value)) for column, value in params]

        def queue(answers: dict[str, str]) -> None:
            name = answers.pop("experiment name") or None
            overrides = [f"{key}={text}" for key, text in answers.items() if text]
            entries = self.project.exp_run(params=overrides, name=name, queue=True)
            self._close_prompt()
            self.refresh()
            names = ", ".join(entry.name for entry in entries)
            self._say(f"Queued {names}: Start queue runs it.")

        self._ask(
            f"Queue a copy of '{row.key}' with these params",
            "Queue",
            queue,
            [*fields, Field("experiment name", placeholder="(a random name)")],
        )

    def _on_start(self) -> None:
        workers = self.project.queue_start(self.jobs.value)
        self._say(f"Started {len(workers)} queue worker(s).")
        self.live.start()

    def _on_stop(self) -> None:
        self.project.queue_stop()
        self._say("Queue stopping: workers finish their experiment and take no new one.")

    # --- helpers -----------------------------------------------------------------------

    def _one_experiment(self, verb: str) -> ShownRow | None:
        rows = self.selected()
        if len(rows) != 1:
            self._say(f"Select one experiment to {verb}.", error=True)
            return None
        if rows[0].key == WORKSPACE:
            self._say(f"The workspace is not an experiment: nothing to {verb}.", error=True)
            return None
        return rows[0]

    def _ask(
        self,
        title: str,
        ok_label: str,
        on_ok: Callable[[dict[str, str]], None],
        fields: Sequence[Field] = (),
        *,
        danger: bool = False,
    ) -> None:
        self.prompt = Prompt(
            title,
            ok_label,
            lambda answers: self._run(lambda: on_ok(answers)),
            self._close_prompt,
            fields,
            danger=danger,
        )
        self.prompt_area.children = (self.prompt,)

    def _close_prompt(self) -> None:
        if self.prompt is not None:
            self.prompt.close()
        self.prompt = None
        self.prompt_area.children = ()

    def _show(self, *objects: Any) -> None:
        """Replace the output area's content (works with and without a kernel)."""
        self.output.outputs = ()
        for obj in objects:
            self.output.append_display_data(obj)

    def _say(self, text: str, error: bool = False) -> None:
        self.message, self.failed = text, error
        colour = "var(--jp-error-color1, #b00020)" if error else "inherit"
        self.status.value = f"<span style='color: {colour}'>{html.escape(text)}</span>"


def _revision(row: ShownRow) -> str | None:
    """What ``exp_diff`` takes for a row: the workspace is ``None``."""
    return None if row.key == WORKSPACE else row.target


def _override_key(column: Any) -> str:
    """``-S`` key of a params column: ``file:key`` unless the file is ``params.yaml``."""
    return column.key if column.path == "params.yaml" else f"{column.path}:{column.key}"


def _override_value(value: Any) -> str:
    """Override text that parses back to ``value``."""
    from ..core.overrides import format_value

    try:
        return format_value(value)
    except JupyterExpError:
        return str(value)


def _column_classes(shown: ShownRows) -> list[dict[str, Any]]:
    """A CSS class per column kind, so themes can tell metrics from params."""
    targets: dict[str, list[int]] = {}
    for index, kind in enumerate(shown.kinds()):
        targets.setdefault(kind, []).append(index)
    return [{"className": f"jupyter-exp-{kind}", "targets": cols} for kind, cols in targets.items()]
