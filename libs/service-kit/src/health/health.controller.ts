import { Controller, Get, HttpException } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { HealthCheckResult, HealthIndicatorResult } from '@nestjs/terminus';

import { BatonError, ErrorCode } from '@baton/contracts';

import { ReadinessRegistry } from './readiness.registry';

/** A readiness check that does not answer within this bound counts as failing. */
export const READINESS_CHECK_TIMEOUT_MS = 3_000;

/**
 * `GET /health/live` (the process serves HTTP) and `GET /health/ready` (every component of the
 * {@link ReadinessRegistry} is usable; else 503 `UNAVAILABLE` naming the failing components).
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: ReadinessRegistry,
  ) {}

  @Get('live')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOkResponse({ description: 'The process is alive.' })
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOkResponse({ description: 'Every component is ready.' })
  @ApiServiceUnavailableResponse({ description: 'A component is not ready; the error names it.' })
  async ready(): Promise<HealthCheckResult> {
    const checks = this.readiness.entries().map(
      ([name, check]) =>
        (): PromiseLike<HealthIndicatorResult> =>
          this.indicators
            .check(name)
            .attempt(() => check())
            .withTimeout(READINESS_CHECK_TIMEOUT_MS),
    );
    try {
      return await this.health.check(checks);
    } catch (err) {
      throw notReady(err);
    }
  }
}

/** Turns terminus' 503 (`{ status, error: { <name>: { status, message } } }`) into an UNAVAILABLE BatonError. */
function notReady(err: unknown): unknown {
  if (!(err instanceof HttpException)) return err;
  const body = err.getResponse() as Partial<HealthCheckResult>;
  const failing = Object.entries(body.error ?? {}).map(([name, result]) => ({
    name,
    message: typeof result?.['message'] === 'string' ? result['message'] : 'down',
  }));
  if (failing.length === 0) {
    return new BatonError(ErrorCode.UNAVAILABLE, `not ready: ${String(body.status ?? 'shutting down')}`);
  }
  return new BatonError(
    ErrorCode.UNAVAILABLE,
    `not ready: ${failing.map((f) => `${f.name} (${f.message})`).join(', ')}`,
    { details: failing.map((f) => ({ path: `/${f.name}`, message: f.message, rule: 'ready' })) },
  );
}
