import {
  type ErrorDetail,
  MAX_ID_LENGTH,
  TIMER_SUBJECT_PATTERNS,
  type TimerView,
  isSubjectToken,
  isValidSubjectPattern,
  randomId,
  subjectMatches,
  validationError,
} from '@baton/contracts';
import type { NewTimer, TimerRecord } from '@baton/persistence';

/** Longest delay of a timer: ten years. */
export const MAX_TIMER_DELAY_SECONDS = 10 * 366 * 24 * 3600;
const MAX_HEADERS = 32;
const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;
const MAX_HEADER_VALUE_LENGTH = 1024;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a timer may publish on `subject`: a concrete subject under `events.>` or `baton.orch.>`. */
export function isTimerSubject(subject: string): boolean {
  return (
    isValidSubjectPattern(subject) &&
    !subject.split('.').some((t) => t === '*' || t === '>') &&
    TIMER_SUBJECT_PATTERNS.some((p) => subjectMatches(p, subject))
  );
}

/**
 * Validates a create request `{ delaySeconds | at, subject, payload, id?, headers? }` received at `nowMs`.
 * Throws VALIDATION_FAILED whose details name every bad field (`/subject`, `/at`, ...).
 */
export function parseTimerRequest(body: unknown, nowMs: number): NewTimer {
  if (!isObject(body)) {
    throw validationError('the timer must be a JSON object', [
      { path: '', message: 'must be an object', rule: 'type' },
    ]);
  }
  const details: ErrorDetail[] = [];
  const known = new Set(['delaySeconds', 'at', 'subject', 'payload', 'id', 'headers']);
  for (const key of Object.keys(body)) {
    if (!known.has(key)) details.push({ path: `/${key}`, message: 'is not a known field', rule: 'unknown' });
  }

  let dueAtMs = Number.NaN;
  const { delaySeconds, at } = body;
  if (delaySeconds !== undefined && at !== undefined) {
    details.push({ path: '/at', message: 'give either delaySeconds or at, not both', rule: 'oneOf' });
  } else if (delaySeconds !== undefined) {
    if (
      typeof delaySeconds !== 'number' ||
      !Number.isFinite(delaySeconds) ||
      delaySeconds < 0 ||
      delaySeconds > MAX_TIMER_DELAY_SECONDS
    ) {
      details.push({
        path: '/delaySeconds',
        message: `must be a number of seconds in 0..${MAX_TIMER_DELAY_SECONDS}`,
        rule: 'range',
      });
    } else {
      dueAtMs = nowMs + Math.round(delaySeconds * 1000);
    }
  } else if (at !== undefined) {
    const parsed = typeof at === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(at) ? Date.parse(at) : Number.NaN;
    if (Number.isNaN(parsed)) {
      details.push({
        path: '/at',
        message: 'must be an ISO-8601 date-time with a time zone',
        rule: 'format',
      });
    } else if (parsed > nowMs + MAX_TIMER_DELAY_SECONDS * 1000) {
      details.push({ path: '/at', message: 'must be at most ten years ahead', rule: 'range' });
    } else {
      dueAtMs = parsed;
    }
  } else {
    details.push({ path: '/delaySeconds', message: 'give delaySeconds or at', rule: 'required' });
  }

  const { subject } = body;
  if (typeof subject !== 'string' || !isTimerSubject(subject)) {
    details.push({
      path: '/subject',
      message: `must be a subject without wildcards under ${TIMER_SUBJECT_PATTERNS.join(' or ')}`,
      rule: 'subject',
    });
  }

  const { id } = body;
  if (id !== undefined && !isSubjectToken(id, MAX_ID_LENGTH)) {
    details.push({
      path: '/id',
      message: `must be 1-${MAX_ID_LENGTH} characters of [A-Za-z0-9_-]`,
      rule: 'id',
    });
  }

  const headers: Record<string, string> = {};
  if (body.headers !== undefined) {
    if (!isObject(body.headers) || Object.keys(body.headers).length > MAX_HEADERS) {
      details.push({
        path: '/headers',
        message: `must be an object of at most ${MAX_HEADERS} headers`,
        rule: 'type',
      });
    } else {
      for (const [name, value] of Object.entries(body.headers)) {
        if (!HEADER_NAME.test(name) || name.toLowerCase().startsWith('nats-')) {
          details.push({
            path: `/headers/${name}`,
            message: 'must be a header name of [A-Za-z0-9-] not starting with Nats-',
            rule: 'headerName',
          });
        } else if (
          typeof value !== 'string' ||
          value.length > MAX_HEADER_VALUE_LENGTH ||
          /[\r\n]/.test(value)
        ) {
          details.push({
            path: `/headers/${name}`,
            message: `must be a one-line string of at most ${MAX_HEADER_VALUE_LENGTH} characters`,
            rule: 'headerValue',
          });
        } else {
          headers[name] = value;
        }
      }
    }
  }

  if (details.length > 0) {
    throw validationError(
      `invalid timer: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
      details,
    );
  }
  return {
    id: (id as string | undefined) ?? randomId(),
    dueAt: new Date(dueAtMs),
    subject: subject as string,
    payload: body.payload ?? null,
    headers,
    createdAt: new Date(nowMs),
  };
}

/** The id of a `timers.get` / `timers.cancel` request `{ id }`. */
export function parseTimerId(params: unknown): string {
  const id = isObject(params) ? params.id : undefined;
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024) {
    throw validationError('invalid timer id', [
      { path: '/id', message: 'must be a non-empty string', rule: 'required' },
    ]);
  }
  return id;
}

/** The API view of a stored timer. */
export function toTimerView(t: TimerRecord): TimerView {
  return {
    id: t.id,
    subject: t.subject,
    payload: t.payload,
    dueAt: t.dueAt.toISOString(),
    createdAt: t.createdAt.toISOString(),
    firedAt: t.firedAt?.toISOString() ?? null,
    cancelledAt: t.cancelledAt?.toISOString() ?? null,
    status: t.firedAt !== null ? 'FIRED' : t.cancelledAt !== null ? 'CANCELLED' : 'PENDING',
  };
}
