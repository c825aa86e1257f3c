export { createDataSource } from './data-source.factory';
export type { CreateDataSourceOptions } from './data-source.factory';
export {
  MIGRATION_LOCK_KEY,
  pendingMigrations,
  revertLastMigration,
  runMigrations,
} from './migration.runner';
export type { MigrationRunOptions } from './migration.runner';
export {
  DatabaseErrorKind,
  classifyDatabaseError,
  sqlStateOf,
  toBatonDatabaseError,
} from './database-errors';
export { badParameter, decodeCursor, encodeCursor } from './cursor';
export type { ClassType, PersistenceScope } from './persistence-scope';
export { PERSISTENCE_SCOPES } from './scopes';

// state-store
export { STATE_STORE_PERSISTENCE } from './state-store/state-store.persistence';
export { ExecutionEntity } from './state-store/entities/execution.entity';
export { HistoryEventEntity } from './state-store/entities/history-event.entity';
export { DeadLetterEntity } from './state-store/entities/dead-letter.entity';
export { CreateStateStoreTables1795264300254 } from './state-store/migrations/1795264300254-create-state-store-tables';
export { HistoryGroupOutcome, HistoryWriter } from './state-store/history.writer';
export type { HistoryGroupReport, HistoryWriterOptions } from './state-store/history.writer';
export { toHistoryBatchRows } from './state-store/history-batch.rows';
export type { ExecutionRow, HistoryBatchRows, HistoryEventRow } from './state-store/history-batch.rows';
export { ExecutionQueryRepository } from './state-store/execution-query.repository';
export { DeadLetterRepository, checkDeadLetterRecord } from './state-store/dead-letter.repository';
export { QUERY_LIMITS } from './state-store/state-store.types';
export type {
  DeadLetterListQuery,
  DeadLetterView,
  ExecutionListItem,
  ExecutionListQuery,
  ExecutionRecord,
  HistoryPage,
  HistoryQuery,
  Page,
} from './state-store/state-store.types';

// Re-exported so that owners need not import `typeorm` themselves (only persistence imports it).
export type { DataSource } from 'typeorm';
