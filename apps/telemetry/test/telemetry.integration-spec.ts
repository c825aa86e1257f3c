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
  waitFor,
  waitForServiceNotReady,
  waitForServiceReady,
} from '@baton/testing';
import type { NatsServerHandle, ServiceBuild, TestDatabase } from '@baton/testing';

describe('telemetry (integration)', () => {
  let build: ServiceBuild;
  let nats: NatsServerHandle;
  let db: TestDatabase;

  beforeAll(async () => {
    // Compile the app and the libs it uses the way `nx build` does, then run the real main.js.
    build = await buildServiceForTest('apps/telemetry', [
      'apps/state-store',
      'libs/persistence',
      'libs/service-kit',
      'libs/telemetry',
      'libs/contracts',
      'libs/transport-jetstream',
    ]);
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase()]);
  });

  afterAll(async () => {
    await stopServiceProcesses();
    await nats?.cleanup();
    await db?.drop();
    await build?.remove();
  });

  it('exits 1 with one line naming PORT when PORT is invalid', async () => {
    const proc = startServiceProcess({ main: build.main, env: { PORT: 'abc', NATS_URL: nats.url } });
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

    const ready = await waitForServiceReady(proc, base, 'the telemetry to be ready');
    expect(ready.details).toEqual({
      nats: expect.objectContaining({ status: 'up' }),
      topology: expect.objectContaining({ status: 'up' }),
      database: expect.objectContaining({ status: 'up' }),
    });
    expect(proc.stdout()).toContain(`"msg":"baton-telemetry listening on :${port}"`);

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^process_cpu_user_seconds_total\{service="baton-telemetry"\} /m);
    const docs = (await (await fetch(`${base}/docs-json`)).json()) as { info: { title: string } };
    expect(docs.info.title).toBe('baton-telemetry');

    const nc = await connect({ servers: nats.url });
    try {
      const pings: ServiceIdentity[] = [];
      const client = new Svcm(nc).client();
      for await (const p of await client.ping('baton-telemetry')) pings.push(p);
      expect(pings).toEqual([expect.objectContaining({ name: 'baton-telemetry', version: '0.1.0' })]);
      const jsm = await jetstreamManager(nc);
      expect((await jsm.streams.info('BATON_HISTORY')).config.subjects).toEqual(['baton.history.>']);
      expect((await jsm.streams.info('BATON_EVENTS')).config.subjects).toEqual(['baton.events.>']);
      expect((await jsm.streams.info('BATON_DLQ')).config.subjects).toEqual(['baton.dlq.>']);

      // Without a stream it reads, the service is alive but not ready, and says why.
      await jsm.streams.delete('BATON_DLQ');
      const notReady = await waitForServiceNotReady(base, 'readiness to fail without the stream');
      expect(notReady.error).toMatchObject({
        code: 'UNAVAILABLE',
        message: 'not ready: topology (missing stream BATON_DLQ)',
      });
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
    } finally {
      await nc.close();
    }
    const connz = (await (await fetch(`http://127.0.0.1:${nats.monitorPort}/connz`)).json()) as {
      connections: { name?: string }[];
    };
    expect(connz.connections.map((c) => c.name)).toContain('baton-telemetry');

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.stdout()).toContain('NATS connection drained');
  });
  it('lists every Baton service instance with its endpoints, stats and health (GET /v1/services)', async () => {
    const [telemetryPort, storePort] = [await getFreePort(), await getFreePort()];
    const base = `http://127.0.0.1:${telemetryPort}`;
    const env = { NATS_URL: nats.url, DATABASE_URL: db.url, LOG_LEVEL: 'warn' };
    const telemetry = startServiceProcess({ main: build.main, env: { ...env, PORT: String(telemetryPort) } });
    const store = startServiceProcess({
      main: build.mainOf('apps/state-store'),
      env: { ...env, PORT: String(storePort) },
    });

    interface Instance {
      name: string;
      id: string;
      version: string;
      health: string;
      endpoints: { name: string; subject: string; requests: number }[];
      stats: { requests: number; errors: number } | null;
    }
    const services = async (): Promise<Instance[]> => {
      telemetry.assertRunning();
      const res = await fetch(`${base}/v1/services`).catch(() => undefined);
      return res?.status === 200 ? ((await res.json()) as { items: Instance[] }).items : [];
    };
    const both = await waitFor(
      async () => {
        const items = await services();
        return items.filter((i) => i.health === 'up').length === 2 ? items : undefined;
      },
      { what: 'telemetry and state-store to be discovered' },
    );
    expect(both.map((i) => [i.name, i.version, i.health])).toEqual([
      ['baton-state-store', '0.1.0', 'up'],
      ['baton-telemetry', '0.1.0', 'up'],
    ]);
    const [storeView, telemetryView] = both;
    expect(storeView.endpoints.map((e) => e.subject)).toContain('baton.api.state-store.executions.list');
    expect(telemetryView.endpoints.map((e) => e.name)).toEqual(
      expect.arrayContaining([
        'analytics-workflows',
        'analytics-workflow',
        'analytics-steps',
        'services-list',
      ]),
    );

    // The mirror answers the same list, and the request shows in the next stats.
    const nc = await connect({ servers: nats.url });
    try {
      const msg = await nc.request('baton.api.telemetry.services.list', '', { timeout: 5_000 });
      const reply = msg.json() as { items: Instance[] };
      expect(reply.items.map((i) => i.name)).toEqual(['baton-state-store', 'baton-telemetry']);
      const counted = await waitFor(
        async () => {
          const items = await services();
          const t = items.find((i) => i.name === 'baton-telemetry');
          return t?.stats && t.stats.requests >= 1 ? t : undefined;
        },
        { what: 'the request in $SRV.STATS' },
      );
      expect(counted.endpoints.find((e) => e.name === 'services-list')?.requests).toBeGreaterThanOrEqual(1);
    } finally {
      await nc.close();
    }

    // An instance that stops answering is listed as down.
    store.child.kill('SIGTERM');
    expect(await store.exited).toBe(0);
    const after = await waitFor(
      async () => {
        const items = await services();
        const s = items.find((i) => i.name === 'baton-state-store');
        return s?.health === 'down' ? items : undefined;
      },
      { what: 'the stopped state-store to be down' },
    );
    expect(after.map((i) => [i.name, i.id, i.health])).toEqual([
      ['baton-state-store', storeView.id, 'down'],
      ['baton-telemetry', telemetryView.id, 'up'],
    ]);
    telemetry.child.kill('SIGTERM');
    expect(await telemetry.exited).toBe(0);
  });
});
