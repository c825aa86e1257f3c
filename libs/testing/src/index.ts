export { getFreePort } from './free-port';
export { httpJson } from './http-json';
export { NATS_SERVER_BINARY, startNatsServer } from './nats-server';
export type { NatsServerHandle, NatsServerOptions } from './nats-server';
export { POSTGRES_BIN_DIR, startPostgresCluster } from './postgres-cluster';
export type { PostgresClusterHandle, PostgresClusterOptions } from './postgres-cluster';
export {
  buildServiceForTest,
  startServiceProcess,
  stopServiceProcesses,
  waitForServiceNotReady,
  waitForServiceReady,
} from './service-process';
export type {
  ServiceBuild,
  ServiceProcess,
  ServiceProcessOptions,
  ServiceReadiness,
  ServiceUnreadiness,
} from './service-process';
export { DEFAULT_ADMIN_URL, createTestDatabase } from './test-database';
export type { TestDatabase, TestDatabaseOptions } from './test-database';
export { waitFor } from './wait-for';
export type { WaitForOptions } from './wait-for';
