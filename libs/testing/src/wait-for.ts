/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long (default 30000 ms). A safety net against hangs, not an assertion on speed. */
  timeoutMs?: number;
  /** Pause between probes (default 50 ms). */
  intervalMs?: number;
  /** What is awaited, for the timeout message (`"the message to be dead-lettered"`). */
  what?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_INTERVAL_MS = 50;

/**
 * Awaits a condition: calls `probe` until it returns (or resolves to) something other than `undefined`
 * or `false`, and returns that value. A probe that throws counts as "not yet"; its last error is
 * attached as `cause` of the timeout error. On timeout, throws an error naming `what`.
 *
 * Use it to await outcomes in integration tests instead of sleeping or asserting durations.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
  const what = opts.what ?? 'the condition';
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const suffix = lastError === undefined ? '' : `; last probe error: ${describe(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms (${attempts} probes) waiting for ${what}${suffix}`, {
        cause: lastError,
      });
    }
    await new Promise<void>((resolve) =>
      setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))),
    );
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? typeof err;
  } catch {
    return typeof err;
  }
}
