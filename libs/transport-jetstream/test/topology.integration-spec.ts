import { jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/nats-core';

import { ErrorCode, Streams } from '@baton/contracts';
import { type NatsServerHandle, startNatsServer } from '@baton/testing';

import { connectNats } from '../src/connection';
import { BATON_STREAMS, checkTopology, ensureConsumer, ensureStreams } from '../src/topology';

let nats: NatsServerHandle;
const connections: NatsConnection[] = [];

async function client(name = 'topology-test'): Promise<NatsConnection> {
  const nc = await connectNats({ servers: nats.url, name });
  connections.push(nc);
  return nc;
}

beforeEach(async () => {
  nats = await startNatsServer();
});

afterEach(async () => {
  await Promise.all(connections.splice(0).map((nc) => nc.close()));
  await nats.cleanup();
});

const allStreams = Object.values(BATON_STREAMS);

describe('topology', () => {
  it('creates the Baton streams, and running it again changes nothing', async () => {
    const nc = await client();
    await ensureStreams(nc, allStreams);
    const jsm = await jetstreamManager(nc);
    const first = await Promise.all(allStreams.map((s) => jsm.streams.info(s.name)));
    await ensureStreams(nc, allStreams);
    const second = await Promise.all(allStreams.map((s) => jsm.streams.info(s.name)));
    expect(second.map((i) => i.created)).toEqual(first.map((i) => i.created));
    expect(second.map((i) => i.config)).toEqual(first.map((i) => i.config));

    const events = first[0]?.config;
    expect(events).toMatchObject({
      name: 'EVENTS',
      subjects: ['events.>'],
      retention: 'limits',
      storage: 'file',
      max_age: nanos(7 * 24 * 3600 * 1000),
      duplicate_window: nanos(120_000),
    });
    const tasks = first[1]?.config;
    expect(tasks).toMatchObject({ name: 'BATON_TASKS', retention: 'workqueue', storage: 'file', max_age: 0 });
    expect(first[5]?.config).toMatchObject({ name: 'BATON_DLQ', max_age: nanos(30 * 24 * 3600 * 1000) });
  });

  it('survives several services declaring the same topology at once', async () => {
    const ncs = await Promise.all([1, 2, 3, 4].map((i) => client(`svc-${i}`)));
    await Promise.all(ncs.map((nc) => ensureStreams(nc, allStreams)));
    const spec = {
      stream: Streams.ORCH,
      durable: 'orchestrator',
      filterSubject: 'baton.orch.>',
      ackWaitMs: 10_000,
    };
    await Promise.all(ncs.map((nc) => ensureConsumer(nc, spec)));
    const [first] = ncs;
    if (first === undefined) throw new Error('no connection');
    const jsm = await jetstreamManager(first);
    const names: string[] = [];
    for await (const s of jsm.streams.list()) names.push(s.config.name);
    expect(names.sort()).toEqual(allStreams.map((s) => s.name).sort());
    const consumers: string[] = [];
    for await (const c of jsm.consumers.list(Streams.ORCH)) consumers.push(c.name);
    expect(consumers).toEqual(['orchestrator']);
  });

  it('updates the mutable configuration of an existing stream and consumer', async () => {
    const nc = await client();
    const jsm = await jetstreamManager(nc);
    await ensureStreams(nc, [BATON_STREAMS.EVENTS]);
    await ensureStreams(nc, [{ ...BATON_STREAMS.EVENTS, maxAgeMs: 3600_000, duplicateWindowMs: 30_000 }]);
    const info = await jsm.streams.info('EVENTS');
    expect(info.config.max_age).toBe(nanos(3600_000));
    expect(info.config.duplicate_window).toBe(nanos(30_000));

    const spec = {
      stream: 'EVENTS',
      durable: 'triggers',
      filterSubject: 'events.>',
      ackWaitMs: 5_000,
      maxDeliver: 4,
    };
    await ensureConsumer(nc, spec);
    await ensureConsumer(nc, { ...spec, ackWaitMs: 7_000, maxAckPending: 50 });
    const ci = await jsm.consumers.info('EVENTS', 'triggers');
    expect(ci.config).toMatchObject({
      ack_wait: nanos(7_000),
      max_deliver: 4,
      max_ack_pending: 50,
      ack_policy: 'explicit',
    });
  });

  it('refuses to change the retention of an existing stream', async () => {
    const nc = await client();
    await ensureStreams(nc, [{ name: 'WQ', subjects: ['wq.>'], retention: 'limits' }]);
    await expect(
      ensureStreams(nc, [{ name: 'WQ', subjects: ['wq.>'], retention: 'workqueue' }]),
    ).rejects.toMatchObject({
      code: ErrorCode.CONFLICT,
    });
  });

  it('reports missing streams and consumers for readiness', async () => {
    const nc = await client();
    const req = {
      streams: [Streams.ORCH, Streams.DLQ],
      consumers: [
        { stream: Streams.ORCH, durable: 'orchestrator' },
        { stream: Streams.DLQ, durable: 'state-store-dlq' },
      ],
    };
    expect(await checkTopology(nc, req)).toEqual({
      ok: false,
      missing: [
        'stream BATON_ORCH',
        'stream BATON_DLQ',
        'consumer BATON_ORCH/orchestrator',
        'consumer BATON_DLQ/state-store-dlq',
      ],
    });
    await ensureStreams(nc, [BATON_STREAMS.ORCH, BATON_STREAMS.DLQ]);
    await ensureConsumer(nc, {
      stream: Streams.ORCH,
      durable: 'orchestrator',
      filterSubject: 'baton.orch.>',
    });
    expect(await checkTopology(nc, req)).toEqual({
      ok: false,
      missing: ['consumer BATON_DLQ/state-store-dlq'],
    });
    await ensureConsumer(nc, { stream: Streams.DLQ, durable: 'state-store-dlq' });
    expect(await checkTopology(nc, req)).toEqual({ ok: true, missing: [] });
  });
});
