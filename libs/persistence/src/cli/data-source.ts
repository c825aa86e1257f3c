/**
 * Data source for the `typeorm` CLI (Nx targets `migration:run|revert|generate` of `persistence`),
 * loaded from the build output (`dist/libs/persistence/src/cli/data-source.js`).
 * Reads `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/baton`) and `BATON_DB_SCOPE`
 * (the owner whose migrations to run; default `state-store`). Its `runMigrations`/`undoLastMigration`
 * take the same advisory lock as services starting up.
 */
import { createDataSource } from '../data-source.factory';
import { PERSISTENCE_SCOPES } from '../scopes';

const scopeName = process.env.BATON_DB_SCOPE ?? 'state-store';
const scope = PERSISTENCE_SCOPES[scopeName];
if (scope === undefined) {
  throw new Error(
    `BATON_DB_SCOPE: unknown scope '${scopeName}' (known: ${Object.keys(PERSISTENCE_SCOPES).join(', ')})`,
  );
}

export const dataSource = createDataSource(
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/baton',
  {
    ...scope,
    poolSize: 2,
    statementTimeoutMs: 0,
  },
);
