import { KvWatchInclude } from '@nats-io/kv';
import type { KV, KvEntry } from '@nats-io/kv';

import { BatonError, ErrorCode } from '@baton/contracts';
import type { ErrorPolicy, StepDefinition, WorkflowDefinition } from '@baton/contracts';

import { isWrongLastSequence } from '../executions/execution-store';
import { resolvePolicy } from './policy-resolution';

/** A policy as stored in `baton_policies` and returned by the API. */
export interface RegisteredPolicy extends ErrorPolicy {
  updatedAt: string;
}

/** Which error policy applies to a failure (structurally the engine's `PolicyResolver`). */
export interface PolicyResolver {
  resolve(def: WorkflowDefinition, step: StepDefinition, errorType: string): ErrorPolicy | undefined;
}

export type PutOutcome = 'created' | 'updated' | 'unchanged';

interface Known {
  policy: RegisteredPolicy;
  kvRevision: number;
}

/**
 * Named error policies, stored in the KV bucket `baton_policies` (key = name) and mirrored in memory by a
 * KV watch, so every orchestrator instance resolves them synchronously and sees a change within
 * milliseconds. A policy is mutable: a failure is resolved against the policies current at that moment.
 */
export class PolicyRegistry implements PolicyResolver {
  private readonly byName = new Map<string, Known>();
  private watcher?: { stop(): void };

  constructor(
    private readonly kv: KV,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Starts the watch (history included: it replays the current value of every key, then follows). */
  async start(): Promise<void> {
    const iter = await this.kv.watch({ key: '>', include: KvWatchInclude.LastValue });
    this.watcher = iter;
    void (async () => {
      for await (const entry of iter) this.apply(entry);
    })();
    // Load synchronously as well, so resolve() is complete once start() returns.
    const keys = await this.kv.keys();
    const names: string[] = [];
    for await (const key of keys) names.push(key);
    await Promise.all(
      names.map(async (name) => {
        const entry = await this.kv.get(name);
        if (entry) this.apply(entry);
      }),
    );
  }

  stop(): void {
    this.watcher?.stop();
  }

  /** Stores a validated policy: `created`, `updated`, or `unchanged` when identical to the stored one. */
  async put(policy: ErrorPolicy): Promise<{ outcome: PutOutcome; policy: RegisteredPolicy }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.read(policy.name);
      const current = entry === undefined ? undefined : parse(entry);
      if (current !== undefined && sameRules(current, policy)) {
        this.remember(current, entry!.revision);
        return { outcome: 'unchanged', policy: current };
      }
      const stored: RegisteredPolicy = { ...policy, updatedAt: this.now().toISOString() };
      try {
        const kvRevision =
          entry === undefined || current === undefined
            ? await this.kv.create(policy.name, JSON.stringify(stored))
            : await this.kv.update(policy.name, JSON.stringify(stored), entry.revision);
        this.remember(stored, kvRevision);
        return { outcome: current === undefined ? 'created' : 'updated', policy: stored };
      } catch (err) {
        if (!isWrongLastSequence(err)) throw unavailable(err);
      }
    }
    throw new BatonError(ErrorCode.CONCURRENT_UPDATE, `policy ${policy.name} is being changed concurrently`);
  }

  /** The policy named `name`, as this instance knows it. */
  get(name: string): RegisteredPolicy | undefined {
    return this.byName.get(name)?.policy;
  }

  /** Every policy, by name. */
  list(): RegisteredPolicy[] {
    return [...this.byName.keys()].sort().map((name) => this.byName.get(name)!.policy);
  }

  /** Deletes a policy; NOT_FOUND when unknown. Definitions naming it then resolve without it. */
  async delete(name: string): Promise<void> {
    const entry = await this.read(name);
    if (entry === undefined || parse(entry) === undefined) {
      throw new BatonError(ErrorCode.NOT_FOUND, `policy ${name} not found`, { retryable: false });
    }
    try {
      await this.kv.delete(name);
    } catch (err) {
      throw unavailable(err);
    }
    this.byName.delete(name);
  }

  /** {@link resolvePolicy} over the policies in memory; synchronous. */
  resolve(def: WorkflowDefinition, step: StepDefinition, errorType: string): ErrorPolicy | undefined {
    return resolvePolicy((name) => this.get(name), def, step, errorType);
  }

  private async read(name: string): Promise<KvEntry | undefined> {
    try {
      const entry = await this.kv.get(name);
      return entry === null || entry.operation !== 'PUT' ? undefined : entry;
    } catch (err) {
      throw unavailable(err);
    }
  }

  private apply(entry: KvEntry): void {
    const known = this.byName.get(entry.key);
    if (known !== undefined && known.kvRevision > entry.revision) return;
    if (entry.operation !== 'PUT') {
      this.byName.delete(entry.key);
      return;
    }
    const policy = parse(entry);
    if (policy !== undefined) this.remember(policy, entry.revision);
  }

  private remember(policy: RegisteredPolicy, kvRevision: number): void {
    const known = this.byName.get(policy.name);
    if (known === undefined || known.kvRevision <= kvRevision)
      this.byName.set(policy.name, { policy, kvRevision });
  }
}

function parse(entry: KvEntry): RegisteredPolicy | undefined {
  if (entry.length === 0) return undefined;
  try {
    const value = entry.json<RegisteredPolicy>();
    return typeof value === 'object' && value !== null && value.name === entry.key ? value : undefined;
  } catch {
    return undefined;
  }
}

function sameRules(a: ErrorPolicy, b: ErrorPolicy): boolean {
  const rules = (p: ErrorPolicy) =>
    JSON.stringify([p.name, p.errorTypes, p.retryPolicy ?? null, p.onExhausted, p.description ?? null]);
  return rules(a) === rules(b);
}

function unavailable(err: unknown): BatonError {
  return new BatonError(
    ErrorCode.UNAVAILABLE,
    `policy store unavailable: ${(err as Error)?.message ?? String(err)}`,
    {
      retryable: true,
      cause: err,
    },
  );
}
