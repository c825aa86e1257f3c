import { BatonError, ErrorCode, WORKFLOW_ID } from '@baton/contracts';
import type { ErrorDetail } from '@baton/contracts';
import {
  ANALYTICS_WINDOW_NAMES,
  type AnalyticsWindow,
  DEFAULT_ANALYTICS_WINDOW,
  isAnalyticsWindow,
} from '@baton/persistence';

/** Parsed parameters of the analytics operations. */
export interface AnalyticsParams {
  window: AnalyticsWindow;
  id?: string;
}

function badRequest(details: ErrorDetail[]): BatonError {
  const summary = details.map((d) => `parameter '${d.path}' ${d.message}`).join('; ');
  return new BatonError(ErrorCode.BAD_REQUEST, summary, { retryable: false, details });
}

/**
 * Validates the parameters of an analytics operation (HTTP query string plus path id, or a NATS request
 * body): `window` one of 5m, 1h, 24h (default 1h); `id` a workflow id when `withId`; nothing else.
 * Throws `BAD_REQUEST` naming each bad parameter.
 */
export function parseAnalyticsParams(raw: unknown, withId: boolean): AnalyticsParams {
  const input = raw ?? {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw badRequest([{ path: '', message: 'must be a JSON object', rule: 'type' }]);
  }
  const params = input as Record<string, unknown>;
  const details: ErrorDetail[] = [];
  for (const key of Object.keys(params)) {
    if (key !== 'window' && !(withId && key === 'id'))
      details.push({ path: key, message: 'is not a known parameter', rule: 'unknown' });
  }
  const window = params['window'] ?? DEFAULT_ANALYTICS_WINDOW;
  if (!isAnalyticsWindow(window))
    details.push({
      path: 'window',
      message: `must be one of ${ANALYTICS_WINDOW_NAMES.join(', ')}`,
      rule: 'isIn',
    });
  const id = params['id'];
  if (withId && (typeof id !== 'string' || id.length > 128 || !WORKFLOW_ID.test(id)))
    details.push({ path: 'id', message: 'must be a workflow id ([a-z0-9-]+)', rule: 'matches' });
  if (details.length > 0) throw badRequest(details);
  return { window: window as AnalyticsWindow, ...(withId ? { id: id as string } : {}) };
}
