import type { Msg } from '@nats-io/nats-core';

/** Headers of a message: name as sent -> values. */
export type HeaderMap = Record<string, string[]>;

/**
 * One delivery of a task message by the broker, and the acknowledgements the SDK sends for it. The
 * seam between the processing logic and NATS (unit tests use a fake).
 */
export interface TaskDelivery {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: HeaderMap;
  /** Sequence of the message in its stream. */
  readonly streamSequence: number;
  /** How many times the broker has delivered this message (1 on the first delivery). */
  readonly deliveryCount: number;
  /** `+ACK`: done, remove it from the work queue. */
  ack(): void;
  /** `-NAK`: redeliver (after `delayMs` when given). */
  nak(delayMs?: number): void;
  /** `+TERM`: never redeliver. */
  term(): void;
  /** `+WPI`: still working, restart the ack wait. */
  working(): void;
}

/** Delivery metadata encoded in a JetStream ack subject. */
export interface AckSubjectInfo {
  stream: string;
  consumer: string;
  deliveryCount: number;
  streamSequence: number;
  consumerSequence: number;
}

/**
 * Parses a JetStream ack subject: `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>`
 * or, with a domain and account hash, `$JS.ACK.<domain>.<hash>.<stream>.<consumer>.<delivered>...`.
 * Returns undefined for anything else.
 */
export function parseAckSubject(reply: string | undefined): AckSubjectInfo | undefined {
  if (reply === undefined) return undefined;
  const tokens = reply.split('.');
  if (tokens[0] !== '$JS' || tokens[1] !== 'ACK') return undefined;
  let rest: string[];
  if (tokens.length === 9) rest = tokens.slice(2);
  else if (tokens.length >= 11) rest = tokens.slice(4);
  else return undefined;
  const [stream, consumer, delivered, sseq, cseq] = rest;
  const numbers = [delivered, sseq, cseq].map((n) => Number(n));
  if (
    stream === undefined ||
    consumer === undefined ||
    numbers.some((n) => !Number.isSafeInteger(n) || n < 0)
  ) {
    return undefined;
  }
  return {
    stream,
    consumer,
    deliveryCount: numbers[0],
    streamSequence: numbers[1],
    consumerSequence: numbers[2],
  };
}

/** Reads a header case-insensitively (first value). */
export function headerValue(headers: HeaderMap, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, values] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return values[0];
  }
  return undefined;
}

const encoder = new TextEncoder();
const ACK = encoder.encode('+ACK');
const NAK = encoder.encode('-NAK');
const TERM = encoder.encode('+TERM');
const WPI = encoder.encode('+WPI');

/**
 * A {@link TaskDelivery} over a NATS message received for a pull request. Acknowledgements are core
 * publishes to the message's reply subject; after the first final one (`+ACK`, `-NAK`, `+TERM`) further
 * acknowledgements are ignored, and any of them is a no-op once the connection is closed.
 */
export class NatsTaskDelivery implements TaskDelivery {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: HeaderMap;
  readonly streamSequence: number;
  readonly deliveryCount: number;
  private settled = false;

  private constructor(
    private readonly msg: Msg,
    info: AckSubjectInfo,
  ) {
    this.subject = msg.subject;
    this.data = msg.data;
    this.headers = {};
    if (msg.headers) {
      for (const [key, values] of msg.headers) this.headers[key] = [...values];
    }
    this.streamSequence = info.streamSequence;
    this.deliveryCount = info.deliveryCount;
  }

  /** Wraps a JetStream message; undefined when its reply is not a JetStream ack subject. */
  static from(msg: Msg): NatsTaskDelivery | undefined {
    const info = parseAckSubject(msg.reply);
    return info === undefined ? undefined : new NatsTaskDelivery(msg, info);
  }

  ack(): void {
    this.settle(ACK);
  }

  nak(delayMs?: number): void {
    this.settle(
      delayMs !== undefined && delayMs > 0
        ? encoder.encode(`-NAK ${JSON.stringify({ delay: Math.round(delayMs) * 1_000_000 })}`)
        : NAK,
    );
  }

  term(): void {
    // A reason after +TERM needs nats-server 2.11; 2.9 ignores the whole ack, so none is sent.
    this.settle(TERM);
  }

  working(): void {
    if (!this.settled) this.send(WPI);
  }

  private settle(payload: Uint8Array): void {
    if (this.settled) return;
    this.settled = true;
    this.send(payload);
  }

  private send(payload: Uint8Array): void {
    try {
      this.msg.respond(payload);
    } catch {
      // The connection is closed: the broker redelivers after the ack wait.
    }
  }
}
