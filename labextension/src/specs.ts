/**
 * Vega-Lite specs built in the browser from GET plots / GET experiments data, used
 * when the server's GET plots/specs is not there. Pure and tested.
 */
import { IColumn, IPlotSpec, IRow } from './types';
import { CHECKPOINT_TYPES, rowLabel } from './table';

/** The Vega-Lite schema the specs declare (JupyterLab renders it as v5). */
export const VEGALITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** The mime type of Vega-Lite 5 in JupyterLab's rendermime. */
export const VEGALITE_MIME = 'application/vnd.vegalite.v5+json';

/** An experiment as the plot data knows it. */
export interface IPlotExperiment {
  id: string;
  Experiment: string | null;
  rev: string;
  typ?: string;
  Step?: number | null;
  values: Record<string, unknown>;
}

/** One bar chart per numeric metric: its value for each selected experiment. */
export function metricBarSpecs(metrics: IColumn[], experiments: IPlotExperiment[]): IPlotSpec[] {
  const specs: IPlotSpec[] = [];
  for (const metric of metrics) {
    const values = experiments
      .filter(e => typeof e.values[metric.name] === 'number')
      .map(e => ({ experiment: labelOf(e), value: e.values[metric.name] as number }));
    if (values.length === 0) {
      continue;
    }
    specs.push({
      title: metric.name,
      spec: {
        $schema: VEGALITE_SCHEMA,
        title: metric.name,
        width: 'container',
        data: { values },
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: { field: 'experiment', type: 'nominal', sort: null, title: 'experiment' },
          y: { field: 'value', type: 'quantitative', title: metric.name },
          color: { field: 'experiment', type: 'nominal', legend: null }
        }
      }
    });
  }
  return specs;
}

function labelOf(e: IPlotExperiment): string {
  return e.Experiment || e.rev;
}

/**
 * One line chart per numeric metric over the checkpoints (Step) of the selected
 * experiments, from the table's rows: an experiment's tip and its checkpoint rows
 * carry its name and their step. Experiments without checkpoints add no line.
 */
export function checkpointLineSpecs(
  metrics: IColumn[],
  rows: IRow[],
  selected: string[]
): IPlotSpec[] {
  const names = new Set(selected);
  const chains = new Map<string, IRow[]>();
  for (const row of rows) {
    const name = row.Experiment;
    if (!name || !names.has(name) || typeof row.Step !== 'number') {
      continue;
    }
    chains.set(name, [...(chains.get(name) ?? []), row]);
  }
  const withCheckpoints = [...chains.entries()].filter(([, chain]) =>
    chain.some(r => CHECKPOINT_TYPES.includes(r.typ) || r.typ === 'checkpoint_tip')
  );
  if (withCheckpoints.length === 0) {
    return [];
  }
  const specs: IPlotSpec[] = [];
  for (const metric of metrics) {
    const values = withCheckpoints.flatMap(([name, chain]) =>
      chain
        .filter(r => typeof r.values[metric.name] === 'number')
        .map(r => ({ experiment: name, step: r.Step as number, value: r.values[metric.name] }))
    );
    if (values.length === 0) {
      continue;
    }
    values.sort((a, b) => a.step - b.step);
    specs.push({
      title: `${metric.name} by checkpoint`,
      spec: {
        $schema: VEGALITE_SCHEMA,
        title: `${metric.name} by checkpoint`,
        width: 'container',
        data: { values },
        mark: { type: 'line', point: true, tooltip: true },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'step' },
          y: { field: 'value', type: 'quantitative', title: metric.name },
          color: { field: 'experiment', type: 'nominal' }
        }
      }
    });
  }
  return specs;
}

/** The experiments of GET plots data whose label is one of `selected`, in that order. */
export function selectExperiments<T extends IPlotExperiment>(
  experiments: T[],
  selected: string[]
): T[] {
  const result: T[] = [];
  for (const label of selected) {
    const found = experiments.find(e => labelOf(e) === label || e.id === label);
    if (found && !result.includes(found)) {
      result.push(found);
    }
  }
  return result;
}

/** The labels the API accepts for rows (experiment name, else revision). */
export function experimentIds(rows: IRow[]): string[] {
  return rows.map(rowLabel);
}
