import { Inject, Injectable, Logger } from '@nestjs/common';

import { BatonError, ErrorCode, SUBJECT_TOKEN, validationError } from '@baton/contracts';
import { RuleRepository } from '@baton/persistence';
import type { RuleChange, RuleVersion, StoredRule } from '@baton/persistence';

import { EvaluationKind, RuleEngineMetrics } from '../rule-engine.metrics';
import { RuleChangePublisher } from './rule-changes';
import { CompiledRuleSet, type Decision, PinnedRuleSets, RuleSetCache, eventOf } from './rule-set';
import type { RuleEvent } from './rule-set';
import { isRuleId, validateRule } from './rule.validation';

/** Most rules one `evaluate` request may name. */
export const MAX_RULE_IDS = 100;

/** The result of evaluating one rule. */
export interface SingleEvaluation {
  ruleId: string;
  version: number;
  satisfied: boolean;
  /** The rule's event, when satisfied. */
  event?: RuleEvent;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function badRequest(path: string, message: string): BatonError {
  return new BatonError(ErrorCode.BAD_REQUEST, `'${path}' ${message}`, {
    retryable: false,
    details: [{ path: `/${path}`, message, rule: 'type' }],
  });
}

function notFound(id: string): BatonError {
  return new BatonError(ErrorCode.NOT_FOUND, `rule ${id} not found`, { retryable: false });
}

function asOfOf(value: unknown): Date | undefined {
  if (value === undefined) return undefined;
  const at = typeof value === 'string' ? new Date(value) : undefined;
  if (at === undefined || Number.isNaN(at.getTime())) {
    throw badRequest('asOf', 'must be an ISO 8601 date-time');
  }
  return at;
}

function idOf(params: unknown): string {
  const id = isObject(params) ? params.id : undefined;
  if (!isRuleId(id)) throw badRequest('id', 'must be a rule id ([a-z0-9-]+, at most 128 characters)');
  return id;
}

function factsOf(params: Record<string, unknown>): Record<string, unknown> {
  const facts = params.facts ?? {};
  if (!isObject(facts))
    throw validationError('facts must be a JSON object', [
      { path: '/facts', message: 'must be an object', rule: 'type' },
    ]);
  return facts;
}

/**
 * Rules: writes (validated, versioned, announced on `baton.events.rules.<category>.changed`), reads and
 * evaluation. Shared by the HTTP controller and the NATS endpoints; every method takes the raw request.
 */
@Injectable()
export class RulesService {
  private readonly logger = new Logger('RulesService');

  constructor(
    @Inject(RuleRepository) private readonly repository: RuleRepository,
    @Inject(RuleSetCache) private readonly cache: RuleSetCache,
    @Inject(PinnedRuleSets) private readonly pinned: PinnedRuleSets,
    @Inject(RuleChangePublisher) private readonly changes: RuleChangePublisher,
    @Inject(RuleEngineMetrics) private readonly metrics: RuleEngineMetrics,
  ) {}

  /** `POST /v1/rules` / `rules.create`: version 1 (`CONFLICT` when the id is taken). */
  async create(body: unknown): Promise<StoredRule> {
    const change = await this.repository.create(validateRule(body));
    await this.announce(change);
    return change.current;
  }

  /** `PUT /v1/rules/:id` / `rules.update`: the next version (`NOT_FOUND` when unknown). */
  async update(id: string | undefined, body: unknown): Promise<StoredRule> {
    const ruleId = id ?? idOf(body);
    if (!isRuleId(ruleId)) throw notFound(ruleId);
    const change = await this.repository.update(validateRule(body, ruleId));
    if (change === null) throw notFound(ruleId);
    await this.announce(change);
    return change.current;
  }

  /** `DELETE /v1/rules/:id` / `rules.delete`: a tombstone version (`NOT_FOUND` when unknown). */
  async remove(params: unknown): Promise<RuleVersion> {
    const id = idOf(params);
    const change = await this.repository.remove(id);
    if (change === null) throw notFound(id);
    await this.announce(change);
    return change.rule;
  }

  /** `GET /v1/rules/:id` / `rules.get`. */
  async get(params: unknown): Promise<StoredRule> {
    const id = idOf(params);
    const rule = await this.repository.get(id);
    if (rule === null) throw notFound(id);
    return rule;
  }

