import { Writable } from 'node:stream';

import type { INestApplication } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

import { type DeadLetterRecord, type HistoryBatch, Durables, Streams, Subjects } from '@baton/contracts';
import { bootstrapService, loadConfig } from '@baton/service-kit';
import { createTestDatabase, getFreePort, startNatsServer, waitFor } from '@baton/testing';
import type { NatsServerHandle, TestDatabase } from '@baton/testing';
import { BATON_STREAMS, JetStreamPublisher } from '@baton/transport-jetstream';

import { stateStoreEnvSchema } from '../src/config/state-store.config';
import { STATE_STORE_SERVICE } from '../src/state-store.descriptor';
import { StateStoreModule } from '../src/state-store.module';

const T0 = Date.UTC(2026, 5, 1);
const iso = (s: number): string => new Date(T0 + s * 1000).toISOString();

function batch(
  executionId: string,
  revision: number,
  seqs: number[],
  overrides: Partial<HistoryBatch> = {},
): HistoryBatch {
  return {
    protocol: 1,
    executionId,
    workflowId: 'order-fulfillment',
    version: 3,
    revision,
    status: 'RUNNING',
    startedAt: iso(0),
    updatedAt: iso(revision),
    input: { orderId: executionId },
    steps: { reserve: { status: revision >= 2 ? 'COMPLETED' : 'RUNNING', attempt: 1 } },
    events: seqs.map((seq) => ({
      seq,
      type: seq === 1 ? 'ExecutionStarted' : 'StepCompleted',
      at: iso(seq),
      ...(seq === 1 ? {} : { stepId: 'reserve', attempt: 1, status: 'COMPLETED' as const }),
    })),
    ...overrides,
  };
}

