import type { JsMsg } from '@nats-io/jetstream';
import {
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
} from '@opentelemetry/api';

import {
  BatonError,
  DEFAULT_LIMITS,
  ErrorCode,
  Headers,
  type IngressLimits,
  Streams,
  isBatonError,
  parseJsonWithinLimits,
} from '@baton/contracts';

import { runWithExecution } from '@baton/telemetry';

import type { ResolvedConsumerOptions } from './consumer-options';
import { type Failure, buildDeadLetter } from './dead-letter';
import { JetStreamContext } from './jetstream.context';
import type { PublishOptions, PublishResult } from './jetstream.publisher';
import { headerValue, messageHeaders, natsHeadersGetter } from './nats-headers';
import { MessagingAttr, batonAttributes, tracer } from './tracing';

/** What the transport did with one delivery. */
export const Outcome = {
  /** The handler succeeded; acknowledged. */
  ACK: 'ack',
  /** Retryable failure (or the dead letter could not be stored): redelivered after a delay. */
  NAK: 'nak',
  /** Terminated without a dead letter (the message already lives in the dead-letter stream). */
  TERM: 'term',
  /** Stored as a dead letter in BATON_DLQ, then terminated. */
  DEAD: 'dead',
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** Reported once per delivery through `onOutcome`. */
export interface MessageOutcome {
  durable: string;
  subject: string;
  outcome: Outcome;
  deliveryCount: number;
  durationMs: number;
  errorCode?: string;
}

/** A handler as the processor calls it: resolves once the effect is durable, rejects on failure. */
export type ProcessHandler = (data: unknown, ctx: JetStreamContext) => Promise<unknown>;

/** Logger used by the transport (Nest's `LoggerService` fits). */
export interface TransportLogger {
  log(message: unknown, ...rest: unknown[]): unknown;
  warn(message: unknown, ...rest: unknown[]): unknown;
  error(message: unknown, ...rest: unknown[]): unknown;
}

/** Collaborators of {@link MessageProcessor}. */
export interface MessageProcessorDeps {
  /** Publishes dead letters (a {@link JetStreamPublisher}). */
  publisher: { publishRaw(subject: string, data: Uint8Array, opts?: PublishOptions): Promise<PublishResult> };
  limits?: IngressLimits;
  /** Largest message the connection may publish (`nc.info.max_payload`). */
  maxPayloadBytes?: () => number;
  onOutcome?: (outcome: MessageOutcome) => void;
  logger?: TransportLogger;
  /** Version of the connected nats-server (`nc.info.version`): `+TERM <reason>` is only sent where understood. */
  serverVersion?: () => string | undefined;
}

/** First nats-server version known to understand `+TERM <reason>`; older servers ignore such a term. */
export const TERM_REASON_MIN_VERSION = '2.11.0';

/** Whether `version` (`2.10.4`, `v2.11.0-beta`) is at least `min`. */
export function versionAtLeast(version: string | undefined, min: string): boolean {
  if (version === undefined) return false;
  const parse = (v: string): number[] =>
    v
      .replace(/^v/, '')
      .split(/[.-]/)
      .slice(0, 3)
      .map((n) => Number.parseInt(n, 10) || 0);
  const a = parse(version);
  const b = parse(min);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

interface Decision {
  outcome: Outcome;
  failure?: Failure;
}

/** Error code and message of anything thrown. */
export function describeFailure(err: unknown): Failure {
  if (isBatonError(err)) return { code: err.code, message: err.message };
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; message?: unknown };
    const code = typeof e.code === 'string' && e.code.length > 0 ? e.code : ErrorCode.INTERNAL;
    const message = typeof e.message === 'string' ? e.message : safeJson(err);
    return { code, message };
  }
  return { code: ErrorCode.INTERNAL, message: String(err) };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** An error that says it can never succeed: `retryable === false` (BatonError and alike). */
export function isTerminalError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === false;
}

/**
 * Runs one delivery through a handler and maps the result to an acknowledgement:
 * success -> ack (after the handler resolved); `retryable === false` -> dead letter + term; other
 * errors -> nak(backoff), or dead letter + term from the `maxDeliver`-th delivery on; an unparseable or
 * oversized payload -> dead letter at once. A dead letter that cannot be stored -> nak (never dropped).
 */
export class MessageProcessor {
  private readonly heartbeats = new Set<NodeJS.Timeout>();
  private readonly limits: IngressLimits;

