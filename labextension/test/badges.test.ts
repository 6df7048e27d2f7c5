import { describe, expect, it } from 'vitest';
import { badgeCounts, normalizeState, pollDelay, queueBusy, rowBadge } from '../src/badges';
import { IQueueEntry } from '../src/types';
import { ROWS, row } from './fixtures';

const entry = (name: string, state: string, id = 'x'): IQueueEntry => ({ id, name, state });

describe('badges', () => {
  it('normalizes the API states', () => {
    expect(normalizeState('Queued')).toBe('queued');
    expect(normalizeState('Running')).toBe('running');
    expect(normalizeState('Failed')).toBe('failed');
    expect(normalizeState('Success')).toBe('success');
    expect(normalizeState(null)).toBeNull();
    expect(normalizeState('Unknown')).toBeNull();
  });

  it('takes the queue entry state over a queued row', () => {
    const queued = ROWS[4];
    expect(rowBadge(queued, [])).toBe('queued');
    expect(rowBadge(queued, [entry('exp-q', 'Running')])).toBe('running');
    expect(rowBadge(queued, [entry('other', 'Running', 'cccc333')])).toBe('running');
  });

  it('keeps a finished row state', () => {
    const done = row('d', { Experiment: 'exp-d', State: 'Failed' });
    expect(rowBadge(done, [entry('exp-d', 'Success')])).toBe('failed');
    expect(rowBadge(ROWS[0], [])).toBeNull();
  });

  it('counts badges', () => {
    expect(badgeCounts(ROWS, [])).toEqual({ queued: 1, running: 0, failed: 0, success: 2 });
  });
});

describe('polling', () => {
  it('is busy while workers live or entries wait', () => {
    expect(queueBusy(null, [])).toBe(false);
    expect(queueBusy({ entries: [], workers: [{ pid: 1 }] }, [])).toBe(true);
    expect(queueBusy({ entries: [entry('a', 'Queued')], workers: [] }, [])).toBe(true);
    expect(queueBusy({ entries: [entry('a', 'Success')], workers: [] }, [])).toBe(false);
    expect(queueBusy(null, [row('r', { State: 'Running' })])).toBe(true);
  });

  it('does not poll while hidden, polls slower while idle', () => {
    expect(pollDelay(false, true, 1000)).toBeNull();
    expect(pollDelay(true, true, 1000)).toBe(1000);
    expect(pollDelay(true, false, 1000)).toBe(4000);
    expect(pollDelay(true, true, 10)).toBe(250);
  });
});
