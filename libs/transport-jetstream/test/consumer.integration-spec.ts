/**
 * The consumer semantics (pull loop + outcome mapping) against a real nats-server, without Nest.
 * jetstream.server.integration-spec.ts checks the same machinery behind the Nest transport.
 */
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

import { BatonError, type DeadLetterRecord, ErrorCode, Headers } from '@baton/contracts';
import { type NatsServerHandle, startNatsServer, waitFor } from '@baton/testing';

import { connectNats } from '../src/connection';
import { type ConsumerOptions, resolveConsumerOptions } from '../src/consumer-options';
import { ConsumerRunner } from '../src/consumer-runner';
import type { JetStreamContext } from '../src/jetstream.context';
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
  nc = await connectNats({ servers: nats.url, name: 'consumer-test' });
  jsm = await jetstreamManager(nc);
  publisher = new JetStreamPublisher(nc, { maxAttempts: 10, retryDelayMs: 200 });
  await ensureStreams(nc, [
    { name: 'WORK', subjects: ['work.>'], retention: 'workqueue' },
    BATON_STREAMS.DLQ,
  ]);
});

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop(Date.now())));
});

afterAll(async () => {
  await nc?.close();
  await nats?.cleanup();
});

/** A handler that fails retryably on the first two deliveries, recording every delivery's count. */
function succeedsOnThirdDelivery(deliveries: number[]): ProcessHandler {
  return async (_data, ctx) => {
    deliveries.push(ctx.deliveryCount);
    if (ctx.deliveryCount < 3) throw new BatonError(ErrorCode.UNAVAILABLE, 'not yet');
  };
}

async function consume(
  opts: Omit<ConsumerOptions, 'stream'> & { stream?: string },
  handler: ProcessHandler,
): Promise<{ runner: ConsumerRunner; outcomes: MessageOutcome[] }> {
  const options = resolveConsumerOptions({ stream: 'WORK', backoffMs: () => 50, ...opts });
  const outcomes: MessageOutcome[] = [];
  const processor = new MessageProcessor(options, handler, {
    publisher,
    onOutcome: (o) => outcomes.push(o),
    maxPayloadBytes: () => nc.info?.max_payload ?? 1024 * 1024,
    serverVersion: () => nc.info?.version,
  });
  const runner = new ConsumerRunner(nc, options, processor);
  await runner.start();
  runners.push(runner);
  return { runner, outcomes };
}

