import type { Msg, NatsConnection, Status } from '@nats-io/nats-core';

import {
  BatonError,
  ErrorCode,
  Streams,
  type TaskCancelNotice,
  isBatonError,
  taskDurable,
} from '@baton/contracts';

import type { ResultCache } from './result.cache';
import { bindTaskConsumer } from './task-consumer.binder';
import { NatsTaskDelivery } from './task-delivery';
import { TaskProcessor, type TaskTransport } from './task.processor';
import { TaskPuller } from './task.puller';
import type { WorkerFaults } from './worker.faults';
import { childLogger } from './worker.logger';
import type { TaskHandler, WorkerLogger } from './worker.types';

/** Settings of an {@link ActionRunner}. */
export interface ActionRunnerOptions {
  nc: NatsConnection;
  action: string;
  handler: TaskHandler;
  concurrency: number;
  /** Ack wait asked for when creating the consumer. */
  ackWaitMs: number;
  workerId: string;
  logger: WorkerLogger;
  transport: TaskTransport;
  cache: ResultCache;
  /** Crash points for fault-injection tests; default none. */
  faults?: WorkerFaults;
}

/**
 * Everything one action needs in a worker: binds its durable consumer (creating it when missing, waiting
 * for the stream when it does not exist yet), pulls within the concurrency bound, processes deliveries,
 * and binds again after a reconnect or when the consumer vanished.
 */
export class ActionRunner {
  readonly durable: string;
  private readonly processor: TaskProcessor;
  private readonly log: WorkerLogger;
  private readonly closeController = new AbortController();
  private puller: TaskPuller | undefined;
  private rebinding: Promise<void> | undefined;

  constructor(private readonly options: ActionRunnerOptions) {
    this.durable = taskDurable(options.action);
    this.log = childLogger(options.logger, { action: options.action, durable: this.durable });
    this.processor = new TaskProcessor(options.handler, options.transport, {
      action: options.action,
      stream: Streams.TASKS,
      durable: this.durable,
      workerId: options.workerId,
      ackWaitMs: options.ackWaitMs,
      logger: options.logger,
      cache: options.cache,
      ...(options.faults === undefined ? {} : { faults: options.faults }),
    });
  }

  /** Binds the consumer (retrying while that may help) and starts pulling. */
  async start(): Promise<void> {
    await this.bind(true);
    this.puller = new TaskPuller({
      nc: this.options.nc,
      stream: Streams.TASKS,
      durable: this.durable,
      concurrency: this.options.concurrency,
      logger: this.log,
      onMessage: (msg, release) => this.onMessage(msg, release),
      onStale: (reason) => this.rebind(reason),
    });
    if (!this.closing) this.puller.resume();
  }

  /** Reacts to the connection's status: pause while disconnected, bind again once reconnected. */
  onStatus(status: Status): void {
    if (this.closing || this.puller === undefined) return;
    if (status.type === 'disconnect') this.puller.pause();
    else if (status.type === 'reconnect') this.rebind('reconnected to NATS');
  }

  /** Stops pulling (running tasks go on). */
  async stopPulling(): Promise<void> {
    this.closeController.abort();
    await this.puller?.stop();
  }

  /** Resolves when no task of this action is being processed. */
  whenIdle(): Promise<void> {
    return this.processor.whenIdle();
  }

  /** Aborts running handlers and hands unfinished tasks back to the broker. */
  force(reason: string): void {
    this.processor.force(reason);
  }

  /** Aborts (or, arriving later, answers without running) the tasks a cancel notice names. */
  cancel(notice: TaskCancelNotice): void {
    this.processor.cancel(notice);
  }

  private get closing(): boolean {
    return this.closeController.signal.aborted;
  }

  private onMessage(msg: Msg, release: () => void): void {
    const delivery = NatsTaskDelivery.from(msg);
    if (delivery === undefined) {
      this.log.error(
        { subject: msg.subject, reply: msg.reply },
        'received a message that is not a JetStream delivery',
      );
      release();
      return;
    }
    void this.processor.process(delivery).finally(release);
  }

  private rebind(reason: string): void {
    if (this.closing || this.rebinding !== undefined) return;
    this.puller?.pause();
    this.log.info({ reason }, 'binding the consumer again');
    this.rebinding = this.bind(false)
      .then(() => {
        if (!this.closing) this.puller?.resume();
      })
      .catch((err: unknown) => {
        if (!this.closing) this.log.error({ err }, 'gave up binding the consumer');
      })
      .finally(() => {
        this.rebinding = undefined;
      });
  }

  /**
   * Binds the consumer, retrying with backoff. With `failFast`, an error that waiting cannot fix
   * (a consumer of the wrong shape) is thrown; otherwise every error is retried until it binds or closes.
   */
  private async bind(failFast: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.closing) {
        throw new BatonError(
          ErrorCode.UNAVAILABLE,
          `worker closed before the consumer ${this.durable} was bound`,
          {
            retryable: false,
          },
        );
      }
      try {
        const binding = await bindTaskConsumer(this.options.nc, this.options.action, this.options.ackWaitMs);
        const effective = Math.min(binding.ackWaitMs, this.options.ackWaitMs);
        this.processor.setAckWait(effective);
        if (binding.ackWaitMs !== this.options.ackWaitMs) {
          this.log.warn(
            { consumerAckWaitMs: binding.ackWaitMs, askedAckWaitMs: this.options.ackWaitMs },
            'the consumer exists with another ack wait; keeping it and heartbeating at half the smaller one',
          );
        }
        this.log.info({ created: binding.created, ackWaitMs: binding.ackWaitMs }, 'consumer bound');
        return;
      } catch (err) {
        const retryable = isBatonError(err) ? err.retryable : true;
        if (failFast && !retryable) throw err;
        if (attempt === 1 || attempt % 10 === 0) {
          this.log.warn({ err, attempt }, 'cannot bind the consumer yet; retrying');
        }
        await this.sleep(Math.min(10_000, 250 * 2 ** Math.min(attempt - 1, 10)));
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.closeController.signal;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
