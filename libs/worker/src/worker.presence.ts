import { hostname } from 'node:os';

import {
  WORKER_HEARTBEAT_INTERVAL_MS,
  WorkerSubjects,
  randomId,
  type WorkerAnnouncement,
  type WorkerGoodbye,
} from '@baton/contracts';

/** Publishes one core NATS message (no reply, no storage). */
export type PresencePublish = (subject: string, body: Uint8Array) => void;

/** Timer functions, replaceable in tests. */
export interface PresenceTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** What {@link WorkerPresence} announces. */
export interface WorkerPresenceOptions {
  name: string;
  actions: string[];
  concurrency: number;
  version: string;
  publish: PresencePublish;
  /** Default: a fresh random id (a subject token). */
  workerId?: string;
  /** Default {@link WORKER_HEARTBEAT_INTERVAL_MS}. */
  intervalMs?: number;
  /** Default: the global timers. */
  timers?: PresenceTimers;
  /** Default: `new Date()`. */
  now?: () => Date;
  /** Called when a publish throws (a closed connection); presence is best effort. */
  onError?: (err: unknown) => void;
}

const encoder = new TextEncoder();

/**
 * A worker's presence for the scheduler's registry: announces on {@link start}
 * (`baton.workers.announce`), repeats the same body as a heartbeat every 5 s
 * (`baton.workers.heartbeat.<workerId>`) and says goodbye on {@link stop} (`baton.workers.goodbye.<workerId>`).
 * @internal
 */
export class WorkerPresence {
  readonly announcement: WorkerAnnouncement;
  private timer: unknown;
  private readonly timers: PresenceTimers;

  constructor(private readonly opts: WorkerPresenceOptions) {
    const now = opts.now ?? (() => new Date());
    this.timers = opts.timers ?? {
      setInterval: (fn, ms) => {
        const handle = setInterval(fn, ms);
        handle.unref();
        return handle;
      },
      clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
    };
    this.announcement = {
      workerId: opts.workerId ?? randomId(),
      name: opts.name,
      actions: [...opts.actions],
      concurrency: opts.concurrency,
      version: opts.version,
      startedAt: now().toISOString(),
      hostname: hostname(),
      pid: process.pid,
    };
  }

  /** Announces and starts the heartbeats. */
  start(): void {
    if (this.timer !== undefined) return;
    this.send(WorkerSubjects.announce, this.announcement);
    this.timer = this.timers.setInterval(
      () => this.send(WorkerSubjects.heartbeat(this.announcement.workerId), this.announcement),
      this.opts.intervalMs ?? WORKER_HEARTBEAT_INTERVAL_MS,
    );
  }

  /** Stops the heartbeats and says goodbye (only when started). */
  stop(): void {
    if (this.timer === undefined) return;
    this.timers.clearInterval(this.timer);
    this.timer = undefined;
    const goodbye: WorkerGoodbye = { workerId: this.announcement.workerId };
    this.send(WorkerSubjects.goodbye(this.announcement.workerId), goodbye);
  }

  private send(subject: string, body: unknown): void {
    try {
      this.opts.publish(subject, encoder.encode(JSON.stringify(body)));
    } catch (err) {
      this.opts.onError?.(err);
    }
  }
}
