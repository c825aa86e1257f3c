/** The figures each benchmark reports. */
export interface Figures {
  workflowsPerSec: number;
  stepsPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

/** Nearest-rank percentiles of a sample, in milliseconds. */
export function percentiles(samples: number[]): Pick<Figures, 'p50Ms' | 'p95Ms' | 'p99Ms'> {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => {
    if (sorted.length === 0) return Number.NaN;
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank] as number;
  };
  return { p50Ms: at(50), p95Ms: at(95), p99Ms: at(99) };
}
