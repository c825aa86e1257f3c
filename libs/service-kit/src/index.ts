export {
  ConfigError,
  describeValue,
  isConfigError,
  loadConfig,
  redactUrlPassword,
} from './config/config.loader';
export type { ConfigIssue } from './config/config.loader';
export {
  DEFAULT_DATABASE_URL,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_NATS_URL,
  LOG_LEVELS,
  commonEnvSchema,
  databaseEnvSchema,
  databaseServiceEnvSchema,
} from './config/env.schema';
export type {
  CommonConfig,
  DatabaseConfig,
  DatabaseServiceConfig,
  LogLevel,
  ParsedConfig,
} from './config/env.schema';
export { BatonCoreModule } from './core/baton-core.module';
export type { BatonCoreOptions } from './core/baton-core.module';
export {
  BATON_TELEMETRY,
  BATON_TOPOLOGY,
  ServiceLifecycle,
  connectServiceNats,
  ensureTopology,
} from './core/service.lifecycle';
export type { FlushOnShutdown, Topology } from './core/service.lifecycle';
export {
  BATON_CONFIG,
  BATON_SERVICE,
  INGRESS_LIMITS,
  NATS_CONNECTION,
  ServiceName,
  httpPort,
  ingressLimits,
  qualifiedName,
} from './core/tokens';
export type { ServiceDescriptor } from './core/tokens';
export { HealthController, READINESS_CHECK_TIMEOUT_MS } from './health/health.controller';
export { ReadinessRegistry } from './health/readiness.registry';
export type { ReadinessCheck } from './health/readiness.registry';
export { BatonExceptionFilter } from './http/baton-exception.filter';
export { bodyParserErrorToBatonError, toErrorResponse } from './http/error-response';
export type { ErrorResponse } from './http/error-response';
export {
  JSON_MEDIA_TYPES,
  YAML_MEDIA_TYPES,
  apiTokenGuard,
  installHttpPipeline,
  isAuthorized,
  parseYamlBody,
} from './http/http-pipeline';
export type { HttpPipelineOptions } from './http/http-pipeline';
export { loggerOptions } from './http/logger.options';
export { METRIC_PREFIX, MetricsService } from './metrics/metrics.service';
export { MetricsController } from './metrics/metrics.controller';
export { ServiceEndpoints, apiSubject, isEndpointName } from './micro/service-endpoints';
export type { EndpointHandler } from './micro/service-endpoints';
export {
  PostgresReadiness,
  postgresReadiness,
  postgresReadinessProvider,
} from './database/postgres.readiness';
export { bootstrapService, buildOpenApiDocument } from './bootstrap/bootstrap-service';
export type { BootstrapOptions } from './bootstrap/bootstrap-service';
export { runService } from './bootstrap/run-service';
export type { RunServiceOptions } from './bootstrap/run-service';
