import { type CustomTransportStrategy, type MessageHandler, Server } from '@nestjs/microservices';
import type { NatsConnection } from '@nats-io/nats-core';
import { isObservable, lastValueFrom } from 'rxjs';

import { BatonError, ErrorCode, type IngressLimits } from '@baton/contracts';

import {
  type ConsumerOptions,
  type ResolvedConsumerOptions,
  resolveConsumerOptions,
} from './consumer-options';
import { ConsumerRunner, type ConsumerRunnerTuning } from './consumer-runner';
import { JETSTREAM_EXTRAS_KEY, JETSTREAM_TRANSPORT } from './jetstream-consumer.decorator';
import { type JetStreamContext, takeHandlerError } from './jetstream.context';
import { JetStreamPublisher } from './jetstream.publisher';
import {
  MessageProcessor,
  type MessageOutcome,
  type ProcessHandler,
  describeFailure,
} from './message-processor';

/** Status of the server, as emitted by `status` (Nest's `Server` API). */
export const JetStreamServerStatus = {
  CONNECTED: 'connected',
  DISCONNECTED: 'disconnected',
  RECONNECTING: 'reconnecting',
  CLOSED: 'closed',
} as const;
export type JetStreamServerStatus = (typeof JetStreamServerStatus)[keyof typeof JetStreamServerStatus];

/** Events of {@link JetStreamServer.on}. */
export type JetStreamServerEvents = {
  /** One delivery finished (same as `onOutcome`). */
  outcome: (outcome: MessageOutcome) => void;
  /** A NATS connection status event (`disconnect`, `reconnect`, ...). */
  status: (status: { type: string }) => void;
};

/** Options of {@link JetStreamServer}. */
export interface JetStreamServerOptions {
  /** The NATS connection; owned by the caller, who closes it (after the server, e.g. in `onApplicationShutdown`). */
  connection: () => Promise<NatsConnection> | NatsConnection;
  /** Payload limits (default `DEFAULT_LIMITS`). */
  limits?: IngressLimits;
  /** How long `close()` waits for in-flight handlers; default 10000. */
  drainTimeoutMs?: number;
  /** Called once per delivery with what happened to it (metrics). */
  onOutcome?: (o: MessageOutcome) => void;
  /**
   * Per-durable settings that replace the decorator's (from configuration at start, e.g. concurrency):
   * `{ orchestrator: { concurrency: 512 } }`.
   */
  consumerOverrides?: Readonly<Record<string, ConsumerOverride>>;
  /** @internal Pull-loop tuning (tests). */
  tuning?: ConsumerRunnerTuning;
}

/** The consumer settings that configuration may override per durable. */
export type ConsumerOverride = Partial<
  Pick<ConsumerOptions, 'concurrency' | 'ackWaitMs' | 'maxDeliver' | 'lingerMs'>
>;

/**
 * Nest transport over JetStream durable pull consumers. Serves every method decorated with
 * `@JetStreamConsumer`: declares its consumer, pulls with bounded concurrency, acks after the handler
 * resolved, naks with backoff on retryable errors, dead-letters terminal and exhausted messages to
 * BATON_DLQ, traces each delivery as a CONSUMER span, and drains in-flight work on `close()`.
 *
 * ```ts
 * app.connectMicroservice({ strategy: new JetStreamServer({ connection: () => nc }) });
 * ```
 */
