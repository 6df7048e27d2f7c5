/**
 * What the sidebar header says about the project it shows: a short name, and the full
 * path as a tooltip. Pure: the view passes in the server's root dir.
 */

/** The project's name and its full path on the server. */
export interface IProjectTitle {
  name: string;
  tooltip: string;
}

/**
 * `project` is GET experiments' field: the repository's root relative to the server's
 * root dir, `""` when the repository is the root dir. `serverRoot` is the server's root
 * dir (the page config's `serverRoot`), `""` when unknown.
 *
 * The name is the project's last path component, or the root dir's own name when the
 * project is the root dir (`/` when that has none). The tooltip is the absolute path
 * when the root dir is known, else the path relative to it.
 */
export function projectTitle(project: string, serverRoot: string): IProjectTitle {
  const relative = components(project).join('/');
  const root = serverRoot.replace(/\/+$/, '');
  let tooltip: string;
  if (!serverRoot) {
    tooltip = relative || '/';
  } else if (!relative) {
    tooltip = root || '/';
  } else {
    tooltip = `${root}/${relative}`;
  }
  const name = components(project).pop() ?? components(serverRoot).pop() ?? '/';
  return { name, tooltip };
}

function components(path: string): string[] {
  return path.split('/').filter(part => part !== '' && part !== '.');
}
