/**
 * The Experiments sidebar: a ReactWidget over SidebarModel.
 */
import { PageConfig } from '@jupyterlab/coreutils';
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import React from 'react';
import { badgeCounts, rowBadge } from './badges';
import { projectTitle } from './header';
import { SidebarModel } from './model';
import { overridesFrom, paramFields, workspaceParams } from './params';
import {
  CHECKPOINT_TYPES,
  arrangeRows,
  cellText,
  filterRows,
  groupColumns,
  isExperiment,
  rowKey,
  rowLabel,
  sortRows,
  visibleColumns
} from './table';
import { IRow } from './types';

/** What the row and toolbar buttons do (dialogs, documents, panels): see actions.ts. */
export interface ISidebarActions {
  apply(row: IRow): Promise<void>;
  branch(row: IRow): Promise<void>;
  remove(row: IRow): Promise<void>;
  showLogs(row: IRow): Promise<void>;
  openNotebook(row: IRow): Promise<void>;
  compare(rows: IRow[]): Promise<void>;
}

/** The sidebar widget. */
export class ExperimentsSidebar extends ReactWidget {
  constructor(
    readonly model: SidebarModel,
    private readonly actions: ISidebarActions
  ) {
    super();
    this.addClass('jp-ExpSidebar');
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.setVisible(true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.setVisible(false);
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.model.setVisible(this.isVisible);
  }

  protected onBeforeDetach(msg: Message): void {
    this.model.setVisible(false);
    super.onBeforeDetach(msg);
  }

  render(): JSX.Element {
    return (
      <UseSignal signal={this.model.changed}>
        {() => <SidebarView model={this.model} actions={this.actions} />}
      </UseSignal>
    );
  }
}

interface IViewProps {
  model: SidebarModel;
  actions: ISidebarActions;
}

function SidebarView({ model, actions }: IViewProps): JSX.Element {
  return (
    <div className="jp-ExpSidebar-body" data-testid="exp-sidebar">
      <div className="jp-ExpSidebar-header">
        <h2 className="jp-ExpSidebar-title">Experiments</h2>
        <ProjectName project={model.table?.project} />
        <span className="jp-ExpSidebar-path" data-testid="exp-path" title={model.path || '/'}>
          {model.path || '/'}
        </span>
        <button
          className="jp-ExpSidebar-button"
          data-testid="exp-refresh"
          title="Refresh"
          onClick={() => void model.refresh()}
        >
          ⟳
        </button>
      </div>
      {model.error ? (
        <div className="jp-ExpSidebar-error" data-testid="exp-error" data-error={model.error.error}>
          {model.error.message}
        </div>
      ) : model.table ? (
        <Loaded model={model} actions={actions} />
      ) : (
        <div className="jp-ExpSidebar-empty">{model.loading ? 'Loading…' : 'No data yet.'}</div>
      )}
    </div>
  );
}

/** The project the table is about (GET experiments' `project`): its name, full path on hover. */
function ProjectName({ project }: { project: string | undefined }): JSX.Element | null {
  if (project === undefined) {
    return null; // not read yet, not in a repository, or a server without the field
  }
  const { name, tooltip } = projectTitle(project, PageConfig.getOption('serverRoot'));
  return (
    <span
      className="jp-ExpSidebar-project"
      data-testid="exp-project"
      data-project={project}
      title={tooltip}
    >
      {name}
    </span>
  );
}

function Loaded({ model, actions }: IViewProps): JSX.Element {
  const table = model.table!;
  const entries = model.queue?.entries ?? [];
  const rows = arrangeRows(sortRows(filterRows(table.rows, model.filter), model.sort), model.starredHere, {
    starredOnly: model.starredOnly,
    max: model.settings.maxRows
  });
  const columns = visibleColumns(table.columns, table.rows, {
    onlyChanged: model.onlyChanged,
    defaultColumns: model.settings.defaultColumns
  });
  const counts = badgeCounts(table.rows, entries);
  const workers = model.queue?.workers.length ?? 0;
  return (
    <>
      <div className="jp-ExpSidebar-toolbar">
        <input
          className="jp-ExpSidebar-filter"
          data-testid="exp-filter"
          type="search"
          placeholder="Filter (text, or lr>0.1)"
          value={model.filter}
          onChange={e => model.setFilter(e.target.value)}
        />
        <label className="jp-ExpSidebar-toggle">
          <input
            type="checkbox"
            data-testid="exp-only-changed"
            checked={model.onlyChanged}
            onChange={e => model.setOnlyChanged(e.target.checked)}
          />
          only changed
        </label>
        <label className="jp-ExpSidebar-toggle">
          <input
            type="checkbox"
            data-testid="exp-starred-only"
            checked={model.starredOnly}
            onChange={e => model.setStarredOnly(e.target.checked)}
          />
          ★ only
        </label>
      </div>
      <div className="jp-ExpSidebar-queue" data-testid="exp-queue">
        <span data-testid="exp-queue-summary">
          queue: {counts.queued} queued, {counts.running} running, {counts.success} success,{' '}
          {counts.failed} failed; {workers} worker{workers === 1 ? '' : 's'}
        </span>
        <button
          className="jp-ExpSidebar-button"
          data-testid="exp-queue-start"
          onClick={() => void model.queueStart()}
        >
          Start queue
        </button>
        <button
          className="jp-ExpSidebar-button"
          data-testid="exp-queue-stop"
          onClick={() => void model.queueStop()}
        >
          Stop queue
        </button>
      </div>
      {model.notice ? (
        <div
          className={`jp-ExpSidebar-notice jp-mod-${model.notice.kind}`}
          data-testid="exp-notice"
        >
          {model.notice.text}
        </div>
      ) : null}
      <JobLine model={model} />
      <div className="jp-ExpSidebar-tableWrap">
        <table className="jp-ExpSidebar-table" data-testid="exp-table">
          <thead>
            <tr className="jp-ExpSidebar-groups">
              <th colSpan={4} />
              {groupColumns(columns).map(g => (
                <th
                  key={`${g.kind}:${g.path}`}
                  colSpan={g.columns.length}
                  className={`jp-ExpSidebar-group jp-mod-${g.kind}`}
                  data-testid="exp-col-group"
                >
                  {g.kind === 'param' ? 'params' : 'metrics'}: {g.path}
                </th>
              ))}
              <th />
            </tr>
            <tr>
              <th />
              <th />
              <SortHeader model={model} column="Experiment" label="Experiment" />
              <SortHeader model={model} column="State" label="State" />
              {columns.map(c => (
                <SortHeader
                  key={c.name}
                  model={model}
                  column={c.name}
                  label={c.key ?? c.name}
                  kind={c.kind}
                />
              ))}
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(row => (
              <Row
                key={rowKey(row)}
                row={row}
                model={model}
                actions={actions}
                columns={columns.map(c => c.name)}
                badge={rowBadge(row, entries)}
              />
            ))}
          </tbody>
        </table>
      </div>
      <div className="jp-ExpSidebar-selection">
        <button
          className="jp-ExpSidebar-button jp-mod-accept"
          data-testid="exp-compare"
          disabled={model.selectedRows.length === 0}
          onClick={() => void actions.compare(model.selectedRows)}
        >
          Compare / plot ({model.selectedRows.length})
        </button>
        {model.selection.length > 0 ? (
          <button className="jp-ExpSidebar-button" onClick={() => model.clearSelection()}>
            Clear
          </button>
        ) : null}
      </div>
      <RunForm model={model} />
    </>
  );
}

