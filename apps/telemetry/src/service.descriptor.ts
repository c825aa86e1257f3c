import type { ServiceDescriptor } from '@baton/service-kit';

/**
 * Who this service is (CONTRACT §1: port 8085). Plain data on purpose: `instrumentation.ts` imports it
 * before anything else is loaded.
 */
export const TELEMETRY_SERVICE: ServiceDescriptor = {
  name: 'telemetry',
  version: '0.1.0',
  defaultPort: 8085,
  description: 'Workflow and step analytics from execution history, and the health of every service instance',
};
