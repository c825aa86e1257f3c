import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { randomId } from '@baton/contracts';

const ROOT = join(__dirname, '..', '..', '..');

/**
 * The publishable package (`nx run worker:package`): built into a private directory, installed by symlink
 * into a scratch project that has only @nats-io/* and @opentelemetry/*, then type-checked and required.
 */
describe('@baton/worker as a standalone package', () => {
  const base = join(ROOT, 'tmp', `worker-package-${randomId().slice(0, 8)}`);
  const pkg = join(base, 'package');
  const consumer = join(base, 'consumer');

  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'libs/worker/scripts/package.mjs'), pkg], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    mkdirSync(join(consumer, 'node_modules', '@baton'), { recursive: true });
    symlinkSync(pkg, join(consumer, 'node_modules', '@baton', 'worker'));
    for (const scope of ['@nats-io', '@opentelemetry', '@types']) {
      symlinkSync(join(ROOT, 'node_modules', scope), join(consumer, 'node_modules', scope));
    }
  });

  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('has the manifest, README and no reference to the monorepo', () => {
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ name: '@baton/worker', version: '0.1.0' });
    expect(Object.keys(manifest.dependencies as object).sort()).toEqual([
      '@nats-io/jetstream',
      '@nats-io/nats-core',
      '@nats-io/transport-node',
      '@opentelemetry/api',
    ]);
    expect(existsSync(join(pkg, manifest.main as string))).toBe(true);
    expect(existsSync(join(pkg, manifest.types as string))).toBe(true);
    expect(existsSync(join(pkg, 'README.md'))).toBe(true);
    const index = readFileSync(join(pkg, 'libs/worker/src/worker.d.ts'), 'utf8');
    expect(index).not.toMatch(/@baton\//);
  });

  it('type-checks and loads in a project that has only its dependencies', () => {
    writeFileSync(
      join(consumer, 'use.ts'),
      [
        "import { NonRetryableError, Worker, type TaskContext } from '@baton/worker';",
        'export async function main(): Promise<void> {',
        "  const worker = await Worker.connect({ servers: 'nats://127.0.0.1:4222' });",
        "  worker.handle('a.b', async (input: { n: number }, ctx: TaskContext) => {",
        "    if (input.n < 0) throw new NonRetryableError('Negative', 'n is negative');",
        '    return { n: input.n, key: ctx.idempotencyKey };',
        '  });',
        '}',
        '',
      ].join('\n'),
    );
    execFileSync(
      join(ROOT, 'node_modules/.bin/tsc'),
      [
        '--strict',
        '--noEmit',
        '--module',
        'commonjs',
        '--moduleResolution',
        'node',
        '--target',
        'es2022',
        '--types',
        'node',
        'use.ts',
      ],
      { cwd: consumer, stdio: 'pipe' },
    );
    const exported = execFileSync(
      process.execPath,
      ['-e', "console.log(Object.keys(require('@baton/worker')).sort().join(','))"],
      { cwd: consumer, encoding: 'utf8' },
    ).trim();
    expect(exported.split(',')).toEqual(
      expect.arrayContaining([
        'Worker',
        'NonRetryableError',
        'CompleteAsyncError',
        'WorkerErrorType',
        'WORKER_VERSION',
      ]),
    );
  });
});
