import { Writable } from 'node:stream';

import type { INestApplication } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

import { type HistoryBatch, type HistoryEvent, Durables, Streams, Subjects } from '@baton/contracts';
import {
  AnalyticsOutcome,
  AnalyticsRepository,
  AnalyticsWriter,
  type DataSource,
  TELEMETRY_PERSISTENCE,
  bucketValue,
  createDataSource,
  durationBucket,
} from '@baton/persistence';
import { bootstrapService, loadConfig } from '@baton/service-kit';
import { createTestDatabase, getFreePort, startNatsServer, waitFor } from '@baton/testing';
import type { NatsServerHandle, TestDatabase } from '@baton/testing';
import { JetStreamPublisher } from '@baton/transport-jetstream';

import { telemetryEnvSchema } from '../src/config/telemetry.config';
import { TELEMETRY_SERVICE } from '../src/service.descriptor';
import { TELEMETRY_STREAMS, TelemetryModule } from '../src/telemetry.module';

/** Two minutes ago, at the start of a minute plus 5 s: inside every window. */
const T0 = Math.floor((Date.now() - 120_000) / 60_000) * 60_000 + 5_000;
const iso = (ms: number): string => new Date(T0 + ms).toISOString();
const p = (ms: number): number => bucketValue(durationBucket(ms));

/** One transition of execution `executionId` of workflow `workflowId`. */
function batch(
  executionId: string,
  revision: number,
  events: Omit<HistoryEvent, 'seq'>[],
  overrides: Partial<HistoryBatch> = {},
): HistoryBatch {
  return {
    protocol: 1,
    executionId,
    workflowId: 'orders',
    version: 1,
    revision,
    status: 'RUNNING',
    startedAt: iso(0),
    updatedAt: iso(revision),
    steps: {},
    events: events.map((e, i) => ({ seq: revision * 10 + i, ...e })),
    ...overrides,
  };
}

const started = (id: string): HistoryBatch => batch(id, 1, [{ type: 'ExecutionStarted', at: iso(0) }]);

function stepDone(
  id: string,
  revision: number,
  stepId: string,
  ms: number,
  attempt: number,
  failed = false,
): HistoryBatch {
  return batch(
    id,
    revision,
    [
      {
        type: failed ? 'StepFailed' : 'StepCompleted',
        at: iso(ms + 10),
        stepId,
        attempt,
        status: failed ? 'FAILED' : 'COMPLETED',
      },
    ],
    {
      steps: {
        [stepId]: {
          status: failed ? 'FAILED' : 'COMPLETED',
          attempt,
          startedAt: iso(10),
          finishedAt: iso(ms + 10),
        },
      },
    },
  );
}

function finished(id: string, revision: number, status: 'COMPLETED' | 'FAILED', ms: number): HistoryBatch {
  return batch(
    id,
    revision,
    [{ type: status === 'COMPLETED' ? 'ExecutionCompleted' : 'ExecutionFailed', at: iso(ms), status }],
    { status, finishedAt: iso(ms) },
  );
}

