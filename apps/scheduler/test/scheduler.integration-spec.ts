import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { jetstreamManager } from '@nats-io/jetstream';
import { Svcm } from '@nats-io/services';
import type { ServiceIdentity } from '@nats-io/services';
import { connect } from '@nats-io/transport-node';

import { createTestDatabase, getFreePort, startNatsServer, waitFor } from '@baton/testing';
import type { NatsServerHandle, TestDatabase } from '@baton/testing';

const ROOT = resolve(__dirname, '../../..');
const SOURCES = [
  'apps/scheduler/src',
  'libs/service-kit/src',
  'libs/telemetry/src',
  'libs/contracts/src',
  'libs/transport-jetstream/src',
  'libs/persistence/src',
];

/** A started `main.js`: its output so far and its exit. */
interface ServiceProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(main: string, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, [main], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

describe('scheduler (integration)', () => {
  let buildDir: string;
  let main: string;
  let nats: NatsServerHandle;
  let db: TestDatabase;
  const running: ServiceProcess[] = [];

  beforeAll(async () => {
    // Compile the app and the libs it uses the way `nx build` does, then run the real main.js.
    await mkdir(join(ROOT, 'tmp'), { recursive: true });
    buildDir = await mkdtemp(join(ROOT, 'tmp', 'scheduler-build-'));
    await promisify(execFile)(
      join(ROOT, 'node_modules/.bin/swc'),
      [...SOURCES, '-d', buildDir, '--config-file', '.swcrc', '-q'],
      { cwd: ROOT },
    );
    main = join(buildDir, 'apps/scheduler/src/main.js');
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase()]);
  });

  afterAll(async () => {
    for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await db?.drop();
    await nats?.cleanup();
    if (buildDir) await rm(buildDir, { recursive: true, force: true });
  });

  it('exits 1 with one line naming PORT when PORT is invalid', async () => {
    const proc = start(main, { PORT: 'abc', NATS_URL: nats.url, DATABASE_URL: db.url });
    running.push(proc);
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toBe(
      'invalid configuration: PORT must be an integer between 1 and 65535 (got "abc")\n',
    );
    expect(proc.stdout()).toBe('');
  });

  it('runs, connects, reports health and stops cleanly on SIGTERM', async () => {
    const port = await getFreePort();
    const base = `http://127.0.0.1:${port}`;
    const proc = start(main, { PORT: String(port), NATS_URL: nats.url, DATABASE_URL: db.url });
    running.push(proc);

    const ready = await waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`exited ${proc.child.exitCode}: ${proc.stderr()}`);
        const res = await fetch(`${base}/health/ready`);
        return res.status === 200
          ? ((await res.json()) as { details: Record<string, { status: string }> })
          : undefined;
      },
      { what: 'the scheduler to be ready' },
    );
    expect(ready.details).toEqual({
      nats: expect.objectContaining({ status: 'up' }),
      topology: expect.objectContaining({ status: 'up' }),
      database: expect.objectContaining({ status: 'up' }),
    });
    expect(proc.stdout()).toContain(`"msg":"baton-scheduler listening on :${port}"`);

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^process_cpu_user_seconds_total\{service="baton-scheduler"\} /m);
    const docs = (await (await fetch(`${base}/docs-json`)).json()) as { info: { title: string } };
    expect(docs.info.title).toBe('baton-scheduler');

    const nc = await connect({ servers: nats.url });
    try {
      const pings: ServiceIdentity[] = [];
      const client = new Svcm(nc).client();
      for await (const p of await client.ping('baton-scheduler')) pings.push(p);
      expect(pings).toEqual([expect.objectContaining({ name: 'baton-scheduler', version: '0.1.0' })]);
      const jsm = await jetstreamManager(nc);
      expect((await jsm.streams.info('BATON_ORCH')).config.subjects).toEqual(['baton.orch.>']);
      expect((await jsm.streams.info('EVENTS')).config.subjects).toEqual(['events.>']);
    } finally {
      await nc.close();
    }
    const connz = (await (await fetch(`http://127.0.0.1:${nats.monitorPort}/connz`)).json()) as {
      connections: { name?: string }[];
    };
    expect(connz.connections.map((c) => c.name)).toContain('baton-scheduler');

    // Without its database the scheduler is alive but not ready, and says why.
    await db.drop();
    const notReady = await waitFor(
      async () => {
        const res = await fetch(`${base}/health/ready`);
        return res.status === 503
          ? ((await res.json()) as { error: { code: string; message: string } })
          : undefined;
      },
      { what: 'readiness to fail without the database' },
    );
    expect(notReady.error.code).toBe('UNAVAILABLE');
    expect(notReady.error.message).toMatch(/^not ready: database \(/);
    expect((await fetch(`${base}/health/live`)).status).toBe(200);

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.stdout()).toContain('NATS connection drained');
  });
});
