/**
 * JetStream topology declared in code: streams and durable pull consumers, created or updated
 * idempotently at start by every service that needs them.
 */
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/nats-core';

import { BatonError, ErrorCode, Streams, Subjects, isValidSubjectPattern } from '@baton/contracts';

import { isAlreadyExists, isConsumerNotFound, isStreamNotFound } from './nats-errors';

/** One stream as Baton declares it. Durations in milliseconds. */
export interface StreamSpec {
  name: string;
  subjects: string[];
  retention: 'limits' | 'workqueue';
  /** Oldest message kept; absent: no age limit. */
  maxAgeMs?: number;
  /** Largest total size; absent: no size limit. */
  maxBytes?: number;
  /** De-duplication window for `Nats-Msg-Id`; default {@link DEFAULT_DUPLICATE_WINDOW_MS}. */
  duplicateWindowMs?: number;
  description?: string;
}

/** One durable pull consumer with explicit acks. Durations in milliseconds. */
export interface ConsumerSpec {
  stream: string;
  durable: string;
  filterSubject?: string;
  /** Default {@link DEFAULT_ACK_WAIT_MS}. */
  ackWaitMs?: number;
  /** Server-side delivery limit; default -1 (unlimited). */
  maxDeliver?: number;
  /** Default {@link DEFAULT_MAX_ACK_PENDING}. */
  maxAckPending?: number;
  /** Where a new consumer starts; only used when the consumer is created. Default `all`. */
  deliverPolicy?: 'all' | 'new';
}

/** Default de-duplication window of every Baton stream: 2 minutes. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
/** Default ack wait of consumers: 30 seconds. */
export const DEFAULT_ACK_WAIT_MS = 30_000;
/** Default limit of unacknowledged messages per consumer (the server's own default). */
export const DEFAULT_MAX_ACK_PENDING = 1000;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Baton's streams (docs/adr/0002-streams-and-subjects.md). File storage, 2-minute duplicate window. */
export const BATON_STREAMS: Readonly<Record<keyof typeof Streams, Readonly<StreamSpec>>> = deepFreeze({
  EVENTS: {
    name: Streams.EVENTS,
    subjects: [Subjects.eventsAll],
    retention: 'limits',
    maxAgeMs: 7 * DAY_MS,
    duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
    description: "Users' events; triggers start workflows",
  },
  TASKS: {
    name: Streams.TASKS,
    subjects: [Subjects.tasksAll],
    retention: 'workqueue',
    duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
    description: 'Tasks for workers, one subject per action',
  },
  ORCH: {
    name: Streams.ORCH,
    subjects: [Subjects.orchAll],
    retention: 'workqueue',
    duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
    description: "The orchestrator's inbox: start commands and task results",
  },
  HISTORY: {
    name: Streams.HISTORY,
    subjects: [Subjects.historyAll],
    retention: 'limits',
    maxAgeMs: 7 * DAY_MS,
    duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
    description: 'Execution history, one message per state transition',
  },
  NOTIFY: {
    name: Streams.NOTIFY,
    subjects: [Subjects.notifyAll],
    retention: 'limits',
    maxAgeMs: 7 * DAY_MS,
    duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
    description: "Baton's public notifications",
  },
  DLQ: {
    name: Streams.DLQ,
    subjects: [Subjects.dlqAll],
    retention: 'limits',
    maxAgeMs: 30 * DAY_MS,
    duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
    description: 'Dead letters of every consumer',
  },
  DECISIONS: {
    name: Streams.DECISIONS,
    subjects: [Subjects.decisionsAll],
    retention: 'workqueue',
    duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
    description: 'Decision requests for the rule-engine',
  },
  SCHED: {
    name: Streams.SCHED,
    subjects: [Subjects.schedAll],
    retention: 'workqueue',
    duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
    description: 'Requests to the scheduler: timers set and cancelled',
  },
  ALERTS: {
    name: Streams.ALERTS,
    subjects: [Subjects.alertsAll],
    retention: 'limits',
    maxAgeMs: 30 * DAY_MS,
    duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
    description: 'Alerts: escalations and alert rules',
  },
});

function deepFreeze<T extends Record<string, StreamSpec>>(specs: T): T {
  for (const spec of Object.values(specs)) {
    Object.freeze(spec.subjects);
    Object.freeze(spec);
  }
  return Object.freeze(specs);
}

