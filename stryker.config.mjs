// Mutation testing of core/ with core's own unit tests (`npm run test:mutation`; not part of `npm test`).
// The TAP runner runs scripts/core-tests.ts, which imports every core/*.test.ts, in one process per mutant
// and stops at the first failing test; a mutant no test reaches is not run at all. Reports go to
// reports/mutation/, the sandbox to .stryker-tmp/ (both ignored).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  // The error descriptions are prose, pinned by the generated page (test/reference-docs.test.ts).
  mutate: ['core/*.ts', '!core/*.test.ts', '!core/error-descriptions.ts'],
  testRunner: 'tap',
  tap: {
    testFiles: ['scripts/core-tests.ts'],
    // The tests are TypeScript, run through tsx like scripts/test.mjs does.
    nodeArgs: ['--import', 'tsx', '--test-reporter=tap', '-r', '{{hookFile}}', '{{testFile}}'],
  },
  coverageAnalysis: 'perTest',
  // The machine is shared: two test processes at a time at most.
  concurrency: 2,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  incrementalFile: 'reports/mutation/incremental.json',
  tempDirName: '.stryker-tmp',
  // Below 90% of core's mutants killed, the script fails.
  thresholds: { high: 95, low: 90, break: 90 },
};
