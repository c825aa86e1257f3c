import { BatonError, ErrorCode } from '@baton/contracts';

import { DatabaseErrorKind, classifyDatabaseError, toBatonDatabaseError } from './database-errors';

/**
 * Deliveries a consumer feeding a {@link GroupCommitter} should hold at once: enough to fill one group
 * while `maxConcurrentGroups` others commit, so that under load a group is written as soon as it is full
 * instead of waiting out its delay; at most `limit` (the consumer's limit of unacknowledged messages).
 */
export function deliveriesForGroups(
  maxGroupSize: number,
  maxConcurrentGroups: number,
  limit: number,
): number {
  return Math.max(1, Math.min(limit, Math.max(1, maxGroupSize) * (Math.max(1, maxConcurrentGroups) + 1)));
}

/** How one group transaction ended. */
export const GroupOutcome = {
  /** Every item of the group committed in one transaction. */
  COMMITTED: 'committed',
  /** The group transaction failed; its items were retried one by one (some may have failed). */
  ISOLATED: 'isolated',
  /** The group failed as a whole (database unavailable, or a group of one); every item was rejected. */
  FAILED: 'failed',
} as const;
export type GroupOutcome = (typeof GroupOutcome)[keyof typeof GroupOutcome];

/** Reported after each group. */
export interface GroupReport {
  /** Items in the group. */
  size: number;
  /** Time from the start of the group's transaction to the end of its last write, in seconds. */
  durationSeconds: number;
  outcome: GroupOutcome;
}

/** Options of a {@link GroupCommitter}. */
export interface GroupCommitterOptions<Item, Result> {
  /** What is written, for the "closed" error (`<name> is closed`). */
  name: string;
  /** Most items written in one transaction (at least 1). */
  maxGroupSize: number;
  /** Most {@link sizeOf} summed over one group (default unbounded); a larger item is written alone. */
  maxGroupBytes?: number;
  /** How long the first item of a group waits for company before the group is written, in ms. */
  maxDelayMs: number;
  /** Group transactions running at the same time (at least 1). */
  maxConcurrentGroups: number;
  /**
   * The result of an item that needs no transaction (it resolves at once, without queueing), or
   * `undefined` for an item to write (default: every item is written).
   */
  settle?: (item: Item) => Result | undefined;
  /** Size of an item, counted against {@link maxGroupBytes} (default 0). */
  sizeOf?: (item: Item) => number;
  /** What writing an item is, for the message of its database error. */
  describe: (item: Item) => string;
  /** Called after each group (exceptions thrown by it are ignored). */
  onGroup?: (report: GroupReport) => void;
}

interface Pending<Item, Result> {
  item: Item;
  bytes: number;
  resolve: (result: Result) => void;
  reject: (err: BatonError) => void;
}

/**
 * Base of a group-committing writer (a subclass implements {@link writeGroup}, and offers its own
 * `write` that checks what it receives and calls {@link submit}).
 *
 * Group commit: items submitted within `maxDelayMs` of each other (up to `maxGroupSize` items and
 * `maxGroupBytes`) are written in one transaction, at most `maxConcurrentGroups` transactions at a time.
 *
 * - Each {@link submit} resolves only after its group committed, and rejects when it fails.
 * - A failing group does not poison the others: unless the database is unreachable, its items are
 *   retried one per transaction; an item the database rejects as data (SQLSTATE class 22/23) is rejected
 *   with a non-retryable `VALIDATION_FAILED`, an unreachable database with a retryable `UNAVAILABLE`
 *   (see `toBatonDatabaseError`).
 * - {@link close} stops accepting items and writes the queued ones.
 */
