import type { DataSource } from 'typeorm';

import { type DeadLetterRecord, type ErrorDetail, validationError } from '@baton/contracts';

import { badParameter, decodeCursor, encodeCursor } from '../cursor';
import { toBatonDatabaseError } from '../database-errors';
import { checkLimit } from './limits';
import { type DeadLetterListQuery, type DeadLetterView, type Page, QUERY_LIMITS } from './state-store.types';

interface DeadLetterRow {
  stream: string;
  stream_sequence: string;
  consumer: string;
  subject: string;
  deliveries: number;
  error_code: string;
  error: string;
  dead_at: Date;
  data: Buffer;
  headers: Record<string, string[]>;
  resolved_at: Date | null;
  dead_us: string;
}

const COLUMNS = `stream, stream_sequence::text AS stream_sequence, consumer, subject, deliveries, error_code, error,
  dead_at, data, headers, resolved_at, (extract(epoch FROM dead_at) * 1000000)::bigint::text AS dead_us`;

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Checks the shape of a dead letter body received from BATON_DLQ. Throws `VALIDATION_FAILED`. */
export function checkDeadLetterRecord(value: unknown): DeadLetterRecord {
  const problems: ErrorDetail[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw validationError('dead letter must be a JSON object', [
      { path: '', message: 'must be an object', rule: 'type' },
    ]);
  }
  const v = value as Record<string, unknown>;
  const str = (key: string, allowEmpty = false): void => {
    if (typeof v[key] !== 'string' || (!allowEmpty && v[key].length === 0)) {
      problems.push({ path: `/${key}`, message: 'must be a non-empty string', rule: 'type' });
    }
  };
  str('stream');
  str('consumer');
  str('subject');
  str('errorCode');
  str('error', true);
  for (const key of ['streamSequence', 'deliveries']) {
    const n = v[key];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      problems.push({ path: `/${key}`, message: 'must be a non-negative integer', rule: 'type' });
    }
  }
  if (typeof v.deadAt !== 'string' || !ISO_TIMESTAMP.test(v.deadAt) || Number.isNaN(Date.parse(v.deadAt))) {
    problems.push({ path: '/deadAt', message: 'must be an ISO-8601 date-time', rule: 'format' });
  }
  if (typeof v.data !== 'string' || !BASE64.test(v.data)) {
    problems.push({ path: '/data', message: 'must be base64', rule: 'format' });
  }
  const headers = v.headers ?? {};
  if (
    typeof headers !== 'object' ||
    headers === null ||
    Array.isArray(headers) ||
    !Object.values(headers).every((h) => Array.isArray(h) && h.every((x) => typeof x === 'string'))
  ) {
    problems.push({ path: '/headers', message: 'must map names to arrays of strings', rule: 'type' });
  }
  if (problems.length > 0) throw validationError('dead letter record is invalid', problems);
  return { ...(v as unknown as DeadLetterRecord), headers: headers as Record<string, string[]> };
}

