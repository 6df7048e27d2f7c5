/**
 * The jupyter-exp JupyterLab plugin: the Experiments sidebar, its commands and settings.
 */
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { LabIcon } from '@jupyterlab/ui-components';
import { ReadonlyJSONValue } from '@lumino/coreutils';
import { makeActions } from './actions';
import { ApiClient } from './api';
import { DEFAULT_SETTINGS, ISidebarSettings, IStarStore, SidebarModel } from './model';
import { ExperimentsSidebar } from './sidebar';

const PLUGIN_ID = 'jupyter-exp:plugin';
const STARS_KEY = 'jupyter-exp:stars';

/** Command ids. */
export namespace CommandIDs {
  export const show = 'jupyter-exp:show';
  export const refresh = 'jupyter-exp:refresh';
}

/** A flask, the sidebar's tab icon. */
export const flaskIcon = new LabIcon({
  name: 'jupyter-exp:flask',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M9 2h6v2h-1v5.2l5.6 9.3A2 2 0 0 1 17.9 ' +
    '21H6.1a2 2 0 0 1-1.7-2.5L10 9.2V4H9V2zm3 9.3L8.6 17h6.8L12 11.3z"/></svg>'
});

function starStore(state: IStateDB | null): IStarStore {
  return {
    async load() {
      const saved = state ? await state.fetch(STARS_KEY) : null;
      return Array.isArray(saved) ? (saved as string[]) : [];
    },
    async save(keys) {
      await state?.save(STARS_KEY, keys as ReadonlyJSONValue);
    }
  };
}

function readSettings(settings: ISettingRegistry.ISettings): ISidebarSettings {
  const get = <T>(key: keyof ISidebarSettings) =>
    (settings.get(key).composite as T | undefined) ?? (DEFAULT_SETTINGS[key] as T);
  return {
    refreshInterval: get<number>('refreshInterval'),
    defaultColumns: get<string[]>('defaultColumns'),
    maxRows: get<number>('maxRows')
  };
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'The Experiments sidebar of jupyter-exp.',
  autoStart: true,
  optional: [
    ICommandPalette,
    ILayoutRestorer,
    ILabShell,
    ISettingRegistry,
    IStateDB,
    IDocumentManager,
    IDefaultFileBrowser,
    IRenderMimeRegistry
  ],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    labShell: ILabShell | null,
    settingRegistry: ISettingRegistry | null,
    state: IStateDB | null,
    docs: IDocumentManager | null,
    browser: IDefaultFileBrowser | null,
    rendermime: IRenderMimeRegistry | null
  ) => {
    const model = new SidebarModel(new ApiClient(app.serviceManager.serverSettings), starStore(state));
    const panel = new ExperimentsSidebar(model, makeActions(app, model, docs, rendermime));
    panel.id = 'jupyter-exp-sidebar';
    panel.title.icon = flaskIcon;
    panel.title.caption = 'Experiments';
    app.shell.add(panel, 'left', { rank: 600 });
    restorer?.add(panel, panel.id);

    // The project: the file in focus, else the file browser's folder.
    const currentPath = (): string => {
      const widget = app.shell.currentWidget;
      const context = widget && docs ? docs.contextForWidget(widget) : undefined;
      if (context) {
        return context.path;
      }
      return browser ? browser.model.path : '';
    };
    const follow = () => model.setPath(PathExt.normalize(currentPath()).replace(/^\.$/, ''));
    labShell?.currentChanged.connect(follow);
    browser?.model.pathChanged.connect(() => {
      const widget = app.shell.currentWidget;
      if (!widget || !docs?.contextForWidget(widget)) {
        follow();
      }
    });
    void app.restored.then(follow);

    if (settingRegistry) {
      void settingRegistry.load(PLUGIN_ID).then(
        settings => {
          model.setSettings(readSettings(settings));
          settings.changed.connect(() => model.setSettings(readSettings(settings)));
        },
        reason => console.error('jupyter-exp: cannot load settings', reason)
      );
    }

    app.commands.addCommand(CommandIDs.show, {
      label: 'Experiments: Show sidebar',
      caption: 'Show the Experiments sidebar',
      icon: flaskIcon,
      execute: () => app.shell.activateById(panel.id)
    });
    app.commands.addCommand(CommandIDs.refresh, {
      label: 'Experiments: Refresh',
      caption: 'Read the experiments and the queue again',
      execute: () => model.refresh()
    });
    if (palette) {
      palette.addItem({ command: CommandIDs.show, category: 'Experiments' });
      palette.addItem({ command: CommandIDs.refresh, category: 'Experiments' });
    }
  }
};

export default plugin;