const STREAM_NAME = /^[A-Za-z0-9_-]{1,255}$/;
/** Durable consumer names: alphanumeric, `-`/`_`, at most 32 characters (STYLE.md). */
const DURABLE_NAME = /^[A-Za-z0-9_-]{1,32}$/;

/** Throws VALIDATION_FAILED unless `name` is a valid stream name. */
export function assertStreamName(name: string): void {
  if (!STREAM_NAME.test(name)) {
    throw new BatonError(ErrorCode.VALIDATION_FAILED, `invalid stream name ${JSON.stringify(name)}`, {
      retryable: false,
    });
  }
}

/** Throws VALIDATION_FAILED unless `name` is a valid durable consumer name. */
export function assertDurableName(name: string): void {
  if (!DURABLE_NAME.test(name)) {
    throw new BatonError(
      ErrorCode.VALIDATION_FAILED,
      `invalid durable name ${JSON.stringify(name)}: 1-32 characters of [A-Za-z0-9_-]`,
      { retryable: false },
    );
  }
}

function durationNanos(ms: number | undefined): number {
  return ms === undefined || ms <= 0 ? 0 : nanos(ms);
}

/** The stream configuration a spec stands for. @internal */
export function streamConfigOf(spec: StreamSpec): Partial<StreamConfig> & { name: string } {
  assertStreamName(spec.name);
  if (spec.subjects.length === 0 || !spec.subjects.every(isValidSubjectPattern)) {
    throw new BatonError(ErrorCode.VALIDATION_FAILED, `stream ${spec.name} has invalid subjects`, {
      retryable: false,
    });
  }
  return {
    name: spec.name,
    subjects: [...spec.subjects],
    retention: spec.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: 1,
    max_age: durationNanos(spec.maxAgeMs),
    max_bytes: spec.maxBytes ?? -1,
    duplicate_window: nanos(spec.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
    description: spec.description ?? '',
  };
}

/**
 * Differences between an existing stream and the spec in the fields that can be updated, as the
 * update to send; undefined when none. Throws CONFLICT when an immutable field differs. @internal
 */
export function streamUpdateOf(existing: StreamConfig, spec: StreamSpec): Partial<StreamConfig> | undefined {
  const want = streamConfigOf(spec);
  if (existing.retention !== want.retention || existing.storage !== want.storage) {
    throw new BatonError(
      ErrorCode.CONFLICT,
      `stream ${spec.name} exists with retention ${existing.retention}/${existing.storage}; ` +
        `declared ${want.retention}/${want.storage}, which cannot be changed in place`,
      { retryable: false },
    );
  }
  const sameSubjects =
    existing.subjects.length === want.subjects?.length &&
    [...existing.subjects].sort().every((s, i) => s === [...(want.subjects ?? [])].sort()[i]);
  const changed =
    !sameSubjects ||
    existing.max_age !== want.max_age ||
    existing.max_bytes !== want.max_bytes ||
    existing.duplicate_window !== want.duplicate_window ||
    (existing.description ?? '') !== want.description;
  if (!changed) return undefined;
  return {
    subjects: want.subjects,
    max_age: want.max_age,
    max_bytes: want.max_bytes,
    duplicate_window: want.duplicate_window,
    description: want.description,
  };
}

async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<void> {
  const config = streamConfigOf(spec);
  // A few rounds cover the race of services creating the same stream at once.
  for (let round = 0; round < 5; round++) {
    let info: StreamInfo | undefined;
    try {
      info = await jsm.streams.info(spec.name);
    } catch (err) {
      if (!isStreamNotFound(err)) throw err;
    }
    if (info === undefined) {
      try {
        await jsm.streams.add(config);
        return;
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        throw err;
      }
    }
    const update = streamUpdateOf(info.config, spec);
    if (update !== undefined) await jsm.streams.update(spec.name, update);
    return;
  }
  throw new BatonError(ErrorCode.CONFLICT, `stream ${spec.name} kept changing while being declared`);
}

/**
 * Creates each stream that is missing and updates those whose mutable configuration (subjects, max age,
 * max bytes, duplicate window, description) differs. Idempotent, and safe when several services run it
 * at once. Throws CONFLICT when an existing stream differs in retention or storage.
 */
export async function ensureStreams(nc: NatsConnection, specs: StreamSpec[]): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const spec of specs) await ensureStream(jsm, spec);
}

