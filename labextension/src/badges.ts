/**
 * State badges of the experiments table and the polling rhythm they drive.
 * Pure functions, unit-tested.
 */
import { IQueueEntry, IQueueStatus, IRow } from './types';

/** The states a badge shows. */
export type BadgeState = 'queued' | 'running' | 'failed' | 'success';

const KNOWN: Record<string, BadgeState> = {
  queued: 'queued',
  running: 'running',
  failed: 'failed',
  success: 'success'
};

/** A state name of the API (`Queued`, `Running`, ...) as a badge state, or null. */
export function normalizeState(state: string | null | undefined): BadgeState | null {
  if (!state) {
    return null;
  }
  return KNOWN[state.toLowerCase()] ?? null;
}

/** The queue entry a row stands for: same id, or the same experiment name. */
export function entryForRow(row: IRow, entries: IQueueEntry[]): IQueueEntry | undefined {
  return (
    entries.find(e => e.id === row.id) ??
    (row.Experiment
      ? entries.find(e => e.name === row.Experiment || e.exp_name === row.Experiment)
      : undefined)
  );
}

/**
 * A row's badge. The queue status is read at the same time as the table but changes
 * faster (a worker picks an entry up), so an entry's state wins over the row's `State`;
 * a finished experiment row (with its own result) keeps its own state.
 */
export function rowBadge(row: IRow, entries: IQueueEntry[]): BadgeState | null {
  const own = normalizeState(row.State);
  const entry = entryForRow(row, entries);
  const queued = entry ? normalizeState(entry.state) : null;
  if (queued && (own === null || own === 'queued' || own === 'running')) {
    return queued;
  }
  return own;
}

/** True while something runs or waits: the sidebar then polls at its interval. */
export function queueBusy(status: IQueueStatus | null, rows: IRow[]): boolean {
  const workers = status?.workers?.length ?? 0;
  const pending = (status?.entries ?? []).some(e => {
    const state = normalizeState(e.state);
    return state === 'queued' || state === 'running';
  });
  const running = rows.some(r => normalizeState(r.State) === 'running');
  return workers > 0 || pending || running;
}

/** Counts of each badge state over the rows (for the summary line). */
export function badgeCounts(
  rows: IRow[],
  entries: IQueueEntry[]
): Record<BadgeState, number> {
  const counts: Record<BadgeState, number> = { queued: 0, running: 0, failed: 0, success: 0 };
  for (const row of rows) {
    const badge = rowBadge(row, entries);
    if (badge) {
      counts[badge] += 1;
    }
  }
  return counts;
}

/**
 * Milliseconds until the next poll, or null for no poll: none while the panel is
 * hidden; the configured interval while the queue is busy; four times it when idle
 * (the table can still change from a terminal or a notebook).
 */
export function pollDelay(visible: boolean, busy: boolean, interval: number): number | null {
  if (!visible) {
    return null;
  }
  const base = Math.max(250, interval);
  return busy ? base : base * 4;
}
