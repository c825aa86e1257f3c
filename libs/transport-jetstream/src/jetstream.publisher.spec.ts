import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

import { ErrorCode } from '@baton/contracts';

import { JetStreamPublisher } from './jetstream.publisher';

type PublishCall = {
  subject: string;
  data: Uint8Array;
  msgID: string | undefined;
  headers: Map<string, string>;
};

function fakeClient(results: (Error | { stream: string; seq: number; duplicate?: boolean })[]) {
  const calls: PublishCall[] = [];
  const client = {
    publish: async (
      subject: string,
      data: Uint8Array,
      opts: { msgID?: string; headers?: { keys(): string[]; get(k: string): string } },
    ) => {
      const headers = new Map<string, string>();
      for (const k of opts.headers?.keys() ?? []) headers.set(k, opts.headers?.get(k) ?? '');
      calls.push({ subject, data, msgID: opts.msgID, headers });
      const next = results.shift();
      if (next === undefined) throw new Error('unexpected publish');
      if (next instanceof Error) throw next;
      return { stream: next.stream, seq: next.seq, duplicate: next.duplicate ?? false };
    },
  } as unknown as Pick<JetStreamClient, 'publish'>;
  return { client, calls };
}

const nc = {} as NatsConnection;

function namedError(name: string, message = name): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

describe('JetStreamPublisher', () => {
  it('JSON-encodes the body and sets the message id and headers', async () => {
    const { client, calls } = fakeClient([{ stream: 'BATON_TASKS', seq: 5 }]);
    const publisher = new JetStreamPublisher(nc, { client });
    const ack = await publisher.publish(
      'baton.tasks.inventory.reserve',
      { a: 1 },
      {
        msgId: 'task:1',
        headers: { 'Baton-Execution-Id': 'e1' },
      },
    );
    expect(ack).toEqual({ stream: 'BATON_TASKS', seq: 5, duplicate: false });
    expect(calls).toHaveLength(1);
    expect(new TextDecoder().decode(calls[0]?.data)).toBe('{"a":1}');
    expect(calls[0]?.msgID).toBe('task:1');
    expect(calls[0]?.headers.get('Baton-Execution-Id')).toBe('e1');
  });

  it('reports duplicates', async () => {
    const { client } = fakeClient([{ stream: 'EVENTS', seq: 3, duplicate: true }]);
    await expect(
      new JetStreamPublisher(nc, { client }).publish('events.x', 1, { msgId: 'm' }),
    ).resolves.toEqual({
      stream: 'EVENTS',
      seq: 3,
      duplicate: true,
    });
  });

  it('retries transient failures with the same message id', async () => {
    const { client, calls } = fakeClient([
      namedError('TimeoutError'),
      namedError('JetStreamNotEnabled', 'jetstream is not enabled'),
      { stream: 'BATON_ORCH', seq: 9 },
    ]);
    const publisher = new JetStreamPublisher(nc, { client, retryDelayMs: 1 });
    await expect(publisher.publish('baton.orch.start.wf', {}, { msgId: 'start:e1' })).resolves.toMatchObject({
      seq: 9,
    });
    expect(calls.map((c) => c.msgID)).toEqual(['start:e1', 'start:e1', 'start:e1']);
  });

  it('gives up after maxAttempts with a retryable UNAVAILABLE error', async () => {
    const { client, calls } = fakeClient([
      namedError('TimeoutError'),
      namedError('TimeoutError'),
      namedError('TimeoutError'),
    ]);
    const publisher = new JetStreamPublisher(nc, { client, retryDelayMs: 1, maxAttempts: 3 });
    const err = await publisher.publish('events.a', {}, { msgId: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'BatonError', code: ErrorCode.UNAVAILABLE, retryable: true });
    expect(calls).toHaveLength(3);
  });

  it('does not retry other failures', async () => {
    const failure = namedError('JetStreamApiError', 'maximum payload exceeded');
    const { client, calls } = fakeClient([failure]);
    await expect(new JetStreamPublisher(nc, { client }).publish('events.a', {})).rejects.toBe(failure);
    expect(calls).toHaveLength(1);
  });

  it('refuses bodies that are not JSON', async () => {
    const { client, calls } = fakeClient([]);
    await expect(new JetStreamPublisher(nc, { client }).publish('events.a', undefined)).rejects.toMatchObject(
      {
        code: ErrorCode.VALIDATION_FAILED,
      },
    );
    expect(calls).toHaveLength(0);
  });
});
