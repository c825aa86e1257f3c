import { BatonError, ErrorCode } from '@baton/contracts';

import { StateStoreMetrics } from '../state-store.metrics';
import { stateStoreEnvSchema } from '../config/state-store.config';
import { DLQ_CONSUMER, HISTORY_CONSUMER, historyBackoffMs } from './history.consumer';
import { HistoryService, type HistoryWriterPort, toConsumerError } from './history.service';

/** Counts `baton_history_batches_total` increments by outcome. */
function fakeMetrics(): { metrics: StateStoreMetrics; outcomes: string[] } {
  const outcomes: string[] = [];
  const metrics = new StateStoreMetrics({
    counter: (() => ({ inc: (labels: { outcome: string }) => outcomes.push(labels.outcome) })) as never,
    histogram: (() => ({ observe: () => undefined })) as never,
  });
  return { metrics, outcomes };
}

const batch = { executionId: 'e-1', revision: 1 };
const SUBJECT = 'baton.history.e-1';
const pgError = (code: string, message = `pg ${code}`): Error => Object.assign(new Error(message), { code });

function serviceWith(write: HistoryWriterPort['write']) {
  const { metrics, outcomes } = fakeMetrics();
  const writes: unknown[] = [];
  const service = new HistoryService(
    {
      write: (b) => {
        writes.push(b);
        return write(b);
      },
    },
    metrics,
  );
  return { service, outcomes, writes };
}

describe('HistoryService (consumer error mapping, fake writer)', () => {
  it('resolves once the writer committed (then the transport acks)', async () => {
    const { service, outcomes, writes } = serviceWith(() => Promise.resolve());
    await expect(service.ingest(batch, SUBJECT)).resolves.toBeUndefined();
    expect(writes).toEqual([batch]);
    expect(outcomes).toEqual(['written']);
  });

  it('keeps a batch retryable while the database is down: nak and redelivery, never a dead letter', async () => {
    const down = [
      new BatonError(ErrorCode.UNAVAILABLE, 'database unavailable', { retryable: true }),
      pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      pgError('57P01', 'terminating connection due to administrator command'),
      new Error('Connection terminated unexpectedly'),
    ];
    for (const err of down) {
      const { service, outcomes } = serviceWith(() => Promise.reject(err));
      const thrown = await service.ingest(batch, SUBJECT).catch((e: unknown) => e);
      expect(thrown).toMatchObject({ name: 'BatonError', retryable: true });
      expect(outcomes).toEqual(['retried']);
    }
  });

  it('dead-letters only what can never be written', async () => {
    const permanent = [
      new BatonError(ErrorCode.VALIDATION_FAILED, 'history batch is invalid', { retryable: false }),
      pgError('22P05', 'unsupported Unicode escape sequence'),
    ];
    for (const err of permanent) {
      const { service, outcomes } = serviceWith(() => Promise.reject(err));
      await expect(service.ingest(batch, SUBJECT)).rejects.toMatchObject({
        retryable: false,
        code: 'VALIDATION_FAILED',
      });
      expect(outcomes).toEqual(['rejected']);
    }
  });

  it('treats unexpected failures as retryable', () => {
    expect(toConsumerError(new TypeError('boom'))).toMatchObject({ code: 'INTERNAL', retryable: true });
    expect(toConsumerError(pgError('42P01', 'relation "executions" does not exist'))).toMatchObject({
      retryable: true,
    });
  });

  it('rejects a batch whose execution id does not match its subject, without writing it', async () => {
    const { service, writes } = serviceWith(() => Promise.resolve());
    await expect(service.ingest({ executionId: 'e-2' }, SUBJECT)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      retryable: false,
    });
    expect(writes).toEqual([]);
  });
});

describe('history and DLQ consumers', () => {
  it('redeliver long enough that a database outage never dead-letters', () => {
    for (const consumer of [HISTORY_CONSUMER, DLQ_CONSUMER]) {
      // The transport dead-letters a retryable failure at the maxDeliver-th delivery: the time until
      // then is at least the sum of the redelivery delays before it.
      let waitedMs = 0;
      for (let n = 1; n < consumer.maxDeliver; n++) waitedMs += consumer.backoffMs(n);
      expect(waitedMs).toBeGreaterThan(60 * 60 * 1000);
      expect(consumer.ackWaitMs).toBe(30_000);
    }
    // With the default group settings, a group can fill while the others commit.
    const shape = stateStoreEnvSchema.shape;
    const size = shape.BATON_HISTORY_GROUP_SIZE.parse(undefined);
    const groups = shape.BATON_HISTORY_GROUP_CONCURRENCY.parse(undefined);
    expect(HISTORY_CONSUMER.concurrency).toBe(size * (groups + 1));
  });

  it('back off from 250 ms to at most 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map(historyBackoffMs)).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
  });
});
