import { type Tracer, trace } from '@opentelemetry/api';

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
