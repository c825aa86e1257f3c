import type { PersistenceScope } from '../persistence-scope';
import { DeadLetterEntity } from './entities/dead-letter.entity';
import { ExecutionEntity } from './entities/execution.entity';
import { HistoryEventEntity } from './entities/history-event.entity';
import { CreateStateStoreTables1795264300254 } from './migrations/1795264300254-create-state-store-tables';
import { DeadLetterStatus1796000000000 } from './migrations/1796000000000-dead-letter-status';

/** Entities and migrations of the state-store (tables `executions`, `history_events`, `dead_letters`). */
export const STATE_STORE_PERSISTENCE: PersistenceScope = {
  name: 'state-store',
  entities: [ExecutionEntity, HistoryEventEntity, DeadLetterEntity],
  migrations: [CreateStateStoreTables1795264300254, DeadLetterStatus1796000000000],
  migrationsTableName: 'baton_migrations_state_store',
};
