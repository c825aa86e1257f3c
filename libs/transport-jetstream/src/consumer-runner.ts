import {
  type Consumer,
  type ConsumerMessages,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

import type { ResolvedConsumerOptions } from './consumer-options';
import { type MessageProcessor, type TransportLogger, describeFailure } from './message-processor';
import { type ConsumerSpec, ensureConsumerWith } from './topology';

/** Tuning of the pull loop. @internal */
export interface ConsumerRunnerTuning {
  /** Lifetime of one pull request on the server (min 1000 ms); default 5000. */
  fetchExpiresMs?: number;
  /** Longest pause between attempts after failures; default 5000. */
  maxRetryDelayMs?: number;
}

/** The consumer spec a handler's options stand for (the server-side delivery limit stays unlimited). */
export function consumerSpecOf(options: ResolvedConsumerOptions): ConsumerSpec {
  return {
    stream: options.stream,
    durable: options.durable,
    filterSubject: options.filterSubject,
    ackWaitMs: options.ackWaitMs,
    // The transport counts deliveries itself and dead-letters at `maxDeliver`; the server must keep
    // redelivering past it, or a message whose last delivery timed out would be dropped silently.
    maxDeliver: -1,
    ...(options.deliverPolicy === undefined ? {} : { deliverPolicy: options.deliverPolicy }),
  };
}

/**
 * Pulls one durable consumer and hands messages to a {@link MessageProcessor}, never holding more than
 * `concurrency` delivered-but-unfinished messages: it only asks the server for as many messages as it
 * has free slots (several small pull requests may be open at once), so nothing waits in a local buffer
 * while its ack wait runs. Pull failures (server restart, consumer deleted, heartbeats missed) are
 * retried with backoff, re-declaring the consumer, until {@link ConsumerRunner.stop}.
 *
 * With `lingerMs` (batched delivery) one pull is open at a time, sized to the consumer's backlog
 * (`num_pending`, a pull of one when there is none, which also takes redeliveries); after a batch that
 * emptied the backlog, the next pull waits `lingerMs` from the batch's first message, so what is stored
 * meanwhile arrives together.
 */
export class ConsumerRunner {
  private readonly fetchExpiresMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly minBatch: number;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly fetches = new Set<ConsumerMessages>();
  private requested = 0;
  private consumer: Consumer | undefined;
  private stopping = false;
  private failures = 0;
  private retryAt = 0;
  private wakeUp: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  /** Batched delivery: no pull before this time (epoch ms). */
  private lingerUntil = 0;
  /** Batched delivery: the open pull asked for less than the backlog (pull again without lingering). */
  private backlog = false;
  private pullCount = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: ResolvedConsumerOptions,
    private readonly processor: MessageProcessor,
    private readonly logger?: TransportLogger,
    tuning: ConsumerRunnerTuning = {},
  ) {
    this.fetchExpiresMs = Math.max(1000, tuning.fetchExpiresMs ?? 5000);
    this.maxRetryDelayMs = Math.max(10, tuning.maxRetryDelayMs ?? 5000);
    this.minBatch = Math.max(1, Math.floor(options.concurrency / 4));
  }

  /** Messages handed to the processor and not finished yet. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Pull requests sent so far. */
  get pulls(): number {
    return this.pullCount;
  }

  /** Declares the consumer (throws when that fails) and starts pulling. */
  async start(): Promise<void> {
    await this.declare();
    this.loopDone = this.loop();
  }

  /**
   * Stops pulling and waits for in-flight messages until `deadline` (epoch ms). Returns whether all of
   * them finished; the rest lose their automatic `working()` and will be redelivered after ack wait.
   */
  async stop(deadline: number): Promise<boolean> {
    this.stopping = true;
    this.wake();
    await Promise.all([...this.fetches].map((f) => f.close().catch(() => undefined)));
    await this.loopDone;
    const pending = [...this.inFlight];
    if (pending.length === 0) {
      if (!this.nc.isClosed()) await this.nc.flush().catch(() => undefined);
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.allSettled(pending).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    if (!drained) this.processor.abandonInFlight();
    // Acks go out without confirmation: make sure the server has them before stop() returns.
    if (!this.nc.isClosed()) await this.nc.flush().catch(() => undefined);
    return drained;
  }

  private async declare(): Promise<void> {
    const jsm = await jetstreamManager(this.nc, { checkAPI: false });
    await ensureConsumerWith(jsm, consumerSpecOf(this.options));
    this.consumer = await jetstream(this.nc).consumers.get(this.options.stream, this.options.durable);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      if (this.nc.isClosed()) {
        this.logger?.warn({
          msg: 'jetstream: connection closed; pulling stopped',
          durable: this.options.durable,
        });
        break;
      }
      const waitMs = this.retryAt - Date.now();
      if (waitMs > 0) {
        await this.sleep(waitMs);
        continue;
      }
      const free = this.options.concurrency - this.inFlight.size - this.requested;
      const batched = this.options.lingerMs > 0;
      if (free <= 0 || (this.fetches.size > 0 && (batched || free < this.minBatch))) {
        await this.sleep();
        continue;
      }
      const lingerMs = batched ? this.lingerUntil - Date.now() : 0;
      if (lingerMs > 0) {
        await this.sleep(lingerMs);
        continue;
      }
      try {
        if (this.consumer === undefined) await this.declare();
        const consumer = this.consumer as Consumer;
        let size = free;
        if (batched) {
          const pending = (await consumer.info()).num_pending;
          // Nothing stored yet: a pull of one wakes on the next message (or a redelivery).
          size = pending > 0 ? Math.min(free, pending) : 1;
          this.backlog = pending > free;
        }
        const batch = await consumer.fetch({ max_messages: size, expires: this.fetchExpiresMs });
        this.pullCount++;
        if (this.stopping) {
          await batch.close().catch(() => undefined);
          break;
        }
        this.requested += size;
        this.fetches.add(batch);
        void this.receive(batch, size);
      } catch (err) {
        this.failed(err);
      }
    }
  }

  private async receive(batch: ConsumerMessages, size: number): Promise<void> {
    let remaining = size;
    let failure: unknown;
    try {
      for await (const msg of batch) {
        if (remaining === size && this.options.lingerMs > 0 && !this.backlog) {
          this.lingerUntil = Date.now() + this.options.lingerMs;
        }
        remaining--;
        this.requested--;
        this.failures = 0;
        this.dispatch(msg);
      }
    } catch (err) {
      failure = err;
    } finally {
      this.requested -= remaining;
      this.fetches.delete(batch);
    }
    if (failure === undefined) this.failures = 0;
    else if (!this.stopping) this.failed(failure);
    this.wake();
  }

  private dispatch(msg: JsMsg): void {
    if (this.stopping) {
      // Arrived while draining: give it back at once for another instance.
      try {
        msg.nak();
      } catch {
        // The connection is gone; the ack wait will redeliver it.
      }
      return;
    }
    const work: Promise<unknown> = this.processor
      .process(msg)
      .catch((err: unknown) => {
        this.logger?.error({
          msg: 'jetstream: processing failed',
          durable: this.options.durable,
          error: describeFailure(err).message,
        });
      })
      .finally(() => {
        this.inFlight.delete(work);
        this.wake();
      });
    this.inFlight.add(work);
  }

  private failed(err: unknown): void {
    this.failures++;
    this.consumer = undefined;
    const delayMs = Math.min(this.maxRetryDelayMs, 100 * 2 ** Math.min(this.failures - 1, 10));
    this.retryAt = Date.now() + delayMs;
    this.logger?.warn({
      msg: 'jetstream: pulling failed; retrying',
      stream: this.options.stream,
      durable: this.options.durable,
      error: describeFailure(err).message,
      failures: this.failures,
      delayMs,
    });
    this.wake();
  }

  private wake(): void {
    this.wakeUp?.();
  }

  /** Sleeps until woken (a slot freed, a fetch ended, stop) or for `ms` when given. Only the loop sleeps. */
  private sleep(ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      if (ms !== undefined) timer = setTimeout(done, ms);
    });
  }
}
