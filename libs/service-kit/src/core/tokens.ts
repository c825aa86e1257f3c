import type { IngressLimits } from '@baton/contracts';

import type { ParsedConfig } from '../config/env.schema';

/** Names of Baton's services; each registers as `baton-<name>`. */
export const ServiceName = {
  ORCHESTRATOR: 'orchestrator',
  SCHEDULER: 'scheduler',
  RULE_ENGINE: 'rule-engine',
  STATE_STORE: 'state-store',
  TELEMETRY: 'telemetry',
} as const;
export type ServiceName = (typeof ServiceName)[keyof typeof ServiceName];

/** Who a service is: drives its NATS connection name, micro service name, logs and OpenAPI title. */
export interface ServiceDescriptor {
  /** `orchestrator | scheduler | rule-engine | state-store | telemetry` (any `[a-z0-9-]+` in tests). */
  name: string;
  /** Semver version, reported by `$SRV.INFO` and OpenAPI. */
  version: string;
  /** HTTP port when `PORT` is unset (CONTRACT §1). */
  defaultPort: number;
  /** One sentence, reported by `$SRV.INFO` and OpenAPI. */
  description: string;
}

/** `baton-<name>`: NATS connection name, micro service name, log `name`. */
export function qualifiedName(service: Pick<ServiceDescriptor, 'name'>): string {
  return `baton-${service.name}`;
}

/** The HTTP port: `PORT`, else the service's default. */
export function httpPort(
  config: Pick<ParsedConfig, 'PORT'>,
  service: Pick<ServiceDescriptor, 'defaultPort'>,
): number {
  return config.PORT ?? service.defaultPort;
}

/** Ingress limits from the configuration (`BATON_MAX_PAYLOAD_BYTES`, `BATON_MAX_JSON_DEPTH`). */
export function ingressLimits(config: ParsedConfig): IngressLimits {
  return { maxPayloadBytes: config.BATON_MAX_PAYLOAD_BYTES, maxJsonDepth: config.BATON_MAX_JSON_DEPTH };
}

/** Injection token of the parsed configuration (the object `loadConfig` returned). */
export const BATON_CONFIG = Symbol.for('baton.config');
/** Injection token of the {@link ServiceDescriptor}. */
export const BATON_SERVICE = Symbol.for('baton.service');
/** Injection token of the service's `NatsConnection` (from `@nats-io/transport-node`). */
export const NATS_CONNECTION = Symbol.for('baton.nats-connection');
/** Injection token of the service's {@link IngressLimits}. */
export const INGRESS_LIMITS = Symbol.for('baton.ingress-limits');