/** Dead letters of every consumer (state-store): recorded from BATON_DLQ, listed for operators. */
export class DeadLetterRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Records a dead letter (checked first: `VALIDATION_FAILED`, not retryable, when malformed).
   * Idempotent on `(stream, streamSequence)`: returns false when it was already recorded.
   */
  async record(value: DeadLetterRecord | Record<string, unknown>): Promise<boolean> {
    const rec = checkDeadLetterRecord(value);
    const what = `recording dead letter ${rec.stream}#${rec.streamSequence}`;
    try {
      const rows = await this.ds.query<unknown[]>(
        `INSERT INTO dead_letters
           (stream, stream_sequence, consumer, subject, deliveries, error_code, error, dead_at, data, headers)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9, $10::jsonb)
         ON CONFLICT (stream, stream_sequence) DO NOTHING
         RETURNING 1`,
        [
          rec.stream,
          String(rec.streamSequence),
          rec.consumer,
          rec.subject,
          rec.deliveries,
          rec.errorCode,
          rec.error,
          rec.deadAt,
          Buffer.from(rec.data, 'base64'),
          JSON.stringify(rec.headers),
        ],
      );
      return rows.length > 0;
    } catch (err) {
      throw toBatonDatabaseError(err, what);
    }
  }

  /**
   * Dead letters newest first (`dead_at desc`), unresolved only unless `includeResolved`,
   * keyset-paginated. Throws `BAD_REQUEST` naming `limit` or `cursor` when invalid.
   */
  async list(query: DeadLetterListQuery = {}): Promise<Page<DeadLetterView>> {
    const limit = checkLimit(query.limit, QUERY_LIMITS.deadLetters);
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.includeResolved !== true) where.push('resolved_at IS NULL');
    if (query.stream !== undefined) {
      params.push(query.stream);
      where.push(`stream = $${params.length}`);
    }
    if (query.consumer !== undefined) {
      params.push(query.consumer);
      where.push(`consumer = $${params.length}`);
    }
    if (query.cursor !== undefined) {
      const c = decodeCursor(query.cursor, { t: 'digits', s: 'string', q: 'digits' });
      params.push(c.t, c.s, c.q);
      const n = params.length;
      where.push(
        `(dead_at, stream, stream_sequence) < ('epoch'::timestamptz + $${n - 2}::bigint * interval '1 microsecond', $${n - 1}, $${n}::bigint)`,
      );
    }
    params.push(limit + 1);
    const rows = await this.run<DeadLetterRow[]>(
      'listing dead letters',
      `SELECT ${COLUMNS} FROM dead_letters
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY dead_at DESC, stream DESC, stream_sequence DESC
        LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toView),
      nextCursor:
        rows.length > limit && last !== undefined
          ? encodeCursor({ t: last.dead_us, s: last.stream, q: last.stream_sequence })
          : null,
    };
  }

  /** One dead letter, or null when unknown. */
  async get(stream: string, streamSequence: number): Promise<DeadLetterView | null> {
    checkSequence(streamSequence);
    const rows = await this.run<DeadLetterRow[]>(
      `reading dead letter ${stream}#${streamSequence}`,
      `SELECT ${COLUMNS} FROM dead_letters WHERE stream = $1 AND stream_sequence = $2`,
      [stream, String(streamSequence)],
    );
    return rows.length === 0 ? null : toView(rows[0]);
  }

  /**
   * Marks a dead letter resolved (an operator dealt with it): it leaves the default listing. Keeps the
   * first resolution time when called again. Returns the updated record, or null when unknown.
   */
  async resolve(stream: string, streamSequence: number): Promise<DeadLetterView | null> {
    checkSequence(streamSequence);
    const rows = await this.run<DeadLetterRow[]>(
      `resolving dead letter ${stream}#${streamSequence}`,
      `UPDATE dead_letters SET resolved_at = COALESCE(resolved_at, now())
        WHERE stream = $1 AND stream_sequence = $2
        RETURNING ${COLUMNS}`,
      [stream, String(streamSequence)],
    );
    return rows.length === 0 ? null : toView(rows[0]);
  }

  private async run<T>(what: string, sql: string, params: unknown[]): Promise<T> {
    try {
      const result: unknown = await this.ds.query(sql, params);
      // UPDATE ... RETURNING comes back as [rows, count].
      if (/^\s*UPDATE/i.test(sql) && Array.isArray(result) && Array.isArray(result[0])) return result[0] as T;
      return result as T;
    } catch (err) {
      throw toBatonDatabaseError(err, what);
    }
  }
}

function checkSequence(streamSequence: number): void {
  if (!Number.isSafeInteger(streamSequence) || streamSequence < 1) {
    throw badParameter('sequence', 'must be a positive integer', 'range');
  }
}

function toView(row: DeadLetterRow): DeadLetterView {
  return {
    stream: row.stream,
    consumer: row.consumer,
    subject: row.subject,
    streamSequence: Number(row.stream_sequence),
    deliveries: row.deliveries,
    errorCode: row.error_code,
    error: row.error,
    deadAt: row.dead_at.toISOString(),
    data: row.data.toString('base64'),
    headers: row.headers,
    ...(row.resolved_at === null ? {} : { resolvedAt: row.resolved_at.toISOString() }),
  };
}