  constructor(
    private readonly options: ResolvedConsumerOptions,
    private readonly handler: ProcessHandler,
    private readonly deps: MessageProcessorDeps,
  ) {
    this.limits = deps.limits ?? DEFAULT_LIMITS;
  }

  /** Processes one delivery; never rejects. */
  async process(msg: JsMsg): Promise<MessageOutcome> {
    const started = performance.now();
    const deliveryCount = msg.info.deliveryCount;
    const parent = propagation.extract(ROOT_CONTEXT, messageHeaders(msg), natsHeadersGetter);
    const span = tracer().startSpan(
      `process ${this.options.filterSubject}`,
      { kind: SpanKind.CONSUMER },
      parent,
    );
    if (span.isRecording()) span.setAttributes(this.spanAttributes(msg));
    const executionId = headerValue(messageHeaders(msg), Headers.EXECUTION_ID);
    const handle = async (): Promise<MessageOutcome> => {
      let decision: Decision;
      try {
        decision = await this.run(msg, span);
      } catch (err) {
        // Only the acknowledgement calls themselves can land here.
        const failure = describeFailure(err);
        this.deps.logger?.error({
          msg: 'jetstream: acknowledging failed',
          ...this.logFields(msg),
          error: failure.message,
        });
        decision = { outcome: Outcome.NAK, failure };
      }
      span.setAttribute(
        MessagingAttr.OPERATION_NAME,
        decision.outcome === Outcome.ACK ? 'ack' : decision.outcome === Outcome.NAK ? 'nak' : 'term',
      );
      if (decision.failure !== undefined) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: `${decision.failure.code}: ${decision.failure.message}`,
        });
      }
      span.end();
      const outcome: MessageOutcome = {
        durable: this.options.durable,
        subject: msg.subject,
        outcome: decision.outcome,
        deliveryCount,
        durationMs: performance.now() - started,
        ...(decision.failure === undefined ? {} : { errorCode: decision.failure.code }),
      };
      try {
        this.deps.onOutcome?.(outcome);
      } catch (err) {
        this.deps.logger?.error({ msg: 'jetstream: onOutcome threw', error: describeFailure(err).message });
      }
      return outcome;
    };
    return context.with(trace.setSpan(parent, span), () => runWithExecution(executionId, handle));
  }

  /** Stops the automatic `working()` of every running handler (their messages may then be redelivered). */
  abandonInFlight(): void {
    for (const timer of this.heartbeats) clearInterval(timer);
    this.heartbeats.clear();
  }

  private async run(msg: JsMsg, span: Span): Promise<Decision> {
    const { maxDeliver } = this.options;
    const deliveryCount = msg.info.deliveryCount;
    const stopHeartbeat = this.startHeartbeat(msg);
    try {
      if (deliveryCount > maxDeliver) {
        // Earlier deliveries ended without an outcome (ack wait expired, process died).
        return await this.deadLetter(msg, {
          code: ErrorCode.TIMEOUT,
          message: `delivered ${deliveryCount} times without an outcome (maxDeliver ${maxDeliver})`,
        });
      }
      let data: unknown;
      try {
        data = this.decode(msg);
      } catch (err) {
        return await this.deadLetter(msg, describeFailure(err));
      }
      try {
        await this.handler(data, new JetStreamContext(msg));
      } catch (err) {
        const failure = describeFailure(err);
        span.recordException(err instanceof Error ? err : new Error(failure.message));
        if (isTerminalError(err)) return await this.deadLetter(msg, failure);
        if (deliveryCount >= maxDeliver) {
          return await this.deadLetter(msg, {
            code: failure.code,
            message: `${failure.message} (after ${deliveryCount} deliveries)`,
          });
        }
        const delayMs = this.backoff(deliveryCount);
        msg.nak(delayMs);
        this.deps.logger?.warn({
          msg: 'jetstream: handler failed; redelivery scheduled',
          ...this.logFields(msg),
          errorCode: failure.code,
          error: failure.message,
          delayMs,
        });
        return { outcome: Outcome.NAK, failure };
      }
      await this.ack(msg);
      return { outcome: Outcome.ACK };
    } finally {
      stopHeartbeat();
    }
  }

  private decode(msg: JsMsg): unknown {
    if (!this.options.raw) return parseJsonWithinLimits(msg.data, this.limits, `message on ${msg.subject}`);
    if (msg.data.byteLength > this.limits.maxPayloadBytes) {
      throw new BatonError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        `message on ${msg.subject} is ${msg.data.byteLength} bytes; the limit is ${this.limits.maxPayloadBytes}`,
        { retryable: false },
      );
    }
    return msg.data;
  }

  private async ack(msg: JsMsg): Promise<void> {
    try {
      if (!this.options.confirmAcks) {
        msg.ack();
        return;
      }
      await msg.ackAck();
    } catch (err) {
      // The ack may or may not have arrived; a redelivery is harmless (handlers are idempotent).
      this.deps.logger?.warn({
        msg: 'jetstream: ack not confirmed',
        ...this.logFields(msg),
        error: describeFailure(err).message,
      });
    }
  }

  private async deadLetter(msg: JsMsg, failure: Failure): Promise<Decision> {
    const reason = `${failure.code}: ${failure.message}`.replace(/[\r\n]+/g, ' ').slice(0, 256);
    if (msg.info.stream === Streams.DLQ) {
      // A dead letter that fails its own consumer stays where it is, in the dead-letter stream.
      this.term(msg, reason);
      this.deps.logger?.warn({
        msg: 'jetstream: dead letter terminated',
        ...this.logFields(msg),
        ...failure,
      });
      return { outcome: Outcome.TERM, failure };
    }
    const maxPayload = this.deps.maxPayloadBytes?.() ?? DEFAULT_MAX_PAYLOAD;
    const letter = buildDeadLetter(msg, this.options.durable, failure, maxPayload);
    try {
      await this.deps.publisher.publishRaw(letter.subject, letter.body, {
        msgId: letter.msgId,
        headers: letter.headers,
        destinationTemplate: 'baton.dlq.{stream}.{durable}',
      });
    } catch (err) {
      const delayMs = this.backoff(msg.info.deliveryCount);
      msg.nak(delayMs);
      this.deps.logger?.error({
        msg: 'jetstream: dead letter not stored; redelivery scheduled',
        ...this.logFields(msg),
        errorCode: failure.code,
        error: failure.message,
        dlqError: describeFailure(err).message,
        delayMs,
      });
      return { outcome: Outcome.NAK, failure };
    }
    this.term(msg, reason);
    this.deps.logger?.warn({
      msg: 'jetstream: message dead-lettered',
      ...this.logFields(msg),
      errorCode: failure.code,
      error: failure.message,
    });
    return { outcome: Outcome.DEAD, failure };
  }

  /** Terminates; with the reason only where the server understands it (older servers ignore `+TERM <reason>`). */
  private term(msg: JsMsg, reason: string): void {
    if (versionAtLeast(this.deps.serverVersion?.(), TERM_REASON_MIN_VERSION)) msg.term(reason);
    else msg.term();
  }

  private backoff(deliveryCount: number): number {
    try {
      const ms = this.options.backoffMs(deliveryCount);
      return Number.isFinite(ms) && ms > 0 ? Math.floor(ms) : 0;
    } catch {
      return 0;
    }
  }

  private startHeartbeat(msg: JsMsg): () => void {
    const timer = setInterval(() => msg.working(), Math.max(1, Math.floor(this.options.ackWaitMs / 2)));
    timer.unref();
    this.heartbeats.add(timer);
    return () => {
      clearInterval(timer);
      this.heartbeats.delete(timer);
    };
  }

  private spanAttributes(msg: JsMsg): Record<string, string | number> {
    const attrs: Record<string, string | number> = {
      [MessagingAttr.SYSTEM]: 'nats',
      [MessagingAttr.DESTINATION_NAME]: msg.subject,
      [MessagingAttr.DESTINATION_TEMPLATE]: this.options.filterSubject,
      [MessagingAttr.CONSUMER_GROUP_NAME]: this.options.durable,
      [MessagingAttr.OPERATION_TYPE]: 'process',
      [MessagingAttr.BODY_SIZE]: msg.data.byteLength,
      [MessagingAttr.DELIVERY_COUNT]: msg.info.deliveryCount,
      [MessagingAttr.STREAM_SEQUENCE]: msg.info.streamSequence,
    };
    const id = headerValue(messageHeaders(msg), Headers.MSG_ID);
    if (id !== undefined) attrs[MessagingAttr.MESSAGE_ID] = id;
    Object.assign(attrs, batonAttributes(messageHeaders(msg)));
    return attrs;
  }

  private logFields(msg: JsMsg): Record<string, unknown> {
    const executionId = headerValue(messageHeaders(msg), Headers.EXECUTION_ID);
    return {
      stream: msg.info.stream,
      durable: this.options.durable,
      subject: msg.subject,
      streamSequence: msg.info.streamSequence,
      deliveryCount: msg.info.deliveryCount,
      ...(executionId === undefined ? {} : { executionId }),
    };
  }
}