describe('state-store (integration: own nats-server and database)', () => {
  let nats: NatsServerHandle;
  let db: TestDatabase;
  let app: INestApplication;
  let nc: NatsConnection;
  let publisher: JetStreamPublisher;
  let base: string;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked by the assertions
  const get = async (path: string): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${base}${path}`);
    const text = await res.text();
    return {
      status: res.status,
      body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
    };
  };

  /** Resolves when the consumer has nothing pending or unacknowledged. */
  const drained = (durable: string, stream: string) =>
    waitFor(
      async () => {
        const jsm = await jetstreamManager(nc);
        const info = await jsm.consumers.info(stream, durable);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { what: `consumer ${durable} to drain` },
    );

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase()]);
    const port = await getFreePort();
    const config = loadConfig(stateStoreEnvSchema, {
      NATS_URL: nats.url,
      DATABASE_URL: db.url,
      PORT: String(port),
      LOG_LEVEL: 'warn',
    });
    app = await bootstrapService({
      service: { ...STATE_STORE_SERVICE },
      module: StateStoreModule,
      config,
      transport: true,
      streams: [BATON_STREAMS.HISTORY, BATON_STREAMS.DLQ],
      shutdownHooks: false,
      host: '127.0.0.1',
      logDestination: new Writable({ write: (_chunk, _enc, cb) => cb() }),
    });
    base = `http://127.0.0.1:${port}`;
    nc = await connect({ servers: nats.url });
    publisher = new JetStreamPublisher(nc);
  });

  afterAll(async () => {
    await app?.close();
    await nc?.close();
    await nats?.cleanup();
    await db?.drop();
  });

  it('is ready: NATS, topology and database', async () => {
    const ready = await waitFor(
      async () => {
        const r = await get('/health/ready');
        return r.status === 200 ? r : undefined;
      },
      { what: 'readiness' },
    );
    expect(JSON.stringify(ready.body)).toContain('database');
  });

  it('applies history batches idempotently: duplicates and a late older revision change nothing', async () => {
    const id = 'exec-1';
    await publisher.publish(Subjects.history(id), batch(id, 1, [1]), { msgId: `history:${id}:1` });
    await publisher.publish(Subjects.history(id), batch(id, 2, [2, 3]), { msgId: `history:${id}:2` });
    // A duplicate re-published without a msgId: JetStream stores it again, the state-store must not.
    await publisher.publish(Subjects.history(id), batch(id, 2, [2, 3]));
    const final = batch(id, 3, [4], {
      status: 'COMPLETED',
      finishedAt: iso(4),
      output: { shipped: true },
    });
    await publisher.publish(Subjects.history(id), final, { msgId: `history:${id}:3` });
    // Older revisions arriving after the newest one.
    await publisher.publish(Subjects.history(id), batch(id, 1, [1]));
    await publisher.publish(Subjects.history(id), batch(id, 2, [2, 3], { status: 'WAITING' }));
    await drained(Durables.STATE_STORE_HISTORY, Streams.HISTORY);

    const exec = await get(`/v1/executions/${id}`);
    expect(exec.status).toBe(200);
    expect(exec.body).toEqual({
      executionId: id,
      workflowId: 'order-fulfillment',
      version: 3,
      status: 'COMPLETED',
      revision: 3,
      startedAt: iso(0),
      updatedAt: iso(3),
      finishedAt: iso(4),
      input: { orderId: id },
      output: { shipped: true },
      steps: { reserve: { status: 'COMPLETED', attempt: 1 } },
    });

    const history = await get(`/v1/executions/${id}/history`);
    expect(history.status).toBe(200);
    expect(history.body.items.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(history.body.items[1]).toEqual({
      seq: 2,
      type: 'StepCompleted',
      at: iso(2),
      stepId: 'reserve',
      attempt: 1,
      status: 'COMPLETED',
    });
    expect(history.body.nextAfterSeq).toBeNull();

    const paged = await get(`/v1/executions/${id}/history?afterSeq=1&limit=2`);
    expect(paged.body).toMatchObject({ nextAfterSeq: 3 });
    expect(paged.body.items.map((e: { seq: number }) => e.seq)).toEqual([2, 3]);
  });

  it('lists executions with filters and cursor pagination', async () => {
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        publisher.publish(
          Subjects.history(`list-${i}`),
          batch(`list-${i}`, 1, [1], { workflowId: 'listing', startedAt: iso(100 + i) }),
        ),
      ),
    );
    await drained(Durables.STATE_STORE_HISTORY, Streams.HISTORY);
    const first = await get('/v1/executions?workflowId=listing&limit=3');
    expect(first.status).toBe(200);
    expect(first.body.items.map((e: { executionId: string }) => e.executionId)).toEqual([
      'list-4',
      'list-3',
      'list-2',
    ]);
    expect(first.body.items[0]).not.toHaveProperty('steps');
    const second = await get(`/v1/executions?workflowId=listing&limit=3&cursor=${first.body.nextCursor}`);
    expect(second.body).toEqual({ items: expect.any(Array), nextCursor: null });
    expect(second.body.items.map((e: { executionId: string }) => e.executionId)).toEqual([
      'list-1',
      'list-0',
    ]);

    const completed = await get('/v1/executions?status=COMPLETED');
    expect(completed.body.items.map((e: { executionId: string }) => e.executionId)).toEqual(['exec-1']);
    const window = await get(`/v1/executions?workflowId=listing&from=${iso(101)}&to=${iso(103)}`);
    expect(window.body.items.map((e: { executionId: string }) => e.executionId)).toEqual([
      'list-2',
      'list-1',
    ]);
  });

  it('answers errors as JSON: 404 for an unknown execution, 400 naming a bad parameter', async () => {
    const missing = await get('/v1/executions/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: 'NOT_FOUND', message: "execution 'nope' not found" } });
    expect((await get('/v1/executions/nope/history')).status).toBe(404);

    const badCursor = await get('/v1/executions?cursor=garbage!');
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error).toMatchObject({
      code: 'BAD_REQUEST',
      details: [expect.objectContaining({ path: 'cursor' })],
    });
    expect(badCursor.body.error.message).toContain('cursor');

    const badLimit = await get('/v1/executions?limit=1000');
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.details).toEqual([expect.objectContaining({ path: 'limit' })]);

    const unknown = await get('/v1/executions?workflow=x');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain("'workflow'");

    const badSeq = await get('/v1/executions/exec-1/history?afterSeq=-2');
    expect(badSeq.status).toBe(400);
    expect(badSeq.body.error.details).toEqual([expect.objectContaining({ path: 'afterSeq' })]);
  });

  it('records dead letters: published to BATON_DLQ, and a history batch that can never be written', async () => {
    const record: DeadLetterRecord = {
      stream: Streams.TASKS,
      consumer: 'task_inventory_reserve',
      subject: 'baton.tasks.inventory.reserve',
      streamSequence: 17,
      deliveries: 5,
      errorCode: 'TASK_FAILED',
      error: 'worker crashed',
      deadAt: iso(200),
      data: Buffer.from('{"x":1}').toString('base64'),
      headers: { 'Baton-Execution-Id': ['exec-9'] },
    };
    await publisher.publish(Subjects.deadLetter(Streams.TASKS, 'task_inventory_reserve'), record, {
      msgId: 'dlq:BATON_TASKS:17',
    });
    // Not a valid batch (no workflowId): the history consumer dead-letters it at once.
    const invalid = { protocol: 1, executionId: 'bad-1', revision: 1, events: [] };
    const { seq } = await publisher.publish(Subjects.history('bad-1'), invalid);

    // Not a dead letter record: terminated where it is (it stays in BATON_DLQ), nothing recorded.
    await publisher.publish(Subjects.deadLetter(Streams.TASKS, 'task_other'), { nope: true });
    await drained(Durables.STATE_STORE_DLQ, Streams.DLQ);

    const list = await waitFor(
      async () => {
        const r = await get('/v1/dead-letters');
        return r.body.items?.length === 2 ? r.body : undefined;
      },
      { what: 'two dead letters' },
    );
    const byStream = Object.fromEntries(list.items.map((d: DeadLetterRecord) => [d.stream, d]));
    expect(byStream[Streams.TASKS]).toEqual({
      ...record,
      id: `${Streams.TASKS}.task_inventory_reserve.17`,
      status: 'DEAD',
    });
    expect(byStream[Streams.HISTORY]).toMatchObject({
      consumer: Durables.STATE_STORE_HISTORY,
      subject: Subjects.history('bad-1'),
      streamSequence: seq,
      errorCode: 'VALIDATION_FAILED',
    });
    expect(JSON.parse(Buffer.from(byStream[Streams.HISTORY].data, 'base64').toString())).toEqual(invalid);

    const filtered = await get(`/v1/dead-letters?consumer=${Durables.STATE_STORE_HISTORY}`);
    expect(filtered.body.items).toHaveLength(1);

    const resolved = await fetch(`${base}/v1/dead-letters/${Streams.TASKS}/17/resolve`, { method: 'POST' });
    expect(resolved.status).toBe(200);
    expect((await get('/v1/dead-letters')).body.items.map((d: DeadLetterRecord) => d.stream)).toEqual([
      Streams.HISTORY,
    ]);
    expect((await get('/v1/dead-letters?includeResolved=true')).body.items).toHaveLength(2);
    expect(
      (await fetch(`${base}/v1/dead-letters/${Streams.TASKS}/999/resolve`, { method: 'POST' })).status,
    ).toBe(404);
  });

  it('mirrors the queries over NATS request-reply', async () => {
    const request = async (endpoint: string, body: unknown) => {
      const msg = await nc.request(`baton.api.state-store.${endpoint}`, JSON.stringify(body), {
        timeout: 5000,
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- reply bodies are checked by the assertions
      return { code: msg.headers?.get('Nats-Service-Error-Code'), body: msg.json<any>() };
    };
    expect((await request('executions.get', { id: 'exec-1' })).body).toMatchObject({
      executionId: 'exec-1',
      revision: 3,
    });
    expect((await request('executions.list', { workflowId: 'listing', limit: 2 })).body.items).toHaveLength(
      2,
    );
    expect((await request('executions.history', { id: 'exec-1', afterSeq: 3 })).body).toEqual({
      items: [expect.objectContaining({ seq: 4 })],
      nextAfterSeq: null,
    });
    expect((await request('dead-letters.list', { includeResolved: true })).body.items).toHaveLength(2);
    const missing = await request('executions.get', { id: 'nope' });
    expect(missing.code).toBe('404');
    expect(missing.body.error.code).toBe('NOT_FOUND');
    const bad = await request('executions.list', { limit: 0 });
    expect(bad.code).toBe('400');
    expect(bad.body.error.details).toEqual([expect.objectContaining({ path: 'limit' })]);
  });

  it('documents its routes and their query parameters in OpenAPI', async () => {
    const doc = (await get('/docs-json')).body as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
    };
    const params = (path: string, method = 'get') =>
      (doc.paths[path]?.[method]?.parameters ?? []).map((p) => `${p.in}:${p.name}`).sort();
    expect(params('/v1/executions')).toEqual(
      ['query:cursor', 'query:from', 'query:limit', 'query:status', 'query:to', 'query:workflowId'].sort(),
    );
    expect(params('/v1/executions/{id}')).toEqual(['path:id']);
    expect(params('/v1/executions/{id}/history')).toEqual(['path:id', 'query:afterSeq', 'query:limit']);
    expect(params('/v1/dead-letters')).toEqual(
      [
        'query:consumer',
        'query:cursor',
        'query:durable',
        'query:includeResolved',
        'query:limit',
        'query:status',
        'query:stream',
        'query:subject',
      ].sort(),
    );
    expect(params('/v1/dead-letters/{stream}/{sequence}/resolve', 'post')).toEqual([
      'path:sequence',
      'path:stream',
    ]);
  });

  it('exports its metrics', async () => {
    const metrics = await get('/metrics');
    expect(metrics.body).toMatch(/baton_history_batches_total\{[^}]*outcome="written"[^}]*\} \d+/);
    expect(metrics.body).toMatch(/baton_history_batches_total\{[^}]*outcome="rejected"[^}]*\} 1/);
    expect(metrics.body).toContain('baton_history_write_seconds_bucket');
    expect(metrics.body).toContain('baton_history_group_size_bucket');
  });
});
