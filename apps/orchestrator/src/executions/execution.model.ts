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
}
