/**
 * The experiments table as data: which columns show, how rows sort and filter.
 * Pure functions (no DOM, no JupyterLab) so they are unit-tested.
 */
import { IColumn, IRow } from './types';

/** A sort order on one column (`column` is a column name or a meta field). */
export interface ISort {
  column: string;
  order: 'asc' | 'desc';
}

/** A group of adjacent header cells: params or metrics of one file. */
export interface IColumnGroup {
  kind: 'param' | 'metric';
  path: string;
  columns: IColumn[];
}

/** Options that decide the visible value columns. */
export interface IColumnOptions {
  /** Show only the columns whose value differs between the rows. */
  onlyChanged: boolean;
  /** Names to show (empty: every params and metrics column). */
  defaultColumns: string[];
}

/** The checkpoint rows below an experiment's tip row. */
export const CHECKPOINT_TYPES = ['checkpoint_commit', 'checkpoint_base'];

/** The row's display name: the experiment name, else its revision. */
export function rowLabel(row: IRow): string {
  return row.Experiment || row.rev;
}

/** A stable key for a row across refreshes (a checkpoint's id is its commit). */
export function rowKey(row: IRow): string {
  return row.id;
}

/** True for the rows that name an experiment the API can act on (apply, branch...). */
export function isExperiment(row: IRow): boolean {
  return Boolean(row.Experiment) && row.typ !== 'baseline';
}

/** Params and metrics columns only (not meta nor deps). */
export function valueColumns(columns: IColumn[]): IColumn[] {
  return columns.filter(c => c.kind === 'param' || c.kind === 'metric');
}

/** JSON-ish equality good enough for params/metrics values. */
function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Columns whose value is not the same in every row (a missing value counts). */
export function changedColumns(columns: IColumn[], rows: IRow[]): IColumn[] {
  return columns.filter(column => {
    if (rows.length < 2) {
      return false;
    }
    const first = rows[0].values[column.name];
    return rows.some(row => !sameValue(row.values[column.name], first));
  });
}

/** The value columns to show, params first then metrics, in the API's order. */
export function visibleColumns(
  columns: IColumn[],
  rows: IRow[],
  options: IColumnOptions
): IColumn[] {
  let shown = valueColumns(columns);
  if (options.defaultColumns.length > 0) {
    const wanted = new Set(options.defaultColumns);
    shown = shown.filter(c => wanted.has(c.name));
  }
  if (options.onlyChanged) {
    shown = changedColumns(shown, rows);
  }
  const params = shown.filter(c => c.kind === 'param');
  const metrics = shown.filter(c => c.kind === 'metric');
  return [...params, ...metrics];
}

/** Adjacent columns of the same kind and file, for the group header row. */
export function groupColumns(columns: IColumn[]): IColumnGroup[] {
  const groups: IColumnGroup[] = [];
  for (const column of columns) {
    if (column.kind !== 'param' && column.kind !== 'metric') {
      continue;
    }
    const path = column.path ?? '';
    const last = groups[groups.length - 1];
    if (last && last.kind === column.kind && last.path === path) {
      last.columns.push(column);
    } else {
      groups.push({ kind: column.kind, path, columns: [column] });
    }
  }
  return groups;
}

/** A row's value for a sort column: a value column, or a meta field. */
export function sortValue(row: IRow, column: string): unknown {
  if (column in row.values) {
    return row.values[column];
  }
  if (column === 'Experiment') {
    return rowLabel(row);
  }
  return (row as unknown as Record<string, unknown>)[column];
}

/** Compare two values: missing last, numbers numerically, else as text. */
export function compareValues(a: unknown, b: unknown): number {
  const aMissing = a === null || a === undefined;
  const bMissing = b === null || b === undefined;
  if (aMissing || bMissing) {
    return aMissing === bMissing ? 0 : aMissing ? 1 : -1;
  }
  if (typeof a === 'number' && typeof b === 'number') {
    return a - b;
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') {
    return Number(a) - Number(b);
  }
  return cellText(a).localeCompare(cellText(b), undefined, { numeric: true });
}

/**
 * Rows sorted on one column; rows without a value stay last in both orders. The sort is
 * stable and keeps a checkpoint chain's rows together under their tip, in chain order.
 */
