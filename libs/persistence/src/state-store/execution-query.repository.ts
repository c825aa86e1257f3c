import type { DataSource } from 'typeorm';

import { ExecutionStatus } from '@baton/contracts';
import type { ErrorInfo, HistoryEvent, HistoryEventType, StepStatus, StepSummary } from '@baton/contracts';

import { badParameter, decodeCursor, encodeCursor } from '../cursor';
import { toBatonDatabaseError } from '../database-errors';
import { ExecutionEntity } from './entities/execution.entity';
import { checkDate, checkLimit } from './limits';
import {
  type ExecutionListItem,
  type ExecutionListQuery,
  type ExecutionRecord,
  type HistoryPage,
  type HistoryQuery,
  type Page,
  QUERY_LIMITS,
} from './state-store.types';

const EXECUTION_STATUSES: ReadonlySet<string> = new Set(Object.values(ExecutionStatus));

interface ListRow {
  id: string;
  workflow_id: string;
  version: number;
  status: string;
  revision: number;
  error: ErrorInfo | null;
  started_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  started_us: string;
}

interface EventRow {
  seq: number;
  type: string;
  at: Date;
  step_id: string | null;
  attempt: number | null;
  item_index: number | null;
  status: string | null;
  data: Record<string, unknown> | null;
}

/** Timestamp as microseconds since the epoch, exactly (cursor values round-trip without loss). */
const STARTED_US = `(extract(epoch FROM started_at) * 1000000)::bigint::text AS started_us`;
const FROM_US = (param: string): string =>
  `('epoch'::timestamptz + ${param}::bigint * interval '1 microsecond')`;

/** Read side of executions and their history (state-store). */
export class ExecutionQueryRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Executions newest first (`started_at desc, id desc`), filtered, keyset-paginated. Throws
   * `BAD_REQUEST` naming the parameter for a bad `status`, `from`, `to`, `limit` or `cursor`.
   */
  async listExecutions(query: ExecutionListQuery = {}): Promise<Page<ExecutionListItem>> {
    const limit = checkLimit(query.limit, QUERY_LIMITS.executions);
    const from = checkDate(query.from, 'from');
    const to = checkDate(query.to, 'to');
    if (query.status !== undefined && !EXECUTION_STATUSES.has(query.status)) {
      throw badParameter('status', `must be one of ${[...EXECUTION_STATUSES].join(', ')}`, 'enum');
    }
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: (p: string) => string, value: unknown): void => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (query.workflowId !== undefined) add((p) => `workflow_id = ${p}`, query.workflowId);
    if (query.status !== undefined) add((p) => `status = ${p}`, query.status);
    if (from !== undefined) add((p) => `started_at >= ${p}::timestamptz`, from.toISOString());
    if (to !== undefined) add((p) => `started_at < ${p}::timestamptz`, to.toISOString());
    if (query.cursor !== undefined) {
      const c = decodeCursor(query.cursor, { t: 'digits', id: 'string' });
      params.push(c.t, c.id);
      where.push(`(started_at, id) < (${FROM_US(`$${params.length - 1}`)}, $${params.length})`);
    }
    params.push(limit + 1);
    const sql = `
      SELECT id, workflow_id, version, status, revision, error, started_at, updated_at, finished_at, ${STARTED_US}
        FROM executions
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY started_at DESC, id DESC
       LIMIT $${params.length}`;
    const rows = await this.run<ListRow[]>('listing executions', sql, params);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toListItem),
      nextCursor:
        rows.length > limit && last !== undefined ? encodeCursor({ t: last.started_us, id: last.id }) : null,
    };
  }

  /** One execution, or `null` when unknown. */
  async getExecution(executionId: string): Promise<ExecutionRecord | null> {
    let row: ExecutionEntity | null;
    try {
      row = await this.ds.getRepository(ExecutionEntity).findOneBy({ id: executionId });
    } catch (err) {
      throw toBatonDatabaseError(err, `reading execution ${executionId}`);
    }
    return row === null ? null : toRecord(row);
  }

  /**
   * History of one execution in `seq` order, after `afterSeq`. Returns `null` when the execution is
   * unknown. Throws `BAD_REQUEST` naming `afterSeq` or `limit` when out of range.
   */
  async getHistory(executionId: string, query: HistoryQuery = {}): Promise<HistoryPage<HistoryEvent> | null> {
    const limit = checkLimit(query.limit, QUERY_LIMITS.history);
    if (
      query.afterSeq !== undefined &&
      (!Number.isInteger(query.afterSeq) || query.afterSeq < 0 || query.afterSeq > 2_147_483_647)
    ) {
      throw badParameter('afterSeq', 'must be a non-negative integer', 'range');
    }
    const afterSeq = query.afterSeq ?? -1;
    const rows = await this.run<EventRow[]>(
      `reading history of execution ${executionId}`,
      `SELECT seq, type, at, step_id, attempt, item_index, status, data
         FROM history_events
        WHERE execution_id = $1 AND seq > $2
        ORDER BY seq
        LIMIT $3`,
      [executionId, afterSeq, limit + 1],
    );
    if (rows.length === 0) {
      const exists = await this.run<unknown[]>(
        `reading execution ${executionId}`,
        'SELECT 1 FROM executions WHERE id = $1',
        [executionId],
      );
      if (exists.length === 0) return null;
    }
    const page = rows.slice(0, limit);
    return {
      items: page.map(toHistoryEvent),
      nextAfterSeq: rows.length > limit ? page[page.length - 1].seq : null,
    };
  }

  private async run<T>(what: string, sql: string, params: unknown[]): Promise<T> {
    try {
      return await this.ds.query(sql, params);
    } catch (err) {
      throw toBatonDatabaseError(err, what);
    }
  }
}

function toListItem(row: ListRow): ExecutionListItem {
  return {
    executionId: row.id,
    workflowId: row.workflow_id,
    version: row.version,
    status: row.status as ExecutionStatus,
    revision: row.revision,
    startedAt: row.started_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    ...(row.finished_at === null ? {} : { finishedAt: row.finished_at.toISOString() }),
    ...(row.error === null ? {} : { error: row.error }),
  };
}

function toRecord(row: ExecutionEntity): ExecutionRecord {
  return {
    executionId: row.id,
    workflowId: row.workflowId,
    version: row.version,
    status: row.status as ExecutionStatus,
    revision: row.revision,
    startedAt: row.startedAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    ...(row.finishedAt === null ? {} : { finishedAt: row.finishedAt.toISOString() }),
    ...(row.input === null ? {} : { input: row.input }),
    ...(row.output === null ? {} : { output: row.output }),
    ...(row.error === null ? {} : { error: row.error as ErrorInfo }),
    steps: row.steps as Record<string, StepSummary>,
  };
}

function toHistoryEvent(row: EventRow): HistoryEvent {
  return {
    seq: row.seq,
    type: row.type as HistoryEventType,
    at: row.at.toISOString(),
    ...(row.step_id === null ? {} : { stepId: row.step_id }),
    ...(row.attempt === null ? {} : { attempt: row.attempt }),
    ...(row.item_index === null ? {} : { itemIndex: row.item_index }),
    ...(row.status === null ? {} : { status: row.status as StepStatus | ExecutionStatus }),
    ...(row.data === null ? {} : { data: row.data }),
  };
}
