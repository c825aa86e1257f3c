import type { ServiceDescriptor } from '@baton/service-kit';

/**
 * Who this service is (CONTRACT §1: port 8082). Plain data on purpose: `instrumentation.ts` imports it
 * before anything else is loaded.
 */
export const SCHEDULER_SERVICE: ServiceDescriptor = {
  name: 'scheduler',
  version: '0.1.0',
  defaultPort: 8082,
  description: 'Starts workflows on cron schedules and fires timers',
};
