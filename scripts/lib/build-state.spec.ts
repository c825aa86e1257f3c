import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runEsm } from '../testing/run-esm';

describe('scripts/lib/build-state.mjs', () => {
  let root: string;

  const write = (rel: string, text = '', mtimeSec?: number): void => {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    if (mtimeSec !== undefined) utimesSync(file, mtimeSec, mtimeSec);
  };
  const staleReason = (required: string[] = []): string | null =>
    runEsm<{ reason: string | null }>(
      `import { staleReason } from './scripts/lib/build-state.mjs';
       console.log(JSON.stringify({ reason: staleReason(__input.root, __input.required) }));`,
      { root, required },
    ).reason;

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'baton-build-spec-'));
    write('.swcrc', JSON.stringify({ exclude: ['.*\\.spec\\.ts$', '.*\\.integration-spec\\.ts$'] }), 1000);
    write('tsconfig.base.json', '{}', 1000);
    write('apps/api/src/main.ts', 'export {};', 2000);
    write('libs/core/src/index.ts', 'export {};', 2000);
    write('libs/core/src/index.spec.ts', 'export {};', 9000);
    write('libs/core/src/types.d.ts', 'export {};', 9000);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('asks for a build when an output is missing', () => {
    expect(staleReason()).toBe('dist/apps/api/src/main.js is missing');
    write('dist/apps/api/src/main.js', '', 3000);
    write('dist/libs/core/src/index.js', '', 3000);
    expect(staleReason(['dist/examples/worker/src/main.js'])).toBe(
      'dist/examples/worker/src/main.js is missing',
    );
  });

  it('is satisfied when every compiled source has a newer output, ignoring specs and declarations', () => {
    write('dist/apps/api/src/main.js', '', 3000);
    write('dist/libs/core/src/index.js', '', 3000);
    expect(staleReason(['dist/apps/api/src/main.js'])).toBeNull();
  });

  it('asks for a build when a source or a build setting changed after compiling', () => {
    write('dist/apps/api/src/main.js', '', 3000);
    write('dist/libs/core/src/index.js', '', 3000);
    write('libs/core/src/index.ts', 'export const x = 1;', 4000);
    expect(staleReason()).toBe(
      `${path.join('libs', 'core', 'src', 'index.ts')} changed since it was compiled`,
    );
    write('dist/libs/core/src/index.js', '', 5000);
    expect(staleReason()).toBeNull();
    write('.swcrc', JSON.stringify({ exclude: ['.*\\.spec\\.ts$'] }), 6000);
    expect(staleReason()).toBe('.swcrc changed since the last build');
  });
});
