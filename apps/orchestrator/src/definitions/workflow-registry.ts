import { KvWatchInclude } from '@nats-io/kv';
import type { KV, KvEntry } from '@nats-io/kv';

import { BatonError, ErrorCode, subjectMatches } from '@baton/contracts';
import type { EventTrigger, RegisteredWorkflow, WorkflowDefinition } from '@baton/contracts';
import { CompiledCondition, definitionDigest } from '@baton/workflow';

import { isWrongLastSequence } from '../executions/execution-store';

export type RegisterOutcome = 'created' | 'unchanged';

export interface TriggerMatch {
  workflow: WorkflowDefinition;
  trigger: EventTrigger;
  index: number;
  /** The trigger's condition over `{ event, subject }`, compiled once; absent when it has none. */
  condition?: CompiledCondition;
}

interface Versioned {
  workflow: RegisteredWorkflow;
  kvRevision: number;
}

/**
 * Registered workflow definitions, stored in the KV bucket `baton_workflows` (key `<id>.<version>`) and
 * mirrored in memory by a KV watch, so every orchestrator instance sees a new definition within
 * milliseconds and a restart keeps them. `(id, version)` is immutable.
 */
export class WorkflowRegistry {
  private readonly byId = new Map<string, Map<number, Versioned>>();
  /** Event triggers of the latest live versions, rebuilt after any change (read on every event). */
  private eventTriggers?: TriggerMatch[];
  private watcher?: { stop(): void };

  constructor(private readonly kv: KV) {}

  /** Starts the watch (updates only), then loads every stored definition. */
  async start(): Promise<void> {
    const iter = await this.kv.watch({ key: '>', include: KvWatchInclude.UpdatesOnly });
    this.watcher = iter;
    void (async () => {
      for await (const entry of iter) this.apply(entry);
    })();
    const keys = await this.kv.keys();
    const all: string[] = [];
    for await (const key of keys) all.push(key);
    await Promise.all(
      all.map(async (key) => {
        const entry = await this.kv.get(key);
        if (entry) this.apply(entry);
      }),
    );
  }

  stop(): void {
    this.watcher?.stop();
  }

