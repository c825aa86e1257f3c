import type { DeadLetterRecord } from '@baton/contracts';

import { REDRIVE_OF_HEADER, buildRedrive } from './dead-letter-redrive';

const record: DeadLetterRecord = {
  stream: 'BATON_TASKS',
  consumer: 'task_inventory_reserve',
  subject: 'baton.tasks.inventory.reserve',
  streamSequence: 7,
  deliveries: 5,
  errorCode: 'INTERNAL',
  error: 'boom',
  deadAt: '2026-01-01T00:00:00.000Z',
  data: Buffer.from('{"a":1}').toString('base64'),
  headers: {
    'Nats-Msg-Id': ['task:e1.reserve.1'],
    'Nats-Expected-Stream': ['BATON_TASKS'],
    traceparent: ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
    'Baton-Execution-Id': ['e1'],
  },
};

describe('buildRedrive', () => {
  it('republishes the original payload to the original subject with its own headers and a redrive msg id', () => {
    const r = buildRedrive(record, 'BATON_TASKS.task_inventory_reserve.7');
    expect(r.subject).toBe('baton.tasks.inventory.reserve');
    expect(r.msgId).toBe('redrive:BATON_TASKS.task_inventory_reserve.7');
    expect(Buffer.from(r.data).toString()).toBe('{"a":1}');
    expect(r.headers).toEqual({
      'Baton-Execution-Id': ['e1'],
      [REDRIVE_OF_HEADER]: ['BATON_TASKS.task_inventory_reserve.7'],
    });
  });

  it('refuses a dead letter whose payload copy was cut', () => {
    expect(() => buildRedrive({ ...record, truncated: true }, 'X.y.1')).toThrow(
      expect.objectContaining({ code: 'CONFLICT', message: expect.stringContaining('cut copy') }),
    );
  });
});
