import type { Engine, TopLevelCondition } from 'json-rules-engine';

import type { StoredRule } from '@baton/persistence';
import { conditionEngine } from '@baton/workflow';

/** The event of a rule: its first action. */
export interface RuleEvent {
  type: string;
  params?: Record<string, unknown>;
}

/** How one rule evaluated. */
export interface RuleEvaluation {
  id: string;
  version: number;
  priority: number;
  satisfied: boolean;
  event: RuleEvent;
}

/** The decision of a set of rules (CONTRACT §3.2). */
export interface Decision {
  /** The event type of the highest-priority satisfied rule; `default` when none is satisfied. */
  outcome: string;
  /** Every rule evaluated, highest priority first (then by id). */
  rules: RuleEvaluation[];
}

export { resolvePath } from '@baton/workflow';

/** The outcome when no rule is satisfied. */
export const DEFAULT_OUTCOME = 'default';

/** Highest priority first, then by id: the order in which rules decide. */
export function byPriority(a: { priority: number; id: string }, b: { priority: number; id: string }): number {
  return b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The event a rule raises when satisfied. */
export function eventOf(rule: Pick<StoredRule, 'actions'>): RuleEvent {
  const first = rule.actions[0];
  return first.params === undefined ? { type: first.type } : { type: first.type, params: first.params };
}

/**
 * Rules compiled into one json-rules-engine {@link Engine} with Baton's operators. All rules are evaluated
 * (same engine priority, so the engine never stops early); the decision orders them by the rules'
 * own priorities. Runs are serialized: the engine keeps a run status that concurrent runs would share.
 */
export class CompiledRuleSet {
  private readonly engine: Engine;
  private readonly byId = new Map<string, StoredRule>();
  private queue: Promise<unknown> = Promise.resolve();
  readonly rules: readonly StoredRule[];

  /**
   * @param changedAt when the rules of the set's category last changed (null: never, or not known), so a
   *   pinned evaluation can tell whether this set is also the one that was current at its time.
   */
  constructor(
    rules: readonly StoredRule[],
    readonly changedAt: Date | null = null,
  ) {
    this.rules = [...rules].sort(byPriority);
    this.engine = conditionEngine();
    for (const rule of this.rules) {
      this.byId.set(rule.id, rule);
      this.engine.addRule({
        name: rule.id,
        priority: 1,
        conditions: rule.condition as unknown as TopLevelCondition,
        event: eventOf(rule),
      });
    }
  }

  /** Evaluates every rule of the set against `facts`. */
  evaluate(facts: Record<string, unknown>): Promise<Decision> {
    const run = this.queue.then(() => this.run(facts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(facts: Record<string, unknown>): Promise<Decision> {
    if (this.rules.length === 0) return { outcome: DEFAULT_OUTCOME, rules: [] };
    const { results } = await this.engine.run(facts);
    const satisfied = new Set(results.map((r) => r.name));
    const rules = this.rules.map((rule) => ({
      id: rule.id,
      version: rule.version,
      priority: rule.priority,
      satisfied: satisfied.has(rule.id),
      event: eventOf(rule),
    }));
    const first = rules.find((r) => r.satisfied);
    return { outcome: first?.event.type ?? DEFAULT_OUTCOME, rules };
  }
}

/** The enabled rules of a category, and when the category last changed. */
export interface LoadedCategory {
  rules: StoredRule[];
  changedAt: Date | null;
}

/** Loads the enabled rules of a category. */
export type CategoryLoader = (category: string) => Promise<LoadedCategory>;

interface CacheEntry {
  generation: number;
  loadedAt: number;
  set: Promise<CompiledRuleSet>;
}

/**
 * Compiled rule sets by category, per instance. {@link invalidate} drops a category (on a
 * `baton.events.rules.<category>.changed` notification or a local write); a load that started before an
 * invalidation is not kept. Entries also expire after `ttlMs`, bounding staleness should a notification
 * be lost.
 */
export class RuleSetCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly generations = new Map<string, number>();
  private epoch = 0;

  constructor(
    private readonly load: CategoryLoader,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The compiled enabled rules of `category` (loaded and compiled on first use). */
  get(category: string): Promise<CompiledRuleSet> {
    const generation = this.generationOf(category);
    const entry = this.entries.get(category);
    if (entry && entry.generation === generation && this.now() - entry.loadedAt < this.ttlMs)
      return entry.set;
    const set = this.load(category).then(({ rules, changedAt }) => new CompiledRuleSet(rules, changedAt));
    const fresh: CacheEntry = { generation, loadedAt: this.now(), set };
    this.entries.set(category, fresh);
    set.catch(() => {
      if (this.entries.get(category) === fresh) this.entries.delete(category);
    });
    return set;
  }

  /** Drops `category`: the next {@link get} loads it again. */
  invalidate(category: string): void {
    this.generations.set(category, this.generationOf(category) + 1);
    this.entries.delete(category);
  }

  /** Drops every category (after a NATS reconnect: notifications may have been missed). */
  invalidateAll(): void {
    this.epoch++;
    this.generations.clear();
    this.entries.clear();
  }

  /** Whether `category` is compiled and current. */
  has(category: string): boolean {
    const entry = this.entries.get(category);
    return entry !== undefined && entry.generation === this.generationOf(category);
  }

  private generationOf(category: string): number {
    return this.epoch * 1_000_000 + (this.generations.get(category) ?? 0);
  }
}

/** Loads the enabled rules of a category as they were at a time. */
export type CategoryAsOfLoader = (category: string, asOf: Date) => Promise<StoredRule[]>;

/**
 * Rule sets for pinned evaluations (an execution stays on the rules current when it started). The
 * current set serves every execution that started after the category last changed; only an execution
 * that started before a change needs the set of its time, loaded from the version history and kept in a
 * small LRU (those sets never change: history is append-only).
 */
export class PinnedRuleSets {
  private readonly sets = new Map<string, Promise<CompiledRuleSet>>();

  constructor(
    private readonly loadAsOf: CategoryAsOfLoader,
    private readonly capacity = 256,
  ) {}

  /** The set to evaluate for `asOf`, given the category's current set. */
  get(category: string, asOf: Date, current: CompiledRuleSet): Promise<CompiledRuleSet> {
    if (current.changedAt === null || asOf.getTime() >= current.changedAt.getTime()) {
      return Promise.resolve(current);
    }
    const key = `${category}@${asOf.toISOString()}`;
    const cached = this.sets.get(key);
    if (cached) {
      this.sets.delete(key);
      this.sets.set(key, cached);
      return cached;
    }
    const set = this.loadAsOf(category, asOf).then((rules) => new CompiledRuleSet(rules, null));
    this.sets.set(key, set);
    set.catch(() => {
      if (this.sets.get(key) === set) this.sets.delete(key);
    });
    while (this.sets.size > this.capacity) {
      const oldest = this.sets.keys().next().value as string;
      this.sets.delete(oldest);
    }
    return set;
  }

  get size(): number {
    return this.sets.size;
  }
}
