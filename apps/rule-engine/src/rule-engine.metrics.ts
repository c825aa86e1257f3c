import type { Counter, Histogram } from 'prom-client';

import type { MetricsService } from '@baton/service-kit';

/** What an evaluation evaluated: a category (cached), named rules, or one rule. */
export const EvaluationKind = {
  CATEGORY: 'category',
  RULES: 'rules',
  RULE: 'rule',
} as const;
export type EvaluationKind = (typeof EvaluationKind)[keyof typeof EvaluationKind];

/** The rule-engine's own metrics. */
export class RuleEngineMetrics {
  private readonly evaluations: Counter<'kind'>;
  private readonly seconds: Histogram<'kind'>;
  private readonly compilations: Counter;

  constructor(metrics: Pick<MetricsService, 'counter' | 'histogram'>) {
    this.evaluations = metrics.counter('rule_evaluations_total', 'Rule evaluations answered, by kind', [
      'kind',
    ]);
    this.seconds = metrics.histogram(
      'rule_evaluation_seconds',
      'Duration of one evaluation (loading and compiling included), by kind',
      ['kind'],
      [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    );
    this.compilations = metrics.counter(
      'rule_set_compilations_total',
      'Categories loaded from the database and compiled (first use, after a change, after expiry)',
    );
  }

  /** Times `evaluation` and counts it once it answered. */
  async evaluation<T>(kind: EvaluationKind, evaluation: () => Promise<T>): Promise<T> {
    const end = this.seconds.startTimer({ kind });
    const result = await evaluation();
    end();
    this.evaluations.inc({ kind });
    return result;
  }

  /** Counts one compilation of a category. */
  compiled(): void {
    this.compilations.inc();
  }
}
