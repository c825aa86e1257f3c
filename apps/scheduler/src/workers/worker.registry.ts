import type { WorkerAnnouncement } from '@baton/contracts';

import type { Clock } from '../due-loop';

/** A worker seen within this bound is `live`. */
export const WORKER_LIVE_MS = 15_000;
/** A worker not seen for this long is forgotten. */
export const WORKER_FORGET_MS = 5 * 60_000;

/** Status of a known worker. */
export const WorkerStatus = { LIVE: 'live', STALE: 'stale' } as const;
export type WorkerStatus = (typeof WorkerStatus)[keyof typeof WorkerStatus];

/** One item of `GET /v1/workers`. */
export interface WorkerView {
  workerId: string;
  name: string;
  actions: string[];
  concurrency: number;
  version: string;
  lastSeenAt: string;
  status: WorkerStatus;
}

function isAnnouncement(value: unknown): value is WorkerAnnouncement {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.workerId === 'string' &&
    v.workerId.length > 0 &&
    typeof v.name === 'string' &&
    Array.isArray(v.actions) &&
    v.actions.every((a) => typeof a === 'string') &&
    typeof v.concurrency === 'number' &&
    typeof v.version === 'string'
  );
}

/**
 * Workers known from their presence messages, in memory: rebuilt from heartbeats after a restart (every
 * heartbeat carries the whole announcement). Live within {@link WORKER_LIVE_MS} of the last message, stale
 * after, forgotten after {@link WORKER_FORGET_MS} or on goodbye.
 */
export class WorkerRegistry {
  private readonly workers = new Map<string, { worker: WorkerAnnouncement; lastSeenMs: number }>();

  constructor(private readonly clock: Clock) {}

  /** Records an announcement or heartbeat; ignores malformed ones. Returns whether it was recorded. */
  seen(body: unknown): boolean {
    if (!isAnnouncement(body)) return false;
    this.workers.set(body.workerId, { worker: body, lastSeenMs: this.clock.now() });
    return true;
  }

  /** Forgets a worker that said goodbye. */
  gone(workerId: string): void {
    this.workers.delete(workerId);
  }

  /** Known workers by name, then id; forgets those unseen for too long. */
  list(): WorkerView[] {
    const now = this.clock.now();
    const items: WorkerView[] = [];
    for (const [id, { worker, lastSeenMs }] of this.workers) {
      const age = now - lastSeenMs;
      if (age > WORKER_FORGET_MS) {
        this.workers.delete(id);
        continue;
      }
      items.push({
        workerId: worker.workerId,
        name: worker.name,
        actions: [...worker.actions],
        concurrency: worker.concurrency,
        version: worker.version,
        lastSeenAt: new Date(lastSeenMs).toISOString(),
        status: age <= WORKER_LIVE_MS ? WorkerStatus.LIVE : WorkerStatus.STALE,
      });
    }
    return items.sort((a, b) => a.name.localeCompare(b.name) || a.workerId.localeCompare(b.workerId));
  }

  /** Live workers serving `action`. */
  liveFor(action: string): number {
    return this.list().filter((w) => w.status === WorkerStatus.LIVE && w.actions.includes(action)).length;
  }
}
