import type { Msg } from '@nats-io/nats-core';

import { NatsTaskDelivery, headerValue, parseAckSubject } from './task-delivery';

function fakeMsg(reply: string | undefined) {
  const sent: string[] = [];
  const msg = {
    subject: 'baton.tasks.a',
    reply,
    data: new TextEncoder().encode('{}'),
    headers: new Map([['traceparent', ['tp']]]),
    respond: (payload: Uint8Array) => {
      sent.push(new TextDecoder().decode(payload));
      return true;
    },
  } as unknown as Msg;
  return { msg, sent };
}

describe('parseAckSubject', () => {
  it('reads the v1 form', () => {
    expect(parseAckSubject('$JS.ACK.BATON_TASKS.task_a.3.17.9.1795264262897223248.0')).toEqual({
      stream: 'BATON_TASKS',
      consumer: 'task_a',
      deliveryCount: 3,
      streamSequence: 17,
      consumerSequence: 9,
    });
  });

  it('reads the v2 form with domain and account hash', () => {
    expect(
      parseAckSubject('$JS.ACK.hub.ACCHASH.BATON_TASKS.task_a.1.5.4.1795264262897223248.2.rnd'),
    ).toMatchObject({
      stream: 'BATON_TASKS',
      deliveryCount: 1,
      streamSequence: 5,
    });
  });

  it('rejects other subjects', () => {
    expect(parseAckSubject(undefined)).toBeUndefined();
    expect(parseAckSubject('_INBOX.abc')).toBeUndefined();
    expect(parseAckSubject('$JS.ACK.S.C.x.1.1.0.0')).toBeUndefined();
  });
});

describe('NatsTaskDelivery', () => {
  it('sends the JetStream acknowledgement payloads, only one final one', () => {
    const { msg, sent } = fakeMsg('$JS.ACK.BATON_TASKS.task_a.2.17.9.0.0');
    const d = NatsTaskDelivery.from(msg);
    expect(d).toMatchObject({ streamSequence: 17, deliveryCount: 2, headers: { traceparent: ['tp'] } });
    d?.working();
    d?.ack();
    d?.nak();
    d?.working();
    expect(sent).toEqual(['+WPI', '+ACK']);
  });

  it('sends a nak with a delay in nanoseconds, and a plain +TERM', () => {
    const a = fakeMsg('$JS.ACK.S.C.1.1.1.0.0');
    NatsTaskDelivery.from(a.msg)?.nak(1500);
    expect(a.sent).toEqual(['-NAK {"delay":1500000000}']);
    const b = fakeMsg('$JS.ACK.S.C.1.1.1.0.0');
    NatsTaskDelivery.from(b.msg)?.term();
    expect(b.sent).toEqual(['+TERM']);
  });

  it('is not built for a message without an ack subject', () => {
    expect(NatsTaskDelivery.from(fakeMsg(undefined).msg)).toBeUndefined();
  });
});

describe('headerValue', () => {
  it('reads headers case-insensitively', () => {
    expect(headerValue({ TraceParent: ['a', 'b'] }, 'traceparent')).toBe('a');
    expect(headerValue({}, 'traceparent')).toBeUndefined();
  });
});
