import { z } from 'zod';

import { BatonError, ErrorCode, MAX_ID_LENGTH, STEP_ID, SUBJECT_TOKEN, WORKFLOW_ID } from '@baton/contracts';
import { TimerPurpose } from '@baton/contracts';
import type {
  ErrorDetail,
  ExecutionSignal,
  OrchestratorEventMatch,
  OrchestratorTimer,
  StartExecutionCommand,
  TaskHeartbeat,
  TaskResult,
} from '@baton/contracts';

/** An id used as a subject token. */
export const idTokenSchema = z
  .string()
  .min(1)
  .max(MAX_ID_LENGTH)
  .regex(SUBJECT_TOKEN, `must be 1-${MAX_ID_LENGTH} characters of [A-Za-z0-9_-]`);
const token = idTokenSchema;

/** An error reported for a task (by a worker, or over HTTP). */
export const errorInfoSchema = z.object({
  type: z.string().min(1).max(200),
  message: z.string().max(10_000),
  nonRetryable: z.boolean().optional(),
  details: z.unknown().optional(),
});

const taskResultSchema = z.object({
  protocol: z.number().int().positive(),
  taskId: z.string().min(1).max(512),
  executionId: token,
  stepId: z.string().min(1).max(MAX_ID_LENGTH).regex(STEP_ID),
  itemIndex: z.number().int().nonnegative().optional(),
  attempt: z.number().int().positive(),
  status: z.enum(['completed', 'failed']),
  output: z.unknown().optional(),
  error: errorInfoSchema.optional(),
  workerId: z.string().max(256).optional(),
  startedAt: z.string().max(64).optional(),
  finishedAt: z.string().max(64).optional(),
});

const startSchema = z.object({
  protocol: z.number().int().positive(),
  kind: z.literal('start'),
  executionId: token,
  workflowId: z.string().min(1).max(MAX_ID_LENGTH).regex(WORKFLOW_ID),
  version: z.number().int().positive().optional(),
  input: z.unknown(),
  cause: z.string().min(1).max(512),
  requestedAt: z.string().max(64),
});

const stepIdSchema = z.string().min(1).max(MAX_ID_LENGTH).regex(STEP_ID);

const timerSchema = z.object({
  protocol: z.number().int().positive(),
  kind: z.literal('timer'),
  timerId: z.string().min(1).max(128),
  executionId: token,
  stepId: stepIdSchema,
  attempt: z.number().int().nonnegative(),
  purpose: z.enum(Object.values(TimerPurpose) as [string, ...string[]]),
});

const heartbeatSchema = z.object({
  protocol: z.number().int().positive(),
  kind: z.literal('heartbeat'),
  taskId: z.string().min(1).max(512),
  executionId: token,
  stepId: stepIdSchema,
  attempt: z.number().int().positive(),
  at: z.string().max(64),
  details: z.unknown().optional(),
});

/** A signal's name: one subject-safe token. */
export const signalNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.-]+$/, 'must be 1-128 characters of [A-Za-z0-9_.-]');

const signalSchema = z.object({
  executionId: token,
  name: signalNameSchema,
  signalId: z.string().min(1).max(256),
  payload: z.unknown().optional(),
  sentAt: z.string().max(64),
});

const eventMatchSchema = z.object({
  protocol: z.number().int().positive(),
  kind: z.literal('event'),
  executionId: token,
  stepId: stepIdSchema,
  attempt: z.number().int().positive(),
  subject: z.string().min(1).max(1024),
  eventSeq: z.number().int().nonnegative(),
  event: z.unknown(),
});

/** Validates a message of `baton.orch.<kind>.<executionId>` and checks the subject's execution id. */
function forExecution<T extends { executionId: string }>(
  schema: z.ZodType<T>,
  data: unknown,
  label: string,
  subjectExecutionId: string,
): T {
  const value = parseWith<T>(schema, data, label);
  if (value.executionId !== subjectExecutionId) {
    throw invalid(label, [
      { path: '/executionId', message: `does not match the subject's execution id ${subjectExecutionId}` },
    ]);
  }
  return value;
}

export function parseTimer(data: unknown, subjectExecutionId: string): OrchestratorTimer {
  return forExecution(
    timerSchema as z.ZodType<OrchestratorTimer>,
    data,
    'malformed timer',
    subjectExecutionId,
  );
}

export function parseHeartbeat(data: unknown, subjectExecutionId: string): TaskHeartbeat {
  return forExecution(
    heartbeatSchema as z.ZodType<TaskHeartbeat>,
    data,
    'malformed heartbeat',
    subjectExecutionId,
  );
}

export function parseSignal(data: unknown, subjectExecutionId: string): ExecutionSignal {
  return forExecution(
    signalSchema as z.ZodType<ExecutionSignal>,
    data,
    'malformed signal',
    subjectExecutionId,
  );
}

export function parseEventMatch(data: unknown, subjectExecutionId: string): OrchestratorEventMatch {
  return forExecution(
    eventMatchSchema as z.ZodType<OrchestratorEventMatch>,
    data,
    'malformed event match',
    subjectExecutionId,
  );
}

/** Validates a task result taken from `baton.orch.result.<executionId>`; non-retryable error if malformed. */
export function parseTaskResult(data: unknown, subjectExecutionId: string): TaskResult {
  const result = parseWith<TaskResult>(taskResultSchema, data, 'malformed task result');
  if (result.executionId !== subjectExecutionId) {
    throw invalid('malformed task result', [
      { path: '/executionId', message: `does not match the subject's execution id ${subjectExecutionId}` },
    ]);
  }
  return result;
}

/** Validates a start command taken from `baton.orch.start.<workflowId>`. */
export function parseStartCommand(data: unknown, subjectWorkflowId: string): StartExecutionCommand {
  const command = parseWith<StartExecutionCommand>(startSchema, data, 'malformed start command');
  if (command.workflowId !== subjectWorkflowId) {
    throw invalid('malformed start command', [
      { path: '/workflowId', message: `does not match the subject's workflow id ${subjectWorkflowId}` },
    ]);
  }
  return command;
}

/** Parses `data` with `schema`, or throws VALIDATION_FAILED (not retryable) listing every issue with its path. */
export function parseWith<T>(schema: z.ZodType<T>, data: unknown, label: string): T {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  throw invalid(
    label,
    parsed.error.issues.map((issue) => ({
      path: `/${issue.path.map(String).join('/')}`,
      message: issue.message,
      rule: issue.code,
    })),
  );
}

function invalid(label: string, details: ErrorDetail[]): BatonError {
  return new BatonError(
    ErrorCode.VALIDATION_FAILED,
    `${label}: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
    {
      details,
      retryable: false,
    },
  );
}
