import { CrashPoints } from '@baton/contracts';

import type { FaultPoints } from './execution-runner';

type Point = Parameters<FaultPoints['hit']>[0];

const POINTS: readonly Point[] = ['after-state-write', 'before-ack'];

/**
 * The orchestrator's crash points for fault-injection tests (`BATON_FAULTS=after-state-write:0.05`; see
 * {@link CrashPoints}): at a configured point the process exits at once, with the given probability, exactly
 * as a SIGKILL would leave it. Empty in production.
 */
export class ProcessFaultPoints extends CrashPoints<Point> implements FaultPoints {
  constructor(spec: string, exit?: (point: string) => void, random?: () => number) {
    super('BATON_FAULTS', POINTS, spec, exit, random);
  }
}
