// Every core unit test in one process: what `npm run test:mutation` runs for each mutant (stryker.config.mjs).
// One start of node and tsx per mutant instead of one per test file: most of a file's run is that start.
// Not a *.test.ts file, so scripts/test.mjs does not run the core tests twice.
import { readdirSync } from 'node:fs';

const core = new URL('../core/', import.meta.url);
for (const name of readdirSync(core).filter((file) => file.endsWith('.test.ts')).sort()) {
  await import(new URL(name, core).href);
}
