/**
 * The main-area compare panel: the diff of two selected experiments and Vega-Lite plots
 * of their metrics (and checkpoints), rendered by JupyterLab's rendermime.
 */
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { Panel, Widget } from '@lumino/widgets';
import { ApiClient, ApiError } from './api';
import { diffRevision, diffRows } from './diff';
import * as req from './request';
import { checkpointLineSpecs, metricBarSpecs, selectExperiments, VEGALITE_MIME } from './specs';
import { rowLabel } from './table';
import { IColumn, IDiff, IPlotSpec, IPlotsData, IRow } from './types';

/** What the panel compares: the project path, the rows, and the whole table's data. */
export interface ICompareInput {
  path: string;
  rows: IRow[];
  columns: IColumn[];
  allRows: IRow[];
}

/** The compare panel's content. */
export class ComparePanel extends Panel {
  constructor(
    private readonly api: ApiClient,
    private readonly rendermime: IRenderMimeRegistry,
    readonly input: ICompareInput
  ) {
    super();
    this.addClass('jp-ExpCompare');
    this.node.dataset.testid = 'exp-compare-panel';
    const labels = input.rows.map(rowLabel);
    this.title.label = `Compare: ${labels.join(', ')}`;
    this.title.closable = true;
    this.header = section('jp-ExpCompare-header', 'h2', `Experiments: ${labels.join(', ')}`);
    this.addWidget(this.header);
    this.diffArea = new Widget();
    this.diffArea.addClass('jp-ExpCompare-diff');
    this.diffArea.node.dataset.testid = 'exp-compare-diff';
    this.addWidget(this.diffArea);
    this.plotArea = new Panel();
    this.plotArea.addClass('jp-ExpCompare-plots');
    this.plotArea.node.dataset.testid = 'exp-compare-plots';
    this.addWidget(this.plotArea);
  }

  /** Fill the panel: the diff (two rows) and the plots. */
  async load(): Promise<void> {
    await Promise.all([this.loadDiff(), this.loadPlots()]);
  }

  private async loadDiff(): Promise<void> {
    const rows = this.input.rows;
    const node = this.diffArea.node;
    if (rows.length !== 2) {
      node.textContent = 'Select exactly two rows to see their diff.';
      return;
    }
    try {
      const diff = await this.api.send<IDiff>(
        req.diffRequest(this.input.path, diffRevision(rows[0]), diffRevision(rows[1]))
      );
      renderDiff(node, diff, rowLabel(rows[0]), rowLabel(rows[1]));
    } catch (error) {
      node.textContent = `Diff failed: ${messageOf(error)}`;
      node.classList.add('jp-mod-error');
    }
  }

  private async loadPlots(): Promise<void> {
    let specs: IPlotSpec[];
    try {
      specs = await this.specs();
    } catch (error) {
      this.plotArea.addWidget(text(`Plots failed: ${messageOf(error)}`));
      return;
    }
    if (specs.length === 0) {
      this.plotArea.addWidget(text('No numeric metric to plot for these experiments.'));
      return;
    }
    for (const { title, spec } of specs) {
      const holder = new Panel();
      holder.addClass('jp-ExpCompare-plot');
      holder.node.dataset.testid = 'exp-plot';
      holder.node.dataset.title = title;
      this.plotArea.addWidget(holder);
      const renderer = this.rendermime.createRenderer(VEGALITE_MIME);
      holder.addWidget(renderer);
      await renderer.renderModel(new MimeModel({ data: { [VEGALITE_MIME]: spec as never } }));
    }
  }

  /**
   * The server's specs, per kind (metrics, then steps over checkpoints). A kind the
   * server lacks (endpoint missing) is built here from GET plots / the table; a kind it
   * refuses for these experiments (400, e.g. no checkpoints) adds nothing.
   */
  private async specs(): Promise<IPlotSpec[]> {
    const { path, rows, columns, allRows } = this.input;
    const labels = rows.map(rowLabel);
    const metrics = columns.filter(c => c.kind === 'metric');
    const fallbacks: Record<'metrics' | 'steps', () => Promise<IPlotSpec[]>> = {
      metrics: async () => {
        const plots = await this.api.send<IPlotsData>(req.plotsRequest(path));
        return metricBarSpecs(plots.metrics, selectExperiments(plots.experiments, labels));
      },
      steps: async () => checkpointLineSpecs(metrics, allRows, labels)
    };
    const kinds = ['metrics', 'steps'] as const;
    const perKind = await Promise.all(
      kinds.map(async kind => {
        try {
          const answer = await this.api.sendOptional<{ specs: IPlotSpec[] }>(
            req.plotSpecsRequest(path, labels, kind)
          );
          return answer ? answer.specs : await fallbacks[kind]();
        } catch (error) {
          if (error instanceof ApiError && error.status === 400) {
            return [];
          }
          throw error;
        }
      })
    );
    return perKind.flat();
  }

  private header: Widget;
  private diffArea: Widget;
  private plotArea: Panel;
}

function messageOf(error: unknown): string {
  return error instanceof ApiError ? error.message : String(error);
}

function section(cls: string, tag: string, content: string): Widget {
  const widget = new Widget({ node: document.createElement(tag) });
  widget.addClass(cls);
  widget.node.textContent = content;
  return widget;
}

function text(content: string): Widget {
  return section('jp-ExpCompare-message', 'p', content);
}

function renderDiff(node: HTMLElement, diff: IDiff, a: string, b: string): void {
  const rows = diffRows(diff);
  node.textContent = '';
  const title = document.createElement('h3');
  title.textContent = `Diff ${a} → ${b}`;
  node.appendChild(title);
  if (rows.length === 0) {
    const p = document.createElement('p');
    p.textContent = 'No difference in params, metrics, deps or outs.';
    node.appendChild(p);
    return;
  }
  const table = document.createElement('table');
  table.className = 'jp-ExpCompare-diffTable';
  const head = table.createTHead().insertRow();
  for (const label of ['', 'file', 'key', a, b, 'change']) {
    const th = document.createElement('th');
    th.textContent = label;
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    tr.dataset.testid = 'exp-diff-row';
    for (const value of [row.section, row.file, row.key, row.old, row.new, row.change]) {
      tr.insertCell().textContent = value;
    }
  }
  node.appendChild(table);
}
