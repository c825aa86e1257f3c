import { decodeCursor, encodeCursor } from './cursor';

describe('cursor', () => {
  it('round-trips', () => {
    const c = encodeCursor({ t: '1767225600000001', id: 'e-1' });
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c, { t: 'digits', id: 'string' })).toEqual({ t: '1767225600000001', id: 'e-1' });
  });

  it.each([
    ['not base64url', 'a b'],
    ['not JSON', Buffer.from('{nope').toString('base64url')],
    ['an array', Buffer.from('[1]').toString('base64url')],
    ['a missing key', encodeCursor({ t: '1' })],
    ['a wrongly typed key', encodeCursor({ t: 'yesterday', id: 'e' })],
    ['empty', ''],
  ])('rejects %s with BAD_REQUEST naming the parameter', (_what, value) => {
    expect(() => decodeCursor(value, { t: 'digits', id: 'string' }, 'cursor')).toThrow(
      expect.objectContaining({
        code: 'BAD_REQUEST',
        details: [expect.objectContaining({ path: 'cursor' })],
      }),
    );
  });
});