function SortHeader(props: {
  model: SidebarModel;
  column: string;
  label: string;
  kind?: string;
}): JSX.Element {
  const { model, column, label, kind } = props;
  const sorted = model.sort?.column === column ? model.sort.order : null;
  return (
    <th
      className={`jp-ExpSidebar-sortable${kind ? ` jp-mod-${kind}` : ''}`}
      data-testid="exp-col-header"
      data-column={column}
      data-sort={sorted ?? ''}
      title={`Sort by ${column}`}
      onClick={() => model.clickHeader(column)}
    >
      {label}
      {sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : ''}
    </th>
  );
}

function Row(props: {
  row: IRow;
  model: SidebarModel;
  actions: ISidebarActions;
  columns: string[];
  badge: string | null;
}): JSX.Element {
  const { row, model, actions, columns, badge } = props;
  const key = rowKey(row);
  const starred = model.starredHere.has(key);
  const checkpoint = CHECKPOINT_TYPES.includes(row.typ);
  const experiment = isExperiment(row) && !checkpoint;
  const notebooks = row.notebooks ?? [];
  return (
    <tr
      className={`jp-ExpSidebar-row jp-mod-${row.typ}${
        model.selection.includes(key) ? ' jp-mod-selected' : ''
      }`}
      data-testid="exp-row"
      data-exp-name={rowLabel(row)}
      data-row-key={key}
    >
      <td>
        <input
          type="checkbox"
          data-testid="exp-select"
          title="Select for compare, plots and the run form"
          checked={model.selection.includes(key)}
          onChange={() => model.toggleSelected(key)}
        />
      </td>
      <td>
        <button
          className={`jp-ExpSidebar-star${starred ? ' jp-mod-starred' : ''}`}
          data-testid="exp-star"
          data-starred={starred ? 'true' : 'false'}
          title={starred ? 'Unstar' : 'Star'}
          onClick={() => model.toggleStar(key)}
        >
          {starred ? '★' : '☆'}
        </button>
      </td>
      <td className="jp-ExpSidebar-name" title={row.id}>
        {checkpoint ? <span className="jp-ExpSidebar-tree">└ </span> : null}
        {checkpoint ? `step ${row.Step ?? ''}` : rowLabel(row)}
        {row.Experiment && !checkpoint ? (
          <span className="jp-ExpSidebar-rev"> {row.rev}</span>
        ) : null}
      </td>
      <td>
        {badge ? (
          <span className={`jp-ExpSidebar-badge jp-mod-${badge}`} data-testid="exp-badge" data-state={badge}>
            {badge}
          </span>
        ) : null}
      </td>
      {columns.map(name => (
        <td key={name} className="jp-ExpSidebar-value" data-column={name}>
          {cellText(row.values[name])}
        </td>
      ))}
      <td className="jp-ExpSidebar-actions">
        {experiment && badge !== 'queued' && badge !== 'running' ? (
          <>
            <ActionButton testid="exp-action-apply" label="apply" onClick={() => actions.apply(row)} />
            <ActionButton testid="exp-action-branch" label="branch" onClick={() => actions.branch(row)} />
          </>
        ) : null}
        {experiment ? (
          <>
            <ActionButton testid="exp-action-remove" label="remove" onClick={() => actions.remove(row)} />
            <ActionButton testid="exp-action-logs" label="logs" onClick={() => actions.showLogs(row)} />
          </>
        ) : null}
        {experiment && notebooks.length > 0 ? (
          <ActionButton
            testid="exp-action-notebook"
            label="notebook"
            onClick={() => actions.openNotebook(row)}
          />
        ) : null}
      </td>
    </tr>
  );
}

