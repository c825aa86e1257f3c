/** Integration tests: real NATS and PostgreSQL; each run makes its own server/database and cleans up. */
module.exports = {
  ...require('./jest.preset'),
  displayName: 'integration',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/examples'],
  testMatch: ['**/*.integration-spec.ts'],
  testTimeout: 120000,
  maxWorkers: 2,
};
