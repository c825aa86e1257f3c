import { readFileSync } from 'node:fs';

import {
  type ConnectionOptions,
  type NatsConnection,
  type Subscription,
  credsAuthenticator,
} from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

import { BatonError, ErrorCode, Subjects, type TaskCancelNotice, actionToToken } from '@baton/contracts';

import { ActionRunner } from './action.runner';
import { JetStreamTaskTransport } from './jetstream.transport';
import { ResultCache } from './result.cache';
import { type ResolvedWorkerOptions, checkConcurrency, resolveWorkerOptions } from './worker.options';
import type { HandleOptions, TaskHandler, WorkerOptions } from './worker.types';
import { WORKER_VERSION } from './version';
import { ProcessWorkerFaults, WORKER_FAULTS_ENV } from './worker.faults';
import { WorkerPresence } from './worker.presence';

/** After the drain timeout and aborting handlers, how long `close()` still waits for them. */
const FORCED_GRACE_MS = 5_000;

type WorkerState = 'created' | 'starting' | 'started' | 'closing' | 'closed';

/**
 * A Baton worker: runs task handlers for actions, taking tasks from JetStream (one shared durable pull
 * consumer per action) and reporting results to the orchestrator (CONTRACT §5, docs/workers.md).
 *
 * ```ts
 * const worker = await Worker.connect({ servers: process.env.NATS_URL });
 * worker.handle('payments.charge', async (input, ctx) => ({ chargeId: `ch_${ctx.idempotencyKey}` }));
 * await worker.start();
 * process.once('SIGTERM', () => void worker.close());
 * ```
 */
