import { Headers } from '@baton/contracts';

import { FakeJsMsg } from '../test/fake-js-msg';
import { buildDeadLetter } from './dead-letter';

describe('buildDeadLetter', () => {
  it('keeps the full payload when it fits', () => {
    const msg = new FakeJsMsg({ data: 'abc', headers: { 'Nats-Expected-Stream': 'X', 'User-H': 'u' } });
    const letter = buildDeadLetter(
      msg.asJsMsg(),
      'orchestrator',
      { code: 'C', message: 'line1\nline2' },
      1024 * 1024,
      new Date(0),
    );
    expect(letter.record.data).toBe(Buffer.from('abc').toString('base64'));
    expect(letter.record.deadAt).toBe('1970-01-01T00:00:00.000Z');
    expect(letter.headers['User-H']).toEqual(['u']);
    expect(letter.headers['Nats-Expected-Stream']).toBeUndefined();
    expect(letter.record.headers['Nats-Expected-Stream']).toEqual(['X']);
    expect(letter.headers[Headers.DLQ_ERROR]).toEqual(['line1 line2']);
    expect(letter.record.error).toBe('line1\nline2');
    expect(letter.record.truncated).toBeUndefined();
  });

  it('cuts the payload copy to fit the connection limit and says so', () => {
    const big = new Uint8Array(200_000).fill(65);
    const msg = new FakeJsMsg({ data: big });
    const letter = buildDeadLetter(
      msg.asJsMsg(),
      'd',
      { code: 'PAYLOAD_TOO_LARGE', message: 'too big' },
      100_000,
    );
    expect(letter.body.byteLength).toBeLessThan(100_000);
    expect(letter.record.error).toMatch(/^too big \(payload copy cut to \d+ of 200000 bytes\)$/);
    expect(Buffer.from(letter.record.data, 'base64').every((b) => b === 65)).toBe(true);
    expect(letter.record.truncated).toBe(true);
  });
});
