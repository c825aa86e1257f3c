/** Step states (CONTRACT §3.2). */
export const StepStatus = {
  PENDING: 'PENDING',
  SCHEDULED: 'SCHEDULED',
  RUNNING: 'RUNNING',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  SKIPPED: 'SKIPPED',
  COMPENSATED: 'COMPENSATED',
} as const;
export type StepStatus = (typeof StepStatus)[keyof typeof StepStatus];

/** Execution states (CONTRACT §3.2). */
export const ExecutionStatus = {
  RUNNING: 'RUNNING',
  WAITING: 'WAITING',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  COMPENSATING: 'COMPENSATING',
  COMPENSATED: 'COMPENSATED',
  TERMINATED: 'TERMINATED',
} as const;
export type ExecutionStatus = (typeof ExecutionStatus)[keyof typeof ExecutionStatus];

export const TERMINAL_EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  ExecutionStatus.COMPLETED,
  ExecutionStatus.FAILED,
  ExecutionStatus.COMPENSATED,
  ExecutionStatus.TERMINATED,
];

export function isTerminalExecutionStatus(status: ExecutionStatus): boolean {
  return TERMINAL_EXECUTION_STATUSES.includes(status);
}

/** Step states after which a step never changes again (outside compensation and operator retry). */
export const FINISHED_STEP_STATUSES: readonly StepStatus[] = [
  StepStatus.COMPLETED,
  StepStatus.FAILED,
  StepStatus.SKIPPED,
  StepStatus.COMPENSATED,
];

export function isFinishedStepStatus(status: StepStatus): boolean {
  return FINISHED_STEP_STATUSES.includes(status);
}
