import { Module } from '@nestjs/common';

import { BATON_CONFIG, MetricsService } from '@baton/service-kit';

import { CircuitBreaker } from './circuit-breaker';
import { circuitConfigFrom } from './circuit.config';
import { CircuitsController } from './circuits.controller';

/**
 * Circuit breaking per action: the `CircuitBreaker` (the execution engine's `CircuitGate`), configured from
 * `BATON_CIRCUIT_*` (see {@link circuitEnvShape}) with its gauge and counter in the service's metrics
 * registry, and `GET /v1/circuits[/:action]`. Needs the global BatonCoreModule.
 */
@Module({
  controllers: [CircuitsController],
  providers: [
    {
      provide: CircuitBreaker,
      inject: [BATON_CONFIG, MetricsService],
      useFactory: (config: unknown, metrics: MetricsService) => {
        const c = circuitConfigFrom(config);
        return new CircuitBreaker({
          threshold: c.BATON_CIRCUIT_THRESHOLD,
          coolOffMs: c.BATON_CIRCUIT_COOL_OFF_MS,
          holdMs: c.BATON_CIRCUIT_HOLD_MS,
          probeTimeoutMs: c.BATON_CIRCUIT_PROBE_TIMEOUT_MS,
          registry: metrics.registry,
        });
      },
    },
  ],
  exports: [CircuitBreaker],
})
export class CircuitsModule {}
