import { Writable } from 'node:stream';

import type { INestApplication } from '@nestjs/common';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

import { type DeadLetterRecord, Durables, Streams, Subjects } from '@baton/contracts';
import { bootstrapService, loadConfig } from '@baton/service-kit';
import { createTestDatabase, getFreePort, startNatsServer, waitFor } from '@baton/testing';
import type { NatsServerHandle, TestDatabase } from '@baton/testing';
import { BATON_STREAMS, JetStreamPublisher, ensureStreams } from '@baton/transport-jetstream';

import { stateStoreEnvSchema } from '../src/config/state-store.config';
import { STATE_STORE_SERVICE } from '../src/state-store.descriptor';
import { StateStoreModule } from '../src/state-store.module';

/** Re-drive and discard through the HTTP API and NATS request-reply, on a real nats-server and database. */
describe('dead letters: redrive and discard (integration)', () => {
  let nats: NatsServerHandle;
  let db: TestDatabase;
  let app: INestApplication;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let publisher: JetStreamPublisher;
  let base: string;

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked by the assertions
  ): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return { status: res.status, body: await res.json() };
  };

  /** Stores `payload` in WORK (as a failed original) and its dead letter in BATON_DLQ, as the transport does. */
  const deadLetterOf = async (consumer: string, payload: unknown, extra: Partial<DeadLetterRecord> = {}) => {
    const data = JSON.stringify(payload);
    const ack = await publisher.publish('work.jobs', payload, { headers: { 'Job-Kind': 'import' } });
    const record: DeadLetterRecord = {
      stream: 'WORK',
      consumer,
      subject: 'work.jobs',
      streamSequence: ack.seq,
      deliveries: 5,
      errorCode: 'INTERNAL',
      error: 'handler threw (after 5 deliveries)',
      deadAt: new Date().toISOString(),
      data: Buffer.from(data).toString('base64'),
      headers: { 'Nats-Msg-Id': [`job-${ack.seq}`], 'Job-Kind': ['import'] },
      ...extra,
    };
    await publisher.publish(Subjects.deadLetter('WORK', consumer), record, {
      msgId: `dlq:WORK:${consumer}:${ack.seq}`,
    });
    const id = `WORK.${consumer}.${ack.seq}`;
    await waitFor(async () => (await call('GET', `/v1/dead-letters/${id}`)).status === 200, {
      what: `dead letter ${id} to be recorded`,
    });
    return id;
  };

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
    jsm = await jetstreamManager(nc);
    publisher = new JetStreamPublisher(nc);
    await ensureStreams(nc, [{ name: 'WORK', subjects: ['work.>'], retention: 'limits' }]);
  });

  afterAll(async () => {
    await app?.close();
    await nc?.close();
    await nats?.cleanup();
    await db?.drop();
  });

  it('re-drives: the original message and headers go back to the original subject once; a second redrive is a conflict', async () => {
    const id = await deadLetterOf('importer', { job: 1 });
    const before = (await jsm.streams.info('WORK')).state.last_seq;

    const redriven = await call('POST', `/v1/dead-letters/${id}/redrive`, { by: 'alice' });
    expect(redriven.status).toBe(200);
    expect(redriven.body).toMatchObject({
      id,
      status: 'REDRIVEN',
      resolvedBy: 'alice',
      resolvedAt: expect.any(String),
      redrive: { msgId: `redrive:${id}`, streamSequence: before + 1 },
    });
    const copy = await jsm.streams.getMessage('WORK', { seq: before + 1 });
    expect(copy?.subject).toBe('work.jobs');
    expect(copy?.json()).toEqual({ job: 1 });
    expect(copy?.header.get('Job-Kind')).toBe('import');
    expect(copy?.header.get('Nats-Msg-Id')).toBe(`redrive:${id}`);
    expect(copy?.header.get('Baton-Redrive-Of')).toBe(id);

    const again = await call('POST', `/v1/dead-letters/${id}/redrive`, {});
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('by alice'),
    });
    expect((await jsm.streams.info('WORK')).state.last_seq).toBe(before + 1);

    expect(
      (await call('GET', `/v1/dead-letters?status=REDRIVEN`)).body.items.map((d: { id: string }) => d.id),
    ).toEqual([id]);
  });

  it('a redrive repeated after the first publish (lost reply, crash before marking) stores the message once', async () => {
    const id = await deadLetterOf('importer', { job: 2 });
    // The first attempt got as far as publishing.
    const first = await publisher.publish('work.jobs', { job: 2 }, { msgId: `redrive:${id}` });
    const redriven = await call('POST', `/v1/dead-letters/${id}/redrive`, {});
    expect(redriven.status).toBe(200);
    expect(redriven.body).toMatchObject({
      status: 'REDRIVEN',
      resolvedBy: 'operator',
      reason: 'already re-published under the same message id',
      redrive: { streamSequence: first.seq },
    });
    expect((await jsm.streams.info('WORK')).state.last_seq).toBe(first.seq);
  });

  it('discards with a reason; a discarded one cannot be re-driven; bad input is named', async () => {
    const id = await deadLetterOf('importer', { job: 3 });
    const missingReason = await call('POST', `/v1/dead-letters/${id}/discard`, { by: 'bob' });
    expect(missingReason.status).toBe(422);
    expect(missingReason.body.error.details).toEqual([expect.objectContaining({ path: 'reason' })]);

    const discarded = await call('POST', `/v1/dead-letters/${id}/discard`, {
      by: 'bob',
      reason: 'obsolete job',
    });
    expect(discarded.status).toBe(200);
    expect(discarded.body).toMatchObject({ status: 'DISCARDED', resolvedBy: 'bob', reason: 'obsolete job' });
    expect((await call('POST', `/v1/dead-letters/${id}/redrive`, {})).status).toBe(409);
    expect((await call('POST', `/v1/dead-letters/${id}/discard`, { reason: 'again' })).status).toBe(409);

    expect((await call('GET', '/v1/dead-letters/WORK.importer.99999')).status).toBe(404);
    const badId = await call('POST', '/v1/dead-letters/not-an-id/redrive', {});
    expect(badId.status).toBe(400);
    expect(badId.body.error.details).toEqual([expect.objectContaining({ path: 'id' })]);
    const badStatus = await call('GET', '/v1/dead-letters?status=LOST');
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.error.details).toEqual([expect.objectContaining({ path: 'status' })]);
  });

  it('refuses to re-drive a dead letter whose payload copy was cut', async () => {
    const id = await deadLetterOf('importer', { job: 4 }, { truncated: true });
    const res = await call('POST', `/v1/dead-letters/${id}/redrive`, {});
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain('cut copy');
    expect((await call('GET', `/v1/dead-letters/${id}`)).body).toMatchObject({
      status: 'DEAD',
      truncated: true,
    });
  });

  it('filters by stream, durable and subject, keeps one dead letter per consumer, and pages', async () => {
    const a = await deadLetterOf('audit', { job: 5 });
    const seq = Number(a.split('.')[2]);
    // A second consumer of the same stream gave up on the same message.
    await publisher.publish(
      Subjects.deadLetter('WORK', 'mirror'),
      {
        stream: 'WORK',
        consumer: 'mirror',
        subject: 'work.jobs',
        streamSequence: seq,
        deliveries: 1,
        errorCode: 'VALIDATION_FAILED',
        error: 'bad',
        deadAt: new Date().toISOString(),
        data: Buffer.from('{}').toString('base64'),
        headers: {},
      } satisfies DeadLetterRecord,
      { msgId: `dlq:WORK:mirror:${seq}` },
    );
    await waitFor(async () => (await call('GET', `/v1/dead-letters/WORK.mirror.${seq}`)).status === 200, {
      what: "the second consumer's dead letter",
    });
    const byDurable = await call('GET', '/v1/dead-letters?durable=audit');
    expect(byDurable.body.items.map((d: { id: string }) => d.id)).toEqual([a]);
    const bySubject = await call(
      'GET',
      '/v1/dead-letters?stream=WORK&subject=work.jobs&includeResolved=true&limit=2',
    );
    expect(bySubject.body.items).toHaveLength(2);
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string }[]; nextCursor: string | null } } = await call(
        'GET',
        `/v1/dead-letters?stream=WORK&includeResolved=true&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
      );
      ids.push(...page.body.items.map((d) => d.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(new Set(ids).size).toBe(6);
    expect(ids).toEqual(expect.arrayContaining([a, `WORK.mirror.${seq}`]));
  });

  it('mirrors redrive and discard over NATS request-reply', async () => {
    const id = await deadLetterOf('nats', { job: 6 });
    const request = async (endpoint: string, body: unknown) => {
      const msg = await nc.request(`baton.api.state-store.${endpoint}`, JSON.stringify(body), {
        timeout: 5000,
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- reply bodies are checked by the assertions
      return { code: msg.headers?.get('Nats-Service-Error-Code'), body: msg.json<any>() };
    };
    expect((await request('dead-letters.get', { id })).body.status).toBe('DEAD');
    expect((await request('dead-letters.discard', { id })).code).toBe('422');
    expect((await request('dead-letters.discard', { id, reason: 'test', by: 'ci' })).body.status).toBe(
      'DISCARDED',
    );
    expect((await request('dead-letters.redrive', { id })).code).toBe('409');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/baton_dead_letters_recorded_total\{stream="WORK",consumer="importer"[^}]*\} 4/);
    expect(metrics).toMatch(/baton_dead_letters_settled_total\{status="REDRIVEN"[^}]*\} 2/);
    expect(metrics).toMatch(/baton_dead_letters_settled_total\{status="DISCARDED"[^}]*\} 2/);
    // The consumer that records dead letters has nothing left.
    const info = await jsm.consumers.info(Streams.DLQ, Durables.STATE_STORE_DLQ);
    expect(info.num_ack_pending).toBe(0);
  });
});
