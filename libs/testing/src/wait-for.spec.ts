import { waitFor } from './wait-for';

describe('waitFor', () => {
  it('returns the first value that is neither undefined nor false', async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        calls++;
        return calls < 3 ? undefined : calls === 3 ? false : { calls };
      },
      { intervalMs: 1 },
    );
    expect(value).toEqual({ calls: 4 });
  });

  it('accepts async probes and falsy values other than undefined and false', async () => {
    await expect(waitFor(async () => 0, { intervalMs: 1 })).resolves.toBe(0);
    await expect(waitFor(() => null, { intervalMs: 1 })).resolves.toBeNull();
  });

  it('treats a throwing probe as not yet satisfied', async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        calls++;
        if (calls < 3) throw new Error('not ready');
        return 'ready';
      },
      { intervalMs: 1 },
    );
    expect(value).toBe('ready');
  });

  it('names what it waited for on timeout and keeps the last probe error as cause', async () => {
    const failure = await waitFor(
      () => {
        throw new Error('still broken');
      },
      { timeoutMs: 30, intervalMs: 5, what: 'the widget' },
    ).then(
      () => undefined,
      (err: unknown) => err,
    );
    if (!(failure instanceof Error)) throw new Error('waitFor did not fail');
    expect(failure.message).toMatch(/waiting for the widget; last probe error: still broken/);
    expect((failure.cause as Error).message).toBe('still broken');
  });
});