export class Worker {
  /** This worker's name (its `workerId` in results). */
  readonly name: string;
  private readonly handlers = new Map<string, { handler: TaskHandler; concurrency: number }>();
  private readonly runners = new Map<string, ActionRunner>();
  private readonly transport: JetStreamTaskTransport;
  private readonly cache = new ResultCache();
  private state: WorkerState = 'created';
  private closing: Promise<void> | undefined;
  private presence: WorkerPresence | undefined;
  private cancellations: Subscription | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly options: ResolvedWorkerOptions,
    private readonly faults: ProcessWorkerFaults,
  ) {
    this.name = options.name;
    this.transport = new JetStreamTaskTransport(nc);
    void this.watchStatus();
  }

  /**
   * Id of this worker process in its presence messages (`baton.workers.heartbeat.<workerId>`), once
   * started; undefined before.
   */
  get workerId(): string | undefined {
    return this.presence?.announcement.workerId;
  }

  /**
   * Connects to NATS (reconnecting forever after a connection is lost) and returns a worker to register
   * handlers on. Throws VALIDATION_FAILED for bad options, or the connection error.
   */
  static async connect(options: WorkerOptions = {}): Promise<Worker> {
    const resolved = resolveWorkerOptions(options);
    let faults: ProcessWorkerFaults;
    try {
      faults = ProcessWorkerFaults.fromEnv();
    } catch (err) {
      throw new BatonError(ErrorCode.VALIDATION_FAILED, (err as Error).message, { retryable: false });
    }
    const connection: ConnectionOptions = {
      servers: resolved.servers,
      name: `baton-worker ${resolved.name}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
      pingInterval: 30_000,
      maxPingOut: 3,
      // No eager Error (and stack capture) per request: a large share of CPU under load.
      noAsyncTraces: true,
    };
    if (resolved.user !== undefined) {
      connection.user = resolved.user;
      connection.pass = resolved.password;
    }
    if (resolved.credsFile !== undefined) {
      connection.authenticator = credsAuthenticator(readFileSync(resolved.credsFile));
    }
    const nc = (await connect(connection)) as NatsConnection;
    resolved.logger.info(
      { worker: resolved.name, server: nc.getServer(), version: WORKER_VERSION },
      'worker connected to NATS',
    );
    if (faults.enabled) {
      resolved.logger.warn(
        { [WORKER_FAULTS_ENV]: process.env[WORKER_FAULTS_ENV] },
        'fault points are switched on: this worker will crash on purpose (tests only)',
      );
    }
    return new Worker(nc, resolved, faults);
  }

  /**
   * Registers the handler of `action` (dot-separated tokens of `[A-Za-z0-9-]`, e.g. `payments.charge`).
   * Register every handler before {@link start}. Throws VALIDATION_FAILED for a bad action or
   * concurrency, CONFLICT for a second handler of one action or a worker already started.
   */
  handle<I = unknown, O = unknown>(
    action: string,
    handler: TaskHandler<I, O>,
    options: HandleOptions = {},
  ): this {
    actionToToken(action);
    if (this.state !== 'created') {
      throw new BatonError(
        ErrorCode.CONFLICT,
        `cannot add a handler for ${action}: the worker is ${this.state}`,
        {
          retryable: false,
        },
      );
    }
    if (this.handlers.has(action)) {
      throw new BatonError(ErrorCode.CONFLICT, `a handler for ${action} is already registered`, {
        retryable: false,
      });
    }
    const concurrency = checkConcurrency(options.concurrency ?? this.options.concurrency, 'concurrency');
    this.handlers.set(action, { handler: handler as TaskHandler, concurrency });
    return this;
  }

  /**
   * Binds the durable consumer of every registered action (creating it when missing) and starts taking
   * tasks. When the task stream does not exist yet it waits for it, logging, until it appears or the
   * worker is closed. Rejects when a consumer exists with a shape workers cannot use (CONFLICT); the
   * worker is closed then.
   */
  async start(): Promise<void> {
    if (this.state !== 'created') {
      throw new BatonError(ErrorCode.CONFLICT, `cannot start: the worker is ${this.state}`, {
        retryable: false,
      });
    }
    if (this.handlers.size === 0) {
      throw new BatonError(ErrorCode.VALIDATION_FAILED, 'cannot start: no handler is registered', {
        retryable: false,
      });
    }
    this.state = 'starting';
    for (const [action, { handler, concurrency }] of this.handlers) {
      this.runners.set(
        action,
        new ActionRunner({
          nc: this.nc,
          action,
          handler,
          concurrency,
          ackWaitMs: this.options.ackWaitMs,
          workerId: this.name,
          logger: this.options.logger,
          transport: this.transport,
          cache: this.cache,
          faults: this.faults,
        }),
      );
    }
    this.listenForCancellations();
    try {
      await Promise.all([...this.runners.values()].map((runner) => runner.start()));
    } catch (err) {
      await this.close();
      throw err;
    }
    if (this.state === 'starting') {
      this.state = 'started';
      this.presence = new WorkerPresence({
        name: this.name,
        actions: [...this.handlers.keys()],
        concurrency: [...this.handlers.values()].reduce((sum, h) => sum + h.concurrency, 0),
        version: WORKER_VERSION,
        publish: (subject, data) => this.nc.publish(subject, data),
        onError: (err) => this.options.logger.warn({ worker: this.name, err }, 'presence publish failed'),
      });
      this.presence.start();
    }
    this.options.logger.info({ worker: this.name, actions: [...this.handlers.keys()] }, 'worker started');
  }

  /**
   * Stops taking tasks and drains: running handlers finish, their results are published and their tasks
   * acked, then the connection closes. Handlers still running after `drainTimeoutMs` have their `signal`
   * aborted; their tasks go back to the broker for another worker. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closing ??= this.drainAndClose();
    return this.closing;
  }

  private async drainAndClose(): Promise<void> {
    this.state = 'closing';
    this.presence?.stop();
    const log = this.options.logger;
    const runners = [...this.runners.values()];
    await Promise.all(runners.map((runner) => runner.stopPulling()));
    const idle = Promise.all(runners.map((runner) => runner.whenIdle()));
    if (!(await settlesWithin(idle, this.options.drainTimeoutMs))) {
      log.warn(
        { worker: this.name, drainTimeoutMs: this.options.drainTimeoutMs },
        'tasks still running after the drain timeout; aborting them',
      );
      for (const runner of runners) runner.force('the worker is closing');
      if (!(await settlesWithin(idle, FORCED_GRACE_MS))) {
        log.error({ worker: this.name }, 'handlers ignored their abort signal; closing without them');
      }
    }
    this.cancellations?.unsubscribe();
    try {
      await this.nc.drain();
    } catch {
      await this.nc.close().catch(() => undefined);
    }
    this.state = 'closed';
    log.info({ worker: this.name }, 'worker closed');
  }

  /**
   * Subscribes (core NATS) to the task cancel notices the orchestrator publishes when it terminates an
   * execution (`baton.events.task.cancelled.>`); each notice aborts the named tasks running here.
   */
  private listenForCancellations(): void {
    const log = this.options.logger;
    this.cancellations = this.nc.subscribe(Subjects.taskCancelledAll, {
      callback: (err, msg) => {
        if (err !== null) {
          log.warn({ worker: this.name, err }, 'cancel notice subscription failed');
          return;
        }
        const notice = parseCancelNotice(msg.data);
        if (notice === undefined) {
          log.warn({ worker: this.name, subject: msg.subject }, 'malformed task cancel notice ignored');
          return;
        }
        for (const runner of this.runners.values()) runner.cancel(notice);
      },
    });
  }

  private async watchStatus(): Promise<void> {
    const log = this.options.logger;
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect')
        log.warn({ worker: this.name, server: status.server }, 'disconnected from NATS');
      else if (status.type === 'reconnect')
        log.info({ worker: this.name, server: status.server }, 'reconnected to NATS');
      else if (status.type === 'error')
        log.error({ worker: this.name, err: status.error }, 'NATS connection error');
      for (const runner of this.runners.values()) runner.onStatus(status);
    }
  }
}

/** A TaskCancelNotice, or undefined when `data` is not one. */
export function parseCancelNotice(data: Uint8Array): TaskCancelNotice | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
  const v = value as Partial<TaskCancelNotice> | null;
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof v.executionId !== 'string' ||
    !Array.isArray(v.taskIds) ||
    !v.taskIds.every((id) => typeof id === 'string')
  ) {
    return undefined;
  }
  return {
    executionId: v.executionId,
    taskIds: v.taskIds,
    reason: typeof v.reason === 'string' ? v.reason : '',
  };
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
