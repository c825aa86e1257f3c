import { Writable } from 'node:stream';

import type { INestApplication } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

import { PROTOCOL_VERSION, Streams, Subjects } from '@baton/contracts';
import type { TimerCancelRequest, TimerSetRequest } from '@baton/contracts';
import { bootstrapService, loadConfig } from '@baton/service-kit';
import { createTestDatabase, getFreePort, startNatsServer, waitFor } from '@baton/testing';
import type { NatsServerHandle, TestDatabase } from '@baton/testing';

import { schedulerEnvSchema } from '../src/config/scheduler.config';
import { SCHEDULER_STREAMS, SchedulerModule } from '../src/scheduler.module';
import { SCHEDULER_SERVICE } from '../src/service.descriptor';

const silent = () => new Writable({ write: (_chunk, _enc, cb) => cb() });

interface Fired {
  subject: string;
  msgId: string;
  header: string | undefined;
  traceparent: string | undefined;
  data: unknown;
}

describe('orchestrator timer requests over BATON_SCHED (integration: own nats-server and database)', () => {
  let nats: NatsServerHandle;
  let db: TestDatabase;
  let nc: NatsConnection;
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase()]);
    nc = await connect({ servers: nats.url });
    const port = await getFreePort();
    app = await bootstrapService({
      service: { ...SCHEDULER_SERVICE },
      module: SchedulerModule,
      config: loadConfig(schedulerEnvSchema, {
        NATS_URL: nats.url,
        DATABASE_URL: db.url,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        BATON_TIMER_POLL_INTERVAL_MS: '200',
      }),
      streams: SCHEDULER_STREAMS,
      transport: true,
      shutdownHooks: false,
      host: '127.0.0.1',
      logDestination: silent(),
    });
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await app?.close();
    await nc?.close();
    await nats?.cleanup();
    await db?.drop();
  });

  async function timerStatus(id: string): Promise<string | undefined> {
    const res = await fetch(`${base}/v1/timers/${id}`);
    if (res.status !== 200) return undefined;
    return ((await res.json()) as { status: string }).status;
  }

  /** Messages stored on `baton.orch.timer.<executionId>` (BATON_ORCH is a work queue: taken and acked). */
  async function takeFired(executionId: string, expected: number): Promise<Fired[]> {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const ci = await jsm.consumers.add(Streams.ORCH, {
      filter_subject: Subjects.timer(executionId),
      deliver_policy: DeliverPolicy.All,
      ack_policy: AckPolicy.Explicit,
      inactive_threshold: 30_000_000_000,
    });
    const consumer = await js.consumers.get(Streams.ORCH, ci.name);
    const out: Fired[] = [];
    try {
      const info = await consumer.info();
      const available = info.num_pending;
      expect(available).toBe(expected);
      if (available > 0) {
        const batch = await consumer.fetch({ max_messages: available + 5, expires: 1_000 });
        for await (const m of batch) {
          out.push({
            subject: m.subject,
            msgId: m.headers?.get('Nats-Msg-Id') ?? '',
            header: m.headers?.get('X-Trace-Tag'),
            traceparent: m.headers?.get('traceparent'),
            data: m.json(),
          });
          m.ack();
        }
      }
    } finally {
      await consumer.delete();
    }
    return out;
  }

  it('creates a timer once for a repeated set request, fires it once on baton.orch.timer.<id> with its headers', async () => {
    const js = jetstream(nc);
    const request: TimerSetRequest = {
      protocol: PROTOCOL_VERSION,
      id: 'it-req-set',
      dueAt: new Date(Date.now() + 500).toISOString(),
      subject: Subjects.timer('exec-req-1'),
      payload: { kind: 'timer', executionId: 'exec-req-1', stepId: 's', attempt: 1, purpose: 'wait' },
      headers: {
        'X-Trace-Tag': 'abc',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
    };
    const body = JSON.stringify(request);
    // The outbox publish, a re-publish with the same msg id (deduped by JetStream), and a re-publish after the
    // duplicate window (modelled by a different msg id) that reaches the scheduler a second time.
    await js.publish(Subjects.schedTimerSet, body, { msgID: `timer-set:${request.id}` });
    await js.publish(Subjects.schedTimerSet, body, { msgID: `timer-set:${request.id}` });
    await js.publish(Subjects.schedTimerSet, body, { msgID: `timer-set:${request.id}:late` });

    await waitFor(async () => (await timerStatus(request.id)) === 'FIRED', { what: 'the timer to fire' });
    // Every request was taken (acked after its commit): nothing left on the work queue.
    await waitFor(
      async () => (await (await jetstreamManager(nc)).streams.info(Streams.SCHED)).state.messages === 0,
      { what: 'the requests to be acked' },
    );
    const fired = await takeFired('exec-req-1', 1);
    expect(fired).toEqual([
      {
        subject: 'baton.orch.timer.exec-req-1',
        msgId: 'timer:it-req-set',
        header: 'abc',
        traceparent: request.headers?.traceparent,
        data: request.payload,
      },
    ]);
  });

  it('keeps a fired timer fired when its set request comes again, and a cancelled one cancelled', async () => {
    const js = jetstream(nc);
    const again: TimerSetRequest = {
      protocol: PROTOCOL_VERSION,
      id: 'it-req-set',
      dueAt: new Date(Date.now() + 100).toISOString(),
      subject: Subjects.timer('exec-req-1'),
      payload: { other: true },
    };
    await js.publish(Subjects.schedTimerSet, JSON.stringify(again), { msgID: 'timer-set:it-req-set:again' });

    const toCancel: TimerSetRequest = {
      protocol: PROTOCOL_VERSION,
      id: 'it-req-cancel',
      dueAt: new Date(Date.now() + 1_500).toISOString(),
      subject: Subjects.timer('exec-req-2'),
      payload: { kind: 'timer' },
    };
    const cancel: TimerCancelRequest = { protocol: PROTOCOL_VERSION, id: toCancel.id };
    await js.publish(Subjects.schedTimerSet, JSON.stringify(toCancel), { msgID: `timer-set:${toCancel.id}` });
    await waitFor(async () => (await timerStatus(toCancel.id)) === 'PENDING', { what: 'the timer' });
    await js.publish(Subjects.schedTimerCancel, JSON.stringify(cancel), {
      msgID: `timer-cancel:${toCancel.id}`,
    });
    await waitFor(async () => (await timerStatus(toCancel.id)) === 'CANCELLED', { what: 'the cancel' });
    // The set request arriving again after the cancel creates nothing.
    await js.publish(Subjects.schedTimerSet, JSON.stringify(toCancel), {
      msgID: `timer-set:${toCancel.id}:late`,
    });
    await waitFor(
      async () => (await (await jetstreamManager(nc)).streams.info(Streams.SCHED)).state.messages === 0,
      { what: 'the requests to be acked' },
    );
    // Past the cancelled timer's due time: nothing fired for either.
    await waitFor(async () => Date.now() > Date.parse(toCancel.dueAt) + 500, { what: 'the due time' });
    expect(await timerStatus(toCancel.id)).toBe('CANCELLED');
    expect(await timerStatus('it-req-set')).toBe('FIRED');
    await takeFired('exec-req-2', 0);
    await takeFired('exec-req-1', 0);
  });
});
