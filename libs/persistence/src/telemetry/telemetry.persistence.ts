import type { PersistenceScope } from '../persistence-scope';
import { MinuteDurationEntity } from './entities/minute-duration.entity';
import { MinuteStatsEntity } from './entities/minute-stats.entity';
import { ProcessedBatchEntity } from './entities/processed-batch.entity';
import { CreateTelemetryTables1795400000000 } from './migrations/1795400000000-create-telemetry-tables';

/**
 * Entities and migrations of the telemetry service (tables `telemetry_processed_batches`,
 * `telemetry_minute_stats`, `telemetry_minute_durations`).
 */
export const TELEMETRY_PERSISTENCE: PersistenceScope = {
  name: 'telemetry',
  entities: [ProcessedBatchEntity, MinuteStatsEntity, MinuteDurationEntity],
  migrations: [CreateTelemetryTables1795400000000],
  migrationsTableName: 'baton_migrations_telemetry',
};
