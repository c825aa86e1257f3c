import { EvaluatorPool, processCpuMs } from './expression.pool';

describe('EvaluatorPool time limit', () => {
  const pool = new EvaluatorPool({
    poolSize: 1,
    timeoutMs: 200,
    killGraceMs: 50,
    maxMemoryMb: 64,
    maxDepth: 200,
    maxResultBytes: 1 << 20,
    cacheSize: 16,
    startTimeoutMs: 10_000,
  });
  afterAll(() => pool.close());

  it('reads a process CPU time from /proc', () => {
    expect(processCpuMs(process.pid)).toEqual(expect.any(Number));
    expect(processCpuMs(2 ** 30)).toBeUndefined();
  });

  it('does not kill an evaluator that was starved of CPU rather than looping', async () => {
    expect(await pool.run('1 + 1', '{}')).toEqual({ ok: true, json: '2' });
    const [pid] = pool.pids;
    if (pid === undefined) throw new Error('no evaluator process');
    process.kill(pid, 'SIGSTOP');
    const pending = pool.run('$sum([1, 2, 3])', '{}');
    // Well past the time limit on the wall clock, with no CPU used.
    await new Promise((resolve) => setTimeout(resolve, 800));
    process.kill(pid, 'SIGCONT');
    expect(await pending).toEqual({ ok: true, json: '6' });
    expect(pool.restarts).toBe(0);
  });

  it('still kills an evaluator that spends its CPU time looping', async () => {
    // Catastrophic backtracking: CPU only, no allocation and no recursion for the other limits to stop.
    const outcome = await pool.run('$match($s, /(a+)+$/)', JSON.stringify({ s: `${'a'.repeat(40)}!` }));
    expect(outcome).toMatchObject({ ok: false, reason: 'timeout' });
  });
});
