import type { DeadLetterRecord, ErrorInfo, ExecutionStatus, StepSummary } from '@baton/contracts';

/** An execution as the state-store knows it: the summary of the newest history batch applied. */
export interface ExecutionRecord {
  executionId: string;
  workflowId: string;
  version: number;
  status: ExecutionStatus;
  /** Revision (transition number) of the batch this summary comes from. */
  revision: number;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  input?: unknown;
  output?: unknown;
  error?: ErrorInfo;
  steps: Record<string, StepSummary>;
}

/** An execution in a list: the summary without `input`, `output` and `steps`. */
export type ExecutionListItem = Omit<ExecutionRecord, 'input' | 'output' | 'steps'>;

/** Filters and paging of {@link ExecutionQueryRepository.listExecutions}. */
export interface ExecutionListQuery {
  workflowId?: string;
  status?: ExecutionStatus;
  /** Started at or after (inclusive). */
  from?: Date;
  /** Started before (exclusive). */
  to?: Date;
  /** 1..500, default 50. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** A page of a keyset-paginated list; `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Paging of {@link ExecutionQueryRepository.getHistory}. */
export interface HistoryQuery {
  /** Return events with `seq` greater than this (default: from the start). */
  afterSeq?: number;
  /** 1..1000, default 100. */
  limit?: number;
}

/** A page of history in `seq` order; `nextAfterSeq` is null when no more events exist yet. */
export interface HistoryPage<E> {
  items: E[];
  nextAfterSeq: number | null;
}

/** A dead letter as stored, with when an operator marked it resolved. */
export interface DeadLetterView extends DeadLetterRecord {
  resolvedAt?: string;
}

/** Filters and paging of {@link DeadLetterRepository.list}. */
export interface DeadLetterListQuery {
  stream?: string;
  consumer?: string;
  /** Include resolved dead letters too (default: unresolved only). */
  includeResolved?: boolean;
  /** 1..500, default 50. */
  limit?: number;
  cursor?: string;
}

/** Bounds of the list parameters, shared by the repository and the HTTP/NATS validation. */
export const QUERY_LIMITS = {
  executions: { min: 1, max: 500, default: 50 },
  history: { min: 1, max: 1000, default: 100 },
  deadLetters: { min: 1, max: 500, default: 50 },
} as const;
