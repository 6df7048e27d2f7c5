/**
 * Shapes of the jupyter-exp REST API answers the sidebar reads
 * (see jupyter_exp/server/openapi.yaml and docs/server-api.md).
 */

/** The kind of a column of the `exp show` table. */
export type ColumnKind = 'meta' | 'metric' | 'param' | 'dep';

/** A column of the `exp show` table. */
export interface IColumn {
  name: string;
  kind: ColumnKind;
  path: string | null;
  key: string | null;
}

/** A notebook stage's executed notebook recorded in an experiment. */
export interface INotebookRef {
  stage: string;
  path: string;
  md5: string;
  /** Where the server wrote a copy the lab can open (relative to the server root). */
  open_path?: string;
}

/** A row of the `exp show` table. */
export interface IRow {
  id: string;
  baseline: string | null;
  Experiment: string | null;
  rev: string;
  typ: string;
  Created: string | null;
  parent: string | null;
  State: string | null;
  Executor: string | null;
  Step?: number | null;
  values: Record<string, unknown>;
  errors: string[];
  notebooks?: INotebookRef[];
}

/** GET experiments. */
export interface IExpTable {
  columns: IColumn[];
  rows: IRow[];
  /** The repository's root relative to the server root ("" for the root; older servers: absent). */
  project?: string;
}

/** An entry of the experiment queue. */
export interface IQueueEntry {
  id: string;
  name: string;
  state: string;
  overrides?: string[];
  exp_name?: string | null;
  exp_sha?: string | null;
  error?: unknown;
  [key: string]: unknown;
}

/** GET queue/status. */
export interface IQueueStatus {
  entries: IQueueEntry[];
  workers: Record<string, unknown>[];
}

/** A server job (POST run without queue). */
export interface IJob {
  id: string;
  kind: string;
  project: string;
  status: 'pending' | 'running' | 'success' | 'failed' | 'cancelled' | string;
  created: number;
  finished: number | null;
  events: Record<string, unknown>[];
  next: number;
  result: unknown;
  error: { error: string; message: string } | null;
  /** Whether DELETE jobs/{id} can still cancel it (servers that know cancelling). */
  cancellable?: boolean;
}

/** GET plots. */
export interface IPlotsData {
  metrics: IColumn[];
  experiments: {
    id: string;
    Experiment: string | null;
    rev: string;
    typ: string;
    baseline: string | null;
    values: Record<string, unknown>;
  }[];
}

/** A titled Vega-Lite spec (GET plots/specs). */
export interface IPlotSpec {
  title: string;
  spec: Record<string, unknown>;
}

/** The kinds of plots GET plots/specs can build. */
export type PlotKind = 'metrics' | 'steps' | 'parallel' | 'dvc';

/** One changed value of GET diff: `{old, new, diff}`. */
export interface IDiffValue {
  old?: unknown;
  new?: unknown;
  diff?: unknown;
}

/** GET diff: `{metrics, params, deps, outs}`, each `{file: {key: IDiffValue}}`. */
export type IDiff = Record<string, Record<string, Record<string, IDiffValue>>>;
