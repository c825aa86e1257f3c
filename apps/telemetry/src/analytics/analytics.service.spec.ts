import { BatonError, ErrorCode } from '@baton/contracts';
import { AnalyticsOutcome } from '@baton/persistence';

import { TelemetryMetrics } from '../telemetry.metrics';
import { telemetryEnvSchema } from '../config/telemetry.config';
import { ANALYTICS_CONSUMER, analyticsBackoffMs } from './analytics.consumer';
import { parseAnalyticsParams } from './analytics.params';
import { AnalyticsService, type AnalyticsStoragePort } from './analytics.service';

function fakeMetrics(): { metrics: TelemetryMetrics; outcomes: string[] } {
  const outcomes: string[] = [];
  const metrics = new TelemetryMetrics({
    counter: (() => ({ inc: (labels: { outcome: string }) => outcomes.push(labels.outcome) })) as never,
    histogram: (() => ({ observe: () => undefined })) as never,
  });
  return { metrics, outcomes };
}

function serviceWith(write: AnalyticsStoragePort['writer']['write'], known = true) {
  const { metrics, outcomes } = fakeMetrics();
  const windows: string[] = [];
  const storage: AnalyticsStoragePort = {
    writer: { write },
    repository: {
      listWorkflows: (window) => {
        windows.push(window);
        return Promise.resolve([]);
      },
      getWorkflow: () => Promise.resolve(null),
      getSteps: (_id, window) => {
        windows.push(window);
        return Promise.resolve(known ? [] : null);
      },
    },
  };
  return { service: new AnalyticsService(storage, metrics), outcomes, windows };
}

describe('parseAnalyticsParams', () => {
  it('defaults the window to 1h and accepts 5m, 1h, 24h', () => {
    expect(parseAnalyticsParams(undefined, false)).toEqual({ window: '1h' });
    expect(parseAnalyticsParams({ window: '24h', id: 'order-fulfillment' }, true)).toEqual({
      window: '24h',
      id: 'order-fulfillment',
    });
  });

  it('names every bad parameter', () => {
    const err = (() => {
      try {
        parseAnalyticsParams({ window: '7d', id: 'Bad Id', extra: 1 }, true);
      } catch (e) {
        return e as BatonError;
      }
      throw new Error('no error');
    })();
    expect(err).toMatchObject({ code: 'BAD_REQUEST', retryable: false });
    expect(err.details.map((d) => d.path)).toEqual(['extra', 'window', 'id']);
    expect(() => parseAnalyticsParams([], false)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    expect(() => parseAnalyticsParams({ id: 'x' }, false)).toThrow(/parameter 'id' is not a known parameter/);
  });
});

describe('AnalyticsService', () => {
  it('counts a batch through the writer and records the outcome', async () => {
    const { service, outcomes } = serviceWith(() => Promise.resolve(AnalyticsOutcome.DUPLICATE));
    await expect(service.ingest({ executionId: 'e-1' }, 'baton.history.e-1')).resolves.toBe('duplicate');
    expect(outcomes).toEqual(['duplicate']);
  });

  it('keeps database outages retryable and dead-letters only what can never be counted', async () => {
    const down = serviceWith(() =>
      Promise.reject(new BatonError(ErrorCode.UNAVAILABLE, 'database unavailable', { retryable: true })),
    );
    await expect(down.service.ingest({}, 'baton.history.e-1')).rejects.toMatchObject({ retryable: true });
    expect(down.outcomes).toEqual(['retried']);
    const odd = serviceWith(() => Promise.reject(new TypeError('boom')));
    await expect(odd.service.ingest({}, 'baton.history.e-1')).rejects.toMatchObject({
      code: 'INTERNAL',
      retryable: true,
    });
    const wrong = serviceWith(() => Promise.resolve(AnalyticsOutcome.COUNTED));
    await expect(wrong.service.ingest({ executionId: 'e-2' }, 'baton.history.e-1')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      retryable: false,
    });
    expect(wrong.outcomes).toEqual(['rejected']);
  });

  it('answers NOT_FOUND for a workflow without analytics and passes the window on', async () => {
    const { service, windows } = serviceWith(() => Promise.resolve(AnalyticsOutcome.COUNTED));
    await expect(service.workflow({ id: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.steps({ id: 'wf', window: '5m' })).resolves.toEqual({
      workflowId: 'wf',
      window: '5m',
      items: [],
    });
    await expect(service.workflows({ window: '24h' })).resolves.toEqual({ items: [] });
    expect(windows).toEqual(['5m', '24h']);
    const unknown = serviceWith(() => Promise.resolve(AnalyticsOutcome.COUNTED), false);
    await expect(unknown.service.steps({ id: 'wf' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('consumes telemetry-history long enough that an outage dead-letters nothing', () => {
    expect(ANALYTICS_CONSUMER).toMatchObject({
      durable: 'telemetry-history',
      filterSubject: 'baton.history.>',
    });
    let waitedMs = 0;
    for (let n = 1; n < ANALYTICS_CONSUMER.maxDeliver; n++) waitedMs += analyticsBackoffMs(n);
    expect(waitedMs).toBeGreaterThan(60 * 60 * 1000);
    // With the default group settings, a group can fill while the others commit.
    const shape = telemetryEnvSchema.shape;
    const size = shape.BATON_ANALYTICS_GROUP_SIZE.parse(undefined);
    const groups = shape.BATON_ANALYTICS_GROUP_CONCURRENCY.parse(undefined);
    expect(ANALYTICS_CONSUMER.concurrency).toBe(size * (groups + 1));
  });
});
