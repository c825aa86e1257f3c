/**
 * Stream, subject and consumer names. Build every subject through these helpers, never ad hoc.
 * Layout and reasons: docs/adr/0002-streams-and-subjects.md.
 */
import { actionToToken, assertSubjectToken } from './ids';

export const Streams = {
  /** Users' events; triggers start workflows. */
  EVENTS: 'EVENTS',
  /** Work for workers, one subject per action; work-queue retention. */
  TASKS: 'BATON_TASKS',
  /** The orchestrator's inbox: start commands and task results; work-queue retention. */
  ORCH: 'BATON_ORCH',
  /** Execution history, one message per state transition; read by the state-store and telemetry. */
  HISTORY: 'BATON_HISTORY',
  /** Baton's public notifications (`baton.events.>`): execution completion and the like. */
  NOTIFY: 'BATON_EVENTS',
  /** Dead letters of every consumer. */
  DLQ: 'BATON_DLQ',
  /** Decision requests of decision steps, taken by the rule-engine; work-queue retention. */
  DECISIONS: 'BATON_DECISIONS',
  /** Requests to the scheduler (timers set and cancelled by the orchestrator); work-queue retention. */
  SCHED: 'BATON_SCHED',
  /** Alerts (`baton.alerts.<name>`): escalations and telemetry's alert rules. */
  ALERTS: 'BATON_ALERTS',
} as const;
export type StreamName = (typeof Streams)[keyof typeof Streams];

export const KvBuckets = {
  /** Registered workflow definitions, key `<id>.<version>`. */
  WORKFLOWS: 'baton_workflows',
  /** Execution state (the source of truth), key = execution id. */
  EXECUTIONS: 'baton_executions',
  /** Executions waiting for an event (`wait {event}` steps), key `<executionId>.<stepId>`. */
  WAITS: 'baton_waits',
  /** Error policies (CONTRACT §3.3), key = policy name. */
  POLICIES: 'baton_policies',
} as const;

export const Durables = {
  ORCHESTRATOR: 'orchestrator',
  ORCHESTRATOR_TRIGGERS: 'orchestrator-triggers',
  STATE_STORE_HISTORY: 'state-store-history',
  STATE_STORE_DLQ: 'state-store-dlq',
  TELEMETRY_HISTORY: 'telemetry-history',
  RULE_ENGINE_DECISIONS: 'rule-engine-decisions',
  SCHEDULER_REQUESTS: 'scheduler-requests',
  /** The scheduler's view of finished executions (overlap `skip` of cron schedules). */
  SCHEDULER_EXECUTIONS: 'scheduler-executions',
} as const;

export const Subjects = {
  eventsAll: 'events.>',
  tasksAll: 'baton.tasks.>',
  orchAll: 'baton.orch.>',
  historyAll: 'baton.history.>',
  notifyAll: 'baton.events.>',
  dlqAll: 'baton.dlq.>',
  decisionsAll: 'baton.decisions.>',
  schedAll: 'baton.sched.>',
  /** Every execution completion notification: `baton.events.execution.<workflowId>.<status>`. */
  executionFinishedAll: 'baton.events.execution.>',
  /** Set a durable timer (body {@link TimerSetRequest}); taken by the scheduler's durable `scheduler-requests`. */
  schedTimerSet: 'baton.sched.timers.set',
  /** Cancel a pending timer (body {@link TimerCancelRequest}). */
  schedTimerCancel: 'baton.sched.timers.cancel',

  /** A task for workers of `action` (`inventory.reserve` -> `baton.tasks.inventory.reserve`). */
  task(action: string): string {
    actionToToken(action);
    return `baton.tasks.${action}`;
  },
  /** A decision request for the rules of `category` (a decision step's `action`). */
  decision(category: string): string {
    return `baton.decisions.${assertSubjectToken(category, 'category')}`;
  },
  /** Start an execution of a workflow (HTTP API and schedules publish these). */
  start(workflowId: string): string {
    return `baton.orch.start.${assertSubjectToken(workflowId, 'workflowId')}`;
  },
  /** Where workers publish task results: given to them in each task as `replyTo`. */
  result(executionId: string): string {
    return `baton.orch.result.${assertSubjectToken(executionId, 'executionId')}`;
  },
  /** A fired orchestrator timer of one execution (retry backoff, wait, deadline): body `OrchestratorTimer`. */
  timer(executionId: string): string {
    return `baton.orch.timer.${assertSubjectToken(executionId, 'executionId')}`;
  },
  /** An event matched to an execution waiting for it (`wait {event}` steps): body `OrchestratorEventMatch`. */
  eventMatch(executionId: string): string {
    return `baton.orch.event.${assertSubjectToken(executionId, 'executionId')}`;
  },
  /** A worker's heartbeat for a running attempt: body `TaskHeartbeat`. */
  taskHeartbeat(executionId: string): string {
    return `baton.orch.heartbeat.${assertSubjectToken(executionId, 'executionId')}`;
  },
  /** A signal sent to one execution (`POST /v1/executions/:id/signals/:name`): body `ExecutionSignal`. */
  signal(executionId: string): string {
    return `baton.orch.signal.${assertSubjectToken(executionId, 'executionId')}`;
  },
  /** History of one execution: one message per transition. */
  history(executionId: string): string {
    return `baton.history.${assertSubjectToken(executionId, 'executionId')}`;
  },
  /** `baton.events.execution.<workflowId>.<completed|failed|compensated|terminated>` (CONTRACT §4). */
  executionFinished(workflowId: string, status: string): string {
    return `baton.events.execution.${assertSubjectToken(workflowId, 'workflowId')}.${status.toLowerCase()}`;
  },
  /** Running tasks of a terminated execution, for workers to abort (body `TaskCancelNotice`). */
  taskCancelled(executionId: string): string {
    return `baton.events.task.cancelled.${assertSubjectToken(executionId, 'executionId')}`;
  },
  taskCancelledAll: 'baton.events.task.cancelled.>',
  /** An error policy escalated a failure (body `EscalationAlert`). */
  escalation: 'baton.alerts.escalation',
  alertsAll: 'baton.alerts.>',
  /** Dead letters of one durable consumer. */
  deadLetter(stream: string, durable: string): string {
    return `baton.dlq.${assertSubjectToken(stream, 'stream')}.${assertSubjectToken(durable, 'durable')}`;
  },
} as const;

/** Durable consumer name of the workers of one action: `task_inventory_reserve`. */
export function taskDurable(action: string): string {
  return `task_${actionToToken(action)}`;
}

/** Whether `subject` matches a NATS subject `pattern` (`*` one token, `>` the rest). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return p.length === s.length;
}

/** Checks a subject pattern: non-empty tokens, `>` only last, wildcards only as whole tokens. */
export function isValidSubjectPattern(pattern: string): boolean {
  if (pattern.length === 0 || pattern.length > 256) return false;
  const tokens = pattern.split('.');
  return tokens.every((t, i) => {
    if (t === '>') return i === tokens.length - 1;
    if (t === '*') return true;
    return /^[A-Za-z0-9_-]+$/.test(t);
  });
}
