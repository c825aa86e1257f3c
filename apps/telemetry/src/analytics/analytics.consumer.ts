import { Durables, Streams, Subjects } from '@baton/contracts';
import { deliveriesForGroups } from '@baton/persistence';
import { type ConsumerOptions, DEFAULT_MAX_ACK_PENDING } from '@baton/transport-jetstream';
import {
  ANALYTICS_GROUP_CONCURRENCY,
  ANALYTICS_GROUP_SIZE,
  ANALYTICS_LINGER_MS,
} from '../config/telemetry.config';

/** Redelivery delay after a retryable failure of delivery `n`: 250 ms doubling up to 5 s. */
export function analyticsBackoffMs(deliveryCount: number): number {
  const n = Math.max(1, Math.floor(deliveryCount));
  return Math.min(5_000, 250 * 2 ** Math.min(n - 1, 16));
}

/**
 * Deliveries before a batch that keeps failing retryably is dead-lettered: with
 * {@link analyticsBackoffMs} more than an hour, so a database outage dead-letters nothing.
 */
export const ANALYTICS_MAX_DELIVER = 1000;

/** `telemetry-history` on BATON_HISTORY: every execution's transitions, counted exactly once. */
export const ANALYTICS_CONSUMER = {
  stream: Streams.HISTORY,
  durable: Durables.TELEMETRY_HISTORY,
  filterSubject: Subjects.historyAll,
  // Enough batches in flight to fill a group while others commit (the default group settings); main.ts
  // sizes it from the configured ones.
  concurrency: deliveriesForGroups(
    ANALYTICS_GROUP_SIZE,
    ANALYTICS_GROUP_CONCURRENCY,
    DEFAULT_MAX_ACK_PENDING,
  ),
  lingerMs: ANALYTICS_LINGER_MS,
  ackWaitMs: 30_000,
  maxDeliver: ANALYTICS_MAX_DELIVER,
  backoffMs: analyticsBackoffMs,
} satisfies ConsumerOptions;
