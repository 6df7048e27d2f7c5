import { IColumn, IRow } from '../src/types';

export const COLUMNS: IColumn[] = [
  { name: 'Experiment', kind: 'meta', path: null, key: null },
  { name: 'acc', kind: 'metric', path: 'metrics.json', key: 'acc' },
  { name: 'loss', kind: 'metric', path: 'metrics.json', key: 'loss' },
  { name: 'train.lr', kind: 'param', path: 'params.yaml', key: 'train.lr' },
  { name: 'train.epochs', kind: 'param', path: 'params.yaml', key: 'train.epochs' },
  { name: 'model.depth', kind: 'param', path: 'model.toml', key: 'model.depth' },
  { name: 'data.txt', kind: 'dep', path: 'data.txt', key: null }
];

export function row(id: string, fields: Partial<IRow>): IRow {
  return {
    id,
    baseline: 'base',
    Experiment: null,
    rev: id.slice(0, 7),
    typ: 'branch_commit',
    Created: null,
    parent: null,
    State: null,
    Executor: null,
    values: {},
    errors: [],
    ...fields
  };
}

export const ROWS: IRow[] = [
  row('workspace', {
    rev: 'workspace',
    typ: 'baseline',
    baseline: null,
    values: { acc: 0.6, 'train.lr': 0.1, 'train.epochs': 2, 'model.depth': 3 }
  }),
  row('base', {
    rev: 'main',
    typ: 'baseline',
    values: { acc: 0.6, 'train.lr': 0.1, 'train.epochs': 2, 'model.depth': 3 }
  }),
  row('aaaa111', {
    Experiment: 'exp-a',
    State: 'Success',
    values: { acc: 0.9, 'train.lr': 0.4, 'train.epochs': 2, 'model.depth': 3 }
  }),
  row('bbbb222', {
    Experiment: 'exp-b',
    State: 'Success',
    values: { acc: 0.7, 'train.lr': 0.2, 'train.epochs': 2, 'model.depth': 3 }
  }),
  row('cccc333', {
    Experiment: 'exp-q',
    State: 'Queued',
    typ: 'branch_base',
    values: { 'train.lr': 0.3, 'train.epochs': 2, 'model.depth': 3 }
  })
];
