import { expectChaosInvariants } from './chaos/assertions';
import { ChaosRun } from './chaos/chaos';

/**
 * The short form of the chaos suite (e2e/chaos/, `npm run test:chaos`) that CI runs with the e2e suite:
 * the same scenario with about 40 executions and a 5-second PostgreSQL outage.
 */
describe('chaos (short form)', () => {
  const run = new ChaosRun({ executions: 40, outageMs: 5_000, settleTimeoutMs: 360_000 });

  beforeAll(() => run.setUp(), 300_000);
  afterAll(() => run.tearDown(), 120_000);

  it('every execution ends as its input asks, each effect once, under every fault', async () => {
    const report = await run.run();
    expect(report.started).toBeGreaterThanOrEqual(41);
    expectChaosInvariants(report);
  }, 900_000);
});
