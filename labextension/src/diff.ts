/**
 * GET diff answers as flat rows for the compare panel's table. Pure and tested.
 */
import { IDiff } from './types';
import { cellText } from './table';

/** One changed value: section (params, metrics, deps, outs), file, key, both sides. */
export interface IDiffRow {
  section: string;
  file: string;
  key: string;
  old: string;
  new: string;
  change: string;
}

const SECTIONS = ['params', 'metrics', 'deps', 'outs'];
// Sections keyed by path only (no key inside the file).
const FLAT_SECTIONS = ['deps', 'outs'];

/**
 * Rows of a diff, params then metrics then deps and outs. Params/metrics are
 * `{file: {key: {old, new, diff}}}`; deps/outs are `{path: {old, new}}` (no key).
 */
export function diffRows(diff: IDiff): IDiffRow[] {
  const rows: IDiffRow[] = [];
  for (const section of SECTIONS) {
    const files = diff[section] ?? {};
    for (const [file, entries] of Object.entries(files)) {
      if (FLAT_SECTIONS.includes(section)) {
        rows.push(row(section, file, '', entries as Record<string, unknown>));
        continue;
      }
      for (const [key, change] of Object.entries(entries)) {
        rows.push(row(section, file, key, change as Record<string, unknown>));
      }
    }
  }
  return rows;
}

function row(section: string, file: string, key: string, change: Record<string, unknown>) {
  return {
    section,
    file,
    key,
    old: cellText(change.old),
    new: cellText(change.new),
    change: cellText(change.diff)
  };
}

/** The revision the diff endpoint takes for a row: '' means the workspace. */
export function diffRevision(row: { id: string; rev: string; Experiment: string | null }): string {
  if (row.id === 'workspace' || row.rev === 'workspace') {
    return '';
  }
  return row.Experiment || row.id;
}
