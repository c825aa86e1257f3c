import { z } from 'zod';

import { ANALYTICS_WINDOW_NAMES, type AnalyticsWindow } from '@baton/persistence';

/** Rule names become the last token of `baton.alerts.<name>`; `escalation` is the orchestrator's. */
const RULE_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
const RESERVED_NAMES = ['escalation'];

/** `baton.alerts.<name>`: where a rule's alerts are published (stream BATON_ALERTS). */
export function alertSubject(ruleName: string): string {
  return `baton.alerts.${ruleName}`;
}

const name = z
  .string()
  .regex(RULE_NAME, 'must be lowercase letters, digits, - or _, starting with a letter (at most 64)')
  .refine((n) => !RESERVED_NAMES.includes(n), { message: 'is reserved (baton.alerts.escalation)' });

const errorRateRule = z
  .object({
    name,
    kind: z.literal('error-rate'),
    /** Only this workflow; default: every workflow, each its own alert. */
    workflowId: z.string().min(1).optional(),
    window: z.enum(ANALYTICS_WINDOW_NAMES as [AnalyticsWindow, ...AnalyticsWindow[]]).default('5m'),
    /** Fires when (failed + compensated + terminated) / finished exceeds this (0..1). */
    threshold: z.number().min(0).max(1),
    /** Fewer finished executions in the window than this never fire (noise). */
    minExecutions: z.number().int().min(1).default(10),
  })
  .strict();

const stuckRule = z
  .object({
    name,
    kind: z.literal('stuck-executions'),
    /** An execution RUNNING or WAITING whose record has not changed for this long is stuck. */
    afterSeconds: z.number().int().min(1),
    /** Fires when at least this many executions are stuck. */
    minCount: z.number().int().min(1).default(1),
  })
  .strict();

const lagRule = z
  .object({
    name,
    kind: z.literal('consumer-lag'),
    /** Only this durable consumer; default: every durable of Baton's streams, each its own alert. */
    durable: z.string().min(1).optional(),
    /** Fires when the consumer's pending (undelivered) messages exceed this. */
    maxPending: z.number().int().min(0),
  })
  .strict();

/** One alert rule (ADR 0023). */
export const alertRuleSchema = z.discriminatedUnion('kind', [errorRateRule, stuckRule, lagRule]);
export type AlertRule = z.output<typeof alertRuleSchema>;
export type ErrorRateRule = z.output<typeof errorRateRule>;
export type StuckExecutionsRule = z.output<typeof stuckRule>;
export type ConsumerLagRule = z.output<typeof lagRule>;

/** Rules used when `BATON_ALERT_RULES` is not set. */
export const DEFAULT_ALERT_RULES: readonly AlertRule[] = [
  { name: 'workflow-error-rate', kind: 'error-rate', window: '5m', threshold: 0.2, minExecutions: 10 },
  { name: 'executions-stuck', kind: 'stuck-executions', afterSeconds: 3600, minCount: 1 },
  { name: 'consumer-lag', kind: 'consumer-lag', maxPending: 1000 },
];

/** The rules list: an array of rules with distinct names. */
export const alertRulesSchema = z
  .array(alertRuleSchema)
  .max(100)
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((rule, i) => {
      if (seen.has(rule.name)) {
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate rule name '${rule.name}'` });
      }
      seen.add(rule.name);
    });
  });

/**
 * `BATON_ALERT_RULES`: a JSON array of rules, or unset for {@link DEFAULT_ALERT_RULES}; `[]` switches
 * alerting off. Invalid JSON or rules stop the service at start, naming the offending path.
 */
export const alertRulesEnv = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw.trim() === '') return DEFAULT_ALERT_RULES as AlertRule[];
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `is not JSON: ${(err as Error).message}` });
      return z.NEVER;
    }
    const parsed = alertRulesSchema.safeParse(json);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ code: 'custom', message: `/${issue.path.join('/')}: ${issue.message}` });
      }
      return z.NEVER;
    }
    return parsed.data;
  });
