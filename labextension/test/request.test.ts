import { describe, expect, it } from 'vitest';
import * as req from '../src/request';

describe('requests', () => {
  it('builds URLs under the API root with repeated keys kept', () => {
    const r = req.plotSpecsRequest('proj/a b.ipynb', ['exp-a', 'exp-b'], 'metrics');
    expect(req.requestUrl('http://h/base/', r)).toBe(
      'http://h/base/jupyter-exp/api/plots/specs?path=proj%2Fa%20b.ipynb' +
        '&experiments=exp-a&experiments=exp-b&kind=metrics'
    );
    expect(req.requestUrl('http://h/base', req.queueStatusRequest(''))).toBe(
      'http://h/base/jupyter-exp/api/queue/status'
    );
  });

  it('asks experiments with their notebooks', () => {
    expect(req.experimentsRequest('p').query).toEqual([
      ['path', 'p'],
      ['notebooks', 'true']
    ]);
  });

  it('sends POST bodies as JSON', () => {
    const r = req.runRequest('p', { params: ['train.lr=0.3'], name: '  ', queue: true });
    expect(r.method).toBe('POST');
    expect(r.body).toEqual({ path: 'p', params: ['train.lr=0.3'], queue: true });
    const init = req.requestInit(r);
    expect(JSON.parse(init.body as string)).toEqual(r.body);
    expect(init.headers).toEqual({ 'Content-Type': 'application/json' });
    expect(req.runRequest('p', { params: [], name: 'n1', queue: false }).body).toEqual({
      path: 'p',
      params: [],
      queue: false,
      name: 'n1'
    });
  });

  it('has no body for GET and DELETE', () => {
    expect(req.requestInit(req.jobRequest('ab', 3))).toEqual({ method: 'GET' });
    expect(req.jobRequest('ab', 3).query).toEqual([['since', '3']]);
    const cancel = req.cancelJobRequest('ab');
    expect([cancel.method, cancel.endpoint]).toEqual(['DELETE', 'jobs/ab']);
  });

  it('names actions as the API wants', () => {
    expect(req.applyRequest('p', 'e', true).body).toEqual({ path: 'p', experiment: 'e', force: true });
    expect(req.branchRequest('p', 'e', ' ').body).toEqual({ path: 'p', experiment: 'e' });
    expect(req.branchRequest('p', 'e', 'b').body).toEqual({ path: 'p', experiment: 'e', branch: 'b' });
    expect(req.removeRequest('p', ['e']).body).toEqual({ path: 'p', names: ['e'] });
    expect(req.queueStartRequest('p').body).toEqual({ path: 'p', jobs: 1 });
    expect(req.queueStopRequest('p').body).toEqual({ path: 'p', kill: false });
    expect(req.diffRequest('p', 'a', '').query).toEqual([
      ['path', 'p'],
      ['a', 'a'],
      ['b', '']
    ]);
    expect(req.queueLogsRequest('p', 'e').query).toEqual([
      ['path', 'p'],
      ['name', 'e']
    ]);
    expect(req.notebooksRequest('p', 'e').query).toEqual([
      ['path', 'p'],
      ['experiment', 'e']
    ]);
  });
});
