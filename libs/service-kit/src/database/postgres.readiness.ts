import { Logger } from '@nestjs/common';
import type { FactoryProvider, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';

import { BatonError, ErrorCode } from '@baton/contracts';

import { redactUrlPassword } from '../config/config.loader';
import type { DatabaseConfig } from '../config/env.schema';
import { BATON_CONFIG } from '../core/tokens';
import { ReadinessRegistry } from '../health/readiness.registry';

/** A `select 1` probe must answer within this bound. */
const PROBE_TIMEOUT_MS = 2_000;

/**
 * A PostgreSQL readiness probe: `select 1` over a one-connection pool, for services whose database layer
 * is not otherwise reachable from service-kit. Closes its pool at application shutdown.
 */
export class PostgresReadiness implements OnApplicationShutdown {
  private readonly logger = new Logger('PostgresReadiness');
  private readonly pool: Pool;
  private closed = false;

  constructor(url: string) {
    this.pool = new Pool({
      connectionString: url,
      max: 1,
      connectionTimeoutMillis: PROBE_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
      query_timeout: PROBE_TIMEOUT_MS,
      application_name: 'baton-readiness',
    });
    // An idle connection that breaks (database restart) must not crash the process: the next probe reconnects.
    this.pool.on('error', (err) =>
      this.logger.warn({ err: redactUrlPassword(err.message) }, 'idle database connection lost'),
    );
  }

  /** Resolves when the database answers `select 1`; throws UNAVAILABLE naming the cause otherwise. */
  async check(): Promise<void> {
    if (this.closed) throw new BatonError(ErrorCode.UNAVAILABLE, 'database probe closed');
    try {
      await this.pool.query('select 1');
    } catch (err) {
      throw new BatonError(ErrorCode.UNAVAILABLE, redactUrlPassword((err as Error).message || String(err)), {
        cause: err,
      });
    }
  }

  /** Closes the pool. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}

/** A {@link PostgresReadiness} probe of `url`. */
export function postgresReadiness(url: string): PostgresReadiness {
  return new PostgresReadiness(url);
}

/**
 * A provider of {@link PostgresReadiness} on the configuration's `DATABASE_URL`, registered in the
 * readiness registry as `name` (default `database`). Put it in the `providers` of a service's module.
 */
export function postgresReadinessProvider(name = 'database'): FactoryProvider<PostgresReadiness> {
  return {
    provide: PostgresReadiness,
    inject: [BATON_CONFIG, ReadinessRegistry],
    useFactory: (config: DatabaseConfig, readiness: ReadinessRegistry) => {
      const probe = postgresReadiness(config.DATABASE_URL);
      readiness.add(name, () => probe.check());
      return probe;
    },
  };
}