  /** `GET /v1/rules?category` / `rules.list`: live rules, highest priority first. */
  async list(params: unknown): Promise<{ items: StoredRule[] }> {
    const query = params ?? {};
    if (!isObject(query)) throw badRequest('', 'parameters must be an object');
    for (const key of Object.keys(query)) {
      if (key !== 'category') throw badRequest(key, 'is not a known parameter');
    }
    const { category } = query;
    if (category !== undefined && (typeof category !== 'string' || !SUBJECT_TOKEN.test(category))) {
      throw badRequest('category', 'must be a token of [A-Za-z0-9_-]');
    }
    return { items: await this.repository.list(category === undefined ? {} : { category }) };
  }

  /** `GET /v1/rules/:id/versions` / `rules.versions`: every version, oldest first. */
  async versions(params: unknown): Promise<{ items: RuleVersion[] }> {
    const id = idOf(params);
    const versions = await this.repository.versions(id);
    if (versions === null) throw notFound(id);
    return { items: versions };
  }

  /** `POST /v1/rules/:id/evaluate` / `rules.evaluate-one`: one rule (enabled or not) against `facts`. */
  async evaluateOne(params: unknown): Promise<SingleEvaluation> {
    const id = idOf(params);
    const facts = factsOf(params as Record<string, unknown>);
    const { rule, result } = await this.metrics.evaluation(EvaluationKind.RULE, async () => {
      const found = await this.repository.get(id);
      if (found === null) throw notFound(id);
      return { rule: found, result: (await new CompiledRuleSet([found]).evaluate(facts)).rules[0] };
    });
    return {
      ruleId: rule.id,
      version: rule.version,
      satisfied: result.satisfied,
      ...(result.satisfied ? { event: eventOf(rule) } : {}),
    };
  }

  /**
   * `POST /v1/rules/evaluate` / `rules.evaluate`: `{ category, facts }` evaluates the enabled rules of the
   * category (compiled and cached); with `asOf` (an ISO time) the rules as they were then, which is how a
   * decision step stays on the rules current when its execution started. `{ ruleIds, facts }` evaluates
   * the named rules (`NOT_FOUND` naming unknown ids).
   */
  async evaluate(params: unknown): Promise<Decision> {
    if (!isObject(params)) throw badRequest('', 'request must be an object { category | ruleIds, facts }');
    for (const key of Object.keys(params)) {
      if (!['category', 'ruleIds', 'facts', 'asOf'].includes(key))
        throw badRequest(key, 'is not a known field');
    }
    const facts = factsOf(params);
    const { category, ruleIds } = params;
    if ((category === undefined) === (ruleIds === undefined)) {
      throw badRequest('category', 'give exactly one of category and ruleIds');
    }
    if (category !== undefined) {
      if (typeof category !== 'string' || !SUBJECT_TOKEN.test(category)) {
        throw badRequest('category', 'must be a token of [A-Za-z0-9_-]');
      }
      const asOf = asOfOf(params.asOf);
      return this.metrics.evaluation(EvaluationKind.CATEGORY, async () => {
        const current = await this.cache.get(category);
        const set = asOf === undefined ? current : await this.pinned.get(category, asOf, current);
        return set.evaluate(facts);
      });
    }
    if (params.asOf !== undefined) throw badRequest('asOf', 'applies to a category only');
    if (
      !Array.isArray(ruleIds) ||
      ruleIds.length === 0 ||
      ruleIds.length > MAX_RULE_IDS ||
      !ruleIds.every(isRuleId)
    ) {
      throw badRequest('ruleIds', `must be an array of 1 to ${MAX_RULE_IDS} rule ids`);
    }
    const ids = [...new Set(ruleIds)];
    return this.metrics.evaluation(EvaluationKind.RULES, () => this.evaluateNamed(ids, facts));
  }

  private async evaluateNamed(ids: string[], facts: Record<string, unknown>): Promise<Decision> {
    const rules = await this.repository.getMany(ids);
    const missing = ids.filter((id) => !rules.some((r) => r.id === id));
    if (missing.length > 0)
      throw new BatonError(ErrorCode.NOT_FOUND, `rules not found: ${missing.join(', ')}`, {
        retryable: false,
      });
    return new CompiledRuleSet(rules).evaluate(facts);
  }

  /** Drops the changed categories here at once, and tells the other instances. */
  private async announce(change: RuleChange): Promise<void> {
    for (const category of change.categories) this.cache.invalidate(category);
    try {
      await this.changes.publish(change);
    } catch (err) {
      // The change is committed; other instances pick it up when their cached category expires.
      this.logger.error(
        { err, ruleId: change.rule.id },
        `announcing rule ${change.rule.id} v${change.rule.version} failed`,
      );
    }
  }
}
