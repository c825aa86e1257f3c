import type { DataSource } from 'typeorm';
import { BatonError, ErrorCode } from '@baton/contracts';
import { createDataSource } from './data-source.factory';
import { DatabaseErrorKind, classifyDatabaseError } from './database-errors';
import { runMigrations } from './migration.runner';
import type { PersistenceScope } from './persistence-scope';

/** Where {@link openDatabase} reports progress (a Nest `Logger` fits). */
export interface DatabaseLogger {
  log(message: string): void;
  warn(message: string): void;
}

export interface OpenDatabaseOptions {
  poolSize?: number;
  /** How long to keep retrying while PostgreSQL is unreachable (e.g. still starting). */
  startupTimeoutMs: number;
  logger?: DatabaseLogger;
}

/** Bound of {@link probeDatabase}. */
export const PROBE_TIMEOUT_MS = 2_000;

/** `postgres://user:secret@host/db` -> `postgres://user:***@host/db`, anywhere in a text. */
export function redactDatabaseUrl(text: string): string {
  return text.replace(/(\/\/[^:/@\s]*):[^@/\s]*@/g, '$1:***@');
}

function messageOf(err: unknown): string {
  return redactDatabaseUrl(err instanceof Error ? err.message || String(err) : String(err));
}

/**
 * Connects one owner's DataSource to PostgreSQL, retrying with backoff while the database is unreachable
 * (up to `startupTimeoutMs`), then applies the owner's pending migrations under the advisory lock, so that
 * several instances can start at once. Throws UNAVAILABLE naming the (redacted) URL and the cause.
 */
export async function openDatabase(
  url: string,
  scope: PersistenceScope,
  options: OpenDatabaseOptions,
): Promise<DataSource> {
  const deadline = Date.now() + options.startupTimeoutMs;
  let ds: DataSource;
  for (let attempt = 1; ; attempt++) {
    ds = createDataSource(url, {
      ...scope,
      ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
    });
    try {
      await ds.initialize();
      break;
    } catch (err) {
      if (classifyDatabaseError(err) !== DatabaseErrorKind.UNAVAILABLE || Date.now() >= deadline) {
        throw new BatonError(ErrorCode.UNAVAILABLE, `database ${redactDatabaseUrl(url)}: ${messageOf(err)}`, {
          cause: err,
        });
      }
      const delayMs = Math.min(2_000, 100 * 2 ** attempt);
      options.logger?.warn(`database not reachable yet (${messageOf(err)}); retrying in ${delayMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
  try {
    const applied = await runMigrations(ds);
    if (applied.length > 0)
      options.logger?.log(`migrations applied: ${applied.map((m) => m.name).join(', ')}`);
    return ds;
  } catch (err) {
    await ds.destroy().catch(() => undefined);
    throw new BatonError(ErrorCode.UNAVAILABLE, `database migrations failed: ${messageOf(err)}`, {
      cause: err,
    });
  }
}

/** Readiness probe: `select 1` within `timeoutMs`; throws UNAVAILABLE naming the cause. */
export async function probeDatabase(ds: DataSource, timeoutMs = PROBE_TIMEOUT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ds.query('SELECT 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    throw new BatonError(ErrorCode.UNAVAILABLE, messageOf(err), { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
