import { defineConfig } from 'vitest/config';

// Unit tests of the pure modules (no DOM, no JupyterLab).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node'
  }
});
