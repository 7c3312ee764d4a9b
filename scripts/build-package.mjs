// `npm run build` (and `npm pack`, through prepack): the package's lib/, the
// JavaScript and type declarations tsc emits from the sources (tsconfig.build.json).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const LIB = join(ROOT, 'lib');

rmSync(LIB, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });

// tsc rewrites the sources' `./x.ts` specifiers to `./x.js` in the JavaScript it
// emits (rewriteRelativeImportExtensions), but not in the declarations: a consumer's
// compiler would look for sources the package does not ship.
const TS_SPECIFIER = /((?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]*?)\.ts\2/g;
let declarations = 0;
for (const entry of readdirSync(LIB, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const file = join(entry.parentPath, entry.name);
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(TS_SPECIFIER, '$1$2$3.js$2');
  if (rewritten !== text) writeFileSync(file, rewritten);
  declarations += 1;
}
console.log(`lib/: built, ${declarations} declaration files`);
