import { type ErrorDetail, validationError } from '@baton/contracts';

/** Row of `executions` as sent to `jsonb_to_recordset` (snake_case keys; absent = NULL). */
export interface ExecutionRow {
  id: string;
  workflow_id: string;
  version: number;
  status: string;
  input?: unknown;
  output?: unknown;
  error?: unknown;
  steps: Record<string, unknown>;
  revision: number;
  started_at: string;
  updated_at: string;
  finished_at?: string;
}

/** Row of `history_events` as sent to `jsonb_to_recordset`. */
export interface HistoryEventRow {
  execution_id: string;
  seq: number;
  type: string;
  at: string;
  step_id?: string;
  attempt?: number;
  item_index?: number;
  status?: string;
  data?: Record<string, unknown>;
}

/** The rows one `HistoryBatch` writes. */
export interface HistoryBatchRows {
  execution: ExecutionRow;
  events: HistoryEventRow[];
}

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const MAX_INT4 = 2_147_483_647;

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Checker {
  readonly problems: ErrorDetail[] = [];

  string(obj: Obj, key: string, path: string, required: boolean): string | undefined {
    const v = obj[key];
    if (v === undefined || v === null) {
      if (required) this.problems.push({ path: `${path}/${key}`, message: 'is required', rule: 'required' });
      return undefined;
    }
    if (typeof v !== 'string' || v.length === 0) {
      this.problems.push({ path: `${path}/${key}`, message: 'must be a non-empty string', rule: 'type' });
      return undefined;
    }
    return v;
  }

  integer(obj: Obj, key: string, path: string, required: boolean, min: number): number | undefined {
    const v = obj[key];
    if (v === undefined || v === null) {
      if (required) this.problems.push({ path: `${path}/${key}`, message: 'is required', rule: 'required' });
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > MAX_INT4) {
      this.problems.push({
        path: `${path}/${key}`,
        message: `must be an integer in ${min}..${MAX_INT4}`,
        rule: 'type',
      });
      return undefined;
    }
    return v;
  }

  timestamp(obj: Obj, key: string, path: string, required: boolean): string | undefined {
    const v = this.string(obj, key, path, required);
    if (v !== undefined && (!ISO_TIMESTAMP.test(v) || Number.isNaN(Date.parse(v)))) {
      this.problems.push({
        path: `${path}/${key}`,
        message: 'must be an ISO-8601 date-time',
        rule: 'format',
      });
      return undefined;
    }
    return v;
  }
}

/**
 * Checks the shape of a `HistoryBatch` (as received, untrusted) and maps it to table rows. Throws
 * `VALIDATION_FAILED` (not retryable) listing every problem: such a batch can never be written.
 */
export function toHistoryBatchRows(batch: unknown): HistoryBatchRows {
  if (!isObject(batch))
    throw validationError('history batch must be a JSON object', [
      { path: '', message: 'must be an object', rule: 'type' },
    ]);
  const c = new Checker();
  const id = c.string(batch, 'executionId', '', true);
  const workflowId = c.string(batch, 'workflowId', '', true);
  const version = c.integer(batch, 'version', '', true, 1);
  const revision = c.integer(batch, 'revision', '', true, 0);
  const status = c.string(batch, 'status', '', true);
  const startedAt = c.timestamp(batch, 'startedAt', '', true);
  const updatedAt = c.timestamp(batch, 'updatedAt', '', true);
  const finishedAt = c.timestamp(batch, 'finishedAt', '', false);
  const steps = batch.steps ?? {};
  if (!isObject(steps)) c.problems.push({ path: '/steps', message: 'must be an object', rule: 'type' });
  if (batch.error !== undefined && batch.error !== null && !isObject(batch.error)) {
    c.problems.push({ path: '/error', message: 'must be an object', rule: 'type' });
  }
  const rawEvents = batch.events ?? [];
  const events: HistoryEventRow[] = [];
  if (!Array.isArray(rawEvents)) {
    c.problems.push({ path: '/events', message: 'must be an array', rule: 'type' });
  } else {
    rawEvents.forEach((e: unknown, i: number) => {
      const path = `/events/${i}`;
      if (!isObject(e)) {
        c.problems.push({ path, message: 'must be an object', rule: 'type' });
        return;
      }
      const seq = c.integer(e, 'seq', path, true, 0);
      const type = c.string(e, 'type', path, true);
      const at = c.timestamp(e, 'at', path, true);
      const stepId = c.string(e, 'stepId', path, false);
      const attempt = c.integer(e, 'attempt', path, false, 0);
      const itemIndex = c.integer(e, 'itemIndex', path, false, 0);
      const eventStatus = c.string(e, 'status', path, false);
      if (e.data !== undefined && e.data !== null && !isObject(e.data)) {
        c.problems.push({ path: `${path}/data`, message: 'must be an object', rule: 'type' });
      }
      if (seq === undefined || type === undefined || at === undefined || id === undefined) return;
      events.push({
        execution_id: id,
        seq,
        type,
        at,
        step_id: stepId,
        attempt,
        item_index: itemIndex,
        status: eventStatus,
        data: isObject(e.data) ? e.data : undefined,
      });
    });
  }
  if (c.problems.length > 0) {
    const which = id === undefined ? '' : ` of execution ${id}`;
    throw validationError(`history batch${which} is invalid`, c.problems);
  }
  return {
    execution: {
      id: id as string,
      workflow_id: workflowId as string,
      version: version as number,
      status: status as string,
      input: batch.input,
      output: batch.output,
      error: batch.error ?? undefined,
      steps: steps as Obj,
      revision: revision as number,
      started_at: startedAt as string,
      updated_at: updatedAt as string,
      finished_at: finishedAt,
    },
    events,
  };
}
