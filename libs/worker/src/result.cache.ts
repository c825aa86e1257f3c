/** Headers of a message the SDK publishes: name -> value(s). */
export type PublishHeaders = Record<string, string | string[]>;

/** A result this process has published (or is publishing) for a task, kept to answer redeliveries. */
export type CachedOutcome =
  | {
      kind: 'result';
      subject: string;
      msgId: string;
      payload: Uint8Array;
      headers: PublishHeaders;
    }
  /** The handler threw CompleteAsyncError: nothing to publish, just ack again. */
  | { kind: 'async' };

/** Default bounds of the {@link ResultCache}. */
export const RESULT_CACHE_DEFAULTS = { maxEntries: 1024, maxBytes: 16 * 1024 * 1024 } as const;

/**
 * A small in-memory LRU of recent outcomes by task id, bounded by entry count and total payload bytes.
 * A redelivered task whose outcome is here is answered by re-publishing it (same `Nats-Msg-Id`) instead
 * of running the handler again.
 */
export class ResultCache {
  private readonly entries = new Map<string, CachedOutcome>();
  private bytes = 0;

  constructor(
    private readonly maxEntries: number = RESULT_CACHE_DEFAULTS.maxEntries,
    private readonly maxBytes: number = RESULT_CACHE_DEFAULTS.maxBytes,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The outcome of `taskId`, marking it most recently used. */
  get(taskId: string): CachedOutcome | undefined {
    const entry = this.entries.get(taskId);
    if (entry !== undefined) {
      this.entries.delete(taskId);
      this.entries.set(taskId, entry);
    }
    return entry;
  }

  set(taskId: string, outcome: CachedOutcome): void {
    this.remove(taskId);
    const size = sizeOf(outcome);
    if (size > this.maxBytes) return;
    this.entries.set(taskId, outcome);
    this.bytes += size;
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.remove(oldest.value);
    }
  }

  private remove(taskId: string): void {
    const existing = this.entries.get(taskId);
    if (existing === undefined) return;
    this.entries.delete(taskId);
    this.bytes -= sizeOf(existing);
  }
}

function sizeOf(outcome: CachedOutcome): number {
  return outcome.kind === 'result' ? outcome.payload.byteLength : 0;
}
