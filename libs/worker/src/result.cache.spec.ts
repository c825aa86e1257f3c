import { type CachedOutcome, ResultCache } from './result.cache';

const entry = (bytes: number): CachedOutcome => ({
  kind: 'result',
  subject: 's',
  msgId: 'm',
  payload: new Uint8Array(bytes),
  headers: {},
});

describe('ResultCache', () => {
  it('evicts the least recently used entry past maxEntries', () => {
    const cache = new ResultCache(2, 1_000);
    cache.set('a', entry(1));
    cache.set('b', entry(1));
    expect(cache.get('a')).toBeDefined(); // a is now the most recent
    cache.set('c', entry(1));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.size).toBe(2);
  });

  it('evicts past maxBytes and skips an entry larger than the budget', () => {
    const cache = new ResultCache(100, 10);
    cache.set('a', entry(6));
    cache.set('b', entry(6));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
    cache.set('huge', entry(11));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
  });

  it('replaces an entry of the same task and keeps async markers', () => {
    const cache = new ResultCache(10, 10);
    cache.set('a', entry(8));
    cache.set('a', entry(8));
    cache.set('b', { kind: 'async' });
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toEqual({ kind: 'async' });
  });
});
