import type { PersistenceScope } from './persistence-scope';
import { RULE_ENGINE_PERSISTENCE } from './rule-engine/rule-engine.persistence';
import { SCHEDULER_PERSISTENCE } from './scheduler/scheduler.persistence';
import { STATE_STORE_PERSISTENCE } from './state-store/state-store.persistence';
import { TELEMETRY_PERSISTENCE } from './telemetry/telemetry.persistence';

/** Every owner's scope by name (used by the migration CLI; add new owners here). */
export const PERSISTENCE_SCOPES: Readonly<Record<string, PersistenceScope>> = {
  [STATE_STORE_PERSISTENCE.name]: STATE_STORE_PERSISTENCE,
  [RULE_ENGINE_PERSISTENCE.name]: RULE_ENGINE_PERSISTENCE,
  [SCHEDULER_PERSISTENCE.name]: SCHEDULER_PERSISTENCE,
  [TELEMETRY_PERSISTENCE.name]: TELEMETRY_PERSISTENCE,
};
