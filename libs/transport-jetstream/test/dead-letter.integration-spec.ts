/**
 * Poison messages against a real nats-server: a message whose handler always throws never blocks the
 * consumer, ends in BATON_DLQ after maxDeliver deliveries, and two consumers of one stream keep one dead
 * letter each.
 */
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

import { type DeadLetterRecord, ErrorCode, BatonError, Headers } from '@baton/contracts';
import { type NatsServerHandle, startNatsServer, waitFor } from '@baton/testing';

import { connectNats } from '../src/connection';
import { resolveConsumerOptions } from '../src/consumer-options';
import { ConsumerRunner } from '../src/consumer-runner';
import { JetStreamPublisher } from '../src/jetstream.publisher';
import { MessageProcessor, type MessageOutcome, type ProcessHandler } from '../src/message-processor';
import { BATON_STREAMS, ensureStreams } from '../src/topology';

let nats: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;
let publisher: JetStreamPublisher;
const runners: ConsumerRunner[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connectNats({ servers: nats.url, name: 'dead-letter-test' });
  jsm = await jetstreamManager(nc);
  publisher = new JetStreamPublisher(nc);
  await ensureStreams(nc, [
    { name: 'POISON', subjects: ['poison.>'], retention: 'limits' },
    BATON_STREAMS.DLQ,
  ]);
});

afterAll(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop(Date.now())));
  await nc?.close();
  await nats?.cleanup();
});

async function consume(
  durable: string,
  concurrency: number,
  handler: ProcessHandler,
): Promise<MessageOutcome[]> {
  const options = resolveConsumerOptions({
    stream: 'POISON',
    durable,
    filterSubject: 'poison.>',
    concurrency,
    maxDeliver: 3,
    backoffMs: () => 300,
  });
  const outcomes: MessageOutcome[] = [];
  const processor = new MessageProcessor(options, handler, {
    publisher,
    onOutcome: (o) => outcomes.push(o),
    serverVersion: () => nc.info?.version,
  });
  const runner = new ConsumerRunner(nc, options, processor);
  await runner.start();
  runners.push(runner);
  return outcomes;
}

async function deadLetter(durable: string): Promise<DeadLetterRecord | undefined> {
  const subject = `baton.dlq.POISON.${durable}`;
  const info = await jsm.streams.info('BATON_DLQ', { subjects_filter: subject });
  if ((info.state.subjects?.[subject] ?? 0) === 0) return undefined;
  const m = await jsm.streams.getMessage('BATON_DLQ', { last_by_subj: subject });
  return m?.json<DeadLetterRecord>();
}

describe('poison messages', () => {
  it('never block a consumer: later messages flow, the poison one is dead-lettered after maxDeliver', async () => {
    const handled: number[] = [];
    const handler: ProcessHandler = async (data) => {
      const { n } = data as { n: number };
      if (n === 0) throw new BatonError(ErrorCode.INTERNAL, 'poison pill');
      handled.push(n);
    };
    // Both consumers see every message; `single` holds one message at a time.
    const single = await consume('single', 1, handler);
    const wide = await consume('wide', 8, handler);
    await publisher.publish('poison.a', { n: 0 }, { msgId: 'p-0', headers: { 'User-Header': 'kept' } });
    for (let n = 1; n <= 10; n++) await publisher.publish('poison.a', { n }, { msgId: `p-${n}` });

    const poisonOf = (o: MessageOutcome[]) => o.filter((x) => x.errorCode !== undefined);
    await waitFor(
      async () => (await deadLetter('single')) !== undefined && (await deadLetter('wide')) !== undefined,
      {
        what: 'both consumers to dead-letter the poison message',
      },
    );
    for (const outcomes of [single, wide]) {
      await waitFor(() => outcomes.filter((o) => o.outcome === 'ack').length === 10, {
        what: 'every other message to be acked',
      });
      expect(poisonOf(outcomes).map((o) => [o.outcome, o.deliveryCount])).toEqual([
        ['nak', 1],
        ['nak', 2],
        ['dead', 3],
      ]);
      // The later messages went through while the poison one waited for its redeliveries.
      const dead = outcomes.findIndex((o) => o.outcome === 'dead');
      expect(outcomes.slice(0, dead).filter((o) => o.outcome === 'ack').length).toBeGreaterThan(0);
    }
    expect(handled.sort((a, b) => a - b)).toEqual(
      Array.from({ length: 10 }, (_, i) => [i + 1, i + 1]).flat(),
    );

    for (const durable of ['single', 'wide']) {
      const record = await deadLetter(durable);
      expect(record).toMatchObject({
        stream: 'POISON',
        consumer: durable,
        subject: 'poison.a',
        streamSequence: 1,
        deliveries: 3,
        errorCode: 'INTERNAL',
        error: 'poison pill (after 3 deliveries)',
      });
      expect(record?.headers['User-Header']).toEqual(['kept']);
      expect(record?.headers[Headers.MSG_ID]).toEqual(['p-0']);
      expect(JSON.parse(Buffer.from(record?.data ?? '', 'base64').toString())).toEqual({ n: 0 });
    }
    // Nothing is left pending on either consumer.
    for (const durable of ['single', 'wide']) {
      const info = await jsm.consumers.info('POISON', durable);
      expect([info.num_pending, info.num_ack_pending]).toEqual([0, 0]);
    }
  });
});
