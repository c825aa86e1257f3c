import { Writable } from 'node:stream';

import type { INestApplication } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

import { Streams, timerMsgId } from '@baton/contracts';
import {
  type DataSource,
  SCHEDULER_PERSISTENCE,
  TimerRepository,
  createDataSource,
  runMigrations,
} from '@baton/persistence';
import { bootstrapService, loadConfig } from '@baton/service-kit';
import { createTestDatabase, getFreePort, httpJson, startNatsServer, waitFor } from '@baton/testing';
import type { NatsServerHandle, TestDatabase } from '@baton/testing';
import { BATON_STREAMS, JetStreamPublisher, ensureStreams } from '@baton/transport-jetstream';
import { Worker } from '@baton/worker';

import { schedulerEnvSchema } from '../src/config/scheduler.config';
import { SCHEDULER_STREAMS, SchedulerModule } from '../src/scheduler.module';
import { SCHEDULER_SERVICE } from '../src/service.descriptor';
import { systemClock } from '../src/due-loop';
import { TimerFiring } from '../src/timers/timer.firing';

interface Instance {
  app: INestApplication;
  base: string;
}

const silent = () => new Writable({ write: (_chunk, _enc, cb) => cb() });

describe('scheduler timers, workers and queues (integration: own nats-server and database)', () => {
  let nats: NatsServerHandle;
  let db: TestDatabase;
  let nc: NatsConnection;
  let ds: DataSource;
  const instances: Instance[] = [];

  async function startInstance(): Promise<Instance> {
    const port = await getFreePort();
    const config = loadConfig(schedulerEnvSchema, {
      NATS_URL: nats.url,
      DATABASE_URL: db.url,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      BATON_TIMER_POLL_INTERVAL_MS: '200',
    });
    const app = await bootstrapService({
      service: { ...SCHEDULER_SERVICE },
      module: SchedulerModule,
      config,
      streams: SCHEDULER_STREAMS,
      shutdownHooks: false,
      host: '127.0.0.1',
      logDestination: silent(),
    });
    const instance = { app, base: `http://127.0.0.1:${port}` };
    instances.push(instance);
    return instance;
  }

  async function stopInstance(instance: Instance): Promise<void> {
    await instance.app.close();
    instances.splice(instances.indexOf(instance), 1);
  }

  const http = httpJson;

  /** Every message stored in EVENTS under `prefix.>`: its msgId, subject, payload, in stream order. */
  async function storedEvents(prefix: string): Promise<{ msgId: string; subject: string; data: unknown }[]> {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(Streams.EVENTS, { subjects_filter: `${prefix}.>` });
    const expected = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    if (expected === 0) return [];
    const ci = await jsm.consumers.add(Streams.EVENTS, {
      filter_subject: `${prefix}.>`,
      deliver_policy: DeliverPolicy.All,
      ack_policy: AckPolicy.None,
      inactive_threshold: 30_000_000_000,
    });
    const consumer = await js.consumers.get(Streams.EVENTS, ci.name);
    const out: { msgId: string; subject: string; data: unknown }[] = [];
    const messages = await consumer.consume();
    for await (const m of messages) {
      out.push({ msgId: m.headers?.get('Nats-Msg-Id') ?? '', subject: m.subject, data: m.json() });
      if (out.length >= expected) break;
    }
    await messages.close();
    await consumer.delete();
    return out;
  }

  async function storedCount(prefix: string): Promise<number> {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(Streams.EVENTS, { subjects_filter: `${prefix}.>` });
    return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  }

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase()]);
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    for (const i of [...instances]) await stopInstance(i);
    if (ds?.isInitialized) await ds.destroy();
    await nc?.close();
    await nats?.cleanup();
    await db?.drop();
  });

  it('creates, reads and cancels timers; rejects bad subjects naming them; 404 and 409 where due', async () => {
    const { base } = await startInstance();
    const created = await http(base, 'POST', '/v1/timers', {
      delaySeconds: 3600,
      subject: 'events.it.crud.reminder',
      payload: { orderId: 'o-1' },
    });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body as object).sort()).toEqual(['dueAt', 'id']);
    const id = (created.body as { id: string }).id;

    const got = await http(base, 'GET', `/v1/timers/${id}`);
    expect(got).toEqual({
      status: 200,
      body: expect.objectContaining({
        id,
        subject: 'events.it.crud.reminder',
        payload: { orderId: 'o-1' },
        status: 'PENDING',
        dueAt: (created.body as { dueAt: string }).dueAt,
        firedAt: null,
      }),
    });

    const cancelled = await http(base, 'DELETE', `/v1/timers/${id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id, status: 'CANCELLED' });
    expect((await http(base, 'DELETE', `/v1/timers/${id}`)).status).toBe(200);
    expect((await http(base, 'GET', '/v1/timers/nope')).status).toBe(404);
    expect((await http(base, 'DELETE', '/v1/timers/nope')).status).toBe(404);

    const bad = await http(base, 'POST', '/v1/timers', { delaySeconds: 1, subject: 'baton.tasks.x.y' });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    expect(bad.body.error.details).toEqual([expect.objectContaining({ path: '/subject' })]);

    // Fired: cancelling is a conflict.
    const now = await http(base, 'POST', '/v1/timers', {
      id: 'it-crud-now',
      delaySeconds: 0,
      subject: 'events.it.crud.now',
      payload: 1,
    });
    expect(now.status).toBe(201);
    await waitFor(async () => (await http(base, 'GET', '/v1/timers/it-crud-now')).body.status === 'FIRED', {
      what: 'the timer to fire',
    });
    const conflict = await http(base, 'DELETE', '/v1/timers/it-crud-now');
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('CONFLICT');
    expect(await storedEvents('events.it.crud')).toEqual([
      { msgId: timerMsgId('it-crud-now'), subject: 'events.it.crud.now', data: 1 },
    ]);
  });

  it('is idempotent by id: a repeated create returns the stored timer and fires once', async () => {
    const { base } = instances[0];
    const first = await http(base, 'POST', '/v1/timers', {
      id: 'it-idem',
      delaySeconds: 0.3,
      subject: 'events.it.idem.x',
      payload: { n: 1 },
    });
    const again = await http(base, 'POST', '/v1/timers', {
      id: 'it-idem',
      delaySeconds: 100,
      subject: 'events.it.idem.x',
      payload: { n: 2 },
    });
    expect(first.status).toBe(201);
    expect(again).toEqual(first);
    await waitFor(async () => (await storedCount('events.it.idem')) === 1, { what: 'the timer to fire' });
    // The message is stored before the firing transaction commits: wait for the commit too.
    await waitFor(async () => (await http(base, 'GET', '/v1/timers/it-idem')).body.status === 'FIRED', {
      what: 'the timer marked fired',
    });
    expect((await http(base, 'GET', '/v1/timers/it-idem')).body).toMatchObject({
      status: 'FIRED',
      payload: { n: 1 },
    });
    expect(await storedEvents('events.it.idem')).toEqual([
      { msgId: 'timer:it-idem', subject: 'events.it.idem.x', data: { n: 1 } },
    ]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^baton_timers_fired_total\{[^}]*\} [1-9]/m);
    expect(metrics).toMatch(/^baton_timer_fire_lag_seconds_count\{[^}]*\} [1-9]/m);
    const docs = (await (await fetch(`${base}/docs-json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(docs.paths)).toEqual(
      expect.arrayContaining(['/v1/timers', '/v1/timers/{id}', '/v1/workers', '/v1/queues']),
    );
  });

  it('mirrors the timer operations over NATS request-reply', async () => {
    const reply = async (name: string, body: unknown) => {
      const msg = await nc.request(`baton.api.scheduler.${name}`, JSON.stringify(body), { timeout: 5_000 });
      return {
        code: msg.headers?.get('Nats-Service-Error-Code') ?? '',
        body: msg.json<Record<string, unknown>>(),
      };
    };
    const created = await reply('timers.create', {
      id: 'it-nats',
      delaySeconds: 3600,
      subject: 'baton.orch.start.wf-1',
    });
    expect(created).toEqual({ code: '', body: { id: 'it-nats', dueAt: expect.any(String) } });
    expect((await reply('timers.get', { id: 'it-nats' })).body).toMatchObject({ status: 'PENDING' });
    expect((await reply('timers.cancel', { id: 'it-nats' })).body).toMatchObject({ status: 'CANCELLED' });
    expect((await reply('timers.get', { id: 'missing' })).code).toBe('404');
    const bad = await reply('timers.create', { delaySeconds: 1, subject: 'other.x' });
    expect(bad.code).toBe('422');
    expect(JSON.stringify(bad.body)).toContain('/subject');
  });

  it('after downtime (and a crash between publish and commit) fires overdue timers at once, in due order, once', async () => {
    await stopInstance(instances[0]);
    ds = createDataSource(db.url, { ...SCHEDULER_PERSISTENCE, poolSize: 2 });
    await ds.initialize();
    await runMigrations(ds);
    const repo = new TimerRepository(ds);
    const base = Date.now() - 60_000;
    // Inserted out of order while no scheduler runs.
    for (const i of [3, 0, 4, 1, 2]) {
      await repo.create({
        id: `it-down-${i}`,
        dueAt: new Date(base + i * 1_000),
        subject: `events.it.down.t${i}`,
        payload: { i },
        headers: {},
        createdAt: new Date(),
      });
    }
    // An instance that published a timer and died before marking it fired.
    await repo.create({
      id: 'it-crash',
      dueAt: new Date(base - 1_000),
      subject: 'events.it.crash.x',
      payload: { crash: true },
      headers: {},
      createdAt: new Date(),
    });
    const publisher = new JetStreamPublisher(nc);
    const crashing = new TimerFiring(
      { claimDue: (now, _limit, fire) => repo.claimDue(now, 1, fire), nextDueAt: () => repo.nextDueAt() },
      async (t) => {
        await publisher.publish(t.subject, t.payload, { msgId: timerMsgId(t.id) });
        throw new Error('crashed before commit');
      },
      systemClock,
      { batchSize: 1, pollIntervalMs: 1_000 },
    );
    await expect(crashing.fireDue()).rejects.toThrow('crashed before commit');
    expect((await repo.get('it-crash'))?.firedAt).toBeNull();
    expect(await storedCount('events.it.crash')).toBe(1);

    await startInstance();
    await waitFor(async () => (await storedCount('events.it.down')) === 5, {
      what: 'overdue timers to fire',
    });
    const stored = await storedEvents('events.it.down');
    expect(stored.map((m) => m.msgId)).toEqual([0, 1, 2, 3, 4].map((i) => `timer:it-down-${i}`));
    // Re-fired after the crash with the same msgId: still one stored message.
    await waitFor(async () => (await repo.get('it-crash'))?.firedAt != null, {
      what: 'it-crash to be fired',
    });
    expect(await storedEvents('events.it.crash')).toEqual([
      { msgId: 'timer:it-crash', subject: 'events.it.crash.x', data: { crash: true } },
    ]);
  });

  it('two instances fire 1,000 timers with none lost and none doubled', async () => {
    const a = instances[0];
    const b = await startInstance();
    const count = 1_000;
    const dueAt = Date.now() + 1_500;
    const ids = Array.from({ length: count }, (_, i) => `it-pair-${i}`);
    for (let i = 0; i < count; i += 50) {
      await Promise.all(
        ids.slice(i, i + 50).map((id, j) =>
          http((i + j) % 2 === 0 ? a.base : b.base, 'POST', '/v1/timers', {
            id,
            at: new Date(dueAt + ((i + j) % 200)).toISOString(),
            subject: `events.it.pair.t${(i + j) % 10}`,
            payload: { id },
          }).then((r) => expect(r.status).toBe(201)),
        ),
      );
    }
    await waitFor(async () => (await storedCount('events.it.pair')) >= count, {
      what: 'every timer to fire',
      timeoutMs: 60_000,
    });
    const stored = await storedEvents('events.it.pair');
    const perId = new Map<string, number>();
    for (const m of stored) perId.set(m.msgId, (perId.get(m.msgId) ?? 0) + 1);
    expect(stored).toHaveLength(count);
    expect([...perId.values()].every((n) => n === 1)).toBe(true);
    expect([...perId.keys()].sort()).toEqual(ids.map(timerMsgId).sort());
    const [{ fired }] = await ds.query<{ fired: string }[]>(
      `SELECT count(*) AS fired FROM timers WHERE id LIKE 'it-pair-%' AND fired_at IS NOT NULL`,
    );
    expect(Number(fired)).toBe(count);
  });

  it('lists workers from their heartbeats and task queues from BATON_TASKS', async () => {
    const { base } = instances[0];
    await ensureStreams(nc, [BATON_STREAMS.TASKS]);
    expect((await http(base, 'GET', '/v1/workers')).body).toEqual({ items: [] });
    const quiet = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    };
    const worker = await Worker.connect({
      servers: nats.url,
      name: 'it-worker',
      concurrency: 3,
      logger: quiet,
    });
    worker.handle('it.echo', (input) => Promise.resolve(input));
    await worker.start();
    try {
      const workers = await waitFor(
        async () => {
          const r = await http(base, 'GET', '/v1/workers');
          return (r.body as { items: unknown[] }).items.length > 0 ? r.body : undefined;
        },
        { what: 'the worker to be listed' },
      );
      expect(workers).toEqual({
        items: [
          {
            workerId: worker.workerId,
            name: 'it-worker',
            actions: ['it.echo'],
            concurrency: 3,
            version: expect.any(String),
            lastSeenAt: expect.any(String),
            status: 'live',
          },
        ],
      });
      // A task nobody takes yet, on another action's queue.
      const jsm = await jetstreamManager(nc);
      await jsm.consumers.add(Streams.TASKS, {
        durable_name: 'task_it_idle',
        filter_subject: 'baton.tasks.it.idle',
        ack_policy: AckPolicy.Explicit,
      });
      await jetstream(nc).publish('baton.tasks.it.idle', '{}');
      const queues = await http(base, 'GET', '/v1/queues');
      expect(queues.status).toBe(200);
      expect(queues.body).toEqual({
        items: [
          {
            action: 'it.echo',
            durable: 'task_it_echo',
            pending: 0,
            inFlight: 0,
            redelivered: 0,
            consumers: 1,
            waiting: expect.any(Number),
          },
          {
            action: 'it.idle',
            durable: 'task_it_idle',
            pending: 1,
            inFlight: 0,
            redelivered: 0,
            consumers: 0,
            waiting: 0,
          },
        ],
      });
      const viaNats = await nc.request('baton.api.scheduler.workers.list', '', { timeout: 5_000 });
      expect(viaNats.json<{ items: { workerId: string }[] }>().items.map((w) => w.workerId)).toEqual([
        worker.workerId,
      ]);
    } finally {
      await worker.close();
    }
    // The goodbye removes it.
    await waitFor(async () => (await http(base, 'GET', '/v1/workers')).body.items.length === 0, {
      what: 'the worker to say goodbye',
    });
  });
});
