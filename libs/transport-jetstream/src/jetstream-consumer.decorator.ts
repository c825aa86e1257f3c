import {
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  UseInterceptors,
  applyDecorators,
} from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { PARAM_ARGS_METADATA } from '@nestjs/microservices/constants';
import { type Observable, catchError, throwError } from 'rxjs';

import { type ConsumerOptions, resolveConsumerOptions } from './consumer-options';
import { isJetStreamContext, recordHandlerError } from './jetstream.context';

/** Transport id of {@link JetStreamServer}: `@JetStreamConsumer` handlers bind to it only. */
export const JETSTREAM_TRANSPORT: unique symbol = Symbol.for('baton.transport.jetstream') as never;

/** Key of the consumer options in the handler's pattern extras. */
export const JETSTREAM_EXTRAS_KEY = 'jetstream';

/** The Nest pattern of a consumer: `<stream>:<durable>` (durables are unique per stream). */
export function consumerPattern(opts: Pick<ConsumerOptions, 'stream' | 'durable'>): string {
  return `${opts.stream}:${opts.durable}`;
}

/**
 * Hands the handler's own error to the transport before Nest's RPC exception layer replaces it with a
 * generic `{ status: 'error', message }`; the error still travels on to exception filters unchanged.
 * @internal
 */
export class HandlerErrorCaptureInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const ctx: unknown = context.getArgByIndex(1);
    return next.handle().pipe(
      catchError((err: unknown) => {
        if (isJetStreamContext(ctx)) recordHandlerError(ctx, err);
        return throwError(() => err);
      }),
    );
  }
}

/**
 * Declares a method as the handler of a JetStream durable pull consumer served by `JetStreamServer`.
 * The handler gets `(data, ctx: JetStreamContext)` (or what its own `@Payload()`/`@Ctx()` parameter
 * decorators ask for); it resolves once its effect is durable (then the message is acked) or throws:
 * `retryable === false` -> dead letter; otherwise redelivery with backoff, dead letter from the
 * `maxDeliver`-th delivery on. One handler per stream and durable.
 */
export function JetStreamConsumer(opts: ConsumerOptions): MethodDecorator {
  // Fails at class definition on bad names, subjects or numbers.
  resolveConsumerOptions(opts);
  const decorate = applyDecorators(
    EventPattern<string>(consumerPattern(opts), JETSTREAM_TRANSPORT, { [JETSTREAM_EXTRAS_KEY]: { ...opts } }),
    UseInterceptors(new HandlerErrorCaptureInterceptor()),
  ) as MethodDecorator;
  return (target, key, descriptor) => {
    // Nest passes only the payload to an RPC handler without parameter decorators: declare the
    // (data, ctx) signature unless the method declares its own parameters.
    if (Reflect.getMetadata(PARAM_ARGS_METADATA, target.constructor, key) === undefined) {
      Payload()(target, key, 0);
      Ctx()(target, key, 1);
    }
    return decorate(target, key, descriptor);
  };
}
