import type { DataSource } from 'typeorm';

import { type DeadLetterRecord, type ErrorDetail, validationError } from '@baton/contracts';

import { badParameter, decodeCursor, encodeCursor } from '../cursor';
import { toBatonDatabaseError } from '../database-errors';
import { checkLimit } from './limits';
import {
  type DeadLetterAction,
  type DeadLetterKey,
  type DeadLetterListQuery,
  DeadLetterStatus,
  type DeadLetterView,
  type Page,
  QUERY_LIMITS,
  deadLetterId,
} from './state-store.types';

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
  truncated: boolean;
  status: DeadLetterStatus;
  resolved_at: Date | null;
  acted_by: string | null;
  reason: string | null;
  redrive_msg_id: string | null;
  redrive_seq: string | null;
  dead_us: string;
}

const COLUMNS = `stream, stream_sequence::text AS stream_sequence, consumer, subject, deliveries, error_code, error,
  dead_at, data, headers, truncated, status, resolved_at, acted_by, reason, redrive_msg_id,
  redrive_seq::text AS redrive_seq, (extract(epoch FROM dead_at) * 1000000)::bigint::text AS dead_us`;

const KEY = `stream = $1 AND consumer = $2 AND stream_sequence = $3`;

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
  if (v.truncated !== undefined && typeof v.truncated !== 'boolean') {
    problems.push({ path: '/truncated', message: 'must be a boolean', rule: 'type' });
  }
  if (problems.length > 0) throw validationError('dead letter record is invalid', problems);
  return { ...(v as unknown as DeadLetterRecord), headers: headers as Record<string, string[]> };
}

