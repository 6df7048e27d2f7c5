import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

const PLUGIN_ID = 'jupyter-exp:plugin';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'The Experiments sidebar of jupyter-exp.',
  autoStart: true,
  requires: [],
  optional: [ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ) => {
    const panel = new Widget();
    panel.id = 'jupyter-exp-sidebar';
    panel.title.caption = 'Experiments';
    panel.node.textContent = 'Experiments';
    app.shell.add(panel, 'left', { rank: 600 });
    restorer?.add(panel, panel.id);
    void palette;
  }
};

export default plugin;
