import type { KV } from '@nats-io/kv';

import { BatonError, ErrorCode } from '@baton/contracts';

import { serializeRecord } from './execution-engine';
import type { ExecutionRecord } from './execution.model';

/** One cached record: its KV revision and whether its outbox is known to be published. */
export interface StoredExecution {
  record: ExecutionRecord;
  kvRevision: number;
  /** True once this process published the record's outbox (so the next transition need not). */
  flushed: boolean;
  /** True when this process wrote the record (its outbox is certainly due), false when it was read. */
  writtenHere?: boolean;
}

/** JetStream's "wrong last sequence" API error: another writer changed the key first. */
const WRONG_LAST_SEQUENCE = 10071;

/**
 * Execution records in the KV bucket `baton_executions`, written with compare-and-set on the KV revision,
 * with a bounded in-memory cache of the latest record this process read or wrote.
 */
export class ExecutionStore {
  private readonly cache = new Map<string, StoredExecution>();

  constructor(
    private readonly kv: KV,
    private readonly cacheSize = 10_000,
  ) {}

  /** The latest record, from the cache or the bucket; `undefined` when none exists. */
  async load(id: string, opts: { bypassCache?: boolean } = {}): Promise<StoredExecution | undefined> {
    if (!opts.bypassCache) {
      const cached = this.cached(id);
      if (cached) return cached;
    }
    const entry = await this.kv.get(id);
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) {
      this.cache.delete(id);
      return undefined;
    }
    const cached = this.cache.get(id);
    if (cached && cached.kvRevision === entry.revision) return cached;
    const stored: StoredExecution = {
      record: entry.json<ExecutionRecord>(),
      kvRevision: entry.revision,
      flushed: false,
    };
    this.touch(id, stored);
    return stored;
  }

  /** The record in this process's cache, if any (no read from the bucket). */
  cached(id: string): StoredExecution | undefined {
    const cached = this.cache.get(id);
    if (cached) this.touch(id, cached);
    return cached;
  }

  /** Creates the record; `undefined` when an execution with this id already exists. */
  async create(record: ExecutionRecord): Promise<StoredExecution | undefined> {
    try {
      const kvRevision = await this.kv.create(record.id, serializeRecord(record));
      const stored = { record, kvRevision, flushed: false, writtenHere: true };
      this.touch(record.id, stored);
      return stored;
    } catch (err) {
      if (isWrongLastSequence(err)) return undefined;
      throw unavailable(err);
    }
  }

  /** Writes `record` if the key is still at `expected`; throws CONCURRENT_UPDATE otherwise. */
  async update(record: ExecutionRecord, expected: StoredExecution): Promise<StoredExecution> {
    try {
      const kvRevision = await this.kv.update(record.id, serializeRecord(record), expected.kvRevision);
      const stored = { record, kvRevision, flushed: false, writtenHere: true };
      this.touch(record.id, stored);
      return stored;
    } catch (err) {
      this.cache.delete(record.id);
      if (isWrongLastSequence(err)) {
        throw new BatonError(ErrorCode.CONCURRENT_UPDATE, `execution ${record.id} changed concurrently`, {
          retryable: true,
        });
      }
      throw unavailable(err);
    }
  }

  markFlushed(stored: StoredExecution): void {
    stored.flushed = true;
  }

  forget(id: string): void {
    this.cache.delete(id);
  }

  /** Every execution id in the bucket (for re-drive sweeps). */
  async *ids(): AsyncGenerator<string> {
    const keys = await this.kv.keys();
    for await (const key of keys) yield key;
  }

  private touch(id: string, stored: StoredExecution): void {
    this.cache.delete(id);
    this.cache.set(id, stored);
    if (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }
}

export function isWrongLastSequence(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  return (
    e?.code === WRONG_LAST_SEQUENCE ||
    (typeof e?.message === 'string' && e.message.includes('wrong last sequence'))
  );
}

function unavailable(err: unknown): BatonError {
  return new BatonError(
    ErrorCode.UNAVAILABLE,
    `execution store unavailable: ${(err as Error)?.message ?? err}`,
    {
      retryable: true,
      cause: err,
    },
  );
}
