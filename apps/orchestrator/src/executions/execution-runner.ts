import { BatonError, ErrorCode, isBatonError, isTerminalExecutionStatus } from '@baton/contracts';
import type {
  ExecutionSignal,
  OrchestratorEventMatch,
  OrchestratorTimer,
  TaskHeartbeat,
  TaskResult,
  WorkflowDefinition,
} from '@baton/contracts';

import type { ExecutionEngine, StartParams } from './execution-engine';
import type { ExecutionRecord } from './execution.model';
import type { ExecutionStore, StoredExecution } from './execution-store';
import { KeyedMutex } from './keyed-mutex';

/** Publishes one outbox message with its stable id (JetStreamPublisher satisfies this). */
export interface OutboxPublisher {
  publish(
    subject: string,
    body: unknown,
    opts: { msgId: string; headers?: Record<string, string> },
  ): Promise<unknown>;
}

/** Looks up a registered definition by id and version. */
export interface DefinitionSource {
  get(id: string, version?: number): Promise<{ definition: WorkflowDefinition } | undefined>;
}

/** Named crash points for fault-injection tests; a no-op in production. */
export interface FaultPoints {
  hit(point: 'after-state-write' | 'before-ack'): void;
}

const MAX_CAS_ATTEMPTS = 16;

/** A written transition: the new record, the one it replaced, and whether it finished the execution. */
export interface Transitioned {
  record: ExecutionRecord;
  previous: ExecutionRecord;
  definition: WorkflowDefinition;
  finishedNow: boolean;
}

export interface RunnerOptions {
  /**
   * A record read from the store has its outbox re-published only if it was written less than this long
   * ago: inside the streams' duplicate window (2 min) copies are dropped by `Nats-Msg-Id`. An older outbox
   * was published long ago or is re-driven by the sweep, which checks the task backlog first (ADR 0007).
   */
  republishWindowMs: number;
  now?: () => number;
}

/**
 * Runs transitions: load the record, let the engine compute the next one, write it with compare-and-set,
 * then publish its outbox with stable message ids. Work on one execution is serialised in this process;
 * across processes the KV compare-and-set rejects the loser, which reloads and recomputes.
 * A record read from the store with a non-empty outbox is re-published first (the writer may have crashed
 * between its write and its publish); duplicates inside the stream's window are dropped by `Nats-Msg-Id`.
 */
