import { describe, expect, it } from 'vitest';
import { diffRevision, diffRows } from '../src/diff';
import {
  VEGALITE_SCHEMA,
  checkpointLineSpecs,
  metricBarSpecs,
  selectExperiments
} from '../src/specs';
import { COLUMNS, ROWS, row } from './fixtures';

const metrics = COLUMNS.filter(c => c.kind === 'metric');

describe('client-side specs', () => {
  it('makes one bar chart per metric with values, in the selected order', () => {
    const picked = selectExperiments(ROWS, ['exp-b', 'exp-a', 'exp-missing']);
    expect(picked.map(r => r.Experiment)).toEqual(['exp-b', 'exp-a']);
    const specs = metricBarSpecs(metrics, picked);
    expect(specs.map(s => s.title)).toEqual(['acc']); // no loss values at all
    const spec = specs[0].spec as any;
    expect(spec.$schema).toBe(VEGALITE_SCHEMA);
    expect(spec.mark.type).toBe('bar');
    expect(spec.data.values).toEqual([
      { experiment: 'exp-b', value: 0.7 },
      { experiment: 'exp-a', value: 0.9 }
    ]);
  });

  it('plots checkpoints of the selected experiments by step', () => {
    const rows = [
      row('t', { Experiment: 'ck', typ: 'checkpoint_tip', Step: 2, values: { loss: 0.2 } }),
      row('c', { Experiment: 'ck', typ: 'checkpoint_commit', Step: 1, values: { loss: 0.5 } }),
      row('b', { Experiment: 'ck', typ: 'checkpoint_base', Step: 0, values: { loss: 0.9 } }),
      row('o', { Experiment: 'other', typ: 'checkpoint_tip', Step: 1, values: { loss: 0.4 } })
    ];
    const specs = checkpointLineSpecs(metrics, rows, ['ck']);
    expect(specs.map(s => s.title)).toEqual(['loss by checkpoint']);
    expect((specs[0].spec as any).data.values).toEqual([
      { experiment: 'ck', step: 0, value: 0.9 },
      { experiment: 'ck', step: 1, value: 0.5 },
      { experiment: 'ck', step: 2, value: 0.2 }
    ]);
    expect(checkpointLineSpecs(metrics, ROWS, ['exp-a'])).toEqual([]);
  });
});

describe('diff rows', () => {
  it('flattens params/metrics by file and key, deps/outs by path', () => {
    const rows = diffRows({
      metrics: { 'metrics.json': { acc: { old: 0.6, new: 0.9, diff: 0.3 } } },
      params: { 'params.yaml': { 'train.lr': { old: 0.1, new: 0.4, diff: 0.3 } } },
      deps: { 'data.txt': { old: 'aa', new: 'bb' } },
      outs: {}
    });
    expect(rows).toEqual([
      { section: 'params', file: 'params.yaml', key: 'train.lr', old: '0.1', new: '0.4', change: '0.3' },
      { section: 'metrics', file: 'metrics.json', key: 'acc', old: '0.6', new: '0.9', change: '0.3' },
      { section: 'deps', file: 'data.txt', key: '', old: 'aa', new: 'bb', change: '' }
    ]);
  });

  it('names the workspace by an empty revision', () => {
    expect(diffRevision(ROWS[0])).toBe('');
    expect(diffRevision(ROWS[1])).toBe('base');
    expect(diffRevision(ROWS[2])).toBe('exp-a');
  });
});
