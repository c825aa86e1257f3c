import { Durables, Streams, Subjects } from '@baton/contracts';
import { deliveriesForGroups } from '@baton/persistence';
import { type ConsumerOptions, DEFAULT_MAX_ACK_PENDING } from '@baton/transport-jetstream';
import {
  HISTORY_GROUP_CONCURRENCY,
  HISTORY_GROUP_SIZE,
  HISTORY_LINGER_MS,
} from '../config/state-store.config';

/**
 * Redelivery delay after a retryable failure of delivery `n`: 250 ms doubling up to 5 s. While
 * PostgreSQL is away every in-flight batch fails fast and comes back at this pace.
 */
export function historyBackoffMs(deliveryCount: number): number {
  const n = Math.max(1, Math.floor(deliveryCount));
  return Math.min(5_000, 250 * 2 ** Math.min(n - 1, 16));
}

/**
 * Deliveries before a batch that keeps failing retryably is dead-lettered. With {@link historyBackoffMs}
 * that is more than an hour of failures: a database outage (or restart) never dead-letters history;
 * batches that can never be written are dead-lettered at once (non-retryable errors).
 */
export const HISTORY_MAX_DELIVER = 1000;

/** `state-store-history` on BATON_HISTORY: every execution's transitions, grouped into transactions. */
export const HISTORY_CONSUMER = {
  stream: Streams.HISTORY,
  durable: Durables.STATE_STORE_HISTORY,
  filterSubject: Subjects.historyAll,
  // Enough batches in flight to fill a group while others commit (the default group settings); main.ts
  // sizes it from the configured ones.
  concurrency: deliveriesForGroups(HISTORY_GROUP_SIZE, HISTORY_GROUP_CONCURRENCY, DEFAULT_MAX_ACK_PENDING),
  lingerMs: HISTORY_LINGER_MS,
  ackWaitMs: 30_000,
  maxDeliver: HISTORY_MAX_DELIVER,
  backoffMs: historyBackoffMs,
} satisfies ConsumerOptions;

/** `state-store-dlq` on BATON_DLQ: dead letters of every consumer, recorded for operators. */
export const DLQ_CONSUMER = {
  stream: Streams.DLQ,
  durable: Durables.STATE_STORE_DLQ,
  filterSubject: Subjects.dlqAll,
  concurrency: 8,
  ackWaitMs: 30_000,
  maxDeliver: HISTORY_MAX_DELIVER,
  backoffMs: historyBackoffMs,
} satisfies ConsumerOptions;
