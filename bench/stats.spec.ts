import { percentiles } from './stats';

describe('percentiles', () => {
  it('uses nearest rank', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentiles(samples)).toEqual({ p50Ms: 50, p95Ms: 95, p99Ms: 99 });
    expect(percentiles([3, 1, 2])).toEqual({ p50Ms: 2, p95Ms: 3, p99Ms: 3 });
  });
  it('is NaN on no samples', () => {
    expect(Number.isNaN(percentiles([]).p50Ms)).toBe(true);
  });
});
