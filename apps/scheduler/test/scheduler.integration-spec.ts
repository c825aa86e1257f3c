import { jetstreamManager } from '@nats-io/jetstream';
import { Svcm } from '@nats-io/services';
import type { ServiceIdentity } from '@nats-io/services';
import { connect } from '@nats-io/transport-node';

import {
  buildServiceForTest,
  createTestDatabase,
  getFreePort,
  startNatsServer,
  startServiceProcess,
  stopServiceProcesses,
  waitForServiceNotReady,
  waitForServiceReady,
} from '@baton/testing';
import type { NatsServerHandle, ServiceBuild, TestDatabase } from '@baton/testing';

describe('scheduler (integration)', () => {
  let build: ServiceBuild;
  let nats: NatsServerHandle;
  let db: TestDatabase;

  beforeAll(async () => {
    // Compile the app and the libs it uses the way `nx build` does, then run the real main.js.
    build = await buildServiceForTest('apps/scheduler', [
      'libs/service-kit',
      'libs/telemetry',
      'libs/contracts',
      'libs/transport-jetstream',
      'libs/persistence',
      'libs/workflow',
    ]);
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase()]);
  });

  afterAll(async () => {
    await stopServiceProcesses();
    await db?.drop();
    await nats?.cleanup();
    await build?.remove();
  });

  it('exits 1 with one line naming PORT when PORT is invalid', async () => {
    const proc = startServiceProcess({
      main: build.main,
      env: { PORT: 'abc', NATS_URL: nats.url, DATABASE_URL: db.url },
    });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toBe(
      'invalid configuration: PORT must be an integer between 1 and 65535 (got "abc")\n',
    );
    expect(proc.stdout()).toBe('');
  });

  it('runs, connects, reports health and stops cleanly on SIGTERM', async () => {
    const port = await getFreePort();
    const base = `http://127.0.0.1:${port}`;
    const proc = startServiceProcess({
      main: build.main,
      env: { PORT: String(port), NATS_URL: nats.url, DATABASE_URL: db.url },
    });

    const ready = await waitForServiceReady(proc, base, 'the scheduler to be ready');
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
    const notReady = await waitForServiceNotReady(base, 'readiness to fail without the database');
    expect(notReady.error.code).toBe('UNAVAILABLE');
    expect(notReady.error.message).toMatch(/^not ready: database \(/);
    expect((await fetch(`${base}/health/live`)).status).toBe(200);

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.stdout()).toContain('NATS connection drained');
  });
});
