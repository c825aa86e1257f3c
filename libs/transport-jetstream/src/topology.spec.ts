import { type ConsumerConfig, DeliverPolicy, type StreamConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';

import { ErrorCode, Streams } from '@baton/contracts';

import {
  BATON_STREAMS,
  DEFAULT_DUPLICATE_WINDOW_MS,
  consumerConfigOf,
  consumerUpdateOf,
  streamConfigOf,
  streamUpdateOf,
} from './topology';

const DAY = 24 * 3600 * 1000;

describe('topology', () => {
  it('declares the nine Baton streams from the contracts', () => {
    expect(Object.values(BATON_STREAMS).map((s) => [s.name, s.subjects, s.retention, s.maxAgeMs])).toEqual([
      [Streams.EVENTS, ['events.>'], 'limits', 7 * DAY],
      [Streams.TASKS, ['baton.tasks.>'], 'workqueue', undefined],
      [Streams.ORCH, ['baton.orch.>'], 'workqueue', undefined],
      [Streams.HISTORY, ['baton.history.>'], 'limits', 7 * DAY],
      [Streams.NOTIFY, ['baton.events.>'], 'limits', 7 * DAY],
      [Streams.DLQ, ['baton.dlq.>'], 'limits', 30 * DAY],
      [Streams.DECISIONS, ['baton.decisions.>'], 'workqueue', undefined],
      [Streams.SCHED, ['baton.sched.>'], 'workqueue', undefined],
      [Streams.ALERTS, ['baton.alerts.>'], 'limits', 30 * DAY],
    ]);
    for (const spec of Object.values(BATON_STREAMS)) expect(spec.duplicateWindowMs).toBe(2 * 60 * 1000);
    expect(Object.isFrozen(BATON_STREAMS)).toBe(true);
    expect(Object.isFrozen(BATON_STREAMS.EVENTS)).toBe(true);
    expect(Object.isFrozen(BATON_STREAMS.EVENTS.subjects)).toBe(true);
  });

  it('maps a spec to a file-stored stream config', () => {
    expect(streamConfigOf(BATON_STREAMS.TASKS)).toMatchObject({
      name: 'BATON_TASKS',
      retention: 'workqueue',
      storage: 'file',
      max_age: 0,
      max_bytes: -1,
      duplicate_window: nanos(DEFAULT_DUPLICATE_WINDOW_MS),
    });
    expect(
      streamConfigOf({ name: 'X', subjects: ['x.>'], retention: 'limits', duplicateWindowMs: 1000 })
        .duplicate_window,
    ).toBe(nanos(1000));
    expect(() => streamConfigOf({ name: 'a.b', subjects: ['x'], retention: 'limits' })).toThrow(
      /stream name/,
    );
    expect(() => streamConfigOf({ name: 'X', subjects: ['x.>.y'], retention: 'limits' })).toThrow(/subjects/);
  });

  it('updates only when mutable fields differ, and refuses to change retention', () => {
    const existing = streamConfigOf(BATON_STREAMS.EVENTS) as StreamConfig;
    expect(streamUpdateOf(existing, BATON_STREAMS.EVENTS)).toBeUndefined();
    expect(streamUpdateOf({ ...existing, subjects: ['events.>'] }, BATON_STREAMS.EVENTS)).toBeUndefined();
    expect(streamUpdateOf(existing, { ...BATON_STREAMS.EVENTS, maxAgeMs: DAY })).toMatchObject({
      max_age: nanos(DAY),
    });
    expect(
      streamUpdateOf(existing, { ...BATON_STREAMS.EVENTS, subjects: ['events.>', 'more.>'] }),
    ).toMatchObject({
      subjects: ['events.>', 'more.>'],
    });
    expect(() => streamUpdateOf(existing, { ...BATON_STREAMS.EVENTS, retention: 'workqueue' })).toThrow(
      expect.objectContaining({ code: ErrorCode.CONFLICT }),
    );
  });

  it('maps a consumer spec to a durable pull consumer with explicit ack', () => {
    expect(
      consumerConfigOf({ stream: 'BATON_ORCH', durable: 'orchestrator', filterSubject: 'baton.orch.>' }),
    ).toEqual({
      durable_name: 'orchestrator',
      ack_policy: 'explicit',
      deliver_policy: 'all',
      ack_wait: nanos(30_000),
      max_deliver: -1,
      max_ack_pending: 1000,
      filter_subject: 'baton.orch.>',
    });
    expect(
      consumerConfigOf({ stream: 'S', durable: 'd', deliverPolicy: 'new', maxDeliver: 3 }),
    ).toMatchObject({
      deliver_policy: 'new',
      max_deliver: 3,
    });
    expect(() => consumerConfigOf({ stream: 'S', durable: 'has.dot' })).toThrow(/durable/);
    expect(() => consumerConfigOf({ stream: 'S', durable: 'x'.repeat(33) })).toThrow(/durable/);
  });

  it('updates a consumer only when its mutable configuration differs', () => {
    const spec = { stream: 'S', durable: 'd', filterSubject: 's.>', ackWaitMs: 1000 };
    const existing = { ...consumerConfigOf(spec) } as ConsumerConfig;
    expect(consumerUpdateOf(existing, spec)).toBeUndefined();
    expect(consumerUpdateOf(existing, { ...spec, ackWaitMs: 2000 })).toMatchObject({ ack_wait: nanos(2000) });
    expect(consumerUpdateOf({ ...existing, deliver_policy: DeliverPolicy.New }, spec)).toBeUndefined();
  });
});
