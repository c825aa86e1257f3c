import type { AlertRule } from './alert-rules';

/** What a rule saw for one subject of it (a workflow, a durable consumer, or `all`) in one evaluation. */
export interface Observation {
  /** The subject of the alert within the rule: `workflow:<id>`, `consumer:<stream>/<durable>`, `all`. */
  key: string;
  /** The measured value (error rate, stuck executions, pending messages). */
  value: number;
  /** Whether the value breaks the rule. */
  breached: boolean;
  /** Low-cardinality context (`workflowId`, `stream`, `durable`). */
  labels: Record<string, string>;
  /** One line for people. */
  summary: string;
}

export const AlertState = { FIRING: 'firing', RESOLVED: 'resolved' } as const;
export type AlertState = (typeof AlertState)[keyof typeof AlertState];

/** One alert, as shown at `GET /v1/alerts` and published on `baton.alerts.<rule>`. */
export interface Alert {
  /** The rule's name (also the subject's last token). */
  name: string;
  kind: AlertRule['kind'];
  key: string;
  state: AlertState;
  /** The value at the last evaluation (when firing) or at resolution. */
  value: number;
  /** The rule's bound: threshold, minCount or maxPending. */
  threshold: number;
  labels: Record<string, string>;
  summary: string;
  firedAt: string;
  resolvedAt?: string;
  /** Last evaluation that saw it (ISO-8601). */
  evaluatedAt: string;
}

/** A change an evaluation produced: to publish on `baton.alerts.<name>`. */
export interface AlertTransition {
  alert: Alert;
  /** `Nats-Msg-Id`: a re-publish of the same transition is dropped by the stream. */
  msgId: string;
}

/** How many resolved alerts {@link AlertBook.recent} keeps. */
export const RECENT_ALERTS = 100;

/** The bound of a rule, reported with its alerts. */
export function ruleThreshold(rule: AlertRule): number {
  switch (rule.kind) {
    case 'error-rate':
      return rule.threshold;
    case 'stuck-executions':
      return rule.minCount;
    case 'consumer-lag':
      return rule.maxPending;
  }
}

/**
 * The alerts of this telemetry instance: the active ones and the recently resolved, and the transitions
 * each evaluation makes. An observation that breaches its rule fires an alert (once, while it lasts); the
 * alert resolves when an evaluation of its rule sees it no longer breached, or no longer sees it at all.
 * A rule whose evaluation failed (`null` observations) changes nothing. Time comes from `now` (tests
 * inject it).
 */
export class AlertBook {
  private readonly active = new Map<string, Alert>();
  private readonly resolved: Alert[] = [];

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Applies one evaluation of `rule` and returns the transitions it made. */
  apply(rule: AlertRule, observations: readonly Observation[] | null): AlertTransition[] {
    if (observations === null) return [];
    const at = this.now().toISOString();
    const transitions: AlertTransition[] = [];
    const seen = new Set<string>();
    for (const o of observations) {
      const id = `${rule.name}\u0000${o.key}`;
      seen.add(id);
      const current = this.active.get(id);
      if (o.breached) {
        if (current) {
          Object.assign(current, { value: o.value, summary: o.summary, labels: o.labels, evaluatedAt: at });
          continue;
        }
        const alert: Alert = {
          name: rule.name,
          kind: rule.kind,
          key: o.key,
          state: AlertState.FIRING,
          value: o.value,
          threshold: ruleThreshold(rule),
          labels: o.labels,
          summary: o.summary,
          firedAt: at,
          evaluatedAt: at,
        };
        this.active.set(id, alert);
        transitions.push({ alert: { ...alert }, msgId: `alert:${rule.name}:${o.key}:${at}:firing` });
      } else if (current) {
        transitions.push(this.resolve(id, current, at, o));
      }
    }
    for (const [id, current] of this.active) {
      if (current.name === rule.name && !seen.has(id)) transitions.push(this.resolve(id, current, at));
    }
    return transitions;
  }

  /** Firing alerts, oldest first. */
  firing(): Alert[] {
    return [...this.active.values()]
      .sort((a, b) => a.firedAt.localeCompare(b.firedAt))
      .map((a) => ({ ...a }));
  }

  /** Resolved alerts, newest first (at most {@link RECENT_ALERTS}). */
  recent(): Alert[] {
    return this.resolved.map((a) => ({ ...a }));
  }

  private resolve(id: string, alert: Alert, at: string, o?: Observation): AlertTransition {
    this.active.delete(id);
    const done: Alert = {
      ...alert,
      state: AlertState.RESOLVED,
      resolvedAt: at,
      evaluatedAt: at,
      ...(o ? { value: o.value, summary: o.summary } : {}),
    };
    this.resolved.unshift(done);
    if (this.resolved.length > RECENT_ALERTS) this.resolved.length = RECENT_ALERTS;
    return { alert: { ...done }, msgId: `alert:${alert.name}:${alert.key}:${alert.firedAt}:resolved` };
  }
}
