import { spawnSync } from 'node:child_process';

import { cpuDelta, cpuSeconds } from './cpu';

describe('cpu accounting', () => {
  it('reads this process', () => {
    const used = cpuSeconds(process.pid);
    if (process.platform === 'linux') expect(used).toBeGreaterThan(0);
    else expect(used).toBeUndefined();
  });
  it('adds the CPU of exited children once they are reaped', () => {
    if (process.platform !== 'linux') return;
    const own = cpuSeconds(process.pid) ?? 0;
    const withChildren = cpuSeconds(process.pid, { reapedChildren: true }) ?? 0;
    // The child spins until it has used 300 ms of CPU; spawnSync waits for it (reaps it).
    const child = spawnSync(process.execPath, [
      '-e',
      'while (process.cpuUsage().user + process.cpuUsage().system < 300000);',
    ]);
    expect(child.status).toBe(0);
    const ownGrew = (cpuSeconds(process.pid) ?? 0) - own;
    const withChildrenGrew = (cpuSeconds(process.pid, { reapedChildren: true }) ?? 0) - withChildren;
    expect(withChildrenGrew - ownGrew).toBeGreaterThanOrEqual(0.25);
  });
  it('subtracts samples per party', () => {
    expect(cpuDelta({ a: 1, b: 2 }, { a: 3.5, b: 2, c: 1 })).toEqual({ a: 2.5, b: 0, c: 1 });
  });
});
