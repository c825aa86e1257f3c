import type { NatsConnection } from '@nats-io/nats-core';

import { apiErrorCode, bindTaskConsumer, taskConsumerConfig } from './task-consumer.binder';

type Reply = Record<string, unknown> | Error;

/** Answers JetStream API requests from a script and records them. */
function fakeNc(replies: Record<string, Reply[]>) {
  const calls: { subject: string; body: unknown }[] = [];
  const nc = {
    request: async (subject: string, data: string) => {
      calls.push({ subject, body: data === '' ? undefined : JSON.parse(data) });
      const queue = replies[subject.split('.').slice(0, 4).join('.')] ?? [];
      const reply = queue.shift();
      if (reply === undefined) throw new Error(`unexpected request ${subject}`);
      if (reply instanceof Error) throw reply;
      return { string: () => JSON.stringify(reply) };
    },
  } as unknown as NatsConnection;
  return { nc, calls };
}

const goodInfo = (ackWaitMs = 30_000) => ({
  config: {
    durable_name: 'task_inventory_reserve',
    ack_policy: 'explicit',
    filter_subject: 'baton.tasks.inventory.reserve',
    ack_wait: ackWaitMs * 1e6,
  },
});
const apiError = (code: number, err_code: number, description: string) => ({
  error: { code, err_code, description },
});

describe('taskConsumerConfig', () => {
  it('is the durable pull consumer of CONTRACT §5', () => {
    expect(taskConsumerConfig('inventory.reserve', 30_000)).toEqual({
      durable_name: 'task_inventory_reserve',
      filter_subject: 'baton.tasks.inventory.reserve',
      deliver_policy: 'all',
      ack_policy: 'explicit',
      ack_wait: 30_000_000_000,
      max_deliver: -1,
      replay_policy: 'instant',
    });
  });
});

describe('bindTaskConsumer', () => {
  it('binds to an existing consumer without changing it, returning its ack wait', async () => {
    const { nc, calls } = fakeNc({ '$JS.API.CONSUMER.INFO': [goodInfo(10_000)] });
    await expect(bindTaskConsumer(nc, 'inventory.reserve', 30_000)).resolves.toEqual({
      durable: 'task_inventory_reserve',
      ackWaitMs: 10_000,
      created: false,
    });
    expect(calls.map((c) => c.subject)).toEqual(['$JS.API.CONSUMER.INFO.BATON_TASKS.task_inventory_reserve']);
  });

  it('creates a missing consumer with the durable create API', async () => {
    const { nc, calls } = fakeNc({
      '$JS.API.CONSUMER.INFO': [apiError(404, 10014, 'consumer not found')],
      '$JS.API.CONSUMER.DURABLE': [goodInfo()],
    });
    await expect(bindTaskConsumer(nc, 'inventory.reserve', 30_000)).resolves.toMatchObject({
      created: true,
      ackWaitMs: 30_000,
    });
    expect(calls[1]).toEqual({
      subject: '$JS.API.CONSUMER.DURABLE.CREATE.BATON_TASKS.task_inventory_reserve',
      body: { stream_name: 'BATON_TASKS', config: taskConsumerConfig('inventory.reserve', 30_000) },
    });
  });

  it('binds to a consumer another worker created meanwhile with other settings', async () => {
    const { nc } = fakeNc({
      '$JS.API.CONSUMER.INFO': [apiError(404, 10014, 'consumer not found'), goodInfo(5_000)],
      '$JS.API.CONSUMER.DURABLE': [apiError(400, 10148, 'consumer already exists')],
    });
    await expect(bindTaskConsumer(nc, 'inventory.reserve', 30_000)).resolves.toMatchObject({
      created: false,
      ackWaitMs: 5_000,
    });
  });

  it('reports a missing stream as retryable', async () => {
    const { nc } = fakeNc({
      '$JS.API.CONSUMER.INFO': [apiError(404, 10059, 'stream not found')],
    });
    const err = await bindTaskConsumer(nc, 'inventory.reserve', 30_000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(apiErrorCode(err)).toBe(10059);
    expect((err as Error).message).toMatch(/stream BATON_TASKS not found/);
  });

  it('reports a transport failure as retryable', async () => {
    const { nc } = fakeNc({ '$JS.API.CONSUMER.INFO': [new Error('timeout')] });
    await expect(bindTaskConsumer(nc, 'inventory.reserve', 30_000)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
    });
  });

  it('refuses a consumer of the wrong shape with CONFLICT', async () => {
    const { nc } = fakeNc({
      '$JS.API.CONSUMER.INFO': [
        { config: { ack_policy: 'none', filter_subject: 'baton.tasks.>', deliver_subject: 'push.here' } },
      ],
    });
    const err = await bindTaskConsumer(nc, 'inventory.reserve', 30_000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFLICT', retryable: false });
    expect((err as Error).message).toMatch(/push consumer.*ack policy is none.*filter is "baton.tasks.>"/);
  });
});
