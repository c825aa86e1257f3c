export { createDataSource } from './data-source.factory';
export type { CreateDataSourceOptions } from './data-source.factory';
export { PROBE_TIMEOUT_MS, openDatabase, probeDatabase, redactDatabaseUrl } from './database';
export type { DatabaseLogger, OpenDatabaseOptions } from './database';
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
export { DeadLetterStatus1796000000000 } from './state-store/migrations/1796000000000-dead-letter-status';
export { deliveriesForGroups } from './group-commit';
export { HistoryGroupOutcome, HistoryWriter } from './state-store/history.writer';
export type { HistoryGroupReport, HistoryWriterOptions } from './state-store/history.writer';
export { toHistoryBatchRows } from './state-store/history-batch.rows';
export type { ExecutionRow, HistoryBatchRows, HistoryEventRow } from './state-store/history-batch.rows';
export { ExecutionQueryRepository } from './state-store/execution-query.repository';
export { DeadLetterRepository, checkDeadLetterRecord } from './state-store/dead-letter.repository';
export {
  DeadLetterStatus,
  QUERY_LIMITS,
  deadLetterId,
  parseDeadLetterId,
} from './state-store/state-store.types';
export type {
  DeadLetterAction,
  DeadLetterKey,
  DeadLetterListQuery,
  DeadLetterView,
  ExecutionListItem,
  ExecutionListQuery,
  ExecutionRecord,
  HistoryPage,
  HistoryQuery,
  Page,
} from './state-store/state-store.types';

// rule-engine
export { RULE_ENGINE_PERSISTENCE } from './rule-engine/rule-engine.persistence';
export { RuleEntity } from './rule-engine/entities/rule.entity';
export { RuleVersionEntity } from './rule-engine/entities/rule-version.entity';
export { CreateRuleEngineTables1795400000000 } from './rule-engine/migrations/1795400000000-create-rule-engine-tables';
export { RuleVersionsCategoryIndex1797100000000 } from './rule-engine/migrations/1797100000000-rule-versions-category-index';
export { RuleRepository } from './rule-engine/rule.repository';
export { RuleOperation } from './rule-engine/rule-engine.types';
export type { RuleChange, RuleDefinition, RuleVersion, StoredRule } from './rule-engine/rule-engine.types';

// scheduler
export { SCHEDULER_PERSISTENCE } from './scheduler/scheduler.persistence';
export { TimerEntity } from './scheduler/entities/timer.entity';
export { CreateSchedulerTables1795400000000 } from './scheduler/migrations/1795400000000-create-scheduler-tables';
export { TimerCancelOutcome, TimerRepository } from './scheduler/timer.repository';
export type { NewTimer, TimerRecord } from './scheduler/timer.repository';
export { ScheduleEntity } from './scheduler/entities/schedule.entity';
export { CreateSchedules1797000000000 } from './scheduler/migrations/1797000000000-create-schedules';
export { ScheduleOverlap, ScheduleRepository, ScheduleSource } from './scheduler/schedule.repository';
export type {
  DefinitionSyncResult,
  NewSchedule,
  ScheduleAdvance,
  ScheduleRecord,
} from './scheduler/schedule.repository';

// telemetry
export { TELEMETRY_PERSISTENCE } from './telemetry/telemetry.persistence';
export { ProcessedBatchEntity } from './telemetry/entities/processed-batch.entity';
export { MinuteStatsEntity } from './telemetry/entities/minute-stats.entity';
export { MinuteDurationEntity } from './telemetry/entities/minute-duration.entity';
export { CreateTelemetryTables1795400000000 } from './telemetry/migrations/1795400000000-create-telemetry-tables';
export { AnalyticsOutcome, AnalyticsWriter } from './telemetry/analytics.writer';
export type { AnalyticsWriterOptions } from './telemetry/analytics.writer';
export { AnalyticsRepository } from './telemetry/analytics.repository';
export type { StepAnalytics, WorkflowAnalytics } from './telemetry/analytics.repository';
export { EXECUTION_ROW, toBatchDeltas } from './telemetry/analytics-batch.deltas';
export type { BatchDeltas, DurationDelta, StatsDelta } from './telemetry/analytics-batch.deltas';
export {
  ANALYTICS_WINDOWS,
  ANALYTICS_WINDOW_NAMES,
  DEFAULT_ANALYTICS_WINDOW,
  inWindow,
  isAnalyticsWindow,
  minuteOf,
  windowStart,
} from './telemetry/analytics-window';
export type { AnalyticsWindow } from './telemetry/analytics-window';
export {
  DURATION_BUCKETS_PER_DOUBLING,
  DURATION_MAX_BUCKET,
  DURATION_RELATIVE_ERROR,
  addToHistogram,
  bucketBounds,
  bucketValue,
  durationBucket,
  histogramCount,
  histogramPercentile,
  mergeHistograms,
  percentilesOf,
} from './telemetry/duration-histogram';
export type { DurationHistogram, DurationPercentiles } from './telemetry/duration-histogram';

// Re-exported so that owners need not import `typeorm` themselves (only persistence imports it).
export type { DataSource } from 'typeorm';
