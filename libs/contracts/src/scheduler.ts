/**
 * Subjects and message bodies of the scheduler's timers and of worker presence (announce, heartbeat,
 * goodbye). Timers: docs/adr/0011-durable-timers.md; schedules: docs/adr/0017-cron-schedules.md; presence:
 * docs/scheduler.md.
 */
import { assertSubjectToken, deterministicId } from './ids';

/** Worker presence subjects (core NATS, not stored: heartbeats repeat). */
export const WorkerSubjects = {
  /** A worker announces itself once on start. */
  announce: 'baton.workers.announce',
  /** Every worker's heartbeats. */
  heartbeatAll: 'baton.workers.heartbeat.*',
  /** Every worker's goodbyes. */
  goodbyeAll: 'baton.workers.goodbye.*',
  /** Heartbeats of one worker: `baton.workers.heartbeat.<workerId>`. */
  heartbeat(workerId: string): string {
    return `baton.workers.heartbeat.${assertSubjectToken(workerId, 'workerId')}`;
  },
  /** Goodbye of one worker on close: `baton.workers.goodbye.<workerId>`. */
  goodbye(workerId: string): string {
    return `baton.workers.goodbye.${assertSubjectToken(workerId, 'workerId')}`;
  },
} as const;

/** How often a worker repeats its heartbeat. */
export const WORKER_HEARTBEAT_INTERVAL_MS = 5_000;

/**
 * What a worker says about itself, on announce and in every heartbeat (so a registry restarted later
 * rebuilds itself from heartbeats alone).
 */
export interface WorkerAnnouncement {
  /** Unique per worker process start; a subject token. */
  workerId: string;
  /** The worker's name (its `workerId` in task results). */
  name: string;
  /** Actions it handles. */
  actions: string[];
  /** Tasks it runs at once, summed over its actions. */
  concurrency: number;
  /** `@baton/worker` version. */
  version: string;
  /** ISO-8601. */
  startedAt: string;
  hostname: string;
  pid: number;
}

/** Body of a goodbye. */
export interface WorkerGoodbye {
  workerId: string;
}

/** Subjects a timer may fire on: users' events and Baton's own orchestrator inbox. */
export const TIMER_SUBJECT_PATTERNS = ['events.>', 'baton.orch.>'] as const;

/** `Nats-Msg-Id` of a fired timer: `timer:<id>`, so a re-fire inside the duplicate window stores nothing. */
export function timerMsgId(timerId: string): string {
  return `timer:${timerId}`;
}

/** A timer as the scheduler's API returns it. */
export interface TimerView {
  id: string;
  subject: string;
  payload: unknown;
  /** ISO-8601. */
  dueAt: string;
  createdAt: string;
  firedAt: string | null;
  cancelledAt: string | null;
  status: 'PENDING' | 'FIRED' | 'CANCELLED';
}

/** Id of the schedule made from cron trigger `triggerIndex` of workflow `workflowId`: `wf-<workflowId>-<index>`. */
export function definitionScheduleId(workflowId: string, triggerIndex: number): string {
  return `wf-${workflowId}-${triggerIndex}`;
}

/** Ids of schedules created over the API never start with this (it is reserved for definition schedules). */
export const DEFINITION_SCHEDULE_PREFIX = 'wf-';

/**
 * Execution id of the fire of schedule `scheduleId` at `fireAt`: the same on every scheduler instance and
 * every retry, so one fire time starts at most one execution (`cron-` + 26 url-safe characters).
 */
export function scheduleExecutionId(scheduleId: string, fireAt: Date): string {
  return `cron-${deterministicId('cron', scheduleId, fireAt.toISOString())}`;
}

/** The `cause` of an execution started by a schedule: `cron:<scheduleId>` (see StartExecutionCommand). */
export function scheduleCause(scheduleId: string): string {
  return `cron:${scheduleId}`;
}

/** A schedule as the scheduler's API returns it. */
export interface ScheduleView {
  id: string;
  workflowId: string;
  /** Null: each fire starts the latest registered version. */
  workflowVersion: number | null;
  expression: string;
  timezone: string;
  input: unknown;
  overlap: 'skip' | 'allow';
  paused: boolean;
  /** `api`, or `definition` for a cron trigger of a registered workflow (id `wf-<workflowId>-<index>`). */
  source: 'api' | 'definition';
  /** ISO-8601; null when the expression never fires again. */
  nextFireAt: string | null;
  lastFireAt: string | null;
  lastExecutionId: string | null;
  /** Overlap `skip`: the execution of the last fire while it runs (fires meanwhile are skipped). */
  runningExecutionId: string | null;
  createdAt: string;
  updatedAt: string;
}
