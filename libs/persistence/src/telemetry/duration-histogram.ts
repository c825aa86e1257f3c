/**
 * Durations as fixed log-scale histograms: the unit of storage of the telemetry analytics. Bucket 0 holds
 * durations under 1 ms; bucket `b >= 1` holds `[2^((b-1)/8), 2^(b/8))` ms, i.e. 8 buckets per doubling,
 * up to bucket {@link DURATION_MAX_BUCKET}, which also takes everything longer (2^32 ms, about 49.7 days).
 * A percentile is reported as its bucket's geometric midpoint `2^((b-0.5)/8)` ms (0.5 ms for bucket 0),
 * which is within {@link DURATION_RELATIVE_ERROR} (2^(1/16) - 1, about 4.4 %) of the exact value.
 */

/** Buckets per doubling of the duration. */
export const DURATION_BUCKETS_PER_DOUBLING = 8;
/** The last bucket: it holds every duration of 2^32 ms and more. */
export const DURATION_MAX_BUCKET = 1 + 32 * DURATION_BUCKETS_PER_DOUBLING;
/** Largest relative error of a reported percentile (for durations of 1 ms up to 2^32 ms). */
export const DURATION_RELATIVE_ERROR = 2 ** (1 / (2 * DURATION_BUCKETS_PER_DOUBLING)) - 1;

/** Bucket counts by bucket index (sparse). */
export type DurationHistogram = Map<number, number>;

/** The bucket of a duration in milliseconds (negative or non-finite durations count as 0). */
export function durationBucket(ms: number): number {
  if (!Number.isFinite(ms) || ms < 1) return ms === Infinity ? DURATION_MAX_BUCKET : 0;
  let b = Math.min(DURATION_MAX_BUCKET, 1 + Math.floor(Math.log2(ms) * DURATION_BUCKETS_PER_DOUBLING));
  // Floating-point log2 may be off by one near an edge: settle on the bucket whose bounds hold `ms`.
  while (b > 1 && ms < bucketBounds(b)[0]) b--;
  while (b < DURATION_MAX_BUCKET && ms >= bucketBounds(b)[1]) b++;
  return b;
}

/** Lower and upper edge of bucket `b`, in ms (the last bucket's upper edge is Infinity). */
export function bucketBounds(b: number): [number, number] {
  if (b <= 0) return [0, 1];
  const lower = 2 ** ((b - 1) / DURATION_BUCKETS_PER_DOUBLING);
  return [lower, b >= DURATION_MAX_BUCKET ? Infinity : 2 ** (b / DURATION_BUCKETS_PER_DOUBLING)];
}

/** The value reported for bucket `b`: its geometric midpoint in ms (0.5 for bucket 0). */
export function bucketValue(b: number): number {
  if (b <= 0) return 0.5;
  return 2 ** ((Math.min(b, DURATION_MAX_BUCKET) - 0.5) / DURATION_BUCKETS_PER_DOUBLING);
}

/** Adds `count` observations of bucket `b` to `into` (in place); returns `into`. */
export function addToHistogram(into: DurationHistogram, b: number, count = 1): DurationHistogram {
  if (count !== 0) into.set(b, (into.get(b) ?? 0) + count);
  return into;
}

/** Sum of several histograms (e.g. the per-minute histograms of a window). */
export function mergeHistograms(histograms: Iterable<DurationHistogram>): DurationHistogram {
  const merged: DurationHistogram = new Map();
  for (const h of histograms) for (const [b, n] of h) addToHistogram(merged, b, n);
  return merged;
}

/** Number of observations in a histogram. */
export function histogramCount(h: DurationHistogram): number {
  let n = 0;
  for (const c of h.values()) n += c;
  return n;
}

/**
 * The `q`-quantile (0 < q <= 1) of the histogram, in ms, as the value of the bucket holding the
 * observation of rank `ceil(q * count)` (nearest rank); `null` when the histogram is empty.
 */
export function histogramPercentile(h: DurationHistogram, q: number): number | null {
  const total = histogramCount(h);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const b of [...h.keys()].sort((x, y) => x - y)) {
    seen += h.get(b) ?? 0;
    if (seen >= rank) return bucketValue(b);
  }
  return bucketValue(Math.max(...h.keys()));
}

/** p50, p95 and p99 of a histogram, in ms (`null` when empty). */
export interface DurationPercentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** {@link DurationPercentiles} of a histogram. */
export function percentilesOf(h: DurationHistogram): DurationPercentiles {
  return {
    p50: histogramPercentile(h, 0.5),
    p95: histogramPercentile(h, 0.95),
    p99: histogramPercentile(h, 0.99),
  };
}
