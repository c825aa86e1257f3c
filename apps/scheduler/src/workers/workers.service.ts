import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';

import { Streams, WorkerSubjects } from '@baton/contracts';
import { NATS_CONNECTION } from '@baton/service-kit';

import { systemClock } from '../due-loop';
import { WorkerRegistry, type WorkerView } from './worker.registry';

/** One item of `GET /v1/queues`: a task queue (one action's durable consumer on BATON_TASKS). */
export interface QueueView {
  action: string;
  durable: string;
  /** Tasks not yet delivered (`num_pending`). */
  pending: number;
  /** Delivered, not yet acked (`num_ack_pending`). */
  inFlight: number;
  /** Delivered more than once (`num_redelivered`). */
  redelivered: number;
  /** Live workers serving the action. */
  consumers: number;
  /** Pull requests waiting (`num_waiting`). */
  waiting: number;
}

const TASK_SUBJECT_PREFIX = 'baton.tasks.';
const decoder = new TextDecoder();

/**
 * Workers (from their presence messages on core NATS) and task queues (consumer info of `task_*` on
 * BATON_TASKS), for `GET /v1/workers` and `GET /v1/queues`.
 */
@Injectable()
export class WorkersService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('Workers');
  readonly registry = new WorkerRegistry(systemClock);
  private readonly subscriptions: Subscription[] = [];

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  onModuleInit(): void {
    const onPresence = (err: Error | null, data: Uint8Array) => {
      if (err) {
        this.logger.warn({ err }, 'presence subscription failed');
        return;
      }
      try {
        this.registry.seen(JSON.parse(decoder.decode(data)) as unknown);
      } catch {
        // A malformed presence message is ignored: the next heartbeat repeats it.
      }
    };
    this.subscriptions.push(
      this.nc.subscribe(WorkerSubjects.announce, { callback: (err, msg) => onPresence(err, msg.data) }),
      this.nc.subscribe(WorkerSubjects.heartbeatAll, { callback: (err, msg) => onPresence(err, msg.data) }),
      this.nc.subscribe(WorkerSubjects.goodbyeAll, {
        callback: (err, msg) => {
          if (!err) this.registry.gone(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
        },
      }),
    );
  }

  beforeApplicationShutdown(): void {
    for (const sub of this.subscriptions.splice(0)) sub.unsubscribe();
  }

  /** `GET /v1/workers` / `workers.list`. */
  listWorkers(): Promise<{ items: WorkerView[] }> {
    return Promise.resolve({ items: this.registry.list() });
  }

  /** `GET /v1/queues` / `queues.list`: empty while BATON_TASKS does not exist. */
  async listQueues(): Promise<{ items: QueueView[] }> {
    const jsm = await jetstreamManager(this.nc);
    const streams: string[] = [];
    for await (const name of jsm.streams.names()) streams.push(name);
    if (!streams.includes(Streams.TASKS)) return { items: [] };
    const items: QueueView[] = [];
    for await (const ci of jsm.consumers.list(Streams.TASKS)) {
      if (!ci.name.startsWith('task_')) continue;
      const filter = ci.config.filter_subject ?? '';
      const action = filter.startsWith(TASK_SUBJECT_PREFIX)
        ? filter.slice(TASK_SUBJECT_PREFIX.length)
        : ci.name;
      items.push({
        action,
        durable: ci.name,
        pending: ci.num_pending,
        inFlight: ci.num_ack_pending,
        redelivered: ci.num_redelivered,
        consumers: this.registry.liveFor(action),
        waiting: ci.num_waiting,
      });
    }
    return { items: items.sort((a, b) => a.action.localeCompare(b.action)) };
  }
}
