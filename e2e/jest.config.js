/** End-to-end tests: all five services and workers as separate processes against real NATS and PostgreSQL. */
const preset = require('../jest.preset');

module.exports = {
  ...preset,
  rootDir: '..',
  displayName: 'e2e',
  roots: ['<rootDir>/e2e'],
  testMatch: ['**/*.e2e-spec.ts'],
  globalSetup: '<rootDir>/e2e/support/global-setup.js',
  testTimeout: 300000,
  maxWorkers: 1,
};
