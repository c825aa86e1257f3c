import { BatonError, ErrorCode, Headers, type DeadLetterRecord } from '@baton/contracts';
import { waitFor } from '@baton/testing';

import { FakeJsMsg, type FakeJsMsgInit } from '../test/fake-js-msg';
import { type ConsumerOptions, resolveConsumerOptions } from './consumer-options';
import type { JetStreamContext } from './jetstream.context';
import type { PublishOptions, PublishResult } from './jetstream.publisher';
import {
  MessageProcessor,
  type MessageOutcome,
  type ProcessHandler,
  versionAtLeast,
} from './message-processor';

interface Published {
  subject: string;
  data: Uint8Array;
  opts: PublishOptions | undefined;
}

class FakePublisher {
  readonly published: Published[] = [];
  failWith: Error | undefined;
  /** Set by tests to observe ordering against the message's acknowledgements. */
  onPublish: (() => void) | undefined;

  async publishRaw(subject: string, data: Uint8Array, opts?: PublishOptions): Promise<PublishResult> {
    this.onPublish?.();
    if (this.failWith) throw this.failWith;
    this.published.push({ subject, data, opts });
    return { stream: 'BATON_DLQ', seq: this.published.length, duplicate: false };
  }

  record(i = 0): DeadLetterRecord {
    const entry = this.published[i];
    if (entry === undefined) throw new Error(`no dead letter #${i}`);
    return JSON.parse(new TextDecoder().decode(entry.data)) as DeadLetterRecord;
  }
}

const baseOptions: ConsumerOptions = {
  stream: 'BATON_ORCH',
  durable: 'orchestrator',
  filterSubject: 'baton.orch.>',
  maxDeliver: 3,
  backoffMs: (n) => n * 1000,
};

function setup(handler: ProcessHandler, overrides: Partial<ConsumerOptions> = {}) {
  const publisher = new FakePublisher();
  const outcomes: MessageOutcome[] = [];
  const processor = new MessageProcessor(resolveConsumerOptions({ ...baseOptions, ...overrides }), handler, {
    publisher,
    onOutcome: (o) => outcomes.push(o),
    limits: { maxPayloadBytes: 1024, maxJsonDepth: 4 },
  });
  const run = (init: FakeJsMsgInit = {}) => {
    const msg = new FakeJsMsg(init);
    return processor.process(msg.asJsMsg()).then((outcome) => ({ msg, outcome }));
  };
  return { publisher, outcomes, processor, run };
}

