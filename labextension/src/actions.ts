/**
 * The sidebar's row and toolbar actions that need JupyterLab: dialogs, documents and
 * the compare panel in the main area.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, InputDialog, MainAreaWidget, showDialog } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';
import { ApiError } from './api';
import { ComparePanel } from './compare';
import { SidebarModel } from './model';
import * as req from './request';
import { ISidebarActions } from './sidebar';
import { rowLabel } from './table';
import { INotebookRef, IRow } from './types';

/** Actions over a model, the app, its documents and its rendermime. */
export function makeActions(
  app: JupyterFrontEnd,
  model: SidebarModel,
  docs: IDocumentManager | null,
  rendermime: IRenderMimeRegistry | null
): ISidebarActions {
  const name = (row: IRow) => rowLabel(row);

  return {
    async apply(row) {
      const answer = await applyOnce(model, name(row), false);
      if (answer === 'conflict') {
        const ok = await confirm(
          'Apply over changes?',
          `Applying ${name(row)} would overwrite changes in the workspace. Overwrite them?`,
          'Overwrite'
        );
        if (ok) {
          await applyOnce(model, name(row), true);
        }
      }
      await model.refresh();
    },

    async branch(row) {
      const result = await InputDialog.getText({
        title: `Branch from ${name(row)}`,
        label: 'Branch name',
        text: `${name(row)}-branch`
      });
      if (!result.button.accept) {
        return;
      }
      await model.act(
        `Branch ${result.value} created`,
        req.branchRequest(model.path, name(row), result.value ?? undefined)
      );
      await model.refresh();
    },

    async remove(row) {
      const ok = await confirm('Remove experiment?', `Remove ${name(row)}?`, 'Remove');
      if (!ok) {
        return;
      }
      await model.act(`Removed ${name(row)}`, req.removeRequest(model.path, [name(row)]));
      model.selection = model.selection.filter(k => k !== row.id);
      await model.refresh();
    },

    async showLogs(row) {
      let body: string;
      try {
        const answer = await model.api.send<{ log: string }>(
          req.queueLogsRequest(model.path, name(row))
        );
        body = answer.log || '(no log: the experiment did not run through the queue yet)';
      } catch (error) {
        body = error instanceof ApiError ? error.message : String(error);
      }
      const pre = document.createElement('pre');
      pre.className = 'jp-ExpSidebar-log';
      pre.dataset.testid = 'exp-log';
      pre.textContent = body;
      await showDialog({
        title: `Logs of ${name(row)}`,
        body: new Widget({ node: pre }),
        buttons: [Dialog.okButton({ label: 'Close' })]
      });
    },

    async openNotebook(row) {
      if (!docs) {
        model.notice = { kind: 'error', text: 'No document manager to open notebooks.' };
        model.emit();
        return;
      }
      let notebooks: INotebookRef[];
      try {
        const answer = await model.api.send<{ notebooks: INotebookRef[] }>(
          req.notebooksRequest(model.path, name(row))
        );
        notebooks = answer.notebooks.filter(n => n.open_path);
      } catch (error) {
        const text =
          error instanceof ApiError && error.endpointMissing
            ? 'this server cannot open executed notebooks yet'
            : error instanceof ApiError
              ? error.message
              : String(error);
        model.notice = { kind: 'error', text: `Open notebook failed: ${text}` };
        model.emit();
        return;
      }
      if (notebooks.length === 0) {
        model.notice = { kind: 'error', text: `${name(row)} has no executed notebook.` };
        model.emit();
        return;
      }
      let chosen = notebooks[0];
      if (notebooks.length > 1) {
        const pick = await InputDialog.getItem({
          title: 'Open executed notebook',
          items: notebooks.map(n => `${n.stage}: ${n.path}`)
        });
        if (!pick.button.accept || pick.value === null) {
          return;
        }
        chosen = notebooks.find(n => `${n.stage}: ${n.path}` === pick.value) ?? chosen;
      }
      docs.openOrReveal(chosen.open_path!);
    },

    async compare(rows) {
      if (!rendermime || !model.table) {
        return;
      }
      const content = new ComparePanel(model.api, rendermime, {
        path: model.path,
        rows,
        columns: model.table.columns,
        allRows: model.table.rows
      });
      const widget = new MainAreaWidget({ content });
      widget.id = `jupyter-exp-compare-${Date.now()}`;
      widget.title.label = content.title.label;
      widget.title.closable = true;
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
      await content.load();
    }
  };
}

async function applyOnce(
  model: SidebarModel,
  experiment: string,
  force: boolean
): Promise<'ok' | 'conflict' | 'failed'> {
  try {
    await model.api.send(req.applyRequest(model.path, experiment, force));
    model.notice = { kind: 'info', text: `Applied ${experiment}` };
    return 'ok';
  } catch (error) {
    if (error instanceof ApiError && error.status === 409 && !force) {
      if (error.error === 'WorkspaceConflictError') {
        return 'conflict';
      }
    }
    const text = error instanceof ApiError ? error.message : String(error);
    model.notice = { kind: 'error', text: `Apply ${experiment} failed: ${text}` };
    return 'failed';
  } finally {
    model.emit();
  }
}

async function confirm(title: string, body: string, label: string): Promise<boolean> {
  const result = await showDialog({
    title,
    body,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label })]
  });
  return result.button.accept;
}
