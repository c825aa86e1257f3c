import type { PersistenceScope } from './persistence-scope';
import { STATE_STORE_PERSISTENCE } from './state-store/state-store.persistence';

/** Every owner's scope by name (used by the migration CLI; add new owners here). */
export const PERSISTENCE_SCOPES: Readonly<Record<string, PersistenceScope>> = {
  [STATE_STORE_PERSISTENCE.name]: STATE_STORE_PERSISTENCE,
};
