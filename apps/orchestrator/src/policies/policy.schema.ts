import { z } from 'zod';

import { MAX_ID_LENGTH, OnExhausted, SUBJECT_TOKEN } from '@baton/contracts';
import type { ErrorPolicy } from '@baton/contracts';

import { parseWith } from '../executions/inbound-messages';

/** An error type a policy matches: a worker's error name or a Baton code; `*` matches any. */
const errorType = z.string().min(1).max(256);

/** Same bounds as a step's `retryPolicy` in the definition schema (@baton/workflow). */
export const retryPolicySchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(100).optional(),
    initialIntervalMs: z.number().min(0).optional(),
    backoffCoefficient: z.number().min(1).optional(),
    maxIntervalMs: z.number().min(0).optional(),
    jitter: z.boolean().optional(),
    nonRetryableErrors: z.array(z.string().min(1).max(256)).max(100).optional(),
  })
  .strict();

/** Body of `POST /v1/policies`. */
export const errorPolicySchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(MAX_ID_LENGTH)
      .regex(SUBJECT_TOKEN, `must be 1-${MAX_ID_LENGTH} characters of [A-Za-z0-9_-]`),
    errorTypes: z.array(errorType).max(100),
    retryPolicy: retryPolicySchema.optional(),
    onExhausted: z.enum([
      OnExhausted.FAIL,
      OnExhausted.COMPENSATE,
      OnExhausted.CONTINUE,
      OnExhausted.ESCALATE,
    ]),
    description: z.string().max(1024).optional(),
  })
  .strict();

/** Validates an error policy; VALIDATION_FAILED (422) naming each bad path (`/retryPolicy/maxAttempts`). */
export function parseErrorPolicy(body: unknown): ErrorPolicy {
  return parseWith<ErrorPolicy>(errorPolicySchema, body, 'error policy is invalid');
}
