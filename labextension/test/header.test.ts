import { describe, expect, it } from 'vitest';
import { projectTitle } from '../src/header';

describe('projectTitle', () => {
  it('names a project by its last path component, with the absolute path as tooltip', () => {
    expect(projectTitle('team/vision', '/home/ada/work')).toEqual({
      name: 'vision',
      tooltip: '/home/ada/work/team/vision'
    });
    expect(projectTitle('proj', '/home/ada/work/')).toEqual({
      name: 'proj',
      tooltip: '/home/ada/work/proj'
    });
  });

  it('names the root dir itself when the project is the root dir', () => {
    expect(projectTitle('', '/home/ada/work')).toEqual({
      name: 'work',
      tooltip: '/home/ada/work'
    });
    expect(projectTitle('', 'C:/Users/ada/work')).toEqual({
      name: 'work',
      tooltip: 'C:/Users/ada/work'
    });
  });

  it('copes with a filesystem root and an unknown root dir', () => {
    expect(projectTitle('', '/')).toEqual({ name: '/', tooltip: '/' });
    expect(projectTitle('proj', '/')).toEqual({ name: 'proj', tooltip: '/proj' });
    expect(projectTitle('team/proj', '')).toEqual({ name: 'proj', tooltip: 'team/proj' });
    expect(projectTitle('', '')).toEqual({ name: '/', tooltip: '/' });
  });
});