export function sortRows(rows: IRow[], sort: ISort | null): IRow[] {
  if (!sort) {
    return rows.slice();
  }
  const sign = sort.order === 'asc' ? 1 : -1;
  // Units: a row plus the checkpoint rows that follow it.
  const units: IRow[][] = [];
  for (const row of rows) {
    const last = units[units.length - 1];
    if (last && CHECKPOINT_TYPES.includes(row.typ) && last[0].Experiment === row.Experiment) {
      last.push(row);
    } else {
      units.push([row]);
    }
  }
  const indexed = units.map((unit, index) => ({ unit, index }));
  indexed.sort((x, y) => {
    const a = sortValue(x.unit[0], sort.column);
    const b = sortValue(y.unit[0], sort.column);
    const aMissing = a === null || a === undefined;
    const bMissing = b === null || b === undefined;
    let result: number;
    if (aMissing || bMissing) {
      result = compareValues(a, b);
    } else {
      result = sign * compareValues(a, b);
    }
    return result !== 0 ? result : x.index - y.index;
  });
  return indexed.flatMap(item => item.unit);
}

/** The next sort after a click on a column header: asc, desc, then none. */
export function nextSort(current: ISort | null, column: string): ISort | null {
  if (!current || current.column !== column) {
    return { column, order: 'asc' };
  }
  if (current.order === 'asc') {
    return { column, order: 'desc' };
  }
  return null;
}

/**
 * Rows matching a filter text: every whitespace-separated term must appear
 * (case-insensitively) in the row's name, revision, state or one of its values;
 * `name=value` / `name>value` / `name<value` terms compare one column.
 */
export function filterRows(rows: IRow[], text: string): IRow[] {
  const terms = text.trim().split(/\s+/).filter(Boolean);
  if (terms.length === 0) {
    return rows.slice();
  }
  return rows.filter(row => terms.every(term => matchesTerm(row, term)));
}

const COMPARISON = /^([^<>=]+)(<=|>=|=|<|>)(.*)$/;

function matchesTerm(row: IRow, term: string): boolean {
  const comparison = COMPARISON.exec(term);
  if (comparison) {
    const [, name, op, raw] = comparison;
    const value = sortValue(row, name);
    if (value !== undefined) {
      return compareTerm(value, op, raw);
    }
  }
  const needle = term.toLowerCase();
  const haystack = [
    rowLabel(row),
    row.rev,
    row.State ?? '',
    ...Object.values(row.values).map(cellText)
  ];
  return haystack.some(text => text.toLowerCase().includes(needle));
}

function compareTerm(value: unknown, op: string, raw: string): boolean {
  const number = Number(raw);
  const useNumber = typeof value === 'number' && raw.trim() !== '' && !isNaN(number);
  const cmp = useNumber ? (value as number) - number : compareValues(cellText(value), raw);
  switch (op) {
    case '=':
      return useNumber ? cmp === 0 : cellText(value).toLowerCase() === raw.toLowerCase();
    case '<':
      return cmp < 0;
    case '>':
      return cmp > 0;
    case '<=':
      return cmp <= 0;
    default:
      return cmp >= 0;
  }
}

/** A value as the table shows it. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  }
  if (typeof value === 'string') {
    return value;
  }
  return JSON.stringify(value);
}

/** Options that select and cap the shown rows. */
export interface IRowOptions {
  /** Show only starred rows. */
  starredOnly: boolean;
  /** At most this many rows. */
  max: number;
}

/** The rows to show: starred ones only if asked, at most `max`. */
export function arrangeRows(rows: IRow[], starred: Set<string>, options: IRowOptions): IRow[] {
  const shown = options.starredOnly ? rows.filter(r => starred.has(rowKey(r))) : rows;
  return shown.slice(0, Math.max(0, options.max));
}

/**
 * The key a star is saved under: the row's key within its project (the repository's path
 * relative to the server root, as `GET experiments` names it), so a star on `workspace`
 * or `main` in one project is not a star in every other.
 */
export function starKey(project: string, key: string): string {
  return `${project}\u0000${key}`;
}

/** The row keys of `project` among saved star keys. */
export function starsOf(project: string, starred: Iterable<string>): Set<string> {
  const prefix = starKey(project, '');
  const keys = new Set<string>();
  for (const saved of starred) {
    if (saved.startsWith(prefix)) {
      keys.add(saved.slice(prefix.length));
    }
  }
  return keys;
}

/** Toggle a key in a set of starred keys (a new set). */
export function toggleStar(starred: Set<string>, key: string): Set<string> {
  const next = new Set(starred);
  if (next.has(key)) {
    next.delete(key);
  } else {
    next.add(key);
  }
  return next;
}
