/** Unit tests: `*.spec.ts` beside the code; fakes allowed, no servers. */
module.exports = {
  ...require('./jest.preset'),
  displayName: 'unit',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/scripts', '<rootDir>/examples', '<rootDir>/bench'],
  testMatch: ['**/*.spec.ts'],
};
