import type { ErrorInfo, ExecutionStatus, StepStatus } from '@baton/contracts';

/** A message the orchestrator must publish after its state write; re-published with the same id on re-drive. */
export interface OutboxEntry {
  subject: string;
  msgId: string;
  body: unknown;
  headers?: Record<string, string>;
}

export interface StepRecord {
  status: StepStatus;
  /** Current (or last) attempt, from 1; 0 while PENDING. */
  attempt: number;
  scheduledAt?: string;
  startedAt?: string;
  finishedAt?: string;
  /** Evaluated parameters of the current attempt. */
  input?: unknown;
  output?: unknown;
  error?: ErrorInfo;
  /** Task id of the current attempt; results for any other id are stale. */
  taskId?: string;
  /** Random part of the current attempt's completion token. */
  nonce?: string;
  /** The next attempt is due then (retry backoff, or an attempt held by an open circuit); no task is out. */
  retryAt?: string;
  /** Deadline of the current attempt (`timeoutSeconds`), extended by heartbeats. */
  deadlineAt?: string;
  /** Last heartbeat of the current attempt. */
  heartbeatAt?: string;
  /** What a RUNNING wait step waits for. */
  wait?: StepWait;
  /** Order of completion among the execution's steps (compensations run in reverse of it). */
  completedSeq?: number;
  /** The step failed for good but its error policy said `continue`: dependents run as if it completed. */
  continued?: boolean;
  /** The compensation of this (completed) step, once it has been started. */
  compensation?: CompensationRecord;
  /** Scheduler timers armed for the current attempt (cancelled when the step moves on). */
  timerIds?: string[];
  /** Attempts made before an operator's retry: retry policies count attempts after it. */
  retryBase?: number;
  /** Routed task steps: the chosen candidate and the candidates that failed for good. */
  route?: StepRoute;
}

export interface StepRoute {
  action: string;
  cost: number;
  /** Actions that failed after their retries (failover moves past them). */
  failed: string[];
  /** First attempt number on the current candidate (retries count from it). */
  since: number;
}

export interface StepWait {
  kind: 'time' | 'signal' | 'event';
  /** time: when the wait is over. */
  until?: string;
  /** signal: the signal's name. */
  signal?: string;
  /** event: subject pattern under `events.>` and json-rules-engine condition over `{ event, subject }`. */
  subject?: string;
  condition?: unknown;
  /** signal/event: when the wait fails with TIMEOUT. */
  timeoutAt?: string;
  /** event: the key of the wait in the waits index (KV bucket `baton_waits`). */
  indexKey?: string;
}

export interface CompensationRecord {
  status: 'SCHEDULED' | 'COMPLETED' | 'FAILED';
  attempt: number;
  taskId: string;
  nonce: string;
  input?: unknown;
  output?: unknown;
  error?: ErrorInfo;
  retryAt?: string;
  /** Attempts made before an operator's retry (retries count after it). */
  retryBase?: number;
}

/** A signal kept for a wait step that has not started waiting yet. */
export interface BufferedSignal {
  payload: unknown;
  at: string;
  signalId?: string;
}

/**
 * The source of truth of one execution: one value in the KV bucket `baton_executions`, written with
 * compare-and-set on the KV revision. See docs/adr/0003-execution-source-of-truth.md.
 */
export interface ExecutionRecord {
  schema: 1;
  id: string;
  workflowId: string;
  version: number;
  status: ExecutionStatus;
  input: unknown;
  output?: unknown;
  error?: ErrorInfo & { stepId?: string };
  cause: string;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  /** Transition counter: 1 after start, +1 per transition. */
  revision: number;
  /** Seq of the last history event. */
  seq: number;
  steps: Record<string, StepRecord>;
  /** Messages of the last transition(s) not yet known to be published. */
  outbox: OutboxEntry[];
  /** `<taskId>:<status>` of stale results already recorded in history (bounded). */
  ignored?: string[];
  /** W3C trace context of the execution (traceparent, tracestate). */
  trace?: Record<string, string>;
  /** Signals received before a step waited for them, by name (oldest first, bounded). */
  signals?: Record<string, BufferedSignal[]>;
  /** Ids of signals already applied (bounded), so a repeated signal is applied once. */
  signalIds?: string[];
  /** The failure being compensated, or that ended the execution. */
  failure?: ErrorInfo & { stepId?: string };
  /** Set when the execution needs an operator: a compensation failed, or an error policy escalated. */
  attention?: { reason: string; stepId?: string; at: string };
  /** An error policy escalated this step's failure: the execution is WAITING for an operator. */
  parked?: { stepId: string; error: ErrorInfo; at: string };
  /** Completion order counter (see StepRecord.completedSeq). */
  completions?: number;
  /** How many times an operator resumed the execution (each run's completion notice has its own id). */
  reruns?: number;
  /** Budget charged so far by completed routed steps (`budget: { limit }`). */
  spent?: number;
}
