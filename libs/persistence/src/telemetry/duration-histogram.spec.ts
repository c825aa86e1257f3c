import fc from 'fast-check';

import { ANALYTICS_WINDOWS, inWindow, isAnalyticsWindow, minuteOf, windowStart } from './analytics-window';
import {
  DURATION_MAX_BUCKET,
  DURATION_RELATIVE_ERROR,
  addToHistogram,
  bucketBounds,
  bucketValue,
  durationBucket,
  histogramCount,
  histogramPercentile,
  mergeHistograms,
  percentilesOf,
  type DurationHistogram,
} from './duration-histogram';

const histogramOf = (values: number[]): DurationHistogram => {
  const h: DurationHistogram = new Map();
  for (const v of values) addToHistogram(h, durationBucket(v));
  return h;
};

describe('duration buckets', () => {
  it('put sub-millisecond durations in bucket 0 and powers of two on bucket lower edges', () => {
    expect([0, 0.5, 0.999, -5, Number.NaN].map(durationBucket)).toEqual([0, 0, 0, 0, 0]);
    expect(durationBucket(1)).toBe(1);
    expect(durationBucket(2)).toBe(9);
    expect(durationBucket(1024)).toBe(81);
    expect(durationBucket(1023.9)).toBe(80);
    expect(bucketBounds(81)).toEqual([1024, 2 ** (81 / 8)]);
    expect(durationBucket(2 ** 40)).toBe(DURATION_MAX_BUCKET);
    expect(bucketBounds(DURATION_MAX_BUCKET)[1]).toBe(Infinity);
  });

  it('hold every duration inside its bucket bounds, reported within the documented error', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 2 ** 31, noNaN: true }), (ms) => {
        const b = durationBucket(ms);
        const [lo, hi] = bucketBounds(b);
        expect(ms).toBeGreaterThanOrEqual(lo);
        expect(ms).toBeLessThan(hi);
        expect(Math.abs(bucketValue(b) - ms) / ms).toBeLessThanOrEqual(DURATION_RELATIVE_ERROR + 1e-6);
      }),
    );
    expect(DURATION_RELATIVE_ERROR).toBeCloseTo(0.0443, 3);
  });
});

describe('percentiles of a histogram', () => {
  it('are null when empty', () => {
    expect(percentilesOf(new Map())).toEqual({ p50: null, p95: null, p99: null });
  });

  it('use nearest rank over the merged buckets', () => {
    // 100 observations: 1..100 ms. p50 = 50 ms, p95 = 95 ms, p99 = 99 ms, each as its bucket value.
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    const h = histogramOf(values);
    expect(histogramCount(h)).toBe(100);
    expect(percentilesOf(h)).toEqual({
      p50: bucketValue(durationBucket(50)),
      p95: bucketValue(durationBucket(95)),
      p99: bucketValue(durationBucket(99)),
    });
    expect(histogramPercentile(h, 1)).toBe(bucketValue(durationBucket(100)));
  });

  it('of merged minute histograms equal those of all observations at once (windows are sums)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 600_000 }), { maxLength: 30 }), {
          minLength: 1,
          maxLength: 8,
        }),
        (minutes) => {
          const merged = mergeHistograms(minutes.map(histogramOf));
          const all = histogramOf(minutes.flat());
          expect(percentilesOf(merged)).toEqual(percentilesOf(all));
          expect(histogramCount(merged)).toBe(minutes.flat().length);
        },
      ),
    );
  });

  it('are within the relative error of the exact nearest-rank percentile', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 10_000_000 }), { minLength: 1, maxLength: 200 }),
        (values) => {
          const sorted = [...values].sort((a, b) => a - b);
          const h = histogramOf(values);
          for (const q of [0.5, 0.95, 0.99]) {
            const exact = sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];
            const reported = histogramPercentile(h, q) as number;
            expect(Math.abs(reported - exact) / exact).toBeLessThanOrEqual(DURATION_RELATIVE_ERROR + 1e-6);
          }
        },
      ),
    );
  });
});

describe('analytics windows', () => {
  const now = Date.UTC(2026, 5, 1, 12, 30, 45);

  it('start at the minute holding now minus the window', () => {
    expect(windowStart('5m', now).toISOString()).toBe('2026-06-01T12:25:00.000Z');
    expect(windowStart('1h', now).toISOString()).toBe('2026-06-01T11:30:00.000Z');
    expect(windowStart('24h', now).toISOString()).toBe('2026-05-31T12:30:00.000Z');
    expect(minuteOf(now).toISOString()).toBe('2026-06-01T12:30:00.000Z');
  });

  it('count the minutes from their start on: a window sums N or N+1 minute buckets', () => {
    for (const [name, n] of Object.entries(ANALYTICS_WINDOWS)) {
      if (!isAnalyticsWindow(name)) throw new Error(name);
      const minutes = Array.from({ length: n + 5 }, (_, i) => minuteOf(now - i * 60_000));
      expect(minutes.filter((m) => inWindow(m, name, now))).toHaveLength(n + 1);
    }
    expect(isAnalyticsWindow('2h')).toBe(false);
    expect(isAnalyticsWindow('toString')).toBe(false);
  });
});
