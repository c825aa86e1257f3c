import { expectChaosInvariants } from './assertions';
import { ChaosRun } from './chaos';

/**
 * The full chaos run (issue "Failure handling", point 7): CHAOS_EXECUTIONS executions (default 500) while
 * every service and the worker are SIGKILLed and restarted, nats-server and PostgreSQL restarted, PostgreSQL
 * down for CHAOS_OUTAGE_MS (default 30 s), crash points fired in the worker and the orchestrator, a worker
 * paused past its ack wait and a task message deleted. See docs/failures.md, "Chaos suite".
 */
describe('chaos', () => {
  const executions = Number(process.env['CHAOS_EXECUTIONS'] ?? '500');
  const run = new ChaosRun({
    executions,
    outageMs: Number(process.env['CHAOS_OUTAGE_MS'] ?? '30000'),
    settleTimeoutMs: 900_000,
    ...(process.env['CHAOS_PHASES'] ? { phases: process.env['CHAOS_PHASES'].split(',') } : {}),
  });

  beforeAll(() => run.setUp(), 300_000);
  afterAll(() => run.tearDown(), 120_000);

  it(`${executions} executions survive every fault: none stuck, lost or applied twice`, async () => {
    const report = await run.run();
    expect(report.started).toBeGreaterThanOrEqual(executions + 1);
    expectChaosInvariants(report);
  });
});
