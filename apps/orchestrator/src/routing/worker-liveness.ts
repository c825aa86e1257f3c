import type { NatsConnection, Subscription } from '@nats-io/nats-core';

import { WORKER_HEARTBEAT_INTERVAL_MS, WorkerSubjects } from '@baton/contracts';
import type { WorkerAnnouncement, WorkerGoodbye } from '@baton/contracts';

/** A worker is live while its last announce or heartbeat is younger than this. */
export const LIVENESS_WINDOW_MS = 3 * WORKER_HEARTBEAT_INTERVAL_MS;

/**
 * Which actions have a live worker, from the workers' presence messages (announce, heartbeat every 5 s,
 * goodbye) on core NATS. Each orchestrator instance listens itself, so routing never asks another service.
 * Until the first heartbeats arrive after a start (one interval), every action counts as live.
 */
export class WorkerLiveness {
  private readonly seen = new Map<string, { actions: string[]; at: number }>();
  private subscriptions: Subscription[] = [];
  private startedAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  start(nc: NatsConnection): void {
    this.startedAt = this.now();
    const onPresence = (data: Uint8Array) => {
      try {
        const worker = JSON.parse(new TextDecoder().decode(data)) as WorkerAnnouncement;
        if (typeof worker.workerId === 'string' && Array.isArray(worker.actions)) this.observe(worker);
      } catch {
        // Presence messages are advisory: a malformed one is ignored.
      }
    };
    const onGoodbye = (data: Uint8Array) => {
      try {
        this.forget((JSON.parse(new TextDecoder().decode(data)) as WorkerGoodbye).workerId);
      } catch {
        // ignored, as above
      }
    };
    this.subscriptions = [
      nc.subscribe(WorkerSubjects.announce, { callback: (_e, m) => onPresence(m.data) }),
      nc.subscribe(WorkerSubjects.heartbeatAll, { callback: (_e, m) => onPresence(m.data) }),
      nc.subscribe(WorkerSubjects.goodbyeAll, { callback: (_e, m) => onGoodbye(m.data) }),
    ];
  }

  stop(): void {
    for (const s of this.subscriptions) s.unsubscribe();
    this.subscriptions = [];
  }

  observe(worker: Pick<WorkerAnnouncement, 'workerId' | 'actions'>): void {
    this.seen.set(worker.workerId, { actions: worker.actions, at: this.now() });
  }

  forget(workerId: string): void {
    this.seen.delete(workerId);
  }

  isLive(action: string): boolean {
    const now = this.now();
    if (now - this.startedAt < WORKER_HEARTBEAT_INTERVAL_MS + 1_000) return true;
    for (const [id, worker] of this.seen) {
      if (now - worker.at > LIVENESS_WINDOW_MS) {
        this.seen.delete(id);
        continue;
      }
      if (worker.actions.includes(action)) return true;
    }
    return false;
  }
}
