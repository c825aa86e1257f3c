import type { PersistenceScope } from '../persistence-scope';
import { TimerEntity } from './entities/timer.entity';
import { CreateSchedulerTables1795400000000 } from './migrations/1795400000000-create-scheduler-tables';

/** Entities and migrations of the scheduler (table `timers`). */
export const SCHEDULER_PERSISTENCE: PersistenceScope = {
  name: 'scheduler',
  entities: [TimerEntity],
  migrations: [CreateSchedulerTables1795400000000],
  migrationsTableName: 'baton_migrations_scheduler',
};
