import type { ChaosReport } from './chaos';

/** What every chaos run must show, full or short. */
export function expectChaosInvariants(report: ChaosReport): void {
  expect(report.lost).toBe(0);
  expect(report.stuck).toBe(0);
  expect(report.appliedTwice).toBe(0);
  expect(report.missingEffects).toBe(0);
  expect(report.unexpectedStatus).toEqual([]);
  expect(report.badHistory).toEqual([]);
  expect(report.completed + report.compensated + report.failed).toBe(report.started);
  expect(report.compensated).toBeGreaterThan(0);
  // The faults fired: retries happened, redeliveries were absorbed by idempotency keys, a late result fenced.
  expect(report.maxAttempt).toBeGreaterThan(1);
  expect(report.redeliveries).toBeGreaterThan(0);
  expect(report.staleResults).toBeGreaterThan(0);
  expect(report.faults['worker crash after effect']).toBeGreaterThan(0);
  expect(report.faults['orchestrator crash after state write']).toBeGreaterThan(0);
  expect(report.lostTaskRecovered).toBe(true);
  // PostgreSQL down: nothing that needed it was acked, nothing dead-lettered; and work did wait for it.
  expect(report.outageViolations).toEqual([]);
  expect(report.outageBacklog).toBeGreaterThan(0);
  // Every dead letter must be explained; this workload produces none.
  expect(report.deadLetters).toEqual([]);
}
