import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { Match, type MsgHdrs } from '@nats-io/nats-core';
import {
  type Context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
} from '@opentelemetry/api';

import { BatonError, ErrorCode, Headers } from '@baton/contracts';

import { isTransientNatsError } from './nats-errors';
import { type HeaderValues, natsHeadersGetter, natsHeadersSetter, recordToHeaders } from './nats-headers';
import { MessagingAttr, batonAttributes, defaultDestinationTemplate, tracer } from './tracing';

/** Options of one publish. */
export interface PublishOptions {
  /**
   * `Nats-Msg-Id`: JetStream drops a re-publish with the same id inside the stream's duplicate window.
   * Derive it from the cause (`task:<taskId>`), so that a redelivered cause re-publishes the same ids.
   */
  msgId?: string;
  /**
   * Extra headers. A `traceparent` here names the trace the message belongs to: the PRODUCER span is made
   * in it (see {@link JetStreamPublisher}) and the header is replaced by that span's context.
   */
  headers?: HeaderValues;
  /** Timeout of one attempt (default: the JetStream client's, 5 s). */
  timeoutMs?: number;
  /**
   * Subject with ids replaced, for the span name (`baton.tasks.{action}`); default: the subject's first
   * three tokens followed by `.*`.
   */
  destinationTemplate?: string;
}

/** The stream's acknowledgement of a publish. */
export interface PublishResult {
  stream: string;
  seq: number;
  /** True when the message id was already stored inside the duplicate window (nothing new stored). */
  duplicate: boolean;
}

/** Tuning of {@link JetStreamPublisher}. */
export interface JetStreamPublisherOptions {
  /** Attempts per publish when the failure is transient (timeout, no responders); default 5. */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt up to 2 s; default 100 ms. */
  retryDelayMs?: number;
  /** @internal Replaces the JetStream client (unit tests). */
  client?: Pick<JetStreamClient, 'publish'>;
}

const MAX_RETRY_DELAY_MS = 2_000;

/**
 * Publishes to JetStream and awaits the stream's acknowledgement. Records a PRODUCER span
 * `send <destination template>` (messaging attributes, and `baton.*` ones from the `Baton-*` headers) and
 * injects its context into the headers; with tracing off, headers pass as given. Retries a bounded
 * number of times on transient failures with the same `Nats-Msg-Id`, so a retry never stores twice.
 */
export class JetStreamPublisher {
  private readonly client: Pick<JetStreamClient, 'publish'>;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;

  constructor(nc: NatsConnection, opts: JetStreamPublisherOptions = {}) {
    this.client = opts.client ?? jetstream(nc);
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 5);
    this.retryDelayMs = Math.max(0, opts.retryDelayMs ?? 100);
  }

  /** JSON-encodes `body` and publishes it. */
  publish(subject: string, body: unknown, opts: PublishOptions = {}): Promise<PublishResult> {
    const json = JSON.stringify(body);
    if (json === undefined) {
      return Promise.reject(
        new BatonError(ErrorCode.VALIDATION_FAILED, `cannot publish ${typeof body} to ${subject}: not JSON`, {
          retryable: false,
        }),
      );
    }
    return this.publishRaw(subject, new TextEncoder().encode(json), opts);
  }

  /** Publishes bytes as they are. */
  async publishRaw(subject: string, data: Uint8Array, opts: PublishOptions = {}): Promise<PublishResult> {
    const template = opts.destinationTemplate ?? defaultDestinationTemplate(subject);
    const hdrs = recordToHeaders(opts.headers);
    const parent = producerParent(hdrs);
    const span = tracer().startSpan(`send ${template}`, { kind: SpanKind.PRODUCER }, parent);
    if (span.isRecording()) {
      span.setAttributes({
        [MessagingAttr.SYSTEM]: 'nats',
        [MessagingAttr.DESTINATION_NAME]: subject,
        [MessagingAttr.DESTINATION_TEMPLATE]: template,
        [MessagingAttr.OPERATION_NAME]: 'send',
        [MessagingAttr.OPERATION_TYPE]: 'send',
        [MessagingAttr.BODY_SIZE]: data.byteLength,
        ...(opts.msgId === undefined ? {} : { [MessagingAttr.MESSAGE_ID]: opts.msgId }),
        ...batonAttributes(hdrs),
      });
      propagation.inject(trace.setSpan(parent, span), hdrs, natsHeadersSetter);
    }
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const ack = await this.client.publish(subject, data, {
            headers: hdrs,
            ...(opts.msgId === undefined ? {} : { msgID: opts.msgId }),
            ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs }),
          });
          span.setStatus({ code: SpanStatusCode.OK });
          return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true };
        } catch (err) {
          if (!isTransientNatsError(err)) throw err;
          if (attempt >= this.maxAttempts) {
            throw new BatonError(
              ErrorCode.UNAVAILABLE,
              `publish to ${subject} failed after ${attempt} attempts: ${(err as Error).message}`,
              { cause: err, retryable: true, context: { subject, msgId: opts.msgId } },
            );
          }
          span.addEvent('retry', { attempt, error: (err as Error).message });
          await delay(Math.min(MAX_RETRY_DELAY_MS, this.retryDelayMs * 2 ** (attempt - 1)));
        }
      }
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  }
}

/**
 * Parent of a PRODUCER span: the active context, unless the headers carry a `traceparent` of another
 * trace (or none is active) — the message then belongs to that trace: an execution's outbox carries the
 * execution's trace context and a fired timer the context it was set in. A `traceparent` of the active
 * trace (copied from the message being handled) keeps the active span, the more precise parent.
 */
function producerParent(hdrs: MsgHdrs): Context {
  const active = context.active();
  if (!hdrs.has(Headers.TRACEPARENT, Match.IgnoreCase)) return active;
  const fromHeaders = propagation.extract(ROOT_CONTEXT, hdrs, natsHeadersGetter);
  const remote = trace.getSpanContext(fromHeaders);
  if (remote === undefined) return active;
  const current = trace.getSpanContext(active);
  if (current !== undefined && current.traceId === remote.traceId) return active;
  return propagation.extract(active, hdrs, natsHeadersGetter);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