/** Dead letters of every consumer (state-store): recorded from BATON_DLQ, listed for operators. */
export class DeadLetterRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Records a dead letter (checked first: `VALIDATION_FAILED`, not retryable, when malformed).
   * Idempotent on `(stream, consumer, streamSequence)`: returns false when it was already recorded.
   */
  async record(value: DeadLetterRecord | Record<string, unknown>): Promise<boolean> {
    const rec = checkDeadLetterRecord(value);
    const what = `recording dead letter ${rec.stream}#${rec.streamSequence}`;
    try {
      const rows = await this.ds.query<unknown[]>(
        `INSERT INTO dead_letters
           (stream, stream_sequence, consumer, subject, deliveries, error_code, error, dead_at, data, headers,
            truncated)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9, $10::jsonb, $11)
         ON CONFLICT (stream, consumer, stream_sequence) DO NOTHING
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
          rec.truncated === true,
        ],
      );
      return rows.length > 0;
    } catch (err) {
      throw toBatonDatabaseError(err, what);
    }
  }

  /**
   * Dead letters newest first (`dead_at desc`): `status` only when given, else DEAD only unless
   * `includeResolved`; filtered by stream, consumer and subject; keyset-paginated. Throws `BAD_REQUEST`
   * naming `limit` or `cursor` when invalid.
   */
  async list(query: DeadLetterListQuery = {}): Promise<Page<DeadLetterView>> {
    const limit = checkLimit(query.limit, QUERY_LIMITS.deadLetters);
    const where: string[] = [];
    const params: unknown[] = [];
    const status = query.status ?? (query.includeResolved === true ? undefined : DeadLetterStatus.DEAD);
    const filters: [string, string | undefined][] = [
      ['status', status],
      ['stream', query.stream],
      ['consumer', query.consumer],
      ['subject', query.subject],
    ];
    for (const [column, value] of filters) {
      if (value === undefined) continue;
      params.push(value);
      where.push(`${column} = $${params.length}`);
    }
    if (query.cursor !== undefined) {
      const c = decodeCursor(query.cursor, { t: 'digits', s: 'string', c: 'string', q: 'digits' });
      params.push(c.t, c.s, c.c, c.q);
      const n = params.length;
      where.push(
        `(dead_at, stream, consumer, stream_sequence) < ('epoch'::timestamptz + $${n - 3}::bigint * interval '1 microsecond', $${n - 2}, $${n - 1}, $${n}::bigint)`,
      );
    }
    params.push(limit + 1);
    const rows = await this.run<DeadLetterRow[]>(
      'listing dead letters',
      `SELECT ${COLUMNS} FROM dead_letters
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY dead_at DESC, stream DESC, consumer DESC, stream_sequence DESC
        LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toView),
      nextCursor:
        rows.length > limit && last !== undefined
          ? encodeCursor({ t: last.dead_us, s: last.stream, c: last.consumer, q: last.stream_sequence })
          : null,
    };
  }

  /** One dead letter, or null when unknown. */
  async get(key: DeadLetterKey): Promise<DeadLetterView | null> {
    checkSequence(key.streamSequence);
    const rows = await this.run<DeadLetterRow[]>(
      `reading dead letter ${deadLetterId(key)}`,
      `SELECT ${COLUMNS} FROM dead_letters WHERE ${KEY}`,
      [key.stream, key.consumer, String(key.streamSequence)],
    );
    return rows.length === 0 ? null : toView(rows[0]);
  }

  /**
   * Moves a DEAD dead letter to `status` (REDRIVEN or DISCARDED) with who, why and when. Returns the
   * updated record, or null when it is unknown or no longer DEAD (the caller reads it to tell which).
   */
  async settle(
    key: DeadLetterKey,
    status: typeof DeadLetterStatus.REDRIVEN | typeof DeadLetterStatus.DISCARDED,
    action: DeadLetterAction,
  ): Promise<DeadLetterView | null> {
    checkSequence(key.streamSequence);
    const rows = await this.run<DeadLetterRow[]>(
      `settling dead letter ${deadLetterId(key)}`,
      `UPDATE dead_letters
          SET status = $4, resolved_at = now(), acted_by = $5, reason = $6, redrive_msg_id = $7, redrive_seq = $8
        WHERE ${KEY} AND status = 'DEAD'
        RETURNING ${COLUMNS}`,
      [
        key.stream,
        key.consumer,
        String(key.streamSequence),
        status,
        action.by,
        action.reason ?? null,
        action.redrive?.msgId ?? null,
        action.redrive === undefined ? null : String(action.redrive.streamSequence),
      ],
    );
    return rows.length === 0 ? null : toView(rows[0]);
  }

  /**
   * Marks every DEAD dead letter of one origin message discarded with reason `resolved` (the older
   * `POST /v1/dead-letters/:stream/:sequence/resolve`). Returns them (or, when none was DEAD, the already
   * settled ones; empty when unknown).
   */
  async resolve(stream: string, streamSequence: number, by: string): Promise<DeadLetterView[]> {
    checkSequence(streamSequence);
    const updated = await this.run<DeadLetterRow[]>(
      `resolving dead letter ${stream}#${streamSequence}`,
      `UPDATE dead_letters SET status = 'DISCARDED', resolved_at = now(), acted_by = $3, reason = 'resolved'
        WHERE stream = $1 AND stream_sequence = $2 AND status = 'DEAD'
        RETURNING ${COLUMNS}`,
      [stream, String(streamSequence), by],
    );
    if (updated.length > 0) return updated.map(toView);
    const rows = await this.run<DeadLetterRow[]>(
      `reading dead letter ${stream}#${streamSequence}`,
      `SELECT ${COLUMNS} FROM dead_letters WHERE stream = $1 AND stream_sequence = $2 ORDER BY consumer`,
      [stream, String(streamSequence)],
    );
    return rows.map(toView);
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
  const streamSequence = Number(row.stream_sequence);
  return {
    id: deadLetterId({ stream: row.stream, consumer: row.consumer, streamSequence }),
    status: row.status,
    stream: row.stream,
    consumer: row.consumer,
    subject: row.subject,
    streamSequence,
    deliveries: row.deliveries,
    errorCode: row.error_code,
    error: row.error,
    deadAt: row.dead_at.toISOString(),
    data: row.data.toString('base64'),
    headers: row.headers,
    ...(row.truncated ? { truncated: true } : {}),
    ...(row.resolved_at === null ? {} : { resolvedAt: row.resolved_at.toISOString() }),
    ...(row.acted_by === null ? {} : { resolvedBy: row.acted_by }),
    ...(row.reason === null ? {} : { reason: row.reason }),
    ...(row.redrive_msg_id === null || row.redrive_seq === null
      ? {}
      : { redrive: { msgId: row.redrive_msg_id, streamSequence: Number(row.redrive_seq) } }),
  };
}
