import { describe, expect, it } from 'vitest';
import {
  arrangeRows,
  cellText,
  changedColumns,
  filterRows,
  groupColumns,
  nextSort,
  sortRows,
  starKey,
  starsOf,
  toggleStar,
  visibleColumns
} from '../src/table';
import { COLUMNS, ROWS, row } from './fixtures';

const labels = (rows: { Experiment: string | null; rev: string }[]) =>
  rows.map(r => r.Experiment ?? r.rev);

describe('visibleColumns', () => {
  it('shows params then metrics, never meta or deps', () => {
    const shown = visibleColumns(COLUMNS, ROWS, { onlyChanged: false, defaultColumns: [] });
    expect(shown.map(c => c.name)).toEqual([
      'train.lr',
      'train.epochs',
      'model.depth',
      'acc',
      'loss'
    ]);
  });

  it('keeps only changed columns when asked', () => {
    const shown = visibleColumns(COLUMNS, ROWS, { onlyChanged: true, defaultColumns: [] });
    // epochs and depth are the same everywhere; loss is missing everywhere.
    expect(shown.map(c => c.name)).toEqual(['train.lr', 'acc']);
  });

  it('restricts to the default columns of the settings', () => {
    const shown = visibleColumns(COLUMNS, ROWS, {
      onlyChanged: false,
      defaultColumns: ['acc', 'train.epochs']
    });
    expect(shown.map(c => c.name)).toEqual(['train.epochs', 'acc']);
  });
});

describe('changedColumns', () => {
  it('counts a missing value as a change', () => {
    expect(changedColumns(COLUMNS.slice(1, 2), ROWS).map(c => c.name)).toEqual(['acc']);
  });
  it('sees no change in a single row', () => {
    expect(changedColumns(COLUMNS, ROWS.slice(0, 1))).toEqual([]);
  });
});

describe('groupColumns', () => {
  it('groups adjacent columns of one kind and file', () => {
    const groups = groupColumns(
      visibleColumns(COLUMNS, ROWS, { onlyChanged: false, defaultColumns: [] })
    );
    expect(groups.map(g => [g.kind, g.path, g.columns.length])).toEqual([
      ['param', 'params.yaml', 2],
      ['param', 'model.toml', 1],
      ['metric', 'metrics.json', 2]
    ]);
  });
});

describe('sortRows', () => {
  it('sorts numbers ascending and descending, missing values last', () => {
    const asc = sortRows(ROWS, { column: 'acc', order: 'asc' });
    expect(labels(asc)).toEqual(['workspace', 'main', 'exp-b', 'exp-a', 'exp-q']);
    const desc = sortRows(ROWS, { column: 'acc', order: 'desc' });
    expect(labels(desc)).toEqual(['exp-a', 'exp-b', 'workspace', 'main', 'exp-q']);
  });

  it('sorts by the experiment label as text', () => {
    const sorted = sortRows(ROWS, { column: 'Experiment', order: 'asc' });
    expect(labels(sorted)).toEqual(['exp-a', 'exp-b', 'exp-q', 'main', 'workspace']);
  });

  it('keeps checkpoint rows under their tip', () => {
    const rows = [
      row('t1', { Experiment: 'ck', typ: 'checkpoint_tip', Step: 2, values: { acc: 0.1 } }),
      row('c1', { Experiment: 'ck', typ: 'checkpoint_commit', Step: 1, values: { acc: 0.9 } }),
      row('b1', { Experiment: 'ck', typ: 'checkpoint_base', Step: 0, values: { acc: 0.95 } }),
      row('x1', { Experiment: 'other', values: { acc: 0.5 } })
    ];
    const sorted = sortRows(rows, { column: 'acc', order: 'desc' });
    expect(sorted.map(r => r.id)).toEqual(['x1', 't1', 'c1', 'b1']);
  });

  it('returns a copy without a sort', () => {
    const same = sortRows(ROWS, null);
    expect(same).toEqual(ROWS);
    expect(same).not.toBe(ROWS);
  });
});

describe('nextSort', () => {
  it('cycles asc, desc, none', () => {
    const a = nextSort(null, 'acc');
    expect(a).toEqual({ column: 'acc', order: 'asc' });
    const b = nextSort(a, 'acc');
    expect(b).toEqual({ column: 'acc', order: 'desc' });
    expect(nextSort(b, 'acc')).toBeNull();
    expect(nextSort(b, 'train.lr')).toEqual({ column: 'train.lr', order: 'asc' });
  });
});

describe('filterRows', () => {
  it('matches text in names, states and values', () => {
    expect(labels(filterRows(ROWS, 'EXP-A'))).toEqual(['exp-a']);
    expect(labels(filterRows(ROWS, 'queued'))).toEqual(['exp-q']);
    expect(labels(filterRows(ROWS, '0.9'))).toEqual(['exp-a']);
  });
  it('needs every term', () => {
    expect(labels(filterRows(ROWS, 'exp success'))).toEqual(['exp-a', 'exp-b']);
  });
  it('compares one column with =, <, >', () => {
    expect(labels(filterRows(ROWS, 'train.lr>0.15'))).toEqual(['exp-a', 'exp-b', 'exp-q']);
    expect(labels(filterRows(ROWS, 'acc<=0.7 acc>0.6'))).toEqual(['exp-b']);
    expect(labels(filterRows(ROWS, 'train.lr=0.4'))).toEqual(['exp-a']);
  });
  it('keeps everything for an empty filter', () => {
    expect(filterRows(ROWS, '  ')).toHaveLength(ROWS.length);
  });
});

describe('stars and row limits', () => {
  it('toggles a star without changing the old set', () => {
    const one = toggleStar(new Set(), 'aaaa111');
    expect([...one]).toEqual(['aaaa111']);
    expect([...toggleStar(one, 'aaaa111')]).toEqual([]);
    expect([...one]).toEqual(['aaaa111']);
  });
  it('shows starred rows only when asked, capped at max', () => {
    const stars = new Set(['bbbb222', 'cccc333']);
    expect(labels(arrangeRows(ROWS, stars, { starredOnly: true, max: 10 }))).toEqual([
      'exp-b',
      'exp-q'
    ]);
    expect(arrangeRows(ROWS, stars, { starredOnly: false, max: 2 })).toHaveLength(2);
  });
});

describe('cellText', () => {
  it('formats values', () => {
    expect(cellText(null)).toBe('');
    expect(cellText(2)).toBe('2');
    expect(cellText(0.1 + 0.2)).toBe('0.3');
    expect(cellText('x')).toBe('x');
    expect(cellText([1, 2])).toBe('[1,2]');
    expect(cellText(true)).toBe('true');
  });
});

describe('project-scoped stars', () => {
  it('keeps a star to the project it was given in', () => {
    const saved = [
      starKey('proj-a', 'workspace'),
      starKey('proj-a', 'aaaa111'),
      starKey('', 'main')
    ];
    expect([...starsOf('proj-a', saved)].sort()).toEqual(['aaaa111', 'workspace']);
    expect([...starsOf('proj-b', saved)]).toEqual([]);
    expect([...starsOf('', saved)]).toEqual(['main']);
  });

  it('does not mistake a project whose name starts like another', () => {
    expect([...starsOf('proj', [starKey('proj-a', 'x')])]).toEqual([]);
  });
});
