import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

import {
  buildServiceForTest,
  createTestDatabase,
  getFreePort,
  startNatsServer,
  startServiceProcess,
  stopServiceProcesses,
  waitFor,
  waitForServiceReady,
} from '@baton/testing';
import type { NatsServerHandle, ServiceBuild, TestDatabase } from '@baton/testing';

interface AlertView {
  name: string;
  key: string;
  state: string;
  value: number;
  labels: Record<string, string>;
}
interface AlertList {
  active: AlertView[];
  recent: AlertView[];
  rules: { name: string }[];
  evaluatedAt: string | null;
}

/**
 * Alert rules on a real nats-server and PostgreSQL: a consumer-lag rule fires when a durable consumer of
 * the EVENTS stream falls behind, is published on baton.alerts.<rule> (BATON_ALERTS) and shown at
 * GET /v1/alerts, and resolves once the consumer caught up.
 */
describe('telemetry alerts (integration)', () => {
  let build: ServiceBuild;
  let nats: NatsServerHandle;
  let db: TestDatabase;
  let nc: NatsConnection;

  beforeAll(async () => {
    build = await buildServiceForTest('apps/telemetry', [
      'apps/state-store',
      'libs/persistence',
      'libs/service-kit',
      'libs/telemetry',
      'libs/contracts',
      'libs/transport-jetstream',
    ]);
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase()]);
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await nc?.close();
    await stopServiceProcesses();
    await nats?.cleanup();
    await db?.drop();
    await build?.remove();
  });

  it('stops at start with one line naming a bad rule', async () => {
    const proc = startServiceProcess({
      main: build.main,
      env: {
        NATS_URL: nats.url,
        DATABASE_URL: db.url,
        BATON_ALERT_RULES: JSON.stringify([{ name: 'lag', kind: 'consumer-lag', maxPending: -1 }]),
      },
    });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toMatch(/^invalid configuration: BATON_ALERT_RULES \/0\/maxPending: .+\n$/);
  });

  it('fires a consumer-lag alert, publishes it and resolves it when the consumer catches up', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'EVENTS', subjects: ['events.>'] });
    await jsm.consumers.add('EVENTS', {
      durable_name: 'alert-probe',
      ack_policy: AckPolicy.Explicit,
      filter_subject: 'events.alerts.>',
    });
    const js = jetstream(nc);
    for (let i = 0; i < 5; i++) await js.publish(`events.alerts.e${i}`, '{}');

    const port = await getFreePort();
    const base = `http://127.0.0.1:${port}`;
    const rules = [{ name: 'probe-lag', kind: 'consumer-lag', durable: 'alert-probe', maxPending: 3 }];
    const proc = startServiceProcess({
      main: build.main,
      env: {
        PORT: String(port),
        NATS_URL: nats.url,
        DATABASE_URL: db.url,
        LOG_LEVEL: 'warn',
        BATON_ALERT_RULES: JSON.stringify(rules),
        BATON_ALERT_INTERVAL_MS: '200',
      },
    });
    await waitForServiceReady(proc, base, 'the telemetry to be ready');
    const alerts = () => fetch(`${base}/v1/alerts`).then((r) => r.json() as Promise<AlertList>);

    const firing = await waitFor(async () => ((await alerts()).active.length > 0 ? alerts() : undefined), {
      what: 'the lag alert to fire',
    });
    expect(firing.rules.map((r) => r.name)).toEqual(['probe-lag']);
    expect(firing.active).toEqual([
      expect.objectContaining({
        name: 'probe-lag',
        key: 'consumer:EVENTS/alert-probe',
        state: 'firing',
        value: 5,
        labels: { stream: 'EVENTS', durable: 'alert-probe' },
      }),
    ]);

    // The consumer catches up.
    const consumer = await js.consumers.get('EVENTS', 'alert-probe');
    const batch = await consumer.fetch({ max_messages: 5, expires: 2000 });
    for await (const m of batch) await m.ackAck();

    const resolved = await waitFor(
      async () => {
        const list = await alerts();
        return list.active.length === 0 && list.recent.length > 0 ? list : undefined;
      },
      { what: 'the lag alert to resolve' },
    );
    expect(resolved.recent).toEqual([
      expect.objectContaining({ name: 'probe-lag', state: 'resolved', value: 0 }),
    ]);

    // Both transitions are in BATON_ALERTS on baton.alerts.probe-lag, once each.
    const stream = await jsm.streams.info('BATON_ALERTS');
    expect(stream.state.messages).toBe(2);
    const first = await jsm.streams.getMessage('BATON_ALERTS', { seq: 1 });
    const second = await jsm.streams.getMessage('BATON_ALERTS', { seq: 2 });
    expect(first?.subject).toBe('baton.alerts.probe-lag');
    expect(first?.json<AlertView>()).toMatchObject({ state: 'firing', value: 5 });
    expect(second?.json<AlertView>()).toMatchObject({
      state: 'resolved',
      key: 'consumer:EVENTS/alert-probe',
    });

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /^baton_alert_transitions_total\{[^}]*rule="probe-lag"[^}]*state="firing"[^}]*\} 1$/m,
    );
    expect(metrics).toMatch(/^baton_alerts_firing\{[^}]*rule="probe-lag"[^}]*\} 0$/m);

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });
});
