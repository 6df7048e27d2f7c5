/**
 * Requests of the jupyter-exp REST API as data (path under `jupyter-exp/api/`, query,
 * method, body), so building them is pure and tested; api.ts sends them.
 */
import { PlotKind } from './types';

/** One request to the API. */
export interface IApiRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** The endpoint under `{base_url}jupyter-exp/api/`, e.g. `queue/status`. */
  endpoint: string;
  query: [string, string][];
  body?: Record<string, unknown>;
}

/** The API's root under the server's base URL. */
export const API_ROOT = 'jupyter-exp/api';

/** `?a=1&b=2` (empty when there is no parameter); repeated keys stay repeated. */
export function queryString(query: [string, string][]): string {
  if (query.length === 0) {
    return '';
  }
  return '?' + query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/** The URL of a request under a base URL (that ends with `/`). */
export function requestUrl(baseUrl: string, request: IApiRequest): string {
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  return `${base}${API_ROOT}/${request.endpoint}${queryString(request.query)}`;
}

/** The fetch init of a request (JSON body for POST). */
export function requestInit(request: IApiRequest): RequestInit {
  const init: RequestInit = { method: request.method };
  if (request.body !== undefined) {
    init.body = JSON.stringify(request.body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  return init;
}

function pathQuery(path: string): [string, string][] {
  return path ? [['path', path]] : [];
}

/** GET experiments (with the notebooks of notebook stages). */
export function experimentsRequest(path: string): IApiRequest {
  return {
    method: 'GET',
    endpoint: 'experiments',
    query: [...pathQuery(path), ['notebooks', 'true']]
  };
}

/** GET queue/status. */
export function queueStatusRequest(path: string): IApiRequest {
  return { method: 'GET', endpoint: 'queue/status', query: pathQuery(path) };
}

/** GET queue/logs of one entry. */
export function queueLogsRequest(path: string, name: string): IApiRequest {
  return { method: 'GET', endpoint: 'queue/logs', query: [...pathQuery(path), ['name', name]] };
}

/** POST queue/start. */
export function queueStartRequest(path: string, jobs = 1): IApiRequest {
  return { method: 'POST', endpoint: 'queue/start', query: [], body: { path, jobs } };
}

/** POST queue/stop. */
export function queueStopRequest(path: string, kill = false): IApiRequest {
  return { method: 'POST', endpoint: 'queue/stop', query: [], body: { path, kill } };
}

/** What the run form sends. */
export interface IRunOptions {
  params: string[];
  name?: string;
  queue: boolean;
}

/** POST run: a job (run now) or queue entries (queue). */
export function runRequest(path: string, options: IRunOptions): IApiRequest {
  const body: Record<string, unknown> = { path, params: options.params, queue: options.queue };
  const name = options.name?.trim();
  if (name) {
    body.name = name;
  }
  return { method: 'POST', endpoint: 'run', query: [], body };
}

/** GET jobs/{id} from event `since`. */
export function jobRequest(id: string, since = 0): IApiRequest {
  return { method: 'GET', endpoint: `jobs/${encodeURIComponent(id)}`, query: [['since', String(since)]] };
}

/** DELETE jobs/{id}: cancel a run job. */
export function cancelJobRequest(id: string): IApiRequest {
  return { method: 'DELETE', endpoint: `jobs/${encodeURIComponent(id)}`, query: [] };
}

/** POST apply. */
export function applyRequest(path: string, experiment: string, force = false): IApiRequest {
  return { method: 'POST', endpoint: 'apply', query: [], body: { path, experiment, force } };
}

/** POST branch (the server names it `<name>-branch` when `branch` is empty). */
export function branchRequest(path: string, experiment: string, branch?: string): IApiRequest {
  const body: Record<string, unknown> = { path, experiment };
  if (branch?.trim()) {
    body.branch = branch.trim();
  }
  return { method: 'POST', endpoint: 'branch', query: [], body };
}

/** POST remove of named experiments. */
export function removeRequest(path: string, names: string[]): IApiRequest {
  return { method: 'POST', endpoint: 'remove', query: [], body: { path, names } };
}

/** POST queue/remove of named queue entries (not yet run). */
export function queueRemoveRequest(path: string, names: string[]): IApiRequest {
  return { method: 'POST', endpoint: 'queue/remove', query: [], body: { path, names } };
}

/** GET diff between two revisions or experiments. */
export function diffRequest(path: string, a: string, b: string): IApiRequest {
  return { method: 'GET', endpoint: 'diff', query: [...pathQuery(path), ['a', a], ['b', b]] };
}

/** GET plots (metric values per experiment; the client-side fallback's data). */
export function plotsRequest(path: string): IApiRequest {
  return { method: 'GET', endpoint: 'plots', query: pathQuery(path) };
}

/** GET plots/specs: Vega-Lite specs the server builds for the selected experiments. */
export function plotSpecsRequest(path: string, experiments: string[], kind: PlotKind): IApiRequest {
  return {
    method: 'GET',
    endpoint: 'plots/specs',
    query: [
      ...pathQuery(path),
      ...experiments.map(e => ['experiments', e] as [string, string]),
      ['kind', kind]
    ]
  };
}

/** GET notebooks of an experiment (each with an `open_path` the lab can open). */
export function notebooksRequest(path: string, experiment: string): IApiRequest {
  return {
    method: 'GET',
    endpoint: 'notebooks',
    query: [...pathQuery(path), ['experiment', experiment]]
  };
}