  /**
   * Registers a validated definition. Identical re-registration is `unchanged` (and revives a deleted one);
   * a different body for an existing (id, version) is a 409 CONFLICT.
   */
  async register(
    definition: WorkflowDefinition,
  ): Promise<{ outcome: RegisterOutcome; workflow: RegisteredWorkflow }> {
    const key = keyOf(definition.id, definition.version);
    const digest = definitionDigest(definition);
    const workflow: RegisteredWorkflow = { definition, registeredAt: new Date().toISOString(), digest };
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const kvRevision = await this.kv.create(key, JSON.stringify(workflow));
        this.remember(workflow, kvRevision);
        return { outcome: 'created', workflow };
      } catch (err) {
        if (!isWrongLastSequence(err)) throw unavailable(err);
      }
      const entry = await this.kv.get(key);
      if (!entry || entry.operation !== 'PUT') continue;
      const existing = entry.json<RegisteredWorkflow>();
      if (existing.digest !== digest) {
        throw new BatonError(
          ErrorCode.CONFLICT,
          `workflow ${definition.id} version ${definition.version} is already registered with a different definition; register a new version`,
          {
            retryable: false,
            details: [{ path: '/version', message: 'version already registered', rule: 'immutableVersion' }],
          },
        );
      }
      if (!existing.deleted) {
        this.remember(existing, entry.revision);
        return { outcome: 'unchanged', workflow: existing };
      }
      const revived: RegisteredWorkflow = {
        ...existing,
        deleted: false,
        registeredAt: workflow.registeredAt,
      };
      try {
        const kvRevision = await this.kv.update(key, JSON.stringify(revived), entry.revision);
        this.remember(revived, kvRevision);
        return { outcome: 'unchanged', workflow: revived };
      } catch (err) {
        if (!isWrongLastSequence(err)) throw unavailable(err);
      }
    }
    throw new BatonError(
      ErrorCode.CONCURRENT_UPDATE,
      `workflow ${definition.id} is being changed concurrently`,
    );
  }

  /** A version (or the latest live one). Deleted versions stay readable by explicit version. */
  async get(id: string, version?: number): Promise<RegisteredWorkflow | undefined> {
    const versions = this.byId.get(id);
    if (version === undefined) {
      if (!versions) return undefined;
      let best: RegisteredWorkflow | undefined;
      for (const { workflow } of versions.values()) {
        if (workflow.deleted) continue;
        if (!best || workflow.definition.version > best.definition.version) best = workflow;
      }
      return best;
    }
    const known = versions?.get(version);
    if (known) return known.workflow;
    // Registered a moment ago on another instance and not yet seen by the watch.
    const entry = await this.kv.get(keyOf(id, version));
    if (!entry || entry.operation !== 'PUT') return undefined;
    this.apply(entry);
    return entry.json<RegisteredWorkflow>();
  }

  /** Every version of one workflow, oldest first. */
  versions(id: string): RegisteredWorkflow[] {
    return [...(this.byId.get(id)?.values() ?? [])]
      .map((v) => v.workflow)
      .sort((a, b) => a.definition.version - b.definition.version);
  }

  /** The latest live version of every workflow. */
  list(): RegisteredWorkflow[] {
    const out: RegisteredWorkflow[] = [];
    for (const id of [...this.byId.keys()].sort()) {
      let best: RegisteredWorkflow | undefined;
      for (const { workflow } of this.byId.get(id)?.values() ?? []) {
        if (workflow.deleted) continue;
        if (!best || workflow.definition.version > best.definition.version) best = workflow;
      }
      if (best) out.push(best);
    }
    return out;
  }

  /** Marks every version deleted: no new executions or triggers; running executions finish. */
  async delete(id: string): Promise<number> {
    const versions = this.byId.get(id);
    if (!versions || [...versions.values()].every((v) => v.workflow.deleted)) {
      throw new BatonError(ErrorCode.NOT_FOUND, `workflow ${id} not found`, { retryable: false });
    }
    let count = 0;
    for (const [version, current] of versions) {
      if (current.workflow.deleted) continue;
      const deleted: RegisteredWorkflow = { ...current.workflow, deleted: true };
      const entry = await this.kv.get(keyOf(id, version));
      if (!entry) continue;
      const kvRevision = await this.kv.update(keyOf(id, version), JSON.stringify(deleted), entry.revision);
      this.remember(deleted, kvRevision);
      count++;
    }
    return count;
  }

  /** Event triggers of the latest live versions whose subject pattern matches `subject`. */
  triggersFor(subject: string): TriggerMatch[] {
    this.eventTriggers ??= this.list().flatMap((workflow) =>
      (workflow.definition.triggers ?? []).flatMap((trigger, index) =>
        trigger.type === 'event'
          ? [
              {
                workflow: workflow.definition,
                trigger,
                index,
                ...(trigger.condition !== undefined
                  ? { condition: new CompiledCondition(trigger.condition) }
                  : {}),
              },
            ]
          : [],
      ),
    );
    return this.eventTriggers.filter((m) => subjectMatches(m.trigger.subject, subject));
  }

  private apply(entry: KvEntry): void {
    if (entry.operation !== 'PUT' || entry.length === 0) return;
    let workflow: RegisteredWorkflow;
    try {
      workflow = entry.json<RegisteredWorkflow>();
    } catch {
      return;
    }
    this.remember(workflow, entry.revision);
  }

  private remember(workflow: RegisteredWorkflow, kvRevision: number): void {
    const { id, version } = workflow.definition;
    let versions = this.byId.get(id);
    if (!versions) {
      versions = new Map();
      this.byId.set(id, versions);
    }
    const known = versions.get(version);
    if (!known || known.kvRevision <= kvRevision) {
      versions.set(version, { workflow, kvRevision });
      this.eventTriggers = undefined;
    }
  }
}

function keyOf(id: string, version: number): string {
  return `${id}.${version}`;
}

function unavailable(err: unknown): BatonError {
  return new BatonError(
    ErrorCode.UNAVAILABLE,
    `workflow store unavailable: ${(err as Error)?.message ?? err}`,
    {
      retryable: true,
      cause: err,
    },
  );
}