export class JetStreamServer
  extends Server<JetStreamServerEvents, JetStreamServerStatus>
  implements CustomTransportStrategy
{
  override transportId: symbol = JETSTREAM_TRANSPORT;
  /** The transport awaits handlers and sees their errors itself. */
  override readonly propagatesEventHandlerErrors = true;

  private nc: NatsConnection | undefined;
  private runners: ConsumerRunner[] = [];
  private readonly listeners: { [K in keyof JetStreamServerEvents]: JetStreamServerEvents[K][] } = {
    outcome: [],
    status: [],
  };
  private closing: Promise<void> | undefined;

  constructor(private readonly options: JetStreamServerOptions) {
    super();
    this.initializeSerializer({});
    this.initializeDeserializer({});
  }

  /** Declares the consumers and starts pulling; calls back with an error when a consumer cannot be declared. */
  async listen(callback: (...optionalParams: unknown[]) => unknown): Promise<void> {
    try {
      await this.start();
      callback();
    } catch (err) {
      callback(err);
    }
  }

  /**
   * Stops pulling and waits up to `drainTimeoutMs` for in-flight handlers. Leaves the NATS connection
   * open: its owner closes it.
   */
  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  /** Registers a listener for `outcome` or `status` events. */
  on<
    EventKey extends keyof JetStreamServerEvents = keyof JetStreamServerEvents,
    EventCallback extends JetStreamServerEvents[EventKey] = JetStreamServerEvents[EventKey],
  >(event: EventKey, callback: EventCallback): void {
    const list = this.listeners[event] as EventCallback[] | undefined;
    if (list === undefined) throw new BatonError(ErrorCode.BAD_REQUEST, `unknown event ${String(event)}`);
    list.push(callback);
  }

  /** The NATS connection (once listening). */
  unwrap<T = NatsConnection>(): T {
    if (this.nc === undefined) {
      throw new BatonError(ErrorCode.UNAVAILABLE, 'JetStreamServer is not listening; call listen() first');
    }
    return this.nc as T;
  }

  /** Consumers served by this server (after `listen`). */
  consumers(): ResolvedConsumerOptions[] {
    return this.handlerEntries().map(([, options]) => options);
  }

  private handlerEntries(): [MessageHandler, ResolvedConsumerOptions][] {
    const entries: [MessageHandler, ResolvedConsumerOptions][] = [];
    for (const handler of this.messageHandlers.values()) {
      const opts = handler.extras?.[JETSTREAM_EXTRAS_KEY] as ConsumerOptions | undefined;
      if (opts === undefined) continue;
      if (handler.next !== undefined) {
        throw new BatonError(
          ErrorCode.CONFLICT,
          `consumer ${opts.stream}/${opts.durable} has more than one @JetStreamConsumer handler`,
          { retryable: false },
        );
      }
      const override = this.options.consumerOverrides?.[opts.durable];
      entries.push([handler, resolveConsumerOptions(override ? { ...opts, ...override } : opts)]);
    }
    return entries;
  }

  private async start(): Promise<void> {
    const nc = await this.options.connection();
    this.nc = nc;
    this.watchStatus(nc);
    const publisher = new JetStreamPublisher(nc);
    const entries = this.handlerEntries();
    const runners = entries.map(([handler, options]) => {
      const processor = new MessageProcessor(options, this.invoker(handler), {
        publisher,
        ...(this.options.limits === undefined ? {} : { limits: this.options.limits }),
        maxPayloadBytes: () => nc.info?.max_payload ?? 1024 * 1024,
        serverVersion: () => nc.info?.version,
        onOutcome: (o) => this.emitOutcome(o),
        logger: this.logger,
      });
      return new ConsumerRunner(nc, options, processor, this.logger, this.options.tuning);
    });
    try {
      for (const runner of runners) {
        await runner.start();
        this.runners.push(runner);
      }
    } catch (err) {
      await Promise.all(this.runners.map((r) => r.stop(Date.now())));
      this.runners = [];
      throw err;
    }
    this._status$.next(JetStreamServerStatus.CONNECTED);
    this.logger.log(
      `JetStream consumers started: ${entries.map(([, o]) => `${o.stream}/${o.durable}`).join(', ') || 'none'}`,
    );
  }

  /** Calls a Nest handler and settles when its promise or observable does, with the handler's own error. */
  private invoker(handler: MessageHandler): ProcessHandler {
    return async (data: unknown, ctx: JetStreamContext) => {
      try {
        const result: unknown = await handler(data, ctx);
        if (isObservable(result)) return await lastValueFrom(result, { defaultValue: undefined });
        return result;
      } catch (err) {
        const captured = takeHandlerError(ctx);
        throw captured === undefined ? err : captured.error;
      }
    };
  }

  private emitOutcome(o: MessageOutcome): void {
    const listeners =
      this.options.onOutcome === undefined
        ? this.listeners.outcome
        : [this.options.onOutcome, ...this.listeners.outcome];
    for (const listener of listeners) {
      try {
        listener(o);
      } catch (err) {
        this.logger.error({ msg: 'jetstream: outcome listener threw', error: describeFailure(err).message });
      }
    }
  }

  private watchStatus(nc: NatsConnection): void {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') this._status$.next(JetStreamServerStatus.DISCONNECTED);
        else if (s.type === 'reconnecting') this._status$.next(JetStreamServerStatus.RECONNECTING);
        else if (s.type === 'reconnect') this._status$.next(JetStreamServerStatus.CONNECTED);
        for (const listener of this.listeners.status) listener({ type: s.type });
      }
    })().catch(() => undefined);
  }

  private async drain(): Promise<void> {
    const deadline = Date.now() + (this.options.drainTimeoutMs ?? 10_000);
    const results = await Promise.all(this.runners.map((r) => r.stop(deadline)));
    const inFlight = this.runners.reduce((n, r) => n + r.inFlightCount, 0);
    if (results.some((drained) => !drained)) {
      this.logger.warn({
        msg: 'jetstream: drain timed out; unfinished messages will be redelivered',
        inFlight,
      });
    }
    this._status$.next(JetStreamServerStatus.CLOSED);
  }
}