function ActionButton(props: {
  testid: string;
  label: string;
  onClick: () => Promise<void>;
}): JSX.Element {
  return (
    <button
      className="jp-ExpSidebar-action"
      data-testid={props.testid}
      onClick={() => void props.onClick()}
    >
      {props.label}
    </button>
  );
}

function JobLine({ model }: { model: SidebarModel }): JSX.Element | null {
  const job = model.job;
  if (!job) {
    return null;
  }
  const active = job.status === 'pending' || job.status === 'running';
  const cancellable = active && job.cancellable !== false;
  const last = job.events[job.events.length - 1] as { kind?: string; stage?: string } | undefined;
  return (
    <div className="jp-ExpSidebar-job" data-testid="exp-job" data-status={job.status}>
      run: {job.status}
      {last ? ` (${last.kind ?? ''}${last.stage ? ` ${last.stage}` : ''})` : ''}
      {cancellable ? (
        <button
          className="jp-ExpSidebar-button"
          data-testid="exp-job-cancel"
          onClick={() => void model.cancelJob()}
        >
          Cancel
        </button>
      ) : null}
      {active ? null : (
        <button
          className="jp-ExpSidebar-button"
          data-testid="exp-job-dismiss"
          title="Dismiss"
          onClick={() => model.dismissJob()}
        >
          ✕
        </button>
      )}
    </div>
  );
}

/** The "run with params" form, prefilled from the last selected row (else the workspace). */
function RunForm({ model }: { model: SidebarModel }): JSX.Element {
  const table = model.table!;
  const selected = model.selectedRows;
  const source = selected[selected.length - 1] ?? table.rows.find(r => r.id === 'workspace') ?? null;
  const fields = paramFields(table.columns, source);
  const sourceKey = source ? rowKey(source) : '';
  const [edits, setEdits] = React.useState<Record<string, string>>({});
  const [name, setName] = React.useState('');
  const [open, setOpen] = React.useState(true);
  // New prefill row: drop the edits made over the previous one.
  React.useEffect(() => setEdits({}), [sourceKey]);
  const overrides = overridesFrom(fields, edits, workspaceParams(table.columns, table.rows));
  const submit = (queue: boolean) => {
    void model.run({ params: overrides, name, queue }).then(() => {
      setEdits({});
      setName('');
    });
  };
  return (
    <div className="jp-ExpSidebar-form" data-testid="exp-run-form">
      <div className="jp-ExpSidebar-formTitle" onClick={() => setOpen(!open)}>
        {open ? '▾' : '▸'} Run with params{source ? ` (from ${rowLabel(source)})` : ''}
      </div>
      {open ? (
        <>
          {fields.map(f => (
            <label key={f.name} className="jp-ExpSidebar-field">
              <span title={`${f.file}: ${f.key}`}>{f.name}</span>
              <input
                data-testid="exp-param-input"
                data-param={f.name}
                value={edits[f.name] ?? f.initial}
                onChange={e => setEdits({ ...edits, [f.name]: e.target.value })}
              />
            </label>
          ))}
          <label className="jp-ExpSidebar-field">
            <span>name</span>
            <input
              data-testid="exp-run-name"
              placeholder="(generated)"
              value={name}
              onChange={e => setName(e.target.value)}
            />
          </label>
          <div className="jp-ExpSidebar-overrides" data-testid="exp-overrides">
            {overrides.length ? overrides.map(o => `-S ${o}`).join(' ') : 'no param change'}
          </div>
          <div className="jp-ExpSidebar-formButtons">
            <button
              className="jp-ExpSidebar-button jp-mod-accept"
              data-testid="exp-run-now"
              onClick={() => submit(false)}
            >
              Run
            </button>
            <button
              className="jp-ExpSidebar-button"
              data-testid="exp-run-queue"
              onClick={() => submit(true)}
            >
              Queue
            </button>
          </div>
        </>
      ) : null}
    </div>
  );
}
