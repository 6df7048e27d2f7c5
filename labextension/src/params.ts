/**
 * The "run with params" form as data: fields prefilled from a row, and the `-S`
 * overrides (`[file:]key=value`, values read as YAML by the server) the edits make.
 */
import { IColumn, IRow } from './types';

/** The params file the server reads without a `file:` prefix. */
export const DEFAULT_PARAMS_FILE = 'params.yaml';

/** One editable param of the form. */
export interface IParamField {
  /** The column name, e.g. `train.lr`. */
  name: string;
  /** The params file. */
  file: string;
  /** The key inside the file. */
  key: string;
  /** The value shown when the form opened, as text. */
  initial: string;
}

/** A value as the form's text (YAML/JSON flow text for lists and mappings). */
export function paramText(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (typeof value === 'string') {
    return value;
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The form's fields: every param column, prefilled with the row's values. */
export function paramFields(columns: IColumn[], row: IRow | null): IParamField[] {
  return columns
    .filter(c => c.kind === 'param')
    .map(c => ({
      name: c.name,
      file: c.path ?? DEFAULT_PARAMS_FILE,
      key: c.key ?? c.name,
      initial: paramText(row?.values[c.name])
    }));
}

/** The `-S` override for one field set to `text`. */
export function overrideFor(field: IParamField, text: string): string {
  const prefix = field.file === DEFAULT_PARAMS_FILE ? '' : `${field.file}:`;
  return `${prefix}${field.key}=${text}`;
}

/**
 * Overrides for the fields whose text differs from what the workspace holds
 * (`baseline`, the workspace's values as text by name): the server runs the workspace,
 * so a value equal to it needs no override, while one equal to the prefill row but not
 * to the workspace does.
 */
export function overridesFrom(
  fields: IParamField[],
  edits: Record<string, string>,
  baseline: Record<string, string>
): string[] {
  const overrides: string[] = [];
  for (const field of fields) {
    const text = (edits[field.name] ?? field.initial).trim();
    if (text === '' || text === (baseline[field.name] ?? '').trim()) {
      continue;
    }
    overrides.push(overrideFor(field, text));
  }
  return overrides;
}

/** The workspace row's params as text by name (what `exp run` starts from). */
export function workspaceParams(columns: IColumn[], rows: IRow[]): Record<string, string> {
  const workspace = rows.find(r => r.id === 'workspace' || r.rev === 'workspace');
  const result: Record<string, string> = {};
  for (const c of columns) {
    if (c.kind === 'param') {
      result[c.name] = paramText(workspace?.values[c.name]);
    }
  }
  return result;
}
