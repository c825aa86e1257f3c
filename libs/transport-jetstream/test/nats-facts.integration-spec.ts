/**
 * Facts about JetStream that Baton's design depends on, checked against the nats-server that runs the
 * tests (docs/adr cite this file). If one of these fails after a server upgrade, revisit the ADRs.
 */
import {
  AckPolicy,
  type Consumer,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

import { type NatsServerHandle, startNatsServer, waitFor } from '@baton/testing';

let nats: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;
let js: JetStreamClient;

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
  jsm = await jetstreamManager(nc);
  js = jetstream(nc);
  // Printed on purpose: the facts below hold for this server version.
  console.log(`nats-facts: checked against nats-server ${nc.info?.version ?? 'unknown'}`);
});

afterAll(async () => {
  await nc?.close();
  await nats?.cleanup();
});

async function stream(
  name: string,
  opts: { workqueue?: boolean; duplicateWindowMs?: number } = {},
): Promise<void> {
  await jsm.streams.add({
    name,
    subjects: [`${name.toLowerCase()}.>`],
    retention: opts.workqueue ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: StorageType.File,
    ...(opts.duplicateWindowMs === undefined ? {} : { duplicate_window: nanos(opts.duplicateWindowMs) }),
  });
}

async function consumer(streamName: string, durable: string, ackWaitMs: number): Promise<Consumer> {
  await jsm.consumers.add(streamName, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ackWaitMs),
    max_deliver: -1,
  });
  return js.consumers.get(streamName, durable);
}

async function nextMessage(c: Consumer, expiresMs = 10_000): Promise<JsMsg> {
  const m = await c.next({ expires: expiresMs });
  if (m === null) throw new Error('no message delivered');
  return m;
}

describe(`JetStream facts Baton relies on`, () => {
  it('(1) accepts an ack for a delivery whose ack wait expired and which was redelivered: stale completions must be fenced by application state', async () => {
    await stream('FACTS_STALE');
    const c = await consumer('FACTS_STALE', 'stale', 1_000);
    const pub = await js.publish('facts_stale.one', 'payload');

    const first = await nextMessage(c);
    expect(first.info.deliveryCount).toBe(1);
    // Not acked within ack wait: the server redelivers the same stream message.
    const second = await nextMessage(c);
    expect(second.info.deliveryCount).toBe(2);
    expect(second.seq).toBe(pub.seq);

    // The first (stale) delivery's ack is still accepted and settles the message.
    await expect(first.ackAck()).resolves.toBe(true);
    const info = await waitFor(
      async () => {
        const i = await c.info();
        return i.num_ack_pending === 0 && i.ack_floor.stream_seq === pub.seq ? i : undefined;
      },
      { what: 'the stale ack to settle the message' },
    );
    expect(info.num_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
    // Nothing is delivered again.
    expect(await c.next({ expires: 1_500 })).toBeNull();
  });

  it('(2) drops a re-publish with the same Nats-Msg-Id inside the duplicate window and reports it; stores it again after the window', async () => {
    await stream('FACTS_DUP', { duplicateWindowMs: 1_000 });
    const a = await js.publish('facts_dup.x', 'one', { msgID: 'same-id' });
    const b = await js.publish('facts_dup.x', 'two', { msgID: 'same-id' });
    expect(a.duplicate).toBe(false);
    expect(b.duplicate).toBe(true);
    expect(b.seq).toBe(a.seq);
    expect((await jsm.streams.info('FACTS_DUP')).state.messages).toBe(1);

    // Once the window has passed, the same id is a new message.
    const later = await waitFor(
      async () => {
        const ack = await js.publish('facts_dup.x', 'three', { msgID: 'same-id' });
        return ack.duplicate ? undefined : ack;
      },
      { intervalMs: 200, what: 'the duplicate window to pass' },
    );
    expect(later.seq).toBeGreaterThan(a.seq);
    expect((await jsm.streams.info('FACTS_DUP')).state.messages).toBe(2);
  });

  it('(3) redelivers a message nak-ed with a delay only after the delay, with the delivery count incremented', async () => {
    await stream('FACTS_NAK');
    const c = await consumer('FACTS_NAK', 'nak', 30_000);
    const pub = await js.publish('facts_nak.one', 'payload');
    const first = await nextMessage(c);
    expect(first.info.deliveryCount).toBe(1);

    const delayMs = 1_500;
    const nakAt = Date.now();
    first.nak(delayMs);
    const again = await nextMessage(c, 15_000);
    const waited = Date.now() - nakAt;
    expect(again.seq).toBe(pub.seq);
    expect(again.info.deliveryCount).toBe(2);
    // A lower bound only (the server must not redeliver early); no upper bound is asserted.
    expect(waited).toBeGreaterThanOrEqual(delayMs - 100);
    again.ack();
  });

  it('(4) removes a message from a work-queue stream once it is acked', async () => {
    await stream('FACTS_WQ', { workqueue: true });
    const c = await consumer('FACTS_WQ', 'wq', 30_000);
    await js.publish('facts_wq.one', 'payload');
    const m = await nextMessage(c);
    expect((await jsm.streams.info('FACTS_WQ')).state.messages).toBe(1);
    await m.ackAck();
    const info = await waitFor(
      async () => {
        const i = await jsm.streams.info('FACTS_WQ');
        return i.state.messages === 0 ? i : undefined;
      },
      { what: 'the acked message to leave the work queue' },
    );
    expect(info.state.messages).toBe(0);
  });

  it('(5) settles a message for good with a plain term (+TERM); 2.9 servers ignore a term that carries a reason', async () => {
    await stream('FACTS_TERM');
    const c = await consumer('FACTS_TERM', 'term', 1_000);
    const pub = await js.publish('facts_term.one', 'payload');
    const m = await nextMessage(c);
    m.term();
    const info = await waitFor(
      async () => {
        const i = await c.info();
        return i.num_ack_pending === 0 && i.ack_floor.stream_seq === pub.seq ? i : undefined;
      },
      { what: 'the term to settle the message' },
    );
    expect(info.num_pending).toBe(0);
    expect(await c.next({ expires: 2_000 })).toBeNull();

    // Baton only sends `+TERM <reason>` from TERM_REASON_MIN_VERSION on; record what this server does with it.
    const pub2 = await js.publish('facts_term.two', 'payload');
    const m2 = await nextMessage(c);
    m2.term('with a reason');
    const redelivered = await c.next({ expires: 3_000 });
    const version = nc.info?.version ?? '';
    console.log(
      `nats-facts: nats-server ${version} ${redelivered === null ? 'honours' : 'ignores'} a term with a reason`,
    );
    if (/^v?2\.9\./.test(version)) {
      expect(redelivered?.seq).toBe(pub2.seq);
    }
    if (redelivered !== null) redelivered.term();
  });
});
