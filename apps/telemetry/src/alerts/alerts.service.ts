import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';

import type { AnalyticsRepository } from '@baton/persistence';
import { BATON_CONFIG, MetricsService, NATS_CONNECTION } from '@baton/service-kit';
import { JetStreamPublisher } from '@baton/transport-jetstream';

import type { TelemetryConfig } from '../config/telemetry.config';
import { TelemetryStorage } from '../database/database.providers';
import { type Alert, AlertBook, type AlertTransition, type Observation } from './alert-evaluator';
import { type AlertRule, alertSubject } from './alert-rules';
import {
  type ConsumerPending,
  type ExecutionLister,
  jetStreamPending,
  observeErrorRate,
  observeLag,
  observeStuck,
  stateStoreLister,
} from './alert-sources';

/** `GET /v1/alerts`. */
export interface AlertList {
  /** Firing now, oldest first. */
  active: Alert[];
  /** Resolved lately, newest first (at most 100). */
  recent: Alert[];
  rules: AlertRule[];
  /** Last completed evaluation (ISO-8601), `null` before the first. */
  evaluatedAt: string | null;
}

/** What the alerts need (fakes in unit tests). */
export interface AlertSources {
  analytics: Pick<AnalyticsRepository, 'listWorkflows'>;
  executions: ExecutionLister;
  consumers: () => Promise<ConsumerPending[]>;
  publish: (subject: string, alert: Alert, msgId: string) => Promise<unknown>;
}

/**
 * Evaluates the alert rules (`BATON_ALERT_RULES`) every `BATON_ALERT_INTERVAL_MS`, publishes each firing
 * and resolution on `baton.alerts.<rule>` (stream BATON_ALERTS) and keeps the active and recent alerts for
 * `GET /v1/alerts`. See ADR 0023.
 */
@Injectable()
export class AlertsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AlertsService.name);
  private readonly book: AlertBook;
  private readonly rules: AlertRule[];
  private readonly intervalMs: number;
  private readonly sources: AlertSources;
  private readonly now: () => Date;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private evaluatedAt: string | null = null;
  /** Transitions not yet published (NATS down): retried at the next evaluation, in order. */
  private readonly unpublished: AlertTransition[] = [];
  private readonly firingGauge;
  private readonly transitionsCounter;

  constructor(
    @Inject(BATON_CONFIG) config: TelemetryConfig,
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    @Inject(TelemetryStorage) storage: { repository: Pick<AnalyticsRepository, 'listWorkflows'> },
    @Inject(JetStreamPublisher) publisher: JetStreamPublisher,
    @Inject(MetricsService) metrics: MetricsService,
  ) {
    this.rules = config.BATON_ALERT_RULES;
    this.intervalMs = config.BATON_ALERT_INTERVAL_MS;
    this.now = () => new Date();
    this.book = new AlertBook(this.now);
    this.sources = {
      analytics: storage.repository,
      executions: stateStoreLister(nc, config.BATON_DISCOVERY_TIMEOUT_MS * 4),
      consumers: jetStreamPending(nc),
      publish: (subject, alert, msgId) =>
        publisher.publish(subject, alert, { msgId, destinationTemplate: 'baton.alerts.{name}' }),
    };
    this.firingGauge = metrics.gauge('alerts_firing', 'Alerts firing now, by rule', ['rule']);
    this.transitionsCounter = metrics.counter('alert_transitions_total', 'Alerts fired and resolved', [
      'rule',
      'state',
    ]);
  }

  onApplicationBootstrap(): void {
    if (this.rules.length === 0 || this.intervalMs === 0) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    void this.tick();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** `GET /v1/alerts`. */
  list(): AlertList {
    return {
      active: this.book.firing(),
      recent: this.book.recent(),
      rules: this.rules,
      evaluatedAt: this.evaluatedAt,
    };
  }

  /** One evaluation of every rule (no overlap: a tick while one runs is skipped). */
  tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = evaluateRules(this.rules, this.book, this.sources, this.now(), this.unpublished, {
      onError: (rule, err) =>
        this.logger.warn({ rule: rule.name, error: (err as Error).message }, 'alert rule not evaluated'),
      onTransition: (t) => {
        this.transitionsCounter.inc({ rule: t.alert.name, state: t.alert.state });
        this.logger.warn({ rule: t.alert.name, key: t.alert.key, state: t.alert.state }, t.alert.summary);
      },
    })
      .then(() => {
        this.evaluatedAt = this.now().toISOString();
        this.firingGauge.reset();
        for (const rule of this.rules) this.firingGauge.set({ rule: rule.name }, 0);
        for (const a of this.book.firing()) this.firingGauge.inc({ rule: a.name });
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }
}

/**
 * Evaluates every rule once at `now`: observations from the sources, transitions from the book, each
 * published (with those that could not be published before, first). A rule whose source fails keeps its
 * alerts as they are; a transition that cannot be published stays queued.
 */
export async function evaluateRules(
  rules: readonly AlertRule[],
  book: AlertBook,
  sources: AlertSources,
  now: Date,
  unpublished: AlertTransition[],
  hooks: {
    onError?: (rule: AlertRule, err: unknown) => void;
    onTransition?: (t: AlertTransition) => void;
  } = {},
): Promise<void> {
  for (const rule of rules) {
    let observations: Observation[] | null;
    try {
      observations = await observe(rule, sources, now);
    } catch (err) {
      hooks.onError?.(rule, err);
      observations = null;
    }
    for (const t of book.apply(rule, observations)) {
      hooks.onTransition?.(t);
      unpublished.push(t);
    }
  }
  while (unpublished.length > 0) {
    const t = unpublished[0];
    try {
      await sources.publish(alertSubject(t.alert.name), t.alert, t.msgId);
    } catch {
      return;
    }
    unpublished.shift();
  }
}

function observe(rule: AlertRule, sources: AlertSources, now: Date): Promise<Observation[]> {
  switch (rule.kind) {
    case 'error-rate':
      return observeErrorRate(rule, sources.analytics, now);
    case 'stuck-executions':
      return observeStuck(rule, sources.executions, now);
    case 'consumer-lag':
      return observeLag(rule, sources.consumers);
  }
}