async function waitingIn(subject: string): Promise<number> {
  const info = await jsm.streams.info('WORK', { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

async function deadLetters(durable: string): Promise<number> {
  const subject = `baton.dlq.WORK.${durable}`;
  const info = await jsm.streams.info('BATON_DLQ', { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

async function lastDeadLetter(
  durable: string,
): Promise<{ record: DeadLetterRecord; header: (k: string) => string }> {
  const m = await jsm.streams.getMessage('BATON_DLQ', { last_by_subj: `baton.dlq.WORK.${durable}` });
  if (m === null) throw new Error(`no dead letter for ${durable}`);
  return { record: m.json<DeadLetterRecord>(), header: (k) => m.header.get(k) };
}

class Gate {
  private release: () => void = () => undefined;
  readonly opened = new Promise<void>((resolve) => (this.release = resolve));
  open(): void {
    this.release();
  }
}

describe('JetStream consumer semantics', () => {
  it('acks only after the handler made its effect durable', async () => {
    const gate = new Gate();
    const effects: unknown[] = [];
    const { outcomes } = await consume({ durable: 'ack', filterSubject: 'work.ack' }, async (data) => {
      await gate.opened;
      effects.push(data);
    });
    await publisher.publish('work.ack', { id: 1 });
    await waitFor(async () => (await jsm.consumers.info('WORK', 'ack')).num_ack_pending === 1, {
      what: 'the message to be delivered',
    });
    expect(await waitingIn('work.ack')).toBe(1);
    expect(effects).toEqual([]);

    gate.open();
    await waitFor(async () => (await waitingIn('work.ack')) === 0, { what: 'the ack to remove the message' });
    expect(effects).toEqual([{ id: 1 }]);
    expect(outcomes.map((o) => o.outcome)).toEqual(['ack']);
  });

  it('naks retryable failures and succeeds on a redelivery', async () => {
    const deliveries: number[] = [];
    const { outcomes } = await consume(
      { durable: 'retry', filterSubject: 'work.retry' },
      succeedsOnThirdDelivery(deliveries),
    );
    await publisher.publish('work.retry', { id: 2 });
    await waitFor(() => outcomes.some((o) => o.outcome === 'ack'), { what: 'the third delivery to succeed' });
    expect(deliveries).toEqual([1, 2, 3]);
    expect(outcomes.map((o) => [o.outcome, o.deliveryCount, o.errorCode])).toEqual([
      ['nak', 1, 'UNAVAILABLE'],
      ['nak', 2, 'UNAVAILABLE'],
      ['ack', 3, undefined],
    ]);
    expect(await waitingIn('work.retry')).toBe(0);
  });

  it('dead-letters after maxDeliver failed deliveries, keeping the record and headers in BATON_DLQ', async () => {
    let calls = 0;
    const { outcomes } = await consume(
      { durable: 'exhaust', filterSubject: 'work.exhaust', maxDeliver: 3 },
      async () => {
        calls++;
        throw new Error('always failing');
      },
    );
    const pub = await publisher.publish(
      'work.exhaust',
      { id: 3 },
      {
        msgId: 'exhaust-1',
        headers: { [Headers.EXECUTION_ID]: 'exec-3' },
      },
    );
    await waitFor(() => outcomes.some((o) => o.outcome === 'dead'), { what: 'the dead letter' });
    expect(calls).toBe(3);
    expect(outcomes.map((o) => o.outcome)).toEqual(['nak', 'nak', 'dead']);
    expect(await deadLetters('exhaust')).toBe(1);

    const { record, header } = await lastDeadLetter('exhaust');
    expect(record).toMatchObject({
      stream: 'WORK',
      consumer: 'exhaust',
      subject: 'work.exhaust',
      streamSequence: pub.seq,
      deliveries: 3,
      errorCode: ErrorCode.INTERNAL,
    });
    expect(record.error).toMatch(/always failing/);
    expect(JSON.parse(Buffer.from(record.data, 'base64').toString())).toEqual({ id: 3 });
    expect(record.headers[Headers.MSG_ID]).toEqual(['exhaust-1']);
    expect(header(Headers.EXECUTION_ID)).toBe('exec-3');
    expect(header(Headers.DLQ_STREAM)).toBe('WORK');
    expect(header(Headers.DLQ_CONSUMER)).toBe('exhaust');
    expect(header(Headers.DLQ_SEQUENCE)).toBe(String(pub.seq));
    expect(header(Headers.DLQ_DELIVERIES)).toBe('3');
    expect(header(Headers.DLQ_ERROR_CODE)).toBe(ErrorCode.INTERNAL);
    expect(header(Headers.MSG_ID)).toBe(`dlq:WORK:exhaust:${pub.seq}`);
    const ci = await jsm.consumers.info('WORK', 'exhaust');
    expect(ci.num_ack_pending).toBe(0);
    expect(ci.num_pending).toBe(0);
  });

  it('dead-letters a terminal error once, without redelivery', async () => {
    let calls = 0;
    const { outcomes } = await consume({ durable: 'terminal', filterSubject: 'work.terminal' }, async () => {
      calls++;
      throw new BatonError(ErrorCode.VALIDATION_FAILED, 'cannot ever work', { retryable: false });
    });
    await publisher.publish('work.terminal', { id: 4 });
    await waitFor(() => outcomes.length === 1, { what: 'the outcome' });
    expect(outcomes[0]).toMatchObject({ outcome: 'dead', errorCode: 'VALIDATION_FAILED', deliveryCount: 1 });
    const ci = await waitFor(
      async () => {
        const info = await jsm.consumers.info('WORK', 'terminal');
        return info.num_ack_pending === 0 ? info : undefined;
      },
      { what: 'the term to settle the message' },
    );
    expect(ci.num_redelivered).toBe(0);
    expect(ci.num_pending).toBe(0);
    expect(calls).toBe(1);
    expect(await deadLetters('terminal')).toBe(1);
    expect((await lastDeadLetter('terminal')).record.errorCode).toBe('VALIDATION_FAILED');
  });

  it('dead-letters malformed JSON without calling the handler', async () => {
    const handler = jest.fn(async () => undefined);
    const { outcomes } = await consume({ durable: 'malformed', filterSubject: 'work.malformed' }, handler);
    await publisher.publishRaw('work.malformed', new TextEncoder().encode('{"nope'));
    await waitFor(() => outcomes.length === 1, { what: 'the outcome' });
    expect(handler).not.toHaveBeenCalled();
    expect(outcomes[0]).toMatchObject({ outcome: 'dead', errorCode: ErrorCode.BAD_REQUEST });
    const { record } = await lastDeadLetter('malformed');
    expect(Buffer.from(record.data, 'base64').toString()).toBe('{"nope');
  });

  it('never has more than `concurrency` messages in flight, nor pulls more than it can process', async () => {
    const gate = new Gate();
    let active = 0;
    let maxActive = 0;
    const { outcomes } = await consume(
      { durable: 'bounded', filterSubject: 'work.bounded', concurrency: 3 },
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await gate.opened;
        active--;
      },
    );
    for (let i = 0; i < 10; i++) await publisher.publish('work.bounded', { i });
    await waitFor(() => active === 3, { what: 'three handlers in flight' });
    const ci = await jsm.consumers.info('WORK', 'bounded');
    expect(ci.num_ack_pending).toBe(3);
    expect(ci.num_pending).toBe(7);

    gate.open();
    await waitFor(() => outcomes.length === 10, { what: 'all ten messages' });
    expect(outcomes.every((o) => o.outcome === 'ack')).toBe(true);
    expect(maxActive).toBe(3);
  });

  it('drains: stop() waits for in-flight handlers, which still ack, and pulls nothing more', async () => {
    const gate = new Gate();
    let active = 0;
    const { runner, outcomes } = await consume(
      { durable: 'drain', filterSubject: 'work.drain', concurrency: 2 },
      async () => {
        active++;
        await gate.opened;
      },
    );
    await publisher.publish('work.drain', { i: 1 });
    await publisher.publish('work.drain', { i: 2 });
    await waitFor(() => active === 2, { what: 'two handlers in flight' });

    let stopped: boolean | undefined;
    const stopping = runner.stop(Date.now() + 60_000).then((drained) => (stopped = drained));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stopped).toBeUndefined();
    expect(outcomes).toEqual([]);

    gate.open();
    await stopping;
    expect(stopped).toBe(true);
    expect(outcomes.map((o) => o.outcome)).toEqual(['ack', 'ack']);
    expect(await waitingIn('work.drain')).toBe(0);

    await publisher.publish('work.drain', { i: 3 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await waitingIn('work.drain')).toBe(1);
    expect(active).toBe(2);
  });

  it('stops waiting at the drain deadline', async () => {
    const { runner } = await consume(
      { durable: 'stuck', filterSubject: 'work.stuck' },
      (_d: unknown, _c: JetStreamContext) => new Promise<void>(() => undefined),
    );
    await publisher.publish('work.stuck', {});
    await waitFor(() => runner.inFlightCount === 1, { what: 'the stuck handler' });
    await expect(runner.stop(Date.now() + 200)).resolves.toBe(false);
  });

  it('re-declares its consumer when it was deleted under it', async () => {
    const seen: number[] = [];
    await consume({ durable: 'recreated', filterSubject: 'work.recreated' }, async (data) => {
      seen.push((data as { n: number }).n);
    });
    await publisher.publish('work.recreated', { n: 1 });
    await waitFor(() => seen.includes(1), { what: 'message 1' });
    await jsm.consumers.delete('WORK', 'recreated');
    await waitFor(() => jsm.consumers.info('WORK', 'recreated').catch(() => undefined), {
      what: 'the consumer to be declared again',
    });
    await publisher.publish('work.recreated', { n: 2 });
    await waitFor(() => seen.includes(2), { what: 'message 2 through the new consumer' });
  });

  it('keeps consuming across nats-server restarts and crashes', async () => {
    const seen: number[] = [];
    await consume({ durable: 'restart', filterSubject: 'work.restart' }, async (data) => {
      seen.push((data as { n: number }).n);
    });
    await publisher.publish('work.restart', { n: 1 });
    await waitFor(() => seen.includes(1), { what: 'message 1' });

    await nats.restart();
    await publisher.publish('work.restart', { n: 2 }, { msgId: 'restart-2' });
    await waitFor(() => seen.includes(2), { what: 'message 2 after a graceful restart' });

    await nats.kill();
    await nats.restart();
    await publisher.publish('work.restart', { n: 3 }, { msgId: 'restart-3' });
    await waitFor(() => seen.includes(3), { what: 'message 3 after a crash and restart', timeoutMs: 60_000 });
    expect(seen.filter((n) => n === 3)).toEqual([3]);
  });
});

describe('batched delivery (lingerMs)', () => {
  it('takes what was stored during the linger in one pull, and loses nothing', async () => {
    const seen: number[] = [];
    const { runner, outcomes } = await consume(
      { durable: 'linger', filterSubject: 'work.linger', concurrency: 100, lingerMs: 2_000 },
      async (data) => {
        seen.push((data as { n: number }).n);
      },
    );
    await publisher.publish('work.linger', { n: 0 });
    await waitFor(() => seen.length === 1, { what: 'the first message (a pull of one)' });
    const pullsBefore = runner.pulls;
    for (let n = 1; n <= 20; n++) await publisher.publish('work.linger', { n });
    // Held on the server while the consumer lingers (publishing takes far less than the 2 s).
    expect(seen).toEqual([0]);
    await waitFor(() => seen.length === 21, { what: 'the twenty messages stored during the linger' });
    // One pull for the twenty, sized to the backlog.
    expect(runner.pulls - pullsBefore).toBe(1);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 21 }, (_, n) => n));
    expect(outcomes.every((o) => o.outcome === 'ack')).toBe(true);
    expect(await waitingIn('work.linger')).toBe(0);
  });

  it('does not linger while a backlog remains', async () => {
    for (let n = 0; n < 30; n++) await publisher.publish('work.backlog', { n });
    // Lingering after each batch of five would take 25 s, past waitFor's timeout.
    const { runner, outcomes } = await consume(
      { durable: 'backlog', filterSubject: 'work.backlog', concurrency: 5, lingerMs: 5_000 },
      async () => undefined,
    );
    await waitFor(() => outcomes.length === 30, { what: 'the backlog of thirty, five at a time' });
    expect(outcomes.every((o) => o.outcome === 'ack')).toBe(true);
    expect(runner.pulls).toBeGreaterThanOrEqual(6);
  });

  it('takes redeliveries when nothing new is stored', async () => {
    const deliveries: number[] = [];
    const { outcomes } = await consume(
      { durable: 'linger-retry', filterSubject: 'work.linger-retry', lingerMs: 200 },
      succeedsOnThirdDelivery(deliveries),
    );
    await publisher.publish('work.linger-retry', { id: 1 });
    await waitFor(() => outcomes.some((o) => o.outcome === 'ack'), { what: 'the third delivery to succeed' });
    expect(deliveries).toEqual([1, 2, 3]);
    expect(await waitingIn('work.linger-retry')).toBe(0);
  });

  it('rejects a linger that is not an integer from 0 to 5000 ms, naming it', () => {
    for (const lingerMs of [-1, 1.5, 5_001]) {
      expect(() =>
        resolveConsumerOptions({ stream: 'WORK', durable: 'bad', filterSubject: 'work.bad', lingerMs }),
      ).toThrow(/consumer bad: lingerMs must be an integer from 0 to 5000/);
    }
  });
});
