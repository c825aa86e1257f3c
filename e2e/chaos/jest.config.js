/**
 * The chaos suite (`npm run test:chaos`): its own pattern, so the e2e config (`*.e2e-spec.ts`) does not run
 * it. Services run compiled from dist/ (the npm script builds first). Size: CHAOS_EXECUTIONS (default 500),
 * CHAOS_OUTAGE_MS (default 30000).
 */
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  rootDir: '../..',
  displayName: 'chaos',
  roots: ['<rootDir>/e2e/chaos'],
  testMatch: ['**/*.chaos-spec.ts'],
  testTimeout: 3_600_000,
  maxWorkers: 1,
};