describe('telemetry analytics (integration: own nats-server and database)', () => {
  let nats: NatsServerHandle;
  let db: TestDatabase;
  let app: INestApplication | undefined;
  let nc: NatsConnection;
  let publisher: JetStreamPublisher;
  let base: string;
  let port: number;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked by the assertions
  const get = async (path: string): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${base}${path}`);
    return { status: res.status, body: await res.json() };
  };

  const drained = () =>
    waitFor(
      async () => {
        const jsm = await jetstreamManager(nc);
        const info = await jsm.consumers.info(Streams.HISTORY, Durables.TELEMETRY_HISTORY);
        return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq > 0;
      },
      { what: 'consumer telemetry-history to drain' },
    );

  const start = async (): Promise<void> => {
    const config = loadConfig(telemetryEnvSchema, {
      NATS_URL: nats.url,
      DATABASE_URL: db.url,
      PORT: String(port),
      LOG_LEVEL: 'warn',
    });
    app = await bootstrapService({
      service: TELEMETRY_SERVICE,
      module: TelemetryModule,
      config,
      transport: true,
      streams: TELEMETRY_STREAMS,
      shutdownHooks: false,
      host: '127.0.0.1',
      logDestination: new Writable({ write: (_chunk, _enc, cb) => cb() }),
    });
  };

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase()]);
    port = await getFreePort();
    base = `http://127.0.0.1:${port}`;
    await start();
    nc = await connect({ servers: nats.url });
    publisher = new JetStreamPublisher(nc);
  });

  afterAll(async () => {
    await app?.close();
    await nc?.close();
    await nats?.cleanup();
    await db?.drop();
  });

  const expectedOrders = {
    workflowId: 'orders',
    window: '5m',
    started: 3,
    completed: 1,
    failed: 1,
    compensated: 0,
    terminated: 0,
    finished: 2,
    successRate: 0.5,
    durationMs: { p50: p(1_000), p95: p(2_000), p99: p(2_000) },
  };
  const expectedSteps = [
    {
      stepId: 'charge',
      count: 2,
      completed: 1,
      failures: 1,
      successRate: 0.5,
      durationMs: { p50: p(50), p95: p(300), p99: p(300) },
      averageAttempts: 2.5,
    },
    {
      stepId: 'reserve',
      count: 2,
      completed: 2,
      failures: 0,
      successRate: 1,
      durationMs: { p50: p(100), p95: p(200), p99: p(200) },
      averageAttempts: 1,
    },
  ];

  it('is ready with its database', async () => {
    const ready = await waitFor(
      async () => {
        const r = await get('/health/ready');
        return r.status === 200 ? r : undefined;
      },
      { what: 'readiness' },
    );
    expect(Object.keys(ready.body.details as object)).toEqual(expect.arrayContaining(['database', 'nats']));
  });

  it('counts each batch once: duplicates and re-published older revisions change nothing', async () => {
    const sequence: HistoryBatch[] = [
      started('e1'),
      stepDone('e1', 2, 'reserve', 100, 1),
      stepDone('e1', 3, 'charge', 300, 2),
      finished('e1', 4, 'COMPLETED', 1_000),
      started('e2'),
      stepDone('e2', 2, 'reserve', 200, 1),
      stepDone('e2', 3, 'charge', 50, 3, true),
      finished('e2', 4, 'FAILED', 2_000),
      started('e3'),
      // Not counted: no start, step end or execution end.
      batch('e3', 2, [{ type: 'TaskDispatched', at: iso(5), stepId: 'reserve' }]),
      // Finished two hours ago: in the 24 h window only.
      batch('old-1', 1, [{ type: 'ExecutionCompleted', at: iso(-7_200_000), status: 'COMPLETED' }], {
        workflowId: 'nightly',
        status: 'COMPLETED',
        startedAt: iso(-7_260_000),
        finishedAt: iso(-7_200_000),
      }),
    ];
    for (const b of sequence) {
      await publisher.publish(Subjects.history(b.executionId), b, {
        msgId: `history:${b.executionId}:${b.revision}`,
      });
    }
    // Duplicates stored again by JetStream (no msgId), and older revisions after the newest.
    for (const b of [sequence[1], sequence[3], sequence[7], sequence[0], sequence[6], sequence[4]]) {
      await publisher.publish(Subjects.history(b.executionId), b);
    }
    await drained();

    const list = await get('/v1/analytics/workflows?window=5m');
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ items: [{ ...expectedOrders, from: expect.any(String) }] });

    const one = await get('/v1/analytics/workflows/orders?window=5m');
    expect(one.body).toEqual({ ...expectedOrders, from: list.body.items[0].from });

    const steps = await get('/v1/analytics/workflows/orders/steps?window=5m');
    expect(steps.status).toBe(200);
    expect(steps.body).toEqual({ workflowId: 'orders', window: '5m', items: expectedSteps });

    const day = await get('/v1/analytics/workflows?window=24h');
    expect(day.body.items.map((w: { workflowId: string }) => w.workflowId)).toEqual(['nightly', 'orders']);
    expect(day.body.items[0]).toMatchObject({
      started: 0,
      completed: 1,
      finished: 1,
      successRate: 1,
      durationMs: { p50: p(60_000), p95: p(60_000), p99: p(60_000) },
    });
    // The default window is 1 h.
    const hour = await get('/v1/analytics/workflows');
    expect(
      hour.body.items.map((w: { window: string; workflowId: string }) => [w.workflowId, w.window]),
    ).toEqual([['orders', '1h']]);
    const nightlyNow = await get('/v1/analytics/workflows/nightly?window=5m');
    expect(nightlyNow.body).toMatchObject({
      started: 0,
      finished: 0,
      successRate: null,
      durationMs: { p50: null },
    });
  });

  it('answers JSON errors for an unknown workflow and bad parameters', async () => {
    const unknown = await get('/v1/analytics/workflows/nope/steps');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({
      code: 'NOT_FOUND',
      message: "no analytics for workflow 'nope'",
    });
    const bad = await get('/v1/analytics/workflows?window=2h&x=1');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([
      { path: 'x', message: 'is not a known parameter', rule: 'unknown' },
      { path: 'window', message: 'must be one of 5m, 1h, 24h', rule: 'isIn' },
    ]);
    expect((await get('/v1/analytics/workflows/Bad_Id')).status).toBe(400);
  });

  it('mirrors the routes over NATS request-reply', async () => {
    const request = async (name: string, body: unknown): Promise<unknown> =>
      (await nc.request(`baton.api.telemetry.${name}`, JSON.stringify(body), { timeout: 5_000 })).json();
    expect(await request('analytics.workflow', { id: 'orders', window: '5m' })).toEqual({
      ...expectedOrders,
      from: expect.any(String),
    });
    expect(await request('analytics.steps', { id: 'orders', window: '5m' })).toEqual({
      workflowId: 'orders',
      window: '5m',
      items: expectedSteps,
    });
    expect(await request('analytics.workflows', { window: '24h' })).toMatchObject({
      items: [{ workflowId: 'nightly' }, { workflowId: 'orders' }],
    });
    const missing = await nc.request(
      'baton.api.telemetry.analytics.workflow',
      JSON.stringify({ id: 'nope' }),
    );
    expect(missing.headers?.get('Nats-Service-Error-Code')).toBe('404');
  });

  it('counts nothing twice when every batch is redelivered after a restart', async () => {
    await app?.close();
    app = undefined;
    // A new consumer redelivers the whole stream, duplicates included.
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.delete(Streams.HISTORY, Durables.TELEMETRY_HISTORY);
    await start();
    await drained();
    const one = await get('/v1/analytics/workflows/orders?window=5m');
    expect(one.body).toEqual({ ...expectedOrders, from: expect.any(String) });
    const steps = await get('/v1/analytics/workflows/orders/steps?window=5m');
    expect(steps.body.items).toEqual(expectedSteps);
  });

  describe('analytics writer on the same database', () => {
    let ds: DataSource;

    beforeAll(async () => {
      ds = createDataSource(db.url, { ...TELEMETRY_PERSISTENCE, poolSize: 6 });
      await ds.initialize();
    });

    afterAll(async () => {
      if (ds?.isInitialized) await ds.destroy();
    });

    it('matches the entities (no schema difference to generate)', async () => {
      const diff = await ds.driver.createSchemaBuilder().log();
      expect(diff.upQueries.map((q) => q.query)).toEqual([]);
    });

    it('deletes minute rows and dedupe records older than the retention, and nothing newer', async () => {
      const repository = new AnalyticsRepository(ds);
      const old = new Date(T0 - 30 * 3_600_000);
      await ds.query(
        `INSERT INTO telemetry_minute_stats (workflow_id, step_id, minute, completed) VALUES ('ancient', '', $1, 1)`,
        [old],
      );
      await ds.query(
        `INSERT INTO telemetry_minute_durations (workflow_id, step_id, minute, bucket, count) VALUES ('ancient', '', $1, 3, 1)`,
        [old],
      );
      await ds.query(
        `INSERT INTO telemetry_processed_batches (execution_id, revision, processed_at) VALUES ('ancient-1', 1, $1)`,
        [old],
      );
      const count = async (table: string): Promise<number> =>
        Number((await ds.query<{ n: string }[]>(`SELECT count(*) AS n FROM ${table}`))[0].n);
      const before = await Promise.all(
        ['telemetry_minute_stats', 'telemetry_minute_durations', 'telemetry_processed_batches'].map(count),
      );
      expect(await repository.prune(new Date(T0 - 26 * 3_600_000))).toEqual({ minutes: 2, batches: 1 });
      const after = await Promise.all(
        ['telemetry_minute_stats', 'telemetry_minute_durations', 'telemetry_processed_batches'].map(count),
      );
      expect(after).toEqual([before[0] - 1, before[1] - 1, before[2] - 1]);
      expect(await repository.getWorkflow('ancient', '24h')).toBeNull();
    });

    it('records a batch and adds its counts all or nothing, and counts only newly recorded batches', async () => {
      const rows = async (workflowId: string) => ({
        batches: Number(
          (
            await ds.query<{ n: string }[]>(
              `SELECT count(*) AS n FROM telemetry_processed_batches WHERE execution_id LIKE $1`,
              [`${workflowId}-%`],
            )
          )[0].n,
        ),
        stats: await ds.query<{ step_id: string; completed: number; started: number }[]>(
          `SELECT step_id, completed, started FROM telemetry_minute_stats WHERE workflow_id = $1 ORDER BY step_id`,
          [workflowId],
        ),
        durations: Number(
          (
            await ds.query<{ n: string }[]>(
              `SELECT coalesce(sum(count), 0) AS n FROM telemetry_minute_durations WHERE workflow_id = $1`,
              [workflowId],
            )
          )[0].n,
        ),
      });
      const of = (workflowId: string, b: HistoryBatch): HistoryBatch => ({
        ...b,
        executionId: `${workflowId}-${b.executionId}`,
        workflowId,
      });
      // The durations part of the group's statement fails, after its dedupe record part was inserted.
      await ds.query(
        `ALTER TABLE telemetry_minute_durations ADD CONSTRAINT test_reject CHECK (workflow_id <> 'atomic')`,
      );
      const writer = new AnalyticsWriter(ds, { maxGroupSize: 10, maxDelayMs: 50 });
      try {
        await expect(writer.write(of('atomic', finished('e1', 2, 'COMPLETED', 300)))).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
          retryable: false,
        });
        expect(await rows('atomic')).toEqual({ batches: 0, stats: [], durations: 0 });
      } finally {
        await ds.query(`ALTER TABLE telemetry_minute_durations DROP CONSTRAINT test_reject`);
      }
      // Not recorded, so counted now; then in one group with a new batch: only the new one counts.
      expect(await writer.write(of('atomic', finished('e1', 2, 'COMPLETED', 300)))).toBe(
        AnalyticsOutcome.COUNTED,
      );
      expect(
        await Promise.all([
          writer.write(of('atomic', finished('e1', 2, 'COMPLETED', 300))),
          writer.write(of('atomic', started('e2'))),
          writer.write(of('atomic', finished('e2', 2, 'FAILED', 300))),
          writer.write(of('atomic', started('e2'))),
        ]),
      ).toEqual([
        AnalyticsOutcome.DUPLICATE,
        AnalyticsOutcome.COUNTED,
        AnalyticsOutcome.COUNTED,
        AnalyticsOutcome.DUPLICATE,
      ]);
      await writer.close();
      const after = await rows('atomic');
      expect(after.batches).toBe(3);
      expect(after.stats).toEqual([expect.objectContaining({ step_id: '', completed: 1, started: 1 })]);
      expect(after.durations).toBe(2);
    });

    it('counts a batch once when copies race in concurrent groups', async () => {
      const writer = new AnalyticsWriter(ds, { maxGroupSize: 1, maxConcurrentGroups: 4, maxDelayMs: 0 });
      const copies = Array.from({ length: 12 }, () => writer.write(finished('race-1', 7, 'COMPLETED', 400)));
      const outcomes = await Promise.all(copies);
      expect(outcomes.filter((o) => o === AnalyticsOutcome.COUNTED)).toHaveLength(1);
      expect(outcomes.filter((o) => o === AnalyticsOutcome.DUPLICATE)).toHaveLength(11);
      // Same batch twice inside one group.
      const grouped = new AnalyticsWriter(ds, { maxGroupSize: 10, maxDelayMs: 50 });
      const b = finished('race-2', 3, 'COMPLETED', 800);
      expect(await Promise.all([grouped.write(b), grouped.write(b)])).toEqual([
        AnalyticsOutcome.COUNTED,
        AnalyticsOutcome.DUPLICATE,
      ]);
      await Promise.all([writer.close(), grouped.close()]);
      const one = await get('/v1/analytics/workflows/orders?window=5m');
      expect(one.body).toMatchObject({ completed: 3, finished: 4 });
    });
  });
});
