import { Inject, Injectable } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';

import { ServiceEndpoints } from '@baton/service-kit';

import { RulesService } from './rules.service';

/** Names of the request-reply mirrors, on `baton.api.rule-engine.<name>`. */
export const RULE_ENGINE_ENDPOINTS = {
  CREATE: 'rules.create',
  LIST: 'rules.list',
  GET: 'rules.get',
  UPDATE: 'rules.update',
  DELETE: 'rules.delete',
  VERSIONS: 'rules.versions',
  EVALUATE: 'rules.evaluate',
  EVALUATE_ONE: 'rules.evaluate-one',
} as const;

/**
 * Registers the request-reply mirrors of the HTTP routes. Requests are the HTTP bodies, with the path's
 * `id` in the body: `rules.get` / `rules.delete` / `rules.versions` `{ id }`, `rules.update` the rule
 * (with `id`), `rules.evaluate-one` `{ id, facts }`, `rules.list` `{ category? }`.
 */
@Injectable()
export class RulesEndpoints implements OnModuleInit {
  constructor(
    @Inject(ServiceEndpoints) private readonly endpoints: ServiceEndpoints,
    @Inject(RulesService) private readonly rules: RulesService,
  ) {}

  onModuleInit(): void {
    const { endpoints, rules } = this;
    endpoints.add(RULE_ENGINE_ENDPOINTS.CREATE, (data) => rules.create(data));
    endpoints.add(RULE_ENGINE_ENDPOINTS.LIST, (data) => rules.list(data));
    endpoints.add(RULE_ENGINE_ENDPOINTS.GET, (data) => rules.get(data));
    endpoints.add(RULE_ENGINE_ENDPOINTS.UPDATE, (data) => rules.update(undefined, data));
    endpoints.add(RULE_ENGINE_ENDPOINTS.DELETE, (data) => rules.remove(data));
    endpoints.add(RULE_ENGINE_ENDPOINTS.VERSIONS, (data) => rules.versions(data));
    endpoints.add(RULE_ENGINE_ENDPOINTS.EVALUATE, (data) => rules.evaluate(data));
    endpoints.add(RULE_ENGINE_ENDPOINTS.EVALUATE_ONE, (data) => rules.evaluateOne(data));
  }
}
