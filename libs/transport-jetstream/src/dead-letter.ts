import type { JsMsg } from '@nats-io/jetstream';

import { type DeadLetterRecord, Headers, Subjects } from '@baton/contracts';

import { headersToRecord, messageHeaders, sanitizeHeaderValue } from './nats-headers';

/** Why a message is dead-lettered. */
export interface Failure {
  code: string;
  message: string;
}

/** A dead letter ready to publish. */
export interface DeadLetter {
  subject: string;
  msgId: string;
  headers: Record<string, string[]>;
  record: DeadLetterRecord;
  body: Uint8Array;
}

/** Room kept for the JSON around the payload, and for NATS protocol overhead. */
const ENVELOPE_RESERVE_BYTES = 8 * 1024;

/** Headers not copied from the original: JetStream directives and trace context (re-injected). */
function isCopiedHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return !lower.startsWith('nats-') && lower !== 'traceparent' && lower !== 'tracestate';
}

function byteLength(headers: Record<string, string[]>): number {
  let n = 0;
  for (const [k, vs] of Object.entries(headers)) for (const v of vs) n += k.length + v.length + 4;
  return n;
}

/**
 * Builds the dead letter of `msg` for consumer `durable`: a {@link DeadLetterRecord} on
 * `baton.dlq.<stream>.<durable>` with the original headers (except `Nats-*` and trace context) plus
 * `Baton-Dlq-*` headers, and msgId `dlq:<stream>:<durable>:<streamSequence>` so a repeated dead-lettering of
 * the same message by the same consumer stores one record (two consumers of one stream each keep theirs). When the record would exceed `maxPayloadBytes`, the payload copy is
 * cut and the error says so.
 */
export function buildDeadLetter(
  msg: JsMsg,
  durable: string,
  failure: Failure,
  maxPayloadBytes: number,
  now: Date = new Date(),
): DeadLetter {
  const { stream, streamSequence, deliveryCount } = msg.info;
  const original = headersToRecord(messageHeaders(msg));
  const headers: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(original)) if (isCopiedHeader(name)) headers[name] = values;

  let data = msg.data;
  let error = failure.message;
  let truncated = false;
  const budget = Math.floor(((maxPayloadBytes - ENVELOPE_RESERVE_BYTES - 2 * byteLength(original)) * 3) / 4);
  if (data.byteLength > budget) {
    const kept = Math.max(0, budget);
    error = `${error} (payload copy cut to ${kept} of ${data.byteLength} bytes)`;
    data = data.subarray(0, kept);
    truncated = true;
  }

  headers[Headers.DLQ_STREAM] = [stream];
  headers[Headers.DLQ_CONSUMER] = [durable];
  headers[Headers.DLQ_SUBJECT] = [msg.subject];
  headers[Headers.DLQ_SEQUENCE] = [String(streamSequence)];
  headers[Headers.DLQ_DELIVERIES] = [String(deliveryCount)];
  headers[Headers.DLQ_ERROR_CODE] = [sanitizeHeaderValue(failure.code, 128)];
  headers[Headers.DLQ_ERROR] = [sanitizeHeaderValue(error)];

  const record: DeadLetterRecord = {
    stream,
    consumer: durable,
    subject: msg.subject,
    streamSequence,
    deliveries: deliveryCount,
    errorCode: failure.code,
    error,
    deadAt: now.toISOString(),
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
    headers: original,
    ...(truncated ? { truncated: true } : {}),
  };
  return {
    subject: Subjects.deadLetter(stream, durable),
    msgId: `dlq:${stream}:${durable}:${streamSequence}`,
    headers,
    record,
    body: new TextEncoder().encode(JSON.stringify(record)),
  };
}
