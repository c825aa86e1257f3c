import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { WORKER_VERSION } from './version';
import { resolveWorkerOptions } from './worker.options';

describe('resolveWorkerOptions', () => {
  it('fills in defaults', () => {
    const o = resolveWorkerOptions({});
    expect(o).toMatchObject({
      servers: ['nats://127.0.0.1:4222'],
      concurrency: 8,
      ackWaitMs: 30_000,
      drainTimeoutMs: 30_000,
    });
    expect(o.name).toMatch(/-\d+-/);
    expect(typeof o.logger.info).toBe('function');
  });

  it('splits a comma-separated NATS_URL and ignores an empty one', () => {
    expect(resolveWorkerOptions({ servers: 'nats://a:4222, nats://b:4222,' }).servers).toEqual([
      'nats://a:4222',
      'nats://b:4222',
    ]);
    expect(resolveWorkerOptions({ servers: '' }).servers).toEqual(['nats://127.0.0.1:4222']);
    expect(resolveWorkerOptions({ servers: ['nats://c:1'] }).servers).toEqual(['nats://c:1']);
  });

  it.each([
    [{ concurrency: 0 }, /concurrency must be an integer >= 1/],
    [{ concurrency: 1.5 }, /concurrency/],
    [{ concurrency: 5000 }, /concurrency must be at most 1024/],
    [{ ackWaitMs: 500 }, /ackWaitMs must be an integer >= 1000/],
    [{ drainTimeoutMs: -1 }, /drainTimeoutMs/],
    [{ user: 'u' }, /password is required/],
    [{ password: 'p' }, /user is required/],
    [{ credsFile: '/x', user: 'u', password: 'p' }, /credsFile cannot be combined/],
    [{ name: '' }, /name must be/],
  ])('rejects %j with VALIDATION_FAILED', (options, message) => {
    expect(() => resolveWorkerOptions(options)).toThrow(message);
    try {
      resolveWorkerOptions(options);
    } catch (err) {
      expect((err as { code?: string }).code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('package', () => {
  it('WORKER_VERSION equals the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    expect(pkg.name).toBe('@baton/worker');
    expect(pkg.version).toBe(WORKER_VERSION);
  });

  it('sources import only @baton/contracts, @nats-io/*, @opentelemetry/api and node built-ins', () => {
    const files = readdirSync(__dirname).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
    const imports = new Set<string>();
    for (const file of files) {
      for (const match of readFileSync(join(__dirname, file), 'utf8').matchAll(/from '([^']+)'/g)) {
        const source = match[1];
        if (!source.startsWith('.')) imports.add(source);
      }
    }
    for (const source of imports) {
      expect(source).toMatch(
        /^(@baton\/contracts|@nats-io\/(nats-core|jetstream|transport-node)|@opentelemetry\/api|node:.+)$/,
      );
    }
  });
});