export abstract class GroupCommitter<Item, Result> {
  private readonly name: string;
  private readonly maxGroupSize: number;
  private readonly maxGroupBytes: number;
  private readonly maxDelayMs: number;
  private readonly maxConcurrentGroups: number;
  private readonly settle: (item: Item) => Result | undefined;
  private readonly sizeOf: (item: Item) => number;
  private readonly describe: (item: Item) => string;
  private readonly onGroup?: (report: GroupReport) => void;
  private queue: Pending<Item, Result>[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The queued items have waited long enough: write them as soon as a slot is free. */
  private due = false;
  private inFlight = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  protected constructor(opts: GroupCommitterOptions<Item, Result>) {
    this.name = opts.name;
    this.maxGroupSize = Math.max(1, opts.maxGroupSize);
    this.maxGroupBytes = Math.max(1, opts.maxGroupBytes ?? Number.POSITIVE_INFINITY);
    this.maxDelayMs = Math.max(0, opts.maxDelayMs);
    this.maxConcurrentGroups = Math.max(1, opts.maxConcurrentGroups);
    this.settle = opts.settle ?? (() => undefined);
    this.sizeOf = opts.sizeOf ?? (() => 0);
    this.describe = opts.describe;
    this.onGroup = opts.onGroup;
  }

  /** Items waiting for, or inside, a group transaction. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  /**
   * Prepares one item with `prepare` (which checks and maps what was received) and queues it; resolves
   * with its result once its group committed. Rejects at once, without calling `prepare`, with a
   * retryable `UNAVAILABLE` after {@link close}, and with what `prepare` throws.
   */
  protected submit(prepare: () => Item): Promise<Result> {
    if (this.closed) {
      return Promise.reject(
        new BatonError(ErrorCode.UNAVAILABLE, `${this.name} is closed`, { retryable: true }),
      );
    }
    let item: Item;
    try {
      item = prepare();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const settled = this.settle(item);
    if (settled !== undefined) return Promise.resolve(settled);
    const bytes = this.sizeOf(item);
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ item, bytes, resolve, reject });
      this.queuedBytes += bytes;
      if (this.queue.length >= this.maxGroupSize || this.queuedBytes >= this.maxGroupBytes) {
        this.due = true;
      } else if (this.timer === undefined && !this.due) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.due = true;
          this.pump();
        }, this.maxDelayMs);
      }
      this.pump();
    });
  }

  /**
   * Writes the items in ONE transaction and returns one result per item, in order. Also called with a
   * single item to retry the items of a failed group one by one.
   */
  protected abstract writeGroup(items: Item[]): Promise<readonly Result[]>;

  /** Stops accepting items, writes the queued ones and resolves when every group has finished. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.due = true;
    this.pump();
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.due && this.queue.length > 0 && this.inFlight < this.maxConcurrentGroups) {
      const group = this.takeGroup();
      this.inFlight++;
      void this.runGroup(group).finally(() => {
        this.inFlight--;
        // Whatever queued meanwhile has waited for a whole transaction: it is due now.
        if (this.queue.length > 0) this.due = true;
        this.pump();
      });
    }
    if (this.queue.length === 0) {
      if (!this.closed) this.due = false;
      if (this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
    if (this.due && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** The next group: up to `maxGroupSize` items and `maxGroupBytes` (at least one item). */
  private takeGroup(): Pending<Item, Result>[] {
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && count < this.maxGroupSize) {
      const next = this.queue[count].bytes;
      if (count > 0 && bytes + next > this.maxGroupBytes) break;
      bytes += next;
      count++;
    }
    this.queuedBytes -= bytes;
    return this.queue.splice(0, count);
  }

  private async runGroup(group: Pending<Item, Result>[]): Promise<void> {
    const started = process.hrtime.bigint();
    let outcome: GroupOutcome = GroupOutcome.COMMITTED;
    try {
      const results = await this.writeGroup(group.map((p) => p.item));
      group.forEach((p, i) => p.resolve(results[i]));
    } catch (err) {
      if (group.length === 1 || classifyDatabaseError(err) === DatabaseErrorKind.UNAVAILABLE) {
        outcome = GroupOutcome.FAILED;
        for (const p of group) this.fail(p, err);
      } else {
        outcome = GroupOutcome.ISOLATED;
        await this.isolate(group);
      }
    }
    const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    try {
      this.onGroup?.({ size: group.length, durationSeconds, outcome });
    } catch {
      // Reporting must never affect writes.
    }
  }

  /** Writes each item of a failed group in its own transaction, to find the bad one(s). */
  private async isolate(group: Pending<Item, Result>[]): Promise<void> {
    for (let i = 0; i < group.length; i++) {
      const p = group[i];
      try {
        const [result] = await this.writeGroup([p.item]);
        p.resolve(result);
      } catch (err) {
        this.fail(p, err);
        if (classifyDatabaseError(err) === DatabaseErrorKind.UNAVAILABLE) {
          // The database went away: the rest would fail the same way; let them be redelivered.
          for (const rest of group.slice(i + 1)) this.fail(rest, err);
          return;
        }
      }
    }
  }

  private fail(p: Pending<Item, Result>, err: unknown): void {
    p.reject(toBatonDatabaseError(err, this.describe(p.item)));
  }
}