describe('MessageProcessor outcome mapping', () => {
  it('acks after the handler resolved and hands it the parsed payload and the context', async () => {
    let seen: { data: unknown; ctx: JetStreamContext } | undefined;
    const { run, outcomes } = setup(async (data, ctx) => {
      seen = { data, ctx };
    });
    const { msg, outcome } = await run({
      data: '{"n":1}',
      headers: { [Headers.MSG_ID]: 'result:abc', 'Baton-Execution-Id': 'exec-1' },
      deliveryCount: 2,
      streamSequence: 9,
    });
    expect(msg.outcomes).toEqual([{ kind: 'ack' }]);
    expect(outcome).toMatchObject({
      outcome: 'ack',
      durable: 'orchestrator',
      deliveryCount: 2,
      subject: msg.subject,
    });
    expect(outcome.errorCode).toBeUndefined();
    expect(outcomes).toEqual([outcome]);
    expect(seen?.data).toEqual({ n: 1 });
    expect(seen?.ctx.subject).toBe(msg.subject);
    expect(seen?.ctx.streamSequence).toBe(9);
    expect(seen?.ctx.deliveryCount).toBe(2);
    expect(seen?.ctx.msgId).toBe('result:abc');
    expect(seen?.ctx.header('baton-execution-id')).toBe('exec-1');
    expect(seen?.ctx.header('absent')).toBeUndefined();
    expect(seen?.ctx.headers()).toMatchObject({ 'Baton-Execution-Id': ['exec-1'] });
  });

  it('does not ack before the handler settles', async () => {
    let release: () => void = () => undefined;
    const { processor } = setup(() => new Promise<void>((resolve) => (release = resolve)));
    const msg = new FakeJsMsg();
    const done = processor.process(msg.asJsMsg());
    await new Promise((resolve) => setImmediate(resolve));
    expect(msg.outcomes).toEqual([]);
    release();
    await done;
    expect(msg.outcomes).toEqual([{ kind: 'ack' }]);
  });

  it('naks a retryable failure with the backoff of its delivery count', async () => {
    const { run, publisher } = setup(async () => {
      throw new BatonError(ErrorCode.UNAVAILABLE, 'database down');
    });
    const { msg, outcome } = await run({ deliveryCount: 2 });
    expect(msg.outcomes).toEqual([{ kind: 'nak', delayMs: 2000 }]);
    expect(outcome).toMatchObject({ outcome: 'nak', errorCode: 'UNAVAILABLE', deliveryCount: 2 });
    expect(publisher.published).toHaveLength(0);
  });

  it('treats plain errors and thrown non-errors as retryable', async () => {
    const plain = setup(async () => {
      throw new Error('boom');
    });
    const r1 = await plain.run();
    expect(r1.msg.outcomes).toEqual([{ kind: 'nak', delayMs: 1000 }]);
    expect(r1.outcome.errorCode).toBe(ErrorCode.INTERNAL);

    const coded = setup(async () => {
      throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    });
    expect((await coded.run()).outcome.errorCode).toBe('ECONNREFUSED');

    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- handlers may reject with anything
    const odd = setup(() => Promise.reject(new Map([['not', 'an error']])));
    const r3 = await odd.run();
    expect(r3.msg.outcomes).toEqual([{ kind: 'nak', delayMs: 1000 }]);
  });

  it('dead-letters a retryable failure on the maxDeliver-th delivery, then terms', async () => {
    const order: string[] = [];
    const { run, publisher } = setup(async () => {
      throw new BatonError(ErrorCode.UNAVAILABLE, 'still down');
    });
    publisher.onPublish = () => order.push('publish');
    const { msg, outcome } = await run({
      deliveryCount: 3,
      streamSequence: 77,
      headers: {
        [Headers.MSG_ID]: 'result:x',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'Baton-Execution-Id': 'e1',
      },
    });
    order.push(...msg.outcomes.map((c) => c.kind));
    expect(order).toEqual(['publish', 'term']);
    expect(outcome).toMatchObject({ outcome: 'dead', errorCode: 'UNAVAILABLE', deliveryCount: 3 });
    const sent = publisher.published[0];
    expect(sent?.subject).toBe('baton.dlq.BATON_ORCH.orchestrator');
    expect(sent?.opts?.msgId).toBe('dlq:BATON_ORCH:orchestrator:77');
    const headers = sent?.opts?.headers as Record<string, string[]>;
    expect(headers['Baton-Execution-Id']).toEqual(['e1']);
    expect(headers[Headers.MSG_ID]).toBeUndefined();
    expect(headers.traceparent).toBeUndefined();
    expect(headers[Headers.DLQ_STREAM]).toEqual(['BATON_ORCH']);
    expect(headers[Headers.DLQ_CONSUMER]).toEqual(['orchestrator']);
    expect(headers[Headers.DLQ_SUBJECT]).toEqual([msg.subject]);
    expect(headers[Headers.DLQ_SEQUENCE]).toEqual(['77']);
    expect(headers[Headers.DLQ_DELIVERIES]).toEqual(['3']);
    expect(headers[Headers.DLQ_ERROR_CODE]).toEqual(['UNAVAILABLE']);
    expect(headers[Headers.DLQ_ERROR]?.[0]).toMatch(/still down/);
    const record = publisher.record();
    expect(record).toMatchObject({
      stream: 'BATON_ORCH',
      consumer: 'orchestrator',
      subject: msg.subject,
      streamSequence: 77,
      deliveries: 3,
      errorCode: 'UNAVAILABLE',
    });
    expect(record.headers[Headers.MSG_ID]).toEqual(['result:x']);
    expect(Buffer.from(record.data, 'base64').toString()).toBe('{"hello":"world"}');
    expect(new Date(record.deadAt).getTime()).not.toBeNaN();
  });

  it('dead-letters a terminal error (retryable === false) on the first delivery', async () => {
    const { run, publisher } = setup(async () => {
      throw new BatonError(ErrorCode.VALIDATION_FAILED, 'bad input', { retryable: false });
    });
    const { msg, outcome } = await run({ deliveryCount: 1 });
    expect(msg.outcomes).toEqual([{ kind: 'term', reason: undefined }]);
    expect(outcome).toMatchObject({ outcome: 'dead', errorCode: 'VALIDATION_FAILED' });
    expect(publisher.published).toHaveLength(1);

    const duck = setup(async () => {
      throw Object.assign(new Error('card declined'), { code: 'CardDeclined', retryable: false });
    });
    expect((await duck.run()).outcome).toMatchObject({ outcome: 'dead', errorCode: 'CardDeclined' });
  });

  it.each([
    ['malformed JSON', '{"a":', ErrorCode.BAD_REQUEST],
    ['a payload over the size limit', JSON.stringify({ s: 'x'.repeat(2000) }), ErrorCode.PAYLOAD_TOO_LARGE],
    ['JSON nested past the depth limit', '{"a":{"b":{"c":{"d":{"e":1}}}}}', ErrorCode.VALIDATION_FAILED],
  ])('dead-letters %s at once without calling the handler', async (_what, data, code) => {
    const handler = jest.fn(async () => undefined);
    const { run, publisher } = setup(handler);
    const { msg, outcome } = await run({ data });
    expect(handler).not.toHaveBeenCalled();
    expect(outcome).toMatchObject({ outcome: 'dead', errorCode: code, deliveryCount: 1 });
    expect(msg.outcomes.map((c) => c.kind)).toEqual(['term']);
    expect(publisher.record().errorCode).toBe(code);
  });

  it('dead-letters a delivery past maxDeliver (earlier deliveries timed out) without calling the handler', async () => {
    const handler = jest.fn(async () => undefined);
    const { run } = setup(handler);
    const { msg, outcome } = await run({ deliveryCount: 4 });
    expect(handler).not.toHaveBeenCalled();
    expect(outcome).toMatchObject({ outcome: 'dead', errorCode: ErrorCode.TIMEOUT });
    expect(msg.outcomes.map((c) => c.kind)).toEqual(['term']);
  });

  it('naks instead of terming when the dead letter cannot be stored', async () => {
    const { run, publisher } = setup(async () => {
      throw new BatonError(ErrorCode.VALIDATION_FAILED, 'bad', { retryable: false });
    });
    publisher.failWith = new BatonError(ErrorCode.UNAVAILABLE, 'no DLQ');
    const { msg, outcome } = await run({ deliveryCount: 2 });
    expect(msg.outcomes).toEqual([{ kind: 'nak', delayMs: 2000 }]);
    expect(outcome).toMatchObject({ outcome: 'nak', errorCode: 'VALIDATION_FAILED' });
  });

  it('terms without a new dead letter when the message comes from the dead-letter stream', async () => {
    const { run, publisher } = setup(
      async () => {
        throw new BatonError(ErrorCode.VALIDATION_FAILED, 'unreadable dead letter', { retryable: false });
      },
      { stream: 'BATON_DLQ', durable: 'state-store-dlq', filterSubject: 'baton.dlq.>' },
    );
    const { msg, outcome } = await run({ stream: 'BATON_DLQ', subject: 'baton.dlq.BATON_ORCH.orchestrator' });
    expect(publisher.published).toHaveLength(0);
    expect(msg.outcomes.map((c) => c.kind)).toEqual(['term']);
    expect(outcome.outcome).toBe('term');
  });

  it('passes bytes to raw handlers', async () => {
    let seen: unknown;
    const { run } = setup(
      async (data) => {
        seen = data;
      },
      { raw: true },
    );
    const bytes = new Uint8Array([0xff, 0x00, 0x7b]);
    const { msg } = await run({ data: bytes });
    expect(seen).toBeInstanceOf(Uint8Array);
    expect(Array.from(seen as Uint8Array)).toEqual([0xff, 0x00, 0x7b]);
    expect(msg.outcomes).toEqual([{ kind: 'ack' }]);
  });

  it('sends working() every ackWait/2 while the handler runs, and stops afterwards', async () => {
    let release: () => void = () => undefined;
    const { processor } = setup(() => new Promise<void>((resolve) => (release = resolve)), { ackWaitMs: 20 });
    const msg = new FakeJsMsg();
    const done = processor.process(msg.asJsMsg());
    await waitFor(() => msg.calls.filter((c) => c.kind === 'working').length >= 3, {
      what: 'three automatic working() calls',
    });
    expect(msg.outcomes).toEqual([]);
    release();
    await done;
    const after = msg.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(msg.calls.length).toBe(after);
    expect(msg.calls[msg.calls.length - 1]).toEqual({ kind: 'ack' });
  });

  it('lets the handler call working() itself', async () => {
    const { run } = setup(async (_data, ctx) => {
      ctx.working();
    });
    const { msg } = await run();
    expect(msg.calls).toEqual([{ kind: 'working' }, { kind: 'ack' }]);
  });

  it('survives an onOutcome callback that throws', async () => {
    const processor = new MessageProcessor(resolveConsumerOptions(baseOptions), async () => undefined, {
      publisher: new FakePublisher(),
      onOutcome: () => {
        throw new Error('metrics broke');
      },
    });
    const msg = new FakeJsMsg();
    await expect(processor.process(msg.asJsMsg())).resolves.toMatchObject({ outcome: 'ack' });
  });

  it('gives the term a reason only on servers that understand it', async () => {
    const terminal = async (): Promise<void> => {
      throw new BatonError(ErrorCode.VALIDATION_FAILED, 'bad input', { retryable: false });
    };
    for (const [version, reason] of [
      ['2.9.10', undefined],
      ['2.10.0', undefined],
      ['2.11.0', 'VALIDATION_FAILED: bad input'],
      ['v2.12.1', 'VALIDATION_FAILED: bad input'],
    ] as const) {
      const processor = new MessageProcessor(resolveConsumerOptions(baseOptions), terminal, {
        publisher: new FakePublisher(),
        serverVersion: () => version,
      });
      const msg = new FakeJsMsg();
      await processor.process(msg.asJsMsg());
      expect(msg.outcomes).toEqual([{ kind: 'term', reason }]);
    }
  });

  it('compares server versions', () => {
    expect(versionAtLeast('2.9.10', '2.11.0')).toBe(false);
    expect(versionAtLeast('2.11.0', '2.11.0')).toBe(true);
    expect(versionAtLeast('2.11.0-RC.1', '2.11.0')).toBe(true);
    expect(versionAtLeast('3.0.0', '2.11.0')).toBe(true);
    expect(versionAtLeast('2.10.29', '2.11.0')).toBe(false);
    expect(versionAtLeast(undefined, '2.11.0')).toBe(false);
  });

  it('uses the default backoff when none is given', async () => {
    const { run } = setup(
      async () => {
        throw new Error('x');
      },
      { backoffMs: undefined, maxDeliver: 10 },
    );
    expect((await run({ deliveryCount: 1 })).msg.outcomes).toEqual([{ kind: 'nak', delayMs: 250 }]);
    expect((await run({ deliveryCount: 3 })).msg.outcomes).toEqual([{ kind: 'nak', delayMs: 1000 }]);
    expect((await run({ deliveryCount: 9 })).msg.outcomes).toEqual([{ kind: 'nak', delayMs: 10000 }]);
  });
});