export class ExecutionRunner {
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly store: ExecutionStore,
    private readonly engine: ExecutionEngine,
    private readonly definitions: DefinitionSource,
    private readonly publisher: OutboxPublisher,
    private readonly faults: FaultPoints = { hit: () => undefined },
    private readonly options: RunnerOptions = { republishWindowMs: 100_000 },
  ) {}

  /**
   * Starts an execution once: an existing id returns the existing record (`created: false`), after
   * re-publishing its outbox (a start redelivered after a crash between the write and the publish).
   */
  async start(
    def: WorkflowDefinition,
    params: StartParams,
  ): Promise<{ record: ExecutionRecord; created: boolean }> {
    return this.locks.run(params.executionId, async () => {
      // Only the cache is asked first: a start is nearly always new, and the create below tells an
      // existing execution apart itself (it fails on an existing key), saving a read per start.
      const existing = this.store.cached(params.executionId);
      if (existing) {
        await this.flush(existing);
        return { record: existing.record, created: false };
      }
      const record = await this.engine.start(def, params);
      const created = await this.store.create(record);
      if (!created) {
        const winner = await this.store.load(params.executionId, { bypassCache: true });
        if (!winner) throw new BatonError(ErrorCode.UNAVAILABLE, `execution ${params.executionId} vanished`);
        await this.flush(winner);
        return { record: winner.record, created: false };
      }
      this.engine.committed(record);
      this.faults.hit('after-state-write');
      await this.flush(created);
      return { record, created: true };
    });
  }

  /**
   * Applies a worker's result to its execution (idempotent under redelivery). Returns the written record,
   * its definition and whether this transition finished the execution, or `undefined` when nothing changed.
   */
  async applyResult(result: TaskResult): Promise<Transitioned | undefined> {
    return this.transition(
      result.executionId,
      (def, record) => this.engine.applyResult(def, record, result),
      `result for unknown execution ${result.executionId}`,
    );
  }

  /** A fired scheduler timer (retry, deadline, wait, hold); stale timers change nothing. */
  async applyTimer(timer: OrchestratorTimer): Promise<Transitioned | undefined> {
    return this.transition(
      timer.executionId,
      (def, record) => this.engine.applyTimer(def, record, timer),
      `timer for unknown execution ${timer.executionId}`,
    );
  }

  async applyHeartbeat(heartbeat: TaskHeartbeat): Promise<Transitioned | undefined> {
    return this.transition(
      heartbeat.executionId,
      (def, record) => Promise.resolve(this.engine.applyHeartbeat(def, record, heartbeat)),
      `heartbeat for unknown execution ${heartbeat.executionId}`,
    );
  }

  async applySignal(signal: ExecutionSignal): Promise<Transitioned | undefined> {
    return this.transition(
      signal.executionId,
      (def, record) => this.engine.applySignal(def, record, signal),
      `signal for unknown execution ${signal.executionId}`,
    );
  }

  async applyEventMatch(match: OrchestratorEventMatch): Promise<Transitioned | undefined> {
    return this.transition(
      match.executionId,
      (def, record) => this.engine.applyEventMatch(def, record, match),
      `event match for unknown execution ${match.executionId}`,
    );
  }

  /** Operator: terminate (CONFLICT when the execution is over). */
  async terminate(executionId: string, reason: string): Promise<Transitioned> {
    const done = await this.transition(
      executionId,
      (def, record) => Promise.resolve(this.engine.terminate(def, record, reason)),
      `execution ${executionId} not found`,
    );
    return done as Transitioned;
  }

  /** Operator: resume a failed or parked execution (CONFLICT otherwise). */
  async retry(executionId: string): Promise<Transitioned> {
    const done = await this.transition(
      executionId,
      (def, record) => this.engine.retry(def, record),
      `execution ${executionId} not found`,
    );
    return done as Transitioned;
  }

  /**
   * One transition of an execution: load, compute with `fn`, compare-and-set, publish the outbox. `fn`
   * returns `null` when nothing changes. Retries on a concurrent write (another instance won).
   */
  async transition(
    executionId: string,
    fn: (def: WorkflowDefinition, record: ExecutionRecord) => Promise<ExecutionRecord | null>,
    notFound: string,
  ): Promise<Transitioned | undefined> {
    return this.locks.run(executionId, async () => {
      for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
        const stored = await this.store.load(executionId, { bypassCache: attempt > 0 });
        if (!stored) throw new BatonError(ErrorCode.NOT_FOUND, notFound, { retryable: false });
        await this.flush(stored);
        const def = await this.definitionOf(stored.record);
        const next = await fn(def, stored.record);
        if (!next) return undefined;
        let written: StoredExecution;
        try {
          written = await this.store.update(next, stored);
        } catch (err) {
          if (isBatonError(err) && err.code === ErrorCode.CONCURRENT_UPDATE) continue;
          throw err;
        }
        this.engine.committed(next);
        this.faults.hit('after-state-write');
        await this.flush(written);
        return {
          record: next,
          previous: stored.record,
          definition: def,
          finishedNow:
            isTerminalExecutionStatus(next.status) &&
            (!isTerminalExecutionStatus(stored.record.status) ||
              next.finishedAt !== stored.record.finishedAt),
        };
      }
      throw new BatonError(ErrorCode.CONCURRENT_UPDATE, `execution ${executionId} kept changing`, {
        retryable: true,
      });
    });
  }

  /** Current record of an execution (from this process's cache or the store). */
  async get(id: string): Promise<ExecutionRecord | undefined> {
    return (await this.store.load(id, { bypassCache: true }))?.record;
  }

  private async definitionOf(record: ExecutionRecord): Promise<WorkflowDefinition> {
    const registered = await this.definitions.get(record.workflowId, record.version);
    if (!registered) {
      throw new BatonError(
        ErrorCode.UNAVAILABLE,
        `definition ${record.workflowId} v${record.version} of execution ${record.id} is not available`,
        { retryable: true },
      );
    }
    return registered.definition;
  }

  private async flush(stored: StoredExecution): Promise<void> {
    if (stored.flushed) return;
    const outbox = stored.record.outbox;
    const age = (this.options.now ?? Date.now)() - Date.parse(stored.record.updatedAt);
    if (outbox.length > 0 && (stored.writtenHere || age < this.options.republishWindowMs)) {
      await Promise.all(
        outbox.map((entry) =>
          this.publisher.publish(entry.subject, entry.body, {
            msgId: entry.msgId,
            ...(entry.headers ? { headers: entry.headers } : {}),
          }),
        ),
      );
    }
    this.store.markFlushed(stored);
  }
}
