import type { PersistenceScope } from '../persistence-scope';
import { ScheduleEntity } from './entities/schedule.entity';
import { TimerEntity } from './entities/timer.entity';
import { CreateSchedulerTables1795400000000 } from './migrations/1795400000000-create-scheduler-tables';
import { CreateSchedules1797000000000 } from './migrations/1797000000000-create-schedules';

/** Entities and migrations of the scheduler (tables `timers`, `schedules`). */
export const SCHEDULER_PERSISTENCE: PersistenceScope = {
  name: 'scheduler',
  entities: [TimerEntity, ScheduleEntity],
  migrations: [CreateSchedulerTables1795400000000, CreateSchedules1797000000000],
  migrationsTableName: 'baton_migrations_scheduler',
};
