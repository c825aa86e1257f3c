import type { NatsConnection } from '@nats-io/nats-core';

import { BatonError, ErrorCode, Streams, Subjects, taskDurable } from '@baton/contracts';

/** JetStream API error codes the binder tells apart. */
const ApiErrorCode = {
  CONSUMER_NOT_FOUND: 10014,
  STREAM_NOT_FOUND: 10059,
  JETSTREAM_NOT_ENABLED_FOR_ACCOUNT: 10039,
  JETSTREAM_TEMPORARILY_UNAVAILABLE: 10008,
} as const;

const RETRYABLE_API_ERRORS: ReadonlySet<number> = new Set([
  ApiErrorCode.STREAM_NOT_FOUND,
  ApiErrorCode.JETSTREAM_NOT_ENABLED_FOR_ACCOUNT,
  ApiErrorCode.JETSTREAM_TEMPORARILY_UNAVAILABLE,
]);

/** The consumer a worker uses for an action, as bound. */
export interface ConsumerBinding {
  durable: string;
  /** Ack wait of the consumer as it exists on the server. */
  ackWaitMs: number;
  /** Whether this call created it. */
  created: boolean;
}

/**
 * Configuration of the durable pull consumer of an action's workers (CONTRACT §5, docs/workers.md):
 * explicit ack, unlimited deliveries (the orchestrator owns retries), one filter subject.
 */
export function taskConsumerConfig(action: string, ackWaitMs: number): Record<string, unknown> {
  return {
    durable_name: taskDurable(action),
    filter_subject: Subjects.task(action),
    deliver_policy: 'all',
    ack_policy: 'explicit',
    ack_wait: ackWaitMs * 1_000_000,
    max_deliver: -1,
    replay_policy: 'instant',
  };
}

/**
 * Binds the durable consumer of `action` on `BATON_TASKS`, creating it when missing
 * (`$JS.API.CONSUMER.INFO` then `$JS.API.CONSUMER.DURABLE.CREATE`). Safe when several workers start at
 * once: identical creates are idempotent. An existing consumer is never changed (nats-server 2.9 would
 * silently update it); its ack wait is returned. Throws a BatonError: `retryable` when waiting may help
 * (no stream yet, JetStream unavailable, a timeout), CONFLICT when the consumer exists with a shape
 * workers cannot use.
 */
export async function bindTaskConsumer(
  nc: NatsConnection,
  action: string,
  ackWaitMs: number,
  timeoutMs = 5_000,
): Promise<ConsumerBinding> {
  const durable = taskDurable(action);
  const infoSubject = `$JS.API.CONSUMER.INFO.${Streams.TASKS}.${durable}`;
  let created = false;
  let info: ConsumerInfoResponse;
  try {
    info = await jsRequest(nc, infoSubject, undefined, timeoutMs);
  } catch (err) {
    if (apiErrorCode(err) !== ApiErrorCode.CONSUMER_NOT_FOUND) throw err;
    try {
      info = await jsRequest(
        nc,
        `$JS.API.CONSUMER.DURABLE.CREATE.${Streams.TASKS}.${durable}`,
        { stream_name: Streams.TASKS, config: taskConsumerConfig(action, ackWaitMs) },
        timeoutMs,
      );
      created = true;
    } catch (createErr) {
      // Another worker may have created it meanwhile and the server refused to change it: bind to it.
      if (
        apiErrorCode(createErr) === undefined ||
        RETRYABLE_API_ERRORS.has(apiErrorCode(createErr) as number)
      ) {
        throw createErr;
      }
      info = await jsRequest(nc, infoSubject, undefined, timeoutMs);
    }
  }
  const config = info.config ?? {};
  const problems: string[] = [];
  if (typeof config.deliver_subject === 'string' && config.deliver_subject.length > 0)
    problems.push('it is a push consumer');
  if (config.ack_policy !== 'explicit')
    problems.push(`its ack policy is ${String(config.ack_policy)}, not explicit`);
  if (config.filter_subject !== Subjects.task(action)) {
    problems.push(
      `its filter is ${JSON.stringify(config.filter_subject)}, not ${JSON.stringify(Subjects.task(action))}`,
    );
  }
  if (problems.length > 0) {
    throw new BatonError(
      ErrorCode.CONFLICT,
      `consumer ${durable} on ${Streams.TASKS} cannot serve workers: ${problems.join('; ')}`,
      { retryable: false, context: { durable } },
    );
  }
  const ackWaitNs =
    typeof config.ack_wait === 'number' && config.ack_wait > 0 ? config.ack_wait : 30_000_000_000;
  return { durable, ackWaitMs: Math.round(ackWaitNs / 1_000_000), created };
}

interface ConsumerInfoResponse {
  config?: {
    deliver_subject?: unknown;
    ack_policy?: unknown;
    filter_subject?: unknown;
    ack_wait?: unknown;
  } & Record<string, unknown>;
  error?: { code?: number; err_code?: number; description?: string };
}

/** The JetStream API error code carried by an error from {@link bindTaskConsumer}, if any. */
export function apiErrorCode(err: unknown): number | undefined {
  const context = (err as { context?: { apiErrorCode?: unknown } } | undefined)?.context;
  return typeof context?.apiErrorCode === 'number' ? context.apiErrorCode : undefined;
}

async function jsRequest(
  nc: NatsConnection,
  subject: string,
  body: unknown,
  timeoutMs: number,
): Promise<ConsumerInfoResponse> {
  let reply: ConsumerInfoResponse;
  try {
    const msg = await nc.request(subject, body === undefined ? '' : JSON.stringify(body), {
      timeout: timeoutMs,
    });
    reply = JSON.parse(msg.string()) as ConsumerInfoResponse;
  } catch (err) {
    throw new BatonError(
      ErrorCode.UNAVAILABLE,
      `JetStream request ${subject} failed: ${(err as Error).message}`,
      {
        retryable: true,
        cause: err,
      },
    );
  }
  if (reply.error !== undefined) {
    const code = reply.error.err_code ?? 0;
    const retryable = RETRYABLE_API_ERRORS.has(code) || reply.error.code === 503;
    const description =
      code === ApiErrorCode.STREAM_NOT_FOUND
        ? `stream ${Streams.TASKS} not found (the Baton services create it when they start)`
        : (reply.error.description ?? 'unknown error');
    throw new BatonError(
      code === ApiErrorCode.CONSUMER_NOT_FOUND
        ? ErrorCode.NOT_FOUND
        : retryable
          ? ErrorCode.UNAVAILABLE
          : ErrorCode.CONFLICT,
      `${subject}: ${description}`,
      { retryable, context: { apiErrorCode: code, status: reply.error.code } },
    );
  }
  return reply;
}
