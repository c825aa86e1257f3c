import { BatonError, ErrorCode, isValidSubjectPattern } from '@baton/contracts';

import { DEFAULT_ACK_WAIT_MS, assertDurableName, assertStreamName } from './topology';

/** A JetStream consumer handled by a `@JetStreamConsumer` method. Durations in milliseconds. */
export interface ConsumerOptions {
  /** Stream to consume (`Streams.ORCH`). */
  stream: string;
  /** Durable consumer name (`Durables.ORCHESTRATOR`): 1-32 characters of `[A-Za-z0-9_-]`. */
  durable: string;
  /** Subject filter of the consumer (`baton.orch.>`). */
  filterSubject: string;
  /** Handlers in flight at most, per consumer and process; default 16. */
  concurrency?: number;
  /** Time the server waits for an outcome before redelivering; default 30000. */
  ackWaitMs?: number;
  /** Deliveries before a failing message is dead-lettered; default 5. */
  maxDeliver?: number;
  /** Redelivery delay after a retryable failure of delivery n; default 250 ms * 2^(n-1), at most 10 s. */
  backoffMs?: (deliveryCount: number) => number;
  /** Where a new consumer starts; default `all`. */
  deliverPolicy?: 'all' | 'new';
  /** Pass the payload as a Uint8Array instead of parsed JSON. */
  raw?: boolean;
  /**
   * Wait for the server to confirm each ack (`+ACK` as a request). Off by default: an ack is sent only after
   * the handler's effect is durable, handlers are idempotent, and a lost ack is a redelivery, so the extra
   * round trip per message buys nothing but latency.
   */
  confirmAcks?: boolean;
  /**
   * Take deliveries in batches (default 0: each as soon as it is stored). After a batch that emptied the
   * consumer's backlog, the next pull waits this long, so that messages gather on the server and arrive
   * together: one wake-up, one group and one write of acks for many messages instead of one each. For
   * consumers on no execution's path (the projections); it adds up to this much lag, and none while a
   * backlog remains (they pull again as soon as slots are free).
   */
  lingerMs?: number;
}

/** {@link ConsumerOptions} with defaults applied. */
export type ResolvedConsumerOptions = Required<Omit<ConsumerOptions, 'deliverPolicy'>> &
  Pick<ConsumerOptions, 'deliverPolicy'>;

export const DEFAULT_CONCURRENCY = 16;
export const DEFAULT_MAX_DELIVER = 5;
const MAX_BACKOFF_MS = 10_000;
/** Longest {@link ConsumerOptions.lingerMs}: well inside the ack wait of what a batch holds. */
export const MAX_LINGER_MS = 5_000;

/** The default redelivery delay: 250 ms * 2^(n-1), at most 10 s. */
export function defaultBackoffMs(deliveryCount: number): number {
  const n = Math.max(1, Math.floor(deliveryCount));
  return Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(n - 1, 16));
}

function assertPositiveInteger(value: number, name: string, durable: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new BatonError(
      ErrorCode.VALIDATION_FAILED,
      `consumer ${durable}: ${name} must be a positive integer`,
      {
        retryable: false,
      },
    );
  }
}

/** Validates the options and applies defaults; throws VALIDATION_FAILED naming the bad option. */
export function resolveConsumerOptions(opts: ConsumerOptions): ResolvedConsumerOptions {
  assertStreamName(opts.stream);
  assertDurableName(opts.durable);
  if (!isValidSubjectPattern(opts.filterSubject)) {
    throw new BatonError(
      ErrorCode.VALIDATION_FAILED,
      `consumer ${opts.durable}: invalid filter subject ${JSON.stringify(opts.filterSubject)}`,
      { retryable: false },
    );
  }
  const resolved: ResolvedConsumerOptions = {
    stream: opts.stream,
    durable: opts.durable,
    filterSubject: opts.filterSubject,
    concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
    ackWaitMs: opts.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
    maxDeliver: opts.maxDeliver ?? DEFAULT_MAX_DELIVER,
    backoffMs: opts.backoffMs ?? defaultBackoffMs,
    raw: opts.raw ?? false,
    confirmAcks: opts.confirmAcks ?? false,
    lingerMs: opts.lingerMs ?? 0,
    ...(opts.deliverPolicy === undefined ? {} : { deliverPolicy: opts.deliverPolicy }),
  };
  assertPositiveInteger(resolved.concurrency, 'concurrency', opts.durable);
  assertPositiveInteger(resolved.ackWaitMs, 'ackWaitMs', opts.durable);
  assertPositiveInteger(resolved.maxDeliver, 'maxDeliver', opts.durable);
  if (!Number.isInteger(resolved.lingerMs) || resolved.lingerMs < 0 || resolved.lingerMs > MAX_LINGER_MS) {
    throw new BatonError(
      ErrorCode.VALIDATION_FAILED,
      `consumer ${opts.durable}: lingerMs must be an integer from 0 to ${MAX_LINGER_MS}`,
      { retryable: false },
    );
  }
  return resolved;
}