/** The consumer configuration a spec stands for. @internal */
export function consumerConfigOf(spec: ConsumerSpec): Partial<ConsumerConfig> & { durable_name: string } {
  assertStreamName(spec.stream);
  assertDurableName(spec.durable);
  if (spec.filterSubject !== undefined && !isValidSubjectPattern(spec.filterSubject)) {
    throw new BatonError(
      ErrorCode.VALIDATION_FAILED,
      `invalid filter subject ${JSON.stringify(spec.filterSubject)} for consumer ${spec.durable}`,
      { retryable: false },
    );
  }
  const config: Partial<ConsumerConfig> & { durable_name: string } = {
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: spec.deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
    ack_wait: nanos(spec.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
    max_deliver: spec.maxDeliver ?? -1,
    max_ack_pending: spec.maxAckPending ?? DEFAULT_MAX_ACK_PENDING,
  };
  if (spec.filterSubject !== undefined) config.filter_subject = spec.filterSubject;
  return config;
}

/** The update to send when the consumer's mutable configuration differs from the spec. @internal */
export function consumerUpdateOf(
  existing: ConsumerConfig,
  spec: ConsumerSpec,
): Partial<ConsumerConfig> | undefined {
  const want = consumerConfigOf(spec);
  const changed =
    existing.ack_wait !== want.ack_wait ||
    existing.max_deliver !== want.max_deliver ||
    existing.max_ack_pending !== want.max_ack_pending ||
    (existing.filter_subject ?? '') !== (want.filter_subject ?? '');
  if (!changed) return undefined;
  return {
    ack_wait: want.ack_wait,
    max_deliver: want.max_deliver,
    max_ack_pending: want.max_ack_pending,
    filter_subject: want.filter_subject ?? '',
  };
}

/**
 * Creates the durable pull consumer (explicit ack) or updates its mutable configuration (ack wait, max
 * deliver, max ack pending, filter subject). Idempotent and safe when several instances run it at once.
 * The deliver policy only applies when the consumer is created.
 */
export async function ensureConsumer(nc: NatsConnection, spec: ConsumerSpec): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await ensureConsumerWith(jsm, spec);
}

/** {@link ensureConsumer} with an existing manager. @internal */
export async function ensureConsumerWith(jsm: JetStreamManager, spec: ConsumerSpec): Promise<void> {
  const config = consumerConfigOf(spec);
  for (let round = 0; round < 5; round++) {
    let info: ConsumerInfo | undefined;
    try {
      info = await jsm.consumers.info(spec.stream, spec.durable);
    } catch (err) {
      if (!isConsumerNotFound(err)) throw err;
    }
    if (info === undefined) {
      try {
        await jsm.consumers.add(spec.stream, config);
        return;
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        throw err;
      }
    }
    const update = consumerUpdateOf(info.config, spec);
    if (update !== undefined) await jsm.consumers.update(spec.stream, spec.durable, update);
    return;
  }
  throw new BatonError(
    ErrorCode.CONFLICT,
    `consumer ${spec.stream}/${spec.durable} kept changing while being declared`,
  );
}

/** What {@link checkTopology} looks for. */
export interface TopologyRequirement {
  streams: string[];
  consumers: { stream: string; durable: string }[];
}

/** Outcome of {@link checkTopology}: `missing` names each absent item (`stream X`, `consumer X/durable`). */
export interface TopologyCheck {
  ok: boolean;
  missing: string[];
}

/**
 * Checks that the streams and consumers exist (for readiness probes). Absent items are reported in
 * `missing`; other failures (NATS unreachable, timeouts) are thrown.
 */
export async function checkTopology(nc: NatsConnection, req: TopologyRequirement): Promise<TopologyCheck> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const missing: string[] = [];
  const absentStreams = new Set<string>();
  await Promise.all(
    req.streams.map(async (name) => {
      try {
        await jsm.streams.info(name);
      } catch (err) {
        if (!isStreamNotFound(err)) throw err;
        absentStreams.add(name);
      }
    }),
  );
  for (const name of req.streams) if (absentStreams.has(name)) missing.push(`stream ${name}`);
  const consumerResults = await Promise.all(
    req.consumers.map(async ({ stream, durable }) => {
      try {
        await jsm.consumers.info(stream, durable);
        return undefined;
      } catch (err) {
        if (isConsumerNotFound(err) || isStreamNotFound(err)) return `consumer ${stream}/${durable}`;
        throw err;
      }
    }),
  );
  for (const item of consumerResults) if (item !== undefined) missing.push(item);
  return { ok: missing.length === 0, missing };
}
