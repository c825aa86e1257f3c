import { Inject, Injectable, Module } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';

import { BatonError, ErrorCode, KvBuckets } from '@baton/contracts';
import { NATS_CONNECTION, ReadinessRegistry, ServiceEndpoints } from '@baton/service-kit';

import { PoliciesController, checkName } from './policies.controller';
import { PolicyRegistry } from './policy-registry';
import { parseErrorPolicy } from './policy.schema';

/** Injection token of the `baton_policies` KV bucket. */
export const POLICIES_KV = Symbol('POLICIES_KV');

/** Starts the policy watch before the application serves, registers readiness and the request-reply mirrors. */
@Injectable()
export class PoliciesLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(PolicyRegistry) private readonly registry: PolicyRegistry,
    @Inject(POLICIES_KV) kv: KV,
    @Inject(ReadinessRegistry) readiness: ReadinessRegistry,
    @Inject(ServiceEndpoints) endpoints: ServiceEndpoints,
  ) {
    readiness.add('policies', async () => {
      await kv.status();
    });
    endpoints.add('policies-register', async (data) => {
      const { outcome, policy } = await registry.put(parseErrorPolicy(data ?? {}));
      return { ...policy, outcome };
    });
    endpoints.add('policies-list', () => Promise.resolve({ items: registry.list() }));
    endpoints.add('policies-get', (data) => {
      const raw = (data as { name?: unknown } | null)?.name;
      const name = checkName(typeof raw === 'string' ? raw : '');
      const policy = registry.get(name);
      if (policy === undefined) {
        throw new BatonError(ErrorCode.NOT_FOUND, `policy ${name} not found`, { retryable: false });
      }
      return Promise.resolve(policy);
    });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.registry.start();
  }

  onApplicationShutdown(): void {
    this.registry.stop();
  }
}

/**
 * Error policies: `POST/GET /v1/policies`, `GET/DELETE /v1/policies/:name`, the `PolicyRegistry` (the
 * execution engine's `PolicyResolver`) on the `baton_policies` bucket. Needs the global BatonCoreModule.
 */
@Module({
  controllers: [PoliciesController],
  providers: [
    {
      provide: POLICIES_KV,
      inject: [NATS_CONNECTION],
      useFactory: (nc: NatsConnection) => new Kvm(nc).create(KvBuckets.POLICIES, { history: 5 }),
    },
    {
      provide: PolicyRegistry,
      inject: [POLICIES_KV],
      useFactory: (kv: KV) => new PolicyRegistry(kv),
    },
    PoliciesLifecycle,
  ],
  exports: [PolicyRegistry],
})
export class PoliciesModule {}
