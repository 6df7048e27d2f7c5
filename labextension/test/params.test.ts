import { describe, expect, it } from 'vitest';
import { overrideFor, overridesFrom, paramFields, paramText, workspaceParams } from '../src/params';
import { COLUMNS, ROWS } from './fixtures';

describe('run form params', () => {
  const fields = paramFields(COLUMNS, ROWS[2]);

  it('prefills every param from the row', () => {
    expect(fields.map(f => [f.name, f.file, f.key, f.initial])).toEqual([
      ['train.lr', 'params.yaml', 'train.lr', '0.4'],
      ['train.epochs', 'params.yaml', 'train.epochs', '2'],
      ['model.depth', 'model.toml', 'model.depth', '3']
    ]);
  });

  it('writes -S overrides, with the file for other params files', () => {
    expect(overrideFor(fields[0], '0.5')).toBe('train.lr=0.5');
    expect(overrideFor(fields[2], '4')).toBe('model.toml:model.depth=4');
  });

  it('overrides what differs from the workspace, including the prefill values', () => {
    const workspace = workspaceParams(COLUMNS, ROWS);
    expect(workspace).toEqual({ 'train.lr': '0.1', 'train.epochs': '2', 'model.depth': '3' });
    // Prefilled from exp-a (lr 0.4): running it as is must override lr.
    expect(overridesFrom(fields, {}, workspace)).toEqual(['train.lr=0.4']);
    expect(
      overridesFrom(fields, { 'train.epochs': ' 5 ', 'model.depth': '3' }, workspace)
    ).toEqual(['train.lr=0.4', 'train.epochs=5']);
    expect(overridesFrom(fields, { 'model.depth': '4' }, workspace)).toEqual([
      'train.lr=0.4',
      'model.toml:model.depth=4'
    ]);
  });

  it('skips emptied fields', () => {
    expect(overridesFrom(fields, { 'train.lr': '' }, workspaceParams(COLUMNS, ROWS))).toEqual([]);
  });

  it('shows lists and mappings as flow text', () => {
    expect(paramText([1, 2])).toBe('[1,2]');
    expect(paramText({ a: 1 })).toBe('{"a":1}');
    expect(paramText(undefined)).toBe('');
    expect(paramText(false)).toBe('false');
  });
});
