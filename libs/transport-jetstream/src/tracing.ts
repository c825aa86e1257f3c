import type { MsgHdrs } from '@nats-io/nats-core';
import { type Tracer, trace } from '@opentelemetry/api';

import { Headers } from '@baton/contracts';

import { headerValue } from './nats-headers';

/** Instrumentation scope of the spans made by this library. */
export const TRACER_NAME = '@baton/transport-jetstream';

/** Messaging semantic-convention attributes (and Baton's namespaced ones) set on spans. */
export const MessagingAttr = {
  SYSTEM: 'messaging.system',
  DESTINATION_NAME: 'messaging.destination.name',
  DESTINATION_TEMPLATE: 'messaging.destination.template',
  CONSUMER_GROUP_NAME: 'messaging.consumer.group.name',
  MESSAGE_ID: 'messaging.message.id',
  OPERATION_NAME: 'messaging.operation.name',
  OPERATION_TYPE: 'messaging.operation.type',
  BODY_SIZE: 'messaging.message.body.size',
  DELIVERY_COUNT: 'messaging.nats.message.delivery_count',
  STREAM_SEQUENCE: 'messaging.nats.message.stream_sequence',
  EXECUTION_ID: 'baton.execution_id',
  WORKFLOW_ID: 'baton.workflow_id',
  STEP_ID: 'baton.step_id',
  ATTEMPT: 'baton.attempt',
} as const;

/** The tracer used for producer and consumer spans (a no-op until an SDK is registered). */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/**
 * Default destination template of a subject, for span names that must not carry ids: the first three
 * tokens followed by `.*` (`baton.tasks.inventory.reserve` -> `baton.tasks.inventory.*`); subjects of
 * three tokens or fewer are kept as they are.
 */
export function defaultDestinationTemplate(subject: string): string {
  const tokens = subject.split('.');
  return tokens.length > 3 ? `${tokens.slice(0, 3).join('.')}.*` : subject;
}

const BATON_HEADER_ATTRIBUTES: readonly (readonly [string, string])[] = [
  [MessagingAttr.EXECUTION_ID, Headers.EXECUTION_ID],
  [MessagingAttr.WORKFLOW_ID, Headers.WORKFLOW_ID],
  [MessagingAttr.STEP_ID, Headers.STEP_ID],
];

/**
 * `baton.execution_id`, `baton.workflow_id`, `baton.step_id` and `baton.attempt` (a number) from the
 * `Baton-*` headers the orchestrator sets; absent headers give no attribute.
 */
export function batonAttributes(hdrs: MsgHdrs | undefined): Record<string, string | number> {
  const attrs: Record<string, string | number> = {};
  for (const [attr, header] of BATON_HEADER_ATTRIBUTES) {
    const value = headerValue(hdrs, header);
    if (value !== undefined) attrs[attr] = value;
  }
  const attempt = headerValue(hdrs, Headers.ATTEMPT);
  if (attempt !== undefined && /^\d+$/.test(attempt)) attrs[MessagingAttr.ATTEMPT] = Number(attempt);
  return attrs;
}
