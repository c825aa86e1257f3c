import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { KvWatchInclude, Kvm } from '@nats-io/kv';
import type { KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';

import { KvBuckets, definitionScheduleId } from '@baton/contracts';
import type { RegisteredWorkflow } from '@baton/contracts';
import { ScheduleOverlap, ScheduleRepository, ScheduleSource } from '@baton/persistence';
import type { NewSchedule } from '@baton/persistence';
import { NATS_CONNECTION } from '@baton/service-kit';

import { cronProblem, isTimeZone, nextFireAfter } from './schedule-cron';

/** Delay before a failed sync of one workflow's schedules is tried again. */
const RESYNC_DELAY_MS = 1_000;

/**
 * The schedules of the cron triggers of one definition: id `wf-<workflowId>-<triggerIndex>`, source
 * `definition`, pinned to the definition's version, first fire after `now`. Triggers whose expression or
 * time zone this scheduler cannot use (the orchestrator refuses those at registration) are left out and
 * reported through `onInvalid`.
 */
export function definitionSchedules(
  workflow: RegisteredWorkflow,
  now: Date,
  onInvalid: (index: number, problem: string) => void = () => undefined,
): NewSchedule[] {
  const def = workflow.definition;
  return (def.triggers ?? []).flatMap((trigger, index): NewSchedule[] => {
    if (trigger.type !== 'cron') return [];
    const timezone = trigger.timezone ?? 'UTC';
    const problem = isTimeZone(timezone)
      ? cronProblem(trigger.expression, timezone)
      : `unknown time zone ${timezone}`;
    if (problem !== undefined) {
      onInvalid(index, problem);
      return [];
    }
    const expression = trigger.expression.trim();
    return [
      {
        id: definitionScheduleId(def.id, index),
        workflowId: def.id,
        workflowVersion: def.version,
        expression,
        timezone,
        input: trigger.input ?? null,
        overlap: trigger.overlap === ScheduleOverlap.ALLOW ? ScheduleOverlap.ALLOW : ScheduleOverlap.SKIP,
        paused: false,
        source: ScheduleSource.DEFINITION,
        nextFireAt: nextFireAfter(expression, timezone, now),
        createdAt: now,
      },
    ];
  });
}

/** The latest version of `versions` that is not deleted. */
export function latestLive(versions: Iterable<RegisteredWorkflow>): RegisteredWorkflow | undefined {
  let best: RegisteredWorkflow | undefined;
  for (const w of versions) {
    if (w.deleted) continue;
    if (!best || w.definition.version > best.definition.version) best = w;
  }
  return best;
}

/**
 * Keeps the `definition` schedules in step with the registered workflows: watches the KV bucket
 * `baton_workflows` (key `<id>.<version>`, written by the orchestrator) and, for each workflow that changes,
 * makes its schedules those of the cron triggers of its latest live version; when every version is deleted,
 * removes them. Every instance watches; the database writes are idempotent and never go back to an older
 * version, so instances agree whatever order they learn things in.
 */
@Injectable()
export class DefinitionSchedules implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('DefinitionSchedules');
  private readonly versions = new Map<string, Map<number, RegisteredWorkflow>>();
  /** Workflows whose sync runs; a change meanwhile marks it dirty, and it runs again. */
  private readonly syncing = new Map<string, { dirty: boolean; done: Promise<void> }>();
  private readonly retries = new Set<ReturnType<typeof setTimeout>>();
  private watcher?: { stop(): void };
  private stopped = false;

  constructor(
    @Inject(ScheduleRepository) private readonly repository: ScheduleRepository,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const kv = await new Kvm(this.nc).create(KvBuckets.WORKFLOWS, { history: 5 });
    const iter = await kv.watch({ key: '>', include: KvWatchInclude.LastValue });
    this.watcher = iter;
    void (async () => {
      for await (const entry of iter) this.apply(entry);
    })();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.watcher?.stop();
    for (const t of this.retries) clearTimeout(t);
    this.retries.clear();
    await Promise.all([...this.syncing.values()].map((s) => s.done));
  }

  /** Settles when no sync is running (for tests). */
  async idle(): Promise<void> {
    while (this.syncing.size > 0) await Promise.all([...this.syncing.values()].map((s) => s.done));
  }

  private apply(entry: KvEntry): void {
    const dot = entry.key.lastIndexOf('.');
    if (dot <= 0) return;
    const id = entry.key.slice(0, dot);
    const version = Number(entry.key.slice(dot + 1));
    if (!Number.isInteger(version)) return;
    let versions = this.versions.get(id);
    if (!versions) {
      versions = new Map();
      this.versions.set(id, versions);
    }
    if (entry.operation !== 'PUT' || entry.length === 0) {
      versions.delete(version);
    } else {
      try {
        versions.set(version, entry.json<RegisteredWorkflow>());
      } catch {
        return;
      }
    }
    this.sync(id);
  }

  private sync(id: string): void {
    if (this.stopped) return;
    const running = this.syncing.get(id);
    if (running) {
      running.dirty = true;
      return;
    }
    const state = { dirty: false, done: Promise.resolve() };
    state.done = (async () => {
      do {
        state.dirty = false;
        try {
          await this.syncOnce(id);
        } catch (err) {
          this.logger.warn({ err, workflowId: id }, 'syncing the schedules of a workflow failed; retrying');
          const t = setTimeout(() => {
            this.retries.delete(t);
            this.sync(id);
          }, RESYNC_DELAY_MS);
          this.retries.add(t);
          break;
        }
      } while (state.dirty && !this.stopped);
      this.syncing.delete(id);
    })();
    this.syncing.set(id, state);
  }

  private async syncOnce(id: string): Promise<void> {
    const versions = [...(this.versions.get(id)?.values() ?? [])];
    if (versions.length === 0) return;
    const live = latestLive(versions);
    const now = new Date();
    if (live === undefined) {
      const newest = Math.max(...versions.map((w) => w.definition.version));
      await this.repository.removeDefinition(id, newest);
      return;
    }
    const schedules = definitionSchedules(live, now, (index, problem) =>
      this.logger.warn({ workflowId: id, triggerIndex: index }, `cron trigger left out: ${problem}`),
    );
    await this.repository.syncDefinition(id, live.definition.version, schedules, now);
  }
}
