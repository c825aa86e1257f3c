import { Inject, Injectable } from '@nestjs/common';

import { type BatonError, isBatonError, validationError } from '@baton/contracts';
import { HistoryWriter, toBatonDatabaseError } from '@baton/persistence';

import { HistoryBatchOutcome, StateStoreMetrics } from '../state-store.metrics';

/** What the service needs of a {@link HistoryWriter} (a fake in unit tests). */
export type HistoryWriterPort = Pick<HistoryWriter, 'write'>;

/**
 * The error the consumer throws for a failed write, which decides the message's fate in the transport:
 * `retryable: false` -> dead letter (the batch can never be written: malformed, or rejected by the
 * database as data); anything else -> retryable, redelivered with backoff (database unavailable,
 * unexpected errors). Never turns an unknown failure into a dead letter.
 */
export function toConsumerError(err: unknown): BatonError {
  if (isBatonError(err)) return err;
  return toBatonDatabaseError(err, 'writing history');
}

/** Applies history batches received from BATON_HISTORY through the group-committing writer. */
@Injectable()
export class HistoryService {
  constructor(
    @Inject(HistoryWriter) private readonly writer: HistoryWriterPort,
    @Inject(StateStoreMetrics) private readonly metrics: StateStoreMetrics,
  ) {}

  /**
   * Writes one batch received on `subject` (`baton.history.<executionId>`); resolves once it is
   * committed. Throws per {@link toConsumerError}.
   */
  async ingest(data: unknown, subject: string): Promise<void> {
    try {
      const executionId = subject.split('.').slice(2).join('.');
      const claimed = (data as { executionId?: unknown } | null)?.executionId;
      if (typeof data === 'object' && data !== null && claimed !== undefined && claimed !== executionId) {
        throw validationError(
          `history batch of execution ${JSON.stringify(claimed)} published on ${subject}`,
          [{ path: '/executionId', message: `must match the subject (${executionId})`, rule: 'subject' }],
        );
      }
      await this.writer.write(data as Record<string, unknown>);
      this.metrics.batch(HistoryBatchOutcome.WRITTEN);
    } catch (err) {
      const error = toConsumerError(err);
      this.metrics.batch(error.retryable ? HistoryBatchOutcome.RETRIED : HistoryBatchOutcome.REJECTED);
      throw error;
    }
  }
}
