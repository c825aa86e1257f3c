export { BatonError, ErrorCode, HTTP_STATUS_BY_CODE, isBatonError, validationError } from './errors';
export type { BatonErrorOptions, ErrorBody, ErrorDetail } from './errors';
export {
  ACTION,
  MAX_ACTION_LENGTH,
  MAX_ID_LENGTH,
  STEP_ID,
  SUBJECT_TOKEN,
  WORKFLOW_ID,
  actionToToken,
  assertSubjectToken,
  deterministicId,
  isAction,
  isSubjectToken,
  queueOf,
  randomId,
} from './ids';
export {
  DEFAULT_LIMITS,
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_MAX_STATE_BYTES,
  assertJsonDepth,
  jsonDepth,
  parseJsonWithinLimits,
} from './limits';
export type { IngressLimits } from './limits';
export { Headers } from './headers';
export {
  Durables,
  KvBuckets,
  Streams,
  Subjects,
  isValidSubjectPattern,
  subjectMatches,
  taskDurable,
} from './subjects';
export type { StreamName } from './subjects';
export {
  ExecutionStatus,
  FINISHED_STEP_STATUSES,
  StepStatus,
  TERMINAL_EXECUTION_STATUSES,
  isFinishedStepStatus,
  isTerminalExecutionStatus,
} from './states';
export { JoinMode, OnExhausted, RoutingStrategy, StepType } from './definition';
export type {
  Compensation,
  CronTrigger,
  ErrorPolicy,
  EventTrigger,
  RegisteredWorkflow,
  RetryPolicy,
  Routing,
  RoutingCandidate,
  RuleCondition,
  StepDefinition,
  Trigger,
  WorkflowDefinition,
} from './definition';
export { HistoryEventType, PROTOCOL_VERSION, TimerPurpose } from './messages';
export type {
  DeadLetterRecord,
  ErrorInfo,
  EscalationAlert,
  ExecutionFinishedEvent,
  ExecutionSignal,
  HistoryBatch,
  HistoryEvent,
  OrchestratorEventMatch,
  OrchestratorMessage,
  OrchestratorTimer,
  TaskCancelNotice,
  TaskHeartbeat,
  TimerCancelRequest,
  TimerSetRequest,
  StartExecutionCommand,
  StepSummary,
  TaskMessage,
  TaskResult,
} from './messages';
export {
  TIMER_SUBJECT_PATTERNS,
  WORKER_HEARTBEAT_INTERVAL_MS,
  WorkerSubjects,
  timerMsgId,
  DEFINITION_SCHEDULE_PREFIX,
  definitionScheduleId,
  scheduleCause,
  scheduleExecutionId,
} from './scheduler';
export type { ScheduleView, TimerView, WorkerAnnouncement, WorkerGoodbye } from './scheduler';
export { CrashPoints } from './crash-points';
