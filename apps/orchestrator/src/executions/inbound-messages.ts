import { z } from 'zod';

import { BatonError, ErrorCode, MAX_ID_LENGTH, STEP_ID, SUBJECT_TOKEN, WORKFLOW_ID } from '@baton/contracts';
import type { ErrorDetail, StartExecutionCommand, TaskResult } from '@baton/contracts';

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
