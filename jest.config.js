/**
 * Four projects: fast tests with no server, infrastructure tests, tests of the packed package, and tests
 * against DynamoDB Local (started and stopped by the project's global setup on
 * 127.0.0.1): the handlers' DynamoDB suites and the resilience suites, which
 * also drive the handlers through the real AWS SDK to a local AWS endpoint, and
 * the operator CLI's suites (test/cli/), which run its commands the same way.
 * Type checking is done by `tsc` in `npm test`, so ts-jest only transpiles.
 * The infra project's global setup bundles the handlers into assets/handlers/
 * when they are missing (see test/support/handler-assets-setup.ts).
 */
const transform = { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] };
const common = {
  testEnvironment: 'node',
  transform,
  setupFiles: ['<rootDir>/test/support/test-env.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'infra',
      testMatch: ['<rootDir>/test/infra/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/handler-assets-setup.ts',
    },
    // The package as users get it: the packed tarball in a host app, the jsii bindings. Needs `npm run build`.
    { ...common, displayName: 'package', testMatch: ['<rootDir>/test/package/**/*.test.ts'] },
    {
      ...common,
      displayName: 'dynamodb',
      testMatch: [
        '<rootDir>/test/dynamodb/**/*.test.ts',
        '<rootDir>/test/resilience/**/*.test.ts',
        '<rootDir>/test/cli/**/*.test.ts',
      ],
      globalSetup: '<rootDir>/test/support/dynamodb-local-setup.ts',
      globalTeardown: '<rootDir>/test/support/dynamodb-local-teardown.ts',
    },
  ],
};
