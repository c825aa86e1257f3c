export { connectNats } from './connection';
export type { ConnectNatsOptions } from './connection';
export {
  BATON_STREAMS,
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_MAX_ACK_PENDING,
  checkTopology,
  ensureConsumer,
  ensureStreams,
} from './topology';
export type { ConsumerSpec, StreamSpec, TopologyCheck, TopologyRequirement } from './topology';
export { JetStreamPublisher } from './jetstream.publisher';
export type { JetStreamPublisherOptions, PublishOptions, PublishResult } from './jetstream.publisher';
export { DEFAULT_CONCURRENCY, DEFAULT_MAX_DELIVER, defaultBackoffMs } from './consumer-options';
export type { ConsumerOptions } from './consumer-options';
export { JETSTREAM_TRANSPORT, JetStreamConsumer, consumerPattern } from './jetstream-consumer.decorator';
export { JetStreamContext, isJetStreamContext } from './jetstream.context';
export { JetStreamServer, JetStreamServerStatus } from './jetstream.server';
export type { ConsumerOverride, JetStreamServerEvents, JetStreamServerOptions } from './jetstream.server';
export { Outcome, TERM_REASON_MIN_VERSION } from './message-processor';
export type { MessageOutcome, TransportLogger } from './message-processor';
export { buildDeadLetter } from './dead-letter';
export type { DeadLetter, Failure } from './dead-letter';
export { REDRIVE_OF_HEADER, buildRedrive } from './dead-letter-redrive';
export type { Redrive } from './dead-letter-redrive';
export { TRACER_NAME, defaultDestinationTemplate } from './tracing';
