/**
 * The sidebar's state: the project path, the table and queue as last read, the user's
 * view choices (sort, filter, stars, selection), a run job, and the polling that keeps
 * them fresh while the panel is visible.
 */
import { ISignal, Signal } from '@lumino/signaling';
import { ApiClient, ApiError } from './api';
import { pollDelay, queueBusy } from './badges';
import * as req from './request';
import { ISort, nextSort, rowKey, starKey, starsOf, toggleStar } from './table';
import { IExpTable, IJob, IQueueStatus, IRow } from './types';

/** The settings of plugin.json. */
export interface ISidebarSettings {
  refreshInterval: number;
  defaultColumns: string[];
  maxRows: number;
}

export const DEFAULT_SETTINGS: ISidebarSettings = {
  refreshInterval: 2000,
  defaultColumns: [],
  maxRows: 200
};

/** Where starred rows are kept (JupyterLab's state database). */
export interface IStarStore {
  load(): Promise<string[]>;
  save(keys: string[]): Promise<void>;
}

/** The sidebar's model; `changed` fires after every change the view shows. */
export class SidebarModel {
  constructor(
    readonly api: ApiClient,
    private readonly stars: IStarStore
  ) {
    void this.stars.load().then(keys => {
      this.starred = new Set(keys);
      this.emit();
    });
  }

  settings: ISidebarSettings = { ...DEFAULT_SETTINGS };
  path = '';
  table: IExpTable | null = null;
  queue: IQueueStatus | null = null;
  /** The API's error for the current path (e.g. not in a repository). */
  error: ApiError | null = null;
  /** The outcome of the last action, for the status line. */
  notice: { kind: 'info' | 'error'; text: string } | null = null;
  loading = false;
  job: IJob | null = null;
  sort: ISort | null = null;
  filter = '';
  onlyChanged = false;
  starredOnly = false;
  /** Every saved star, project-scoped (see `starKey`); `starredHere` is this project's. */
  starred = new Set<string>();
  /** Checked rows, in the order they were checked. */
  selection: string[] = [];

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get rows(): IRow[] {
    return this.table?.rows ?? [];
  }

  /** The checked rows that still exist, in check order. */
  get selectedRows(): IRow[] {
    const byKey = new Map(this.rows.map(r => [rowKey(r), r]));
    return this.selection.map(k => byKey.get(k)).filter((r): r is IRow => r !== undefined);
  }

  emit(): void {
    this._changed.emit();
  }

  // --- view choices ----------------------------------------------------------------------

  setSettings(settings: ISidebarSettings): void {
    this.settings = settings;
    this.schedule();
    this.emit();
  }

  setPath(path: string): void {
    if (path === this.path) {
      return;
    }
    this.path = path;
    this.selection = [];
    void this.refresh();
  }

  clickHeader(column: string): void {
    this.sort = nextSort(this.sort, column);
    this.emit();
  }

  setFilter(text: string): void {
    this.filter = text;
    this.emit();
  }

  setOnlyChanged(on: boolean): void {
    this.onlyChanged = on;
    this.emit();
  }

  setStarredOnly(on: boolean): void {
    this.starredOnly = on;
    this.emit();
  }

  /** The starred rows' keys in the project shown. */
  get starredHere(): Set<string> {
    return starsOf(this.table?.project ?? this.path, this.starred);
  }

  toggleStar(key: string): void {
    this.starred = toggleStar(this.starred, starKey(this.table?.project ?? this.path, key));
    void this.stars.save([...this.starred]);
    this.emit();
  }

  toggleSelected(key: string): void {
    this.selection = this.selection.includes(key)
      ? this.selection.filter(k => k !== key)
      : [...this.selection, key];
    this.emit();
  }

  clearSelection(): void {
    this.selection = [];
    this.emit();
  }

  // --- reading -------------------------------------------------------------------------

  /** Read the table and the queue of the current path. */
  async refresh(): Promise<void> {
    const path = this.path;
    this.loading = true;
    this.emit();
    try {
      const [table, queue] = await Promise.all([
        this.api.send<IExpTable>(req.experimentsRequest(path)),
        this.api.send<IQueueStatus>(req.queueStatusRequest(path))
      ]);
      if (path !== this.path) {
        return; // the focus moved on while reading
      }
      this.table = table;
      this.queue = queue;
      this.error = null;
    } catch (error) {
      if (path !== this.path) {
        return;
      }
      this.table = null;
      this.queue = null;
      this.error =
        error instanceof ApiError ? error : new ApiError(0, 'Error', String(error), false);
    } finally {
      this.loading = false;
      this.schedule();
      this.emit();
    }
  }

