import { BatonError, ErrorCode, deterministicId, isBatonError } from '@baton/contracts';
import type { ErrorInfo, EventTrigger, WorkflowDefinition } from '@baton/contracts';
import { isExpression } from '@baton/workflow';

import type { TemplateEvaluator } from './execution-engine';

export interface TriggeredStart {
  workflow: WorkflowDefinition;
  executionId: string;
  input: unknown;
  /** Set when the trigger's input or key could not be computed: the execution starts FAILED with it. */
  error?: ErrorInfo;
}

export interface InboundEvent {
  subject: string;
  payload: unknown;
  /** `Nats-Msg-Id` of the event, when the publisher set one. */
  msgId?: string;
  streamSequence: number;
}

/**
 * Turns an event and one matching trigger into the start of an execution. The execution id is derived from
 * the trigger's `key` (at most one execution per key) or from the event's identity (`Nats-Msg-Id`, else its
 * stream sequence), so a redelivered or re-published event starts nothing new.
 */
export async function startFromTrigger(
  evaluator: TemplateEvaluator,
  workflow: WorkflowDefinition,
  trigger: EventTrigger,
  triggerIndex: number,
  event: InboundEvent,
): Promise<TriggeredStart> {
  const bindings = { event: event.payload };
  const eventIdentity = event.msgId !== undefined ? `msg:${event.msgId}` : `seq:${event.streamSequence}`;
  const fallbackId = deterministicId(workflow.id, 'event', triggerIndex, eventIdentity);
  let input: unknown = event.payload;
  try {
    if (trigger.input !== undefined) {
      input = await evaluator.evaluateTemplate(trigger.input, bindings, `trigger ${triggerIndex} input`);
    }
  } catch (err) {
    return { workflow, executionId: fallbackId, input: null, error: errorOf(err) };
  }
  if (trigger.key === undefined) return { workflow, executionId: fallbackId, input };
  try {
    const key = isExpression(trigger.key)
      ? await evaluator.evaluateTemplate(trigger.key, bindings, `trigger ${triggerIndex} key`)
      : trigger.key;
    if (key === undefined || key === null || key === '') {
      throw new BatonError(ErrorCode.EXPRESSION_FAILED, `trigger ${triggerIndex} key evaluated to nothing`, {
        retryable: false,
      });
    }
    const text = typeof key === 'string' ? key : JSON.stringify(key);
    return { workflow, executionId: deterministicId(workflow.id, 'key', text), input };
  } catch (err) {
    return { workflow, executionId: fallbackId, input, error: errorOf(err) };
  }
}

function errorOf(err: unknown): ErrorInfo {
  if (isBatonError(err)) return { type: err.code, message: err.message, nonRetryable: true };
  return {
    type: ErrorCode.EXPRESSION_FAILED,
    message: err instanceof Error ? err.message : String(err),
    nonRetryable: true,
  };
}
