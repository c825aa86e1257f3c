/**
 * Message bodies exchanged over JetStream. Every body carries `protocol` so that a later change can be
 * recognised; readers accept unknown fields. Worker-facing shapes are documented in docs/workers.md.
 */
import type { ExecutionStatus, StepStatus } from './states';

export const PROTOCOL_VERSION = 1;

export interface ErrorInfo {
  /** Error type (a worker's error name, or a Baton ErrorCode such as TIMEOUT, EXPRESSION_FAILED). */
  type: string;
  message: string;
  /** The worker asked that this failure not be retried. */
  nonRetryable?: boolean;
  details?: unknown;
}

/** Published to `baton.tasks.<action>` (stream BATON_TASKS). Nats-Msg-Id: `task:<taskId>`. */
export interface TaskMessage {
  protocol: number;
  /** `<executionId>.<stepId>.<attempt>` (with `.<index>` for parallel items). */
  taskId: string;
  executionId: string;
  workflowId: string;
  workflowVersion: number;
  stepId: string;
  /** Index of the item inside a parallel step. */
  itemIndex?: number;
  attempt: number;
  action: string;
  input: unknown;
  /** Stable across attempts of one step (and item): use it to make effects idempotent. */
  idempotencyKey: string;
  /** Subject to publish the TaskResult to (a JetStream subject; publish and await the ack). */
  replyTo: string;
  /** Opaque token for completing the task over HTTP (`POST /v1/tasks/:token/complete`). */
  token: string;
  scheduledAt: string;
  /** Deadline of this attempt (ISO-8601), when the step has `timeoutSeconds`. */
  deadline?: string;
  /** True when this task runs a step's compensation. */
  compensation?: boolean;
  /** For a compensation: the compensated step's input and output. */
  compensates?: { stepId: string; input: unknown; output: unknown };
  /**
   * Decision requests only: evaluate the rules as they were at this instant (ISO-8601), the execution's
   * start, so a running execution stays on the rule versions it started with. Absent: the latest rules.
   */
  rulesAsOf?: string;
}

/** A signal for an execution (`wait {signal}` steps); kept until a step waits for it. */
export interface ExecutionSignal {
  executionId: string;
  name: string;
  /** De-duplicates repeated sends of one signal. */
  signalId: string;
  payload?: unknown;
  sentAt: string;
}

/**
 * Published by the orchestrator to `baton.events.task.cancelled.<executionId>` (stream BATON_EVENTS) when
 * an execution is terminated: workers abort the named running tasks (`ctx.signal`).
 */
export interface TaskCancelNotice {
  executionId: string;
  taskIds: string[];
  reason: string;
}

/** Published to `baton.alerts.escalation` when an error policy escalates a failure. */
export interface EscalationAlert {
  executionId: string;
  workflowId: string;
  version: number;
  stepId: string;
  error: ErrorInfo;
  at: string;
}

/** Published by a worker to the task's `replyTo`. Nats-Msg-Id: `result:<taskId>`. */
export interface TaskResult {
  protocol: number;
  taskId: string;
  executionId: string;
  stepId: string;
  itemIndex?: number;
  attempt: number;
  status: 'completed' | 'failed';
  output?: unknown;
  error?: ErrorInfo;
  workerId?: string;
  startedAt?: string;
  finishedAt?: string;
}

/** Published to `baton.orch.start.<workflowId>`. Nats-Msg-Id: `start:<executionId>`. */
export interface StartExecutionCommand {
  protocol: number;
  kind: 'start';
  executionId: string;
  workflowId: string;
  /** Absent: the latest registered version. */
  version?: number;
  input: unknown;
  /** What started it: `api`, `event:<stream seq>`, `cron:<schedule>`, `parent:<executionId>.<stepId>`. */
  cause: string;
  requestedAt: string;
}

/**
 * Published by the orchestrator to `baton.sched.timers.set` (stream BATON_SCHED), Nats-Msg-Id
 * `timer-set:<id>`. The scheduler stores the timer (idempotent by id) and, when it is due, publishes
 * `payload` on `subject` with Nats-Msg-Id `timer:<id>` and `headers`.
 */
export interface TimerSetRequest {
  protocol: number;
  id: string;
  /** ISO-8601. */
  dueAt: string;
  subject: string;
  payload: unknown;
  headers?: Record<string, string>;
}

/** Published to `baton.sched.timers.cancel`, Nats-Msg-Id `timer-cancel:<id>`. Cancelling a fired or unknown timer is a no-op. */
export interface TimerCancelRequest {
  protocol: number;
  id: string;
}

/** Why the orchestrator set a timer. */
export const TimerPurpose = {
  /** Retry backoff elapsed: dispatch the next attempt. */
  RETRY: 'retry',
  /** An attempt's deadline (`timeoutSeconds`). */
  DEADLINE: 'deadline',
  /** A `wait {seconds | until}` step is over. */
  WAIT: 'wait',
  /** A `wait {signal | event}` step's `timeoutSeconds` elapsed. */
  WAIT_TIMEOUT: 'wait-timeout',
  /** A held attempt (open circuit) may be dispatched. */
  HOLD: 'hold',
} as const;
export type TimerPurpose = (typeof TimerPurpose)[keyof typeof TimerPurpose];

/** A fired orchestrator timer, on `baton.orch.timer.<executionId>`. */
export interface OrchestratorTimer {
  protocol: number;
  kind: 'timer';
  timerId: string;
  executionId: string;
  stepId: string;
  /** The step attempt the timer belongs to; a timer for another attempt is stale. */
  attempt: number;
  purpose: TimerPurpose;
}

