/** What a rule says (the writable fields; validated by the rule-engine before it is stored). */
export interface RuleDefinition {
  /** `[a-z0-9-]+`, at most 128 characters. */
  id: string;
  name: string;
  description: string;
  /** A subject token: rules are evaluated together by category. */
  category: string;
  /** A json-rules-engine condition tree (`all` / `any` / `not` of `{ fact, operator, value, path? }`). */
  condition: Record<string, unknown>;
  /** The first action's `type` is the rule's event type (the decision outcome). */
  actions: { type: string; params?: Record<string, unknown> }[];
  /** Higher first. */
  priority: number;
  enabled: boolean;
}

/** A live rule: its definition and current version. */
export interface StoredRule extends RuleDefinition {
  /** 1 for the first version; every create, update and delete adds one. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** What made a version. */
export const RuleOperation = {
  CREATE: 'create',
  UPDATE: 'update',
  DELETE: 'delete',
} as const;
export type RuleOperation = (typeof RuleOperation)[keyof typeof RuleOperation];

/** One immutable version of a rule; a `delete` version (tombstone) repeats the last definition. */
export interface RuleVersion extends RuleDefinition {
  version: number;
  operation: RuleOperation;
  recordedAt: string;
}

/** The outcome of a write: the version written and the categories whose rule sets changed. */
export interface RuleChange {
  rule: RuleVersion;
  /** The rule's row after the write (for a delete: its last definition). */
  current: StoredRule;
  /** The rule's category, and its previous category when an update moved it. */
  categories: string[];
}
