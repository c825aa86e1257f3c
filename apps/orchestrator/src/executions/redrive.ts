import { isTerminalExecutionStatus } from '@baton/contracts';

import type { OutboxPublisher } from './execution-runner';
import type { OutboxEntry } from './execution.model';
import type { ExecutionStore } from './execution-store';

/** Message counts per subject of the task stream (work queue: a message present is pending or in flight). */
export interface TaskBacklog {
  countsBySubject(): Promise<Map<string, number>>;
}

export interface RedriveOptions {
  /** A non-terminal execution untouched this long is re-driven. */
  staleAfterMs: number;
  now?: () => number;
}

export interface RedriveReport {
  scanned: number;
  stale: number;
  republished: number;
  tasksRepublished: number;
  tasksStillQueued: number;
}

/**
 * Finds executions whose progress may depend on a message the broker lost (ADR 0007) and re-publishes their
 * last outbox with the same message ids. A task is re-published only when its subject holds no message in
 * the work-queue stream (so it is neither queued nor in flight): a slow or absent worker never receives
 * copies. History batches and notices are idempotent for their readers and are always re-published.
 */
export class Redriver {
  private readonly lastRedrive = new Map<string, number>();
  private readonly now: () => number;

  constructor(
    private readonly store: ExecutionStore,
    private readonly publisher: OutboxPublisher,
    private readonly backlog: TaskBacklog,
    private readonly options: RedriveOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async sweep(): Promise<RedriveReport> {
    const report: RedriveReport = {
      scanned: 0,
      stale: 0,
      republished: 0,
      tasksRepublished: 0,
      tasksStillQueued: 0,
    };
    let counts: Map<string, number> | undefined;
    const now = this.now();
    for await (const id of this.store.ids()) {
      report.scanned++;
      const stored = await this.store.load(id, { bypassCache: true });
      if (!stored) continue;
      const { record } = stored;
      if (isTerminalExecutionStatus(record.status) || record.parked) {
        // Parked executions wait for an operator: their escalation was published, and is not repeated.
        this.lastRedrive.delete(id);
        continue;
      }
      const idleFor = now - Date.parse(record.updatedAt);
      if (idleFor < this.options.staleAfterMs) continue;
      const last = this.lastRedrive.get(`${id}:${record.revision}`);
      if (last !== undefined && now - last < this.options.staleAfterMs) continue;
      report.stale++;
      counts ??= await this.backlog.countsBySubject();
      const entries: OutboxEntry[] = [];
      for (const entry of record.outbox) {
        if (entry.subject.startsWith('baton.tasks.')) {
          if ((counts.get(entry.subject) ?? 0) > 0) {
            report.tasksStillQueued++;
            continue;
          }
          report.tasksRepublished++;
        }
        entries.push(entry);
      }
      await Promise.all(
        entries.map((entry) =>
          this.publisher.publish(entry.subject, entry.body, {
            msgId: entry.msgId,
            ...(entry.headers ? { headers: entry.headers } : {}),
          }),
        ),
      );
      report.republished += entries.length;
      this.lastRedrive.set(`${id}:${record.revision}`, now);
    }
    return report;
  }
}
