import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import { Svcm } from '@nats-io/services';
import type { Endpoint, Service, ServiceMsg } from '@nats-io/services';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';

import {
  BatonError,
  ErrorCode,
  HTTP_STATUS_BY_CODE,
  isBatonError,
  parseJsonWithinLimits,
} from '@baton/contracts';
import type { IngressLimits } from '@baton/contracts';
import { extractTraceContext } from '@baton/telemetry';

import { BATON_SERVICE, INGRESS_LIMITS, NATS_CONNECTION, qualifiedName } from '../core/tokens';
import type { ServiceDescriptor } from '../core/tokens';

/** A request-reply handler: gets the decoded JSON request (undefined when empty), returns the JSON reply. */
export type EndpointHandler = (data: unknown, headers?: MsgHdrs) => Promise<unknown>;

/** Endpoint names: subject tokens of `[A-Za-z0-9_-]`, optionally dot-separated (`executions.list`). */
const ENDPOINT_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
const MAX_ENDPOINT_NAME_LENGTH = 128;

/** Whether `name` can name an endpoint (see {@link ServiceEndpoints.add}). */
export function isEndpointName(name: string): boolean {
  return name.length <= MAX_ENDPOINT_NAME_LENGTH && ENDPOINT_NAME.test(name);
}

/** `baton.api.<service>.<endpoint>`: the subject of one request-reply endpoint. */
export function apiSubject(service: string, endpoint: string): string {
  return `baton.api.${service}.${endpoint}`;
}

/** Counters reported in `$SRV.STATS` as each endpoint's `data` (the handlers are asynchronous). */
interface EndpointCounters {
  requests: number;
  errors: number;
  last_error?: string;
}

const encoder = new TextEncoder();
const TRACER_NAME = '@baton/service-kit';

/** A single-line header value (NATS headers cannot carry line breaks). */
function headerSafe(text: string): string {
  const line = text.replace(/[\r\n]+/g, ' ').trim();
  return line.length > 256 ? `${line.slice(0, 253)}...` : line;
}

/** The BatonError a thrown value stands for (unknown errors become a generic INTERNAL). */
function asBatonError(err: unknown): { error: BatonError; fault: boolean } {
  if (isBatonError(err))
    return {
      error: err,
      fault: (HTTP_STATUS_BY_CODE[err.code] ?? 500) >= 500 && err.code !== ErrorCode.UNAVAILABLE,
    };
  return { error: new BatonError(ErrorCode.INTERNAL, 'internal error'), fault: true };
}

/**
 * The service's NATS micro service `baton-<service>` (answers `$SRV.PING|INFO|STATS`) and its request-reply
 * endpoints `baton.api.<service>.<name>`, mirrors of the HTTP operations. Add endpoints during module
 * init (`onModuleInit`); the service registers once the application is initialised, and stops before the
 * NATS connection drains. A thrown BatonError is answered with `Nats-Service-Error` (its message) and
 * `Nats-Service-Error-Code` (its HTTP status) headers and the JSON error body `{ error: { code, ... } }`.
 */
@Injectable()
export class ServiceEndpoints implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ServiceEndpoints');
  private readonly handlers = new Map<string, EndpointHandler>();
  private readonly counters = new Map<string, EndpointCounters>();
  private service: Service | undefined;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(BATON_SERVICE) private readonly descriptor: ServiceDescriptor,
    @Inject(INGRESS_LIMITS) private readonly limits: IngressLimits,
  ) {}

  /**
   * Adds endpoint `name` on `baton.api.<service>.<name>`. `name` is one or more dot-separated tokens of
   * `[A-Za-z0-9_-]` (`workflows-list`, `executions.list`); `$SRV.INFO` lists it with dots as `-`.
   * Throws when the name is invalid or taken.
   */
  add(name: string, handler: EndpointHandler): void {
    if (!isEndpointName(name)) throw new Error(`invalid endpoint name ${JSON.stringify(name)}`);
    if (this.handlers.has(name)) throw new Error(`endpoint ${JSON.stringify(name)} is already registered`);
    this.handlers.set(name, handler);
    this.counters.set(name, { requests: 0, errors: 0 });
    if (this.service) this.register(this.service, name, handler);
  }

  /** The subject of endpoint `name` of this service. */
  subject(name: string): string {
    return apiSubject(this.descriptor.name, name);
  }

  /** The registered micro service (after application bootstrap). */
  get micro(): Service | undefined {
    return this.service;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.service) return;
    // @nats-io/services is typed against its own copy of nats-core; the connection is the same object.
    const svcm = new Svcm(this.nc as unknown as ConstructorParameters<typeof Svcm>[0]);
    const service = await svcm.add({
      name: qualifiedName(this.descriptor),
      version: this.descriptor.version,
      description: this.descriptor.description,
      statsHandler: (endpoint: Endpoint) => Promise.resolve(this.counters.get(this.nameOf(endpoint)) ?? null),
    });
    this.service = service;
    for (const [name, handler] of this.handlers) this.register(service, name, handler);
  }

  async beforeApplicationShutdown(): Promise<void> {
    const service = this.service;
    this.service = undefined;
    if (service && !service.isStopped) await service.stop();
  }

  private nameOf(endpoint: Endpoint): string {
    const prefix = `${this.subject('')}`;
    return endpoint.subject.startsWith(prefix) ? endpoint.subject.slice(prefix.length) : endpoint.subject;
  }

  private register(service: Service, name: string, handler: EndpointHandler): void {
    // Micro service endpoint names are single tokens; the subject keeps the dots.
    service.addEndpoint(name.replace(/\./g, '-'), {
      subject: this.subject(name),
      handler: (err, msg) => {
        if (err) {
          this.logger.error({ err, endpoint: name }, 'endpoint subscription failed');
          return;
        }
        void this.handle(name, handler, msg);
      },
    });
  }

  private async handle(name: string, handler: EndpointHandler, msg: ServiceMsg): Promise<void> {
    const counters = this.counters.get(name) ?? { requests: 0, errors: 0 };
    counters.requests++;
    const headers = msg.headers as MsgHdrs | undefined;
    const parent = extractTraceContext((key) => headers?.get(key), context.active());
    const span = trace.getTracer(TRACER_NAME).startSpan(
      `process ${this.subject(name)}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'messaging.system': 'nats', 'messaging.destination.name': msg.subject },
      },
      parent,
    );
    try {
      const request =
        msg.data.length === 0 ? undefined : parseJsonWithinLimits(msg.data, this.limits, 'request');
      const reply = await context.with(trace.setSpan(parent, span), () => handler(request, headers));
      msg.respond(encoder.encode(JSON.stringify(reply ?? null)));
    } catch (err) {
      const { error, fault } = asBatonError(err);
      counters.errors++;
      counters.last_error = `${error.code}: ${error.message}`;
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
      if (fault) this.logger.error({ err, endpoint: name }, `endpoint ${name} failed`);
      const status = HTTP_STATUS_BY_CODE[error.code] ?? 500;
      msg.respondError(status, headerSafe(error.message), encoder.encode(JSON.stringify(error.toBody())));
    } finally {
      span.end();
    }
  }
}
