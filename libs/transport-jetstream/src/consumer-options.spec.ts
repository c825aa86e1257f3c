import {
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_DELIVER,
  defaultBackoffMs,
  resolveConsumerOptions,
} from './consumer-options';

describe('consumer options', () => {
  it('applies defaults', () => {
    const o = resolveConsumerOptions({
      stream: 'BATON_ORCH',
      durable: 'orchestrator',
      filterSubject: 'baton.orch.>',
    });
    expect(o).toMatchObject({
      concurrency: DEFAULT_CONCURRENCY,
      ackWaitMs: 30_000,
      maxDeliver: DEFAULT_MAX_DELIVER,
      raw: false,
    });
    expect(o.concurrency).toBe(16);
    expect(o.maxDeliver).toBe(5);
    expect(o.backoffMs).toBe(defaultBackoffMs);
    expect(o.deliverPolicy).toBeUndefined();
  });

  it('backs off 250 ms * 2^(n-1), at most 10 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100].map(defaultBackoffMs)).toEqual([
      250, 500, 1000, 2000, 4000, 8000, 10000, 10000,
    ]);
  });

  it.each([
    [{ durable: 'bad name' }, /durable/],
    [{ stream: 'A.B' }, /stream/],
    [{ filterSubject: 'a.>.b' }, /filter subject/],
    [{ concurrency: 0 }, /concurrency/],
    [{ ackWaitMs: 1.5 }, /ackWaitMs/],
    [{ maxDeliver: -1 }, /maxDeliver/],
  ])('rejects %j', (patch, message) => {
    expect(() =>
      resolveConsumerOptions({ stream: 'S', durable: 'd', filterSubject: 's.>', ...patch }),
    ).toThrow(message);
  });
});
