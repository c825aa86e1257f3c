import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';

import { assertSubjectToken } from '@baton/contracts';
import type { RuleChange } from '@baton/persistence';
import { NATS_CONNECTION } from '@baton/service-kit';
import { JetStreamPublisher } from '@baton/transport-jetstream';

import { RuleSetCache } from './rule-set';

/** Every rules-changed notification: `baton.events.rules.<category>.changed` (stream BATON_EVENTS). */
export const RULES_CHANGED_ALL = 'baton.events.rules.*.changed';

/** `baton.events.rules.<category>.changed`. */
export function rulesChangedSubject(category: string): string {
  return `baton.events.rules.${assertSubjectToken(category, 'category')}.changed`;
}

/** The category of a `baton.events.rules.<category>.changed` subject, or undefined. */
export function categoryOfSubject(subject: string): string | undefined {
  const m = /^baton\.events\.rules\.([A-Za-z0-9_-]+)\.changed$/.exec(subject);
  return m?.[1];
}

/** Body of a rules-changed notification. */
export interface RulesChangedEvent {
  ruleId: string;
  version: number;
  category: string;
  operation: string;
}

/**
 * Tells every rule-engine instance that a category changed: publishes to BATON_EVENTS with msgId
 * `rules:<id>:<version>` (a category an update moved the rule out of gets `rules:<id>:<version>:<category>`),
 * so a retried publish is stored once.
 */
@Injectable()
export class RuleChangePublisher {
  private readonly publisher: JetStreamPublisher;

  constructor(@Inject(NATS_CONNECTION) nc: NatsConnection) {
    this.publisher = new JetStreamPublisher(nc);
  }

  async publish(change: RuleChange): Promise<void> {
    const { rule } = change;
    for (const category of change.categories) {
      const body: RulesChangedEvent = {
        ruleId: rule.id,
        version: rule.version,
        category,
        operation: rule.operation,
      };
      const suffix = category === rule.category ? '' : `:${category}`;
      await this.publisher.publish(rulesChangedSubject(category), body, {
        msgId: `rules:${rule.id}:${rule.version}${suffix}`,
        destinationTemplate: 'baton.events.rules.{category}.changed',
      });
    }
  }
}

/**
 * Drops a category from this instance's {@link RuleSetCache} when any instance changes it: a core
 * subscription on `baton.events.rules.*.changed` (the JetStream publishes are delivered to it too).
 * Notifications missed while disconnected are covered by dropping every category on reconnect.
 */
@Injectable()
export class RuleChangeListener implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RuleChangeListener');
  private subscription?: Subscription;
  private stopped = false;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(RuleSetCache) private readonly cache: RuleSetCache,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = this.nc.subscribe(RULES_CHANGED_ALL, {
      callback: (err, msg) => {
        if (err) {
          this.logger.warn({ err }, 'rules-changed subscription failed; dropping every compiled category');
          this.cache.invalidateAll();
          return;
        }
        const category = categoryOfSubject(msg.subject);
        if (category !== undefined) this.cache.invalidate(category);
      },
    });
    // The subscription is registered once the server has seen it.
    await this.nc.flush();
    void this.watchReconnects();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.subscription && !this.subscription.isClosed()) this.subscription.unsubscribe();
    await Promise.resolve();
  }

  private async watchReconnects(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (this.stopped) return;
      if (status.type === 'reconnect') this.cache.invalidateAll();
    }
  }
}
