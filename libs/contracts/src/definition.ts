/** Workflow definitions (CONTRACT §3). Validated by `@baton/workflow`'s `validateDefinition`. */

export const StepType = {
  TASK: 'task',
  DECISION: 'decision',
  PARALLEL: 'parallel',
  WAIT: 'wait',
  SUBWORKFLOW: 'subworkflow',
  EMIT: 'emit',
} as const;
export type StepType = (typeof StepType)[keyof typeof StepType];

export const JoinMode = { ALL: 'all', ANY: 'any' } as const;
export type JoinMode = (typeof JoinMode)[keyof typeof JoinMode];

export const OnExhausted = {
  FAIL: 'fail',
  COMPENSATE: 'compensate',
  CONTINUE: 'continue',
  ESCALATE: 'escalate',
} as const;
export type OnExhausted = (typeof OnExhausted)[keyof typeof OnExhausted];

/** json-rules-engine condition (kept opaque here; the rule-engine validates it). */
export type RuleCondition = Record<string, unknown>;

export interface RetryPolicy {
  maxAttempts?: number;
  initialIntervalMs?: number;
  backoffCoefficient?: number;
  maxIntervalMs?: number;
  jitter?: boolean;
  nonRetryableErrors?: string[];
}

/**
 * A named error policy (CONTRACT §3.3), registered at the orchestrator (`POST /v1/policies`) and named by
 * definitions (`policies: [..]`) or steps (`policy`). A step's failure whose error type is in `errorTypes`
 * (or any type, when `errorTypes` is empty or holds `*`) is retried per `retryPolicy`; when the retries are
 * exhausted, `onExhausted` decides what happens to the execution.
 */
export interface ErrorPolicy {
  name: string;
  errorTypes: string[];
  retryPolicy?: RetryPolicy;
  onExhausted: OnExhausted;
  description?: string;
}

export interface EventTrigger {
  type: 'event';
  /** Subject pattern under `events.>` (wildcards allowed). */
  subject: string;
  condition?: RuleCondition;
  /** JSONata (`{% %}`) or a literal; default: the event itself. */
  input?: unknown;
  /** JSONata giving a dedupe key: at most one execution per key. */
  key?: string;
}

export interface CronTrigger {
  type: 'cron';
  expression: string;
  timezone?: string;
  input?: unknown;
  overlap?: 'skip' | 'allow';
}

export type Trigger = EventTrigger | CronTrigger;

export interface Compensation {
  action: string;
  parameters?: Record<string, unknown>;
}

export const RoutingStrategy = {
  ROUND_ROBIN: 'round-robin',
  WEIGHTED: 'weighted',
  FAILOVER: 'failover',
  BEST_SCORE: 'best-score',
} as const;
export type RoutingStrategy = (typeof RoutingStrategy)[keyof typeof RoutingStrategy];

export interface RoutingCandidate {
  action: string;
  /** weighted: relative share (default 1). */
  weight?: number;
  /** Charged to the execution's budget when a step completes on this candidate (default 0). */
  cost?: number;
  /** best-score: the value of using this candidate (default 1). */
  benefit?: number;
}

/** Dynamic routing of a task step over several actions (providers). */
export interface Routing {
  strategy: RoutingStrategy;
  candidates: RoutingCandidate[];
}

export interface StepDefinition {
  id: string;
  type: StepType;
  name?: string;
  /** task/parallel: the action; decision: rule category; subworkflow: workflow id. */
  action?: string;
  parameters?: Record<string, unknown>;
  dependencies?: string[];
  join?: JoinMode;
  retryPolicy?: RetryPolicy;
  timeoutSeconds?: number;
  compensation?: Compensation;
  /** decision only: outcome -> steps that run on that branch. */
  branches?: Record<string, string[]>;
  /** Name of an error policy (CONTRACT §3.3). */
  policy?: string;
  /** task only: choose the action among candidates (then `action` may be omitted). */
  routing?: Routing;
}

export interface WorkflowDefinition {
  id: string;
  name?: string;
  description?: string;
  version: number;
  triggers?: Trigger[];
  policies?: string[];
  output?: unknown;
  steps: StepDefinition[];
  queries?: Record<string, string>;
  budget?: { limit: number };
  rules?: 'pinned' | 'latest';
}

/** A registered definition as stored and returned by the API. */
export interface RegisteredWorkflow {
  definition: WorkflowDefinition;
  registeredAt: string;
  /** sha256 of the canonical JSON of `definition`. */
  digest: string;
  deleted?: boolean;
}
