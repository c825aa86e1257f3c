import { cpuDelta, cpuSeconds } from './cpu';

describe('cpu accounting', () => {
  it('reads this process', () => {
    const used = cpuSeconds(process.pid);
    if (process.platform === 'linux') expect(used).toBeGreaterThan(0);
    else expect(used).toBeUndefined();
  });
  it('subtracts samples per party', () => {
    expect(cpuDelta({ a: 1, b: 2 }, { a: 3.5, b: 2, c: 1 })).toEqual({ a: 2.5, b: 0, c: 1 });
  });
});
