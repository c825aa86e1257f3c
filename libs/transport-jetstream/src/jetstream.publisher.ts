import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';

import { BatonError, ErrorCode } from '@baton/contracts';

import { isTransientNatsError } from './nats-errors';
import { type HeaderValues, natsHeadersSetter, recordToHeaders } from './nats-headers';
import { MessagingAttr, defaultDestinationTemplate, tracer } from './tracing';

/** Options of one publish. */
export interface PublishOptions {
  /**
   * `Nats-Msg-Id`: JetStream drops a re-publish with the same id inside the stream's duplicate window.
   * Derive it from the cause (`task:<taskId>`), so that a redelivered cause re-publishes the same ids.
   */
  msgId?: string;
  /** Extra headers (a `traceparent` here is replaced by the active trace context when one is active). */
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
 * Publishes to JetStream and awaits the stream's acknowledgement. Injects the active OpenTelemetry
 * context into the headers and records a PRODUCER span `send <destination template>`. Retries a bounded
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
    const span = tracer().startSpan(`send ${template}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        [MessagingAttr.SYSTEM]: 'nats',
        [MessagingAttr.DESTINATION_NAME]: subject,
        [MessagingAttr.DESTINATION_TEMPLATE]: template,
        [MessagingAttr.OPERATION_NAME]: 'send',
        [MessagingAttr.OPERATION_TYPE]: 'send',
        [MessagingAttr.BODY_SIZE]: data.byteLength,
        ...(opts.msgId === undefined ? {} : { [MessagingAttr.MESSAGE_ID]: opts.msgId }),
      },
    });
    const hdrs = recordToHeaders(opts.headers);
    propagation.inject(trace.setSpan(context.active(), span), hdrs, natsHeadersSetter);
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

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
