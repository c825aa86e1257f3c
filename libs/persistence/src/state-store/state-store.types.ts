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

/** What became of a dead letter: still dead, re-published to its subject, or given up on by an operator. */
export const DeadLetterStatus = {
  DEAD: 'DEAD',
  REDRIVEN: 'REDRIVEN',
  DISCARDED: 'DISCARDED',
} as const;
export type DeadLetterStatus = (typeof DeadLetterStatus)[keyof typeof DeadLetterStatus];

/** Which dead letter: the consumer that gave up on which message of which stream. */
export interface DeadLetterKey {
  stream: string;
  consumer: string;
  streamSequence: number;
}

/** The id of a dead letter in the API: `<stream>.<consumer>.<streamSequence>` (all three are dot-free). */
export function deadLetterId(key: DeadLetterKey): string {
  return `${key.stream}.${key.consumer}.${key.streamSequence}`;
}

const DEAD_LETTER_ID = /^([A-Za-z0-9_-]{1,256})\.([A-Za-z0-9_-]{1,256})\.([1-9][0-9]{0,15})$/;

/** Parses a {@link deadLetterId}; undefined when it is not one. */
export function parseDeadLetterId(id: string): DeadLetterKey | undefined {
  const m = DEAD_LETTER_ID.exec(id);
  if (m === null) return undefined;
  const streamSequence = Number(m[3]);
  if (!Number.isSafeInteger(streamSequence)) return undefined;
  return { stream: m[1], consumer: m[2], streamSequence };
}

/** A dead letter as stored, with its status and what an operator did with it. */
export interface DeadLetterView extends DeadLetterRecord {
  /** `<stream>.<consumer>.<streamSequence>`. */
  id: string;
  status: DeadLetterStatus;
  /** When it left `DEAD` (re-driven or discarded). */
  resolvedAt?: string;
  /** Who re-drove or discarded it. */
  resolvedBy?: string;
  /** Why it was discarded. */
  reason?: string;
  /** REDRIVEN: the `Nats-Msg-Id` and stream sequence of the re-published message. */
  redrive?: { msgId: string; streamSequence: number };
}

/** An operator's action on a dead letter. */
export interface DeadLetterAction {
  by: string;
  reason?: string;
  /** REDRIVEN: where the message was re-published. */
  redrive?: { msgId: string; streamSequence: number };
}

/** Filters and paging of {@link DeadLetterRepository.list}. */
export interface DeadLetterListQuery {
  stream?: string;
  consumer?: string;
  /** The original subject. */
  subject?: string;
  /** Only this status (default: DEAD, unless `includeResolved`). */
  status?: DeadLetterStatus;
  /** Every status (when `status` is not given). */
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
