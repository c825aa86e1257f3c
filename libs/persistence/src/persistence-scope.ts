/** A class (entity or migration), as TypeORM takes them. */
export type ClassType = abstract new (...args: never[]) => unknown;

/**
 * The tables one owner (a service) keeps: its entity classes, its migrations and the table recording
 * which of them ran. Owners sharing a database stay independent because each has its own migrations
 * table. Pass one to {@link createDataSource} (`createDataSource(url, { ...STATE_STORE_PERSISTENCE })`).
 */
export interface PersistenceScope {
  /** Owner name: `state-store`. */
  readonly name: string;
  readonly entities: readonly ClassType[];
  readonly migrations: readonly ClassType[];
  readonly migrationsTableName: string;
}
