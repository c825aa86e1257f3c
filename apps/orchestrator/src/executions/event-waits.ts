import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { JsMsg } from '@nats-io/jetstream';
import { KvWatchInclude } from '@nats-io/kv';
import type { KV, KvEntry } from '@nats-io/kv';
import type { NatsConnection, QueuedIterator } from '@nats-io/nats-core';

import { PROTOCOL_VERSION, Streams, Subjects, subjectMatches } from '@baton/contracts';
import type { OrchestratorEventMatch } from '@baton/contracts';
import { NATS_CONNECTION } from '@baton/service-kit';
import { JetStreamPublisher } from '@baton/transport-jetstream';
import { CompiledCondition } from '@baton/workflow';

import { WAITS_KV } from '../orchestrator.tokens';
import type { EventWaitEntry } from './execution-engine';

/** Events read back when a wait is indexed, to match those published between its start and its indexing. */
const MAX_CATCH_UP_EVENTS = 10_000;

interface IndexedWait {
  entry: EventWaitEntry;
  sinceMs: number;
  /** Compiled condition; absent when the wait has none. */
  condition?: CompiledCondition;
}

/** What a user's event looks like to the matcher. */
export interface MatchedEvent {
  subject: string;
  payload: unknown;
  streamSequence: number;
  /** When the broker stored it (ms). */
  storedAtMs: number;
}

/**
 * The waits index: every `wait {event}` step in flight, from the KV bucket `baton_waits` (written by the
 * engine's outbox), and the matching of users' events against it (subject pattern, then the wait's
 * json-rules-engine condition over `{ event, subject }`). A match is published to the execution's inbox
 * with the id `event:<executionId>:<stepId>:<attempt>`, so however many instances and redeliveries see
 * the event, the step completes once (the engine ignores matches for steps no longer waiting).
 */
@Injectable()
export class EventWaitsIndex implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventWaitsIndex.name);
  private readonly waits = new Map<string, IndexedWait>();
  private watcher?: QueuedIterator<KvEntry>;

  constructor(
    @Inject(WAITS_KV) private readonly kv: KV,
    @Inject(JetStreamPublisher) private readonly publisher: JetStreamPublisher,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  /** Waits indexed now. */
  get size(): number {
    return this.waits.size;
  }

  async onApplicationBootstrap(): Promise<void> {
    const iter = await this.kv.watch({ key: '>', include: KvWatchInclude.AllHistory });
    this.watcher = iter;
    void (async () => {
      for await (const entry of iter) await this.apply(entry, !iter.getPending?.());
    })();
  }

  onApplicationShutdown(): void {
    this.watcher?.stop();
  }

  /** Matches one event against every wait; publishes a match per satisfied wait. Returns the matches. */
  async match(event: MatchedEvent): Promise<number> {
    let matched = 0;
    for (const wait of this.waits.values()) {
      if (await this.publishIfMatch(wait, event)) matched++;
    }
    return matched;
  }

  private async apply(entry: KvEntry, live: boolean): Promise<void> {
    if (entry.operation !== 'PUT' || entry.length === 0) {
      this.waits.delete(entry.key);
      return;
    }
    let wait: IndexedWait;
    try {
      const value = entry.json<EventWaitEntry>();
      wait = {
        entry: value,
        sinceMs: Date.parse(value.since),
        ...(value.condition !== undefined ? { condition: new CompiledCondition(value.condition) } : {}),
      };
    } catch (err) {
      this.logger.warn(`wait ${entry.key} is unreadable and ignored: ${String(err)}`);
      return;
    }
    this.waits.set(entry.key, wait);
    if (live) await this.catchUp(wait);
  }

  /**
   * Events published after the wait started but consumed before it was indexed here would be missed: read
   * them back from the stream (by start time, on the wait's subject) and match them.
   */
  private async catchUp(wait: IndexedWait): Promise<void> {
    try {
      const js = jetstream(this.nc);
      const consumer = await js.consumers.get(Streams.EVENTS, {
        filter_subjects: [wait.entry.subject],
        deliver_policy: DeliverPolicy.StartTime,
        opt_start_time: new Date(wait.sinceMs).toISOString(),
      });
      let seen = 0;
      while (seen < MAX_CATCH_UP_EVENTS && this.waits.get(keyOf(wait.entry)) === wait) {
        const info = await consumer.info(true);
        if (info.num_pending === 0) break;
        const batch = await consumer.fetch({ max_messages: 256, expires: 1_000 });
        for await (const msg of batch) {
          seen++;
          if (await this.publishIfMatch(wait, eventOf(msg))) return;
        }
      }
    } catch (err) {
      this.logger.warn(`catch-up of wait ${keyOf(wait.entry)} failed: ${String(err)}`);
    }
  }

  private async publishIfMatch(wait: IndexedWait, event: MatchedEvent): Promise<boolean> {
    const { entry } = wait;
    if (event.storedAtMs < wait.sinceMs) return false;
    if (!subjectMatches(entry.subject, event.subject)) return false;
    if (wait.condition) {
      try {
        if (!(await wait.condition.holds({ event: event.payload, subject: event.subject }))) return false;
      } catch {
        return false;
      }
    }
    const match: OrchestratorEventMatch = {
      protocol: PROTOCOL_VERSION,
      kind: 'event',
      executionId: entry.executionId,
      stepId: entry.stepId,
      attempt: entry.attempt,
      subject: event.subject,
      eventSeq: event.streamSequence,
      event: event.payload,
    };
    await this.publisher.publish(Subjects.eventMatch(entry.executionId), match, {
      msgId: `event:${entry.executionId}:${entry.stepId}:${entry.attempt}`,
      headers: {
        'Baton-Execution-Id': entry.executionId,
        'Baton-Workflow-Id': entry.workflowId,
        'Baton-Step-Id': entry.stepId,
      },
    });
    return true;
  }
}

function keyOf(entry: EventWaitEntry): string {
  return `${entry.executionId}.${entry.stepId}`;
}

/** When the broker stored a message (ms since the epoch). */
export function storedAt(msg: JsMsg): number {
  return Math.floor(msg.info.timestampNanos / 1e6);
}

function eventOf(msg: JsMsg): MatchedEvent {
  let payload: unknown = null;
  try {
    payload = msg.json();
  } catch {
    payload = msg.string();
  }
  return { subject: msg.subject, payload, streamSequence: msg.seq, storedAtMs: storedAt(msg) };
}
