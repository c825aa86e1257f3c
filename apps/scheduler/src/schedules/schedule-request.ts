import {
  DEFINITION_SCHEDULE_PREFIX,
  type ErrorDetail,
  MAX_ID_LENGTH,
  type ScheduleView,
  WORKFLOW_ID,
  isSubjectToken,
  randomId,
  validationError,
} from '@baton/contracts';
import { ScheduleOverlap, ScheduleSource } from '@baton/persistence';
import type { NewSchedule, ScheduleRecord } from '@baton/persistence';

import { cronProblem, isTimeZone, nextFireAfter } from './schedule-cron';

const MAX_EXPRESSION_LENGTH = 256;
/** Longest schedule id accepted in a path (definition schedule ids are `wf-<workflowId>-<index>`). */
const MAX_SCHEDULE_ID_LENGTH = MAX_ID_LENGTH + 16;
/** Most schedules one list returns. */
export const MAX_SCHEDULE_LIST = 1_000;

const KNOWN_FIELDS = new Set([
  'id',
  'workflowId',
  'workflowVersion',
  'expression',
  'timezone',
  'input',
  'overlap',
  'paused',
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates a create request `{ workflowId, expression, timezone?, input?, overlap?, paused?, workflowVersion?,
 * id? }` received at `nowMs`. Throws VALIDATION_FAILED whose details name every bad field (`/expression`,
 * `/timezone`, unknown fields, ...).
 */
export function parseScheduleRequest(body: unknown, nowMs: number): NewSchedule {
  if (!isObject(body)) {
    throw validationError('the schedule must be a JSON object', [
      { path: '', message: 'must be an object', rule: 'type' },
    ]);
  }
  const details: ErrorDetail[] = [];
  for (const key of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(key))
      details.push({ path: `/${key}`, message: 'is not a known field', rule: 'unknown' });
  }

  const { id, workflowId, workflowVersion, expression, timezone, overlap, paused } = body;
  if (id !== undefined) {
    if (!isSubjectToken(id, MAX_ID_LENGTH)) {
      details.push({
        path: '/id',
        message: `must be 1-${MAX_ID_LENGTH} characters of [A-Za-z0-9_-]`,
        rule: 'id',
      });
    } else if (id.startsWith(DEFINITION_SCHEDULE_PREFIX)) {
      details.push({
        path: '/id',
        message: `must not start with '${DEFINITION_SCHEDULE_PREFIX}' (kept for the schedules of workflow definitions)`,
        rule: 'reservedId',
      });
    }
  }
  if (
    typeof workflowId !== 'string' ||
    workflowId.length === 0 ||
    workflowId.length > MAX_ID_LENGTH ||
    !WORKFLOW_ID.test(workflowId)
  ) {
    details.push({
      path: '/workflowId',
      message: `must be a workflow id of [a-z0-9-], 1-${MAX_ID_LENGTH} characters`,
      rule: 'workflowId',
    });
  }
  if (
    workflowVersion !== undefined &&
    workflowVersion !== null &&
    (typeof workflowVersion !== 'number' || !Number.isInteger(workflowVersion) || workflowVersion < 1)
  ) {
    details.push({ path: '/workflowVersion', message: 'must be a positive integer', rule: 'type' });
  }
  let zone = 'UTC';
  if (timezone !== undefined) {
    if (typeof timezone !== 'string' || !isTimeZone(timezone)) {
      details.push({
        path: '/timezone',
        message: 'must be an IANA time zone such as Europe/Berlin',
        rule: 'timezone',
      });
    } else {
      zone = timezone;
    }
  }
  const zoneOk = !details.some((d) => d.path === '/timezone');
  if (
    typeof expression !== 'string' ||
    expression.trim().length === 0 ||
    expression.length > MAX_EXPRESSION_LENGTH
  ) {
    details.push({
      path: '/expression',
      message: `must be a cron expression of at most ${MAX_EXPRESSION_LENGTH} characters`,
      rule: 'required',
    });
  } else if (zoneOk) {
    const problem = cronProblem(expression, zone);
    if (problem) details.push({ path: '/expression', message: problem, rule: 'cron' });
  }
  if (overlap !== undefined && overlap !== ScheduleOverlap.SKIP && overlap !== ScheduleOverlap.ALLOW) {
    details.push({ path: '/overlap', message: "must be 'skip' or 'allow'", rule: 'enum' });
  }
  if (paused !== undefined && typeof paused !== 'boolean') {
    details.push({ path: '/paused', message: 'must be a boolean', rule: 'type' });
  }

  if (details.length > 0) {
    throw validationError(
      `invalid schedule: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
      details,
    );
  }
  const now = new Date(nowMs);
  const cron = (expression as string).trim();
  return {
    id: (id as string | undefined) ?? `sched-${randomId()}`,
    workflowId: workflowId as string,
    workflowVersion: typeof workflowVersion === 'number' ? workflowVersion : null,
    expression: cron,
    timezone: zone,
    input: body.input ?? null,
    overlap: overlap === ScheduleOverlap.ALLOW ? ScheduleOverlap.ALLOW : ScheduleOverlap.SKIP,
    paused: paused === true,
    source: ScheduleSource.API,
    nextFireAt: nextFireAfter(cron, zone, now),
    createdAt: now,
  };
}

/** The id of a `schedules.get|delete|pause|resume` request `{ id }`. */
export function parseScheduleId(params: unknown): string {
  const id = isObject(params) ? params.id : undefined;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_SCHEDULE_ID_LENGTH) {
    throw validationError('invalid schedule id', [
      {
        path: '/id',
        message: `must be a string of 1-${MAX_SCHEDULE_ID_LENGTH} characters`,
        rule: 'required',
      },
    ]);
  }
  return id;
}

/** The query of `schedules.list`: `{ workflowId?, limit? }`. */
export function parseScheduleListQuery(query: unknown): { workflowId?: string; limit: number } {
  const q = isObject(query) ? query : {};
  const details: ErrorDetail[] = [];
  for (const key of Object.keys(q)) {
    if (key !== 'workflowId' && key !== 'limit') {
      details.push({ path: `/${key}`, message: 'is not a known parameter', rule: 'unknown' });
    }
  }
  const { workflowId } = q;
  if (workflowId !== undefined && (typeof workflowId !== 'string' || !WORKFLOW_ID.test(workflowId))) {
    details.push({ path: '/workflowId', message: 'must be a workflow id of [a-z0-9-]', rule: 'workflowId' });
  }
  let limit = MAX_SCHEDULE_LIST;
  if (q.limit !== undefined) {
    const n = typeof q.limit === 'string' && /^\d+$/.test(q.limit) ? Number(q.limit) : q.limit;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_SCHEDULE_LIST) {
      details.push({
        path: '/limit',
        message: `must be an integer in 1..${MAX_SCHEDULE_LIST}`,
        rule: 'range',
      });
    } else {
      limit = n;
    }
  }
  if (details.length > 0) {
    throw validationError(
      `invalid schedule query: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
      details,
    );
  }
  return { ...(typeof workflowId === 'string' ? { workflowId } : {}), limit };
}

/** The API view of a stored schedule. */
export function toScheduleView(s: ScheduleRecord): ScheduleView {
  return {
    id: s.id,
    workflowId: s.workflowId,
    workflowVersion: s.workflowVersion,
    expression: s.expression,
    timezone: s.timezone,
    input: s.input,
    overlap: s.overlap,
    paused: s.paused,
    source: s.source,
    nextFireAt: s.nextFireAt?.toISOString() ?? null,
    lastFireAt: s.lastFireAt?.toISOString() ?? null,
    lastExecutionId: s.lastExecutionId,
    runningExecutionId: s.runningExecutionId,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}