  // --- polling -------------------------------------------------------------------------

  private _visible = false;
  private _timer: ReturnType<typeof setTimeout> | null = null;

  /** The panel is shown or hidden: polling runs only while it is shown. */
  setVisible(visible: boolean): void {
    this._visible = visible;
    if (visible) {
      void this.refresh();
    } else {
      this.schedule();
    }
  }

  /** Whether anything runs or waits in the queue or as a job. */
  get busy(): boolean {
    const jobActive = this.job !== null && ['pending', 'running'].includes(this.job.status);
    return jobActive || queueBusy(this.queue, this.rows);
  }

  private schedule(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    const delay = pollDelay(this._visible, this.busy, this.settings.refreshInterval);
    if (delay !== null && !this._disposed) {
      this._timer = setTimeout(() => {
        this._timer = null;
        void this.poll();
      }, delay);
    }
  }

  private async poll(): Promise<void> {
    if (this.job && ['pending', 'running'].includes(this.job.status)) {
      await this.followJob();
    }
    await this.refresh();
  }

  // --- actions -------------------------------------------------------------------------

  /** Run an action; its error becomes the notice. Returns its answer or null. */
  async act<T>(what: string, request: req.IApiRequest): Promise<T | null> {
    try {
      const answer = await this.api.send<T>(request);
      this.notice = { kind: 'info', text: what };
      return answer;
    } catch (error) {
      const text = error instanceof ApiError ? error.message : String(error);
      this.notice = { kind: 'error', text: `${what} failed: ${text}` };
      return null;
    } finally {
      this.emit();
    }
  }

  /** Run now (a server job) or queue, with `-S` overrides. */
  async run(options: req.IRunOptions): Promise<void> {
    const what = options.queue ? 'Queued' : 'Started';
    const answer = await this.act<{ job?: IJob; queued?: unknown[] }>(
      what,
      req.runRequest(this.path, options)
    );
    if (answer?.job) {
      this.job = answer.job;
    }
    await this.refresh();
  }

  /** Read the job's new status and events. */
  async followJob(): Promise<void> {
    if (!this.job) {
      return;
    }
    try {
      const job = await this.api.send<IJob>(req.jobRequest(this.job.id, this.job.next));
      this.job = { ...job, events: [...this.job.events, ...job.events] };
      if (job.status === 'failed' && job.error) {
        this.notice = { kind: 'error', text: `Run failed: ${job.error.message}` };
      } else if (job.status === 'success') {
        this.notice = { kind: 'info', text: 'Run finished' };
      } else if (job.status === 'cancelled') {
        this.notice = { kind: 'info', text: 'Run cancelled' };
      }
    } catch (error) {
      this.notice = { kind: 'error', text: `Run status unknown: ${String(error)}` };
      this.job = null;
    }
    this.emit();
  }

  /** Cancel the run job (DELETE jobs/{id}); says so when the server cannot. */
  async cancelJob(): Promise<void> {
    if (!this.job) {
      return;
    }
    try {
      const job = await this.api.send<IJob>(req.cancelJobRequest(this.job.id));
      this.job = job;
      this.notice = {
        kind: 'info',
        text: job.status === 'cancelled' ? 'Run cancelled' : 'Cancel requested'
      };
    } catch (error) {
      const text =
        error instanceof ApiError && error.endpointMissing
          ? 'this server cannot cancel a run'
          : String(error instanceof ApiError ? error.message : error);
      this.notice = { kind: 'error', text: `Cancel failed: ${text}` };
    }
    this.schedule();
    this.emit();
    await this.refresh();
  }

  dismissJob(): void {
    this.job = null;
    this.emit();
  }

  async queueStart(): Promise<void> {
    await this.act('Queue started', req.queueStartRequest(this.path, 1));
    await this.refresh();
  }

  async queueStop(): Promise<void> {
    await this.act('Queue stopping', req.queueStopRequest(this.path, false));
    await this.refresh();
  }

  dispose(): void {
    this._disposed = true;
    if (this._timer !== null) {
      clearTimeout(this._timer);
    }
    Signal.clearData(this);
  }

  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}
