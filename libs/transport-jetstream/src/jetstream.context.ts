import type { JsMsg } from '@nats-io/jetstream';

import { Headers } from '@baton/contracts';

import { headerValue, headersToRecord, messageHeaders } from './nats-headers';

const BRAND = Symbol.for('baton.jetstream.context');

/**
 * What a `@JetStreamConsumer` handler gets besides the payload: the delivery's subject, sequence,
 * delivery count and headers, and `working()` to extend the ack wait during long work (also sent
 * automatically every ack wait / 2 while the handler runs).
 */
export class JetStreamContext {
  /** @internal */
  readonly [BRAND] = true;

  constructor(
    /** The JetStream message itself (do not ack it: the transport does, from the handler's outcome). */
    readonly message: JsMsg,
  ) {}

  /** Subject the message was published to. */
  get subject(): string {
    return this.message.subject;
  }

  /** Sequence of the message in its stream. */
  get streamSequence(): number {
    return this.message.info.streamSequence;
  }

  /** 1 on the first delivery, then incremented by each redelivery. */
  get deliveryCount(): number {
    return this.message.info.deliveryCount;
  }

  /** The `Nats-Msg-Id` the message was published with, if any. */
  get msgId(): string | undefined {
    return this.header(Headers.MSG_ID);
  }

  /** One header (case-insensitive name); undefined when absent. */
  header(name: string): string | undefined {
    return headerValue(messageHeaders(this.message), name);
  }

  /** All headers, name to values. */
  headers(): Record<string, string[]> {
    return headersToRecord(messageHeaders(this.message));
  }

  /** Tells the server the message is still being worked on (resets its ack wait). */
  working(): void {
    this.message.working();
  }

  /** Arguments of the handler, as Nest's `BaseRpcContext` exposes them. */
  getArgs(): [JsMsg] {
    return [this.message];
  }
}

/** Duck-typed check that survives duplicate copies of this package. */
export function isJetStreamContext(value: unknown): value is JetStreamContext {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

const handlerErrors = new WeakMap<JetStreamContext, { error: unknown }>();

/**
 * Keeps the error a handler threw for the transport, before Nest's RPC exception layer replaces it
 * with a generic `{ status: 'error', message }`. @internal
 */
export function recordHandlerError(ctx: JetStreamContext, error: unknown): void {
  if (!handlerErrors.has(ctx)) handlerErrors.set(ctx, { error });
}

/** The error recorded by {@link recordHandlerError}, once. @internal */
export function takeHandlerError(ctx: JetStreamContext): { error: unknown } | undefined {
  const entry = handlerErrors.get(ctx);
  handlerErrors.delete(ctx);
  return entry;
}
