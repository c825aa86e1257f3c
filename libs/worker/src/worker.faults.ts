import { CrashPoints } from '@baton/contracts';

/** Named crash points of the worker SDK, for fault-injection tests. */
export const WorkerFaultPoint = {
  /** The handler returned (its side effect is done); the result is neither published nor acked yet. */
  AFTER_EFFECT: 'after-effect',
} as const;
export type WorkerFaultPoint = (typeof WorkerFaultPoint)[keyof typeof WorkerFaultPoint];

/** Where the task processor may be made to crash; a no-op unless switched on. */
export interface WorkerFaults {
  hit(point: WorkerFaultPoint): void;
}

/** The environment variable that switches fault points on: `BATON_WORKER_FAULTS=after-effect:0.05`. */
export const WORKER_FAULTS_ENV = 'BATON_WORKER_FAULTS';

/**
 * The worker's crash points (`BATON_WORKER_FAULTS`; see {@link CrashPoints}).
 *
 * @internal for Baton's own fault-injection tests.
 */
export class ProcessWorkerFaults extends CrashPoints<WorkerFaultPoint> implements WorkerFaults {
  constructor(spec: string, exit?: (point: string) => void, random?: () => number) {
    super(WORKER_FAULTS_ENV, Object.values(WorkerFaultPoint), spec, exit, random);
  }

  /** The faults named by {@link WORKER_FAULTS_ENV} in this process's environment (none when unset). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): ProcessWorkerFaults {
    return new ProcessWorkerFaults(env[WORKER_FAULTS_ENV] ?? '');
  }
}