/** An event delivered to an execution whose `wait {event}` step matches it, on `baton.orch.event.<executionId>`. */
export interface OrchestratorEventMatch {
  protocol: number;
  kind: 'event';
  executionId: string;
  stepId: string;
  attempt: number;
  subject: string;
  /** Stream sequence of the event in EVENTS. */
  eventSeq: number;
  event: unknown;
}

/** A worker's heartbeat for a running attempt (`ctx.heartbeat()`), on `baton.orch.heartbeat.<executionId>`. */
export interface TaskHeartbeat {
  protocol: number;
  kind: 'heartbeat';
  taskId: string;
  executionId: string;
  stepId: string;
  attempt: number;
  at: string;
  details?: unknown;
}

export type OrchestratorMessage = StartExecutionCommand | (TaskResult & { kind?: 'result' });

/** One entry of an execution's history. `seq` is gap-free and ordered per execution. */
export interface HistoryEvent {
  seq: number;
  type: HistoryEventType;
  at: string;
  stepId?: string;
  attempt?: number;
  itemIndex?: number;
  status?: StepStatus | ExecutionStatus;
  data?: Record<string, unknown>;
}

export const HistoryEventType = {
  EXECUTION_STARTED: 'ExecutionStarted',
  STEP_SCHEDULED: 'StepScheduled',
  STEP_COMPLETED: 'StepCompleted',
  STEP_FAILED: 'StepFailed',
  STEP_SKIPPED: 'StepSkipped',
  TASK_DISPATCHED: 'TaskDispatched',
  TASK_COMPLETED: 'TaskCompleted',
  TASK_FAILED: 'TaskFailed',
  STALE_RESULT_IGNORED: 'StaleResultIgnored',
  EVENT_EMITTED: 'EventEmitted',
  EXECUTION_COMPLETED: 'ExecutionCompleted',
  EXECUTION_FAILED: 'ExecutionFailed',
  /** An attempt failed and another is due (data: error, retryAt, delayMs). */
  STEP_RETRY_SCHEDULED: 'StepRetryScheduled',
  /** An attempt outlived its deadline (data: deadlineAt). */
  STEP_TIMED_OUT: 'StepTimedOut',
  /** A worker reported progress on a running attempt (extends its deadline). */
  STEP_HEARTBEAT: 'StepHeartbeat',
  /** A wait step started waiting (data: kind, until, signal, subject, timeoutAt). */
  WAIT_STARTED: 'WaitStarted',
  /** A signal reached the execution (data: name, payload, buffered). */
  SIGNAL_RECEIVED: 'SignalReceived',
  /** An event matched a wait step (data: subject, eventSeq). */
  EVENT_MATCHED: 'EventMatched',
  /** A failed step's error policy let the execution continue past it. */
  STEP_CONTINUED: 'StepContinued',
  /** Compensation of the completed steps begins (data: failure, steps in order). */
  COMPENSATION_STARTED: 'CompensationStarted',
  COMPENSATION_SCHEDULED: 'CompensationScheduled',
  COMPENSATION_COMPLETED: 'CompensationCompleted',
  COMPENSATION_FAILED: 'CompensationFailed',
  EXECUTION_COMPENSATED: 'ExecutionCompensated',
  /** An error policy escalated a failure: the execution waits for an operator (data: error). */
  EXECUTION_ESCALATED: 'ExecutionEscalated',
  EXECUTION_TERMINATED: 'ExecutionTerminated',
  /** An attempt of an action whose circuit is open waits (data: action, retryAt). */
  STEP_HELD: 'StepHeld',
  /** A routed step chose its candidate (data: action, cost, reason, strategy). */
  ROUTE_CHOSEN: 'RouteChosen',
  /** A routed step completed and charged its cost to the budget (data: action, cost, spent, limit). */
  BUDGET_CHARGED: 'BudgetCharged',
  /** An operator resumed a failed or parked execution (data: steps reset). */
  EXECUTION_RETRIED: 'ExecutionRetried',
} as const;
export type HistoryEventType = (typeof HistoryEventType)[keyof typeof HistoryEventType];

/**
 * Published to `baton.history.<executionId>` (stream BATON_HISTORY), one per state transition.
 * Nats-Msg-Id: `history:<executionId>:<revision>`. Carries a summary so readers need no other source.
 */
export interface HistoryBatch {
  protocol: number;
  executionId: string;
  workflowId: string;
  version: number;
  /** Monotonic per execution: the transition number. */
  revision: number;
  status: ExecutionStatus;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  input?: unknown;
  output?: unknown;
  error?: ErrorInfo;
  /** Step states after this transition. */
  steps: Record<string, StepSummary>;
  events: HistoryEvent[];
}

export interface StepSummary {
  status: StepStatus;
  attempt: number;
  startedAt?: string;
  finishedAt?: string;
  output?: unknown;
  error?: ErrorInfo;
}

/** Published to `baton.events.execution.<workflowId>.<status>` (CONTRACT §4). */
export interface ExecutionFinishedEvent {
  executionId: string;
  workflowId: string;
  version: number;
  status: ExecutionStatus;
  output?: unknown;
  error?: ErrorInfo;
}

/** Body of a dead letter (stream BATON_DLQ); the original headers are kept and Baton-Dlq-* added. */
export interface DeadLetterRecord {
  stream: string;
  consumer: string;
  subject: string;
  streamSequence: number;
  deliveries: number;
  errorCode: string;
  error: string;
  deadAt: string;
  /** The original payload, base64. */
  data: string;
  headers: Record<string, string[]>;
  /** The payload copy was cut to fit the dead-letter stream: the message cannot be re-driven. */
  truncated?: boolean;
}
