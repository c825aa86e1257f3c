/** Who the state-store is (imported by `instrumentation.ts` too, so it imports nothing at runtime). */
export const STATE_STORE_SERVICE = {
  name: 'state-store',
  version: '0.1.0',
  defaultPort: 8084,
  description:
    'Keeps execution history in PostgreSQL: summaries, ordered history and dead letters, queryable',
} as const;
