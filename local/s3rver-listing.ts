import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { posix } from 'node:path';

/**
 * s3rver lists a prefix by walking the bucket's directories, and stats every
 * entry of each directory on the way: listing one image's keys under a tenant
 * with 10,000 images costs 10,000 stat calls, which S3 does not (a listing costs
 * what it returns). The same walk, reading each directory's entry types with the
 * listing itself, gives the same keys in the same order. Imported before s3rver,
 * whose filesystem store takes `walk` when it loads.
 */
type Walk = (dir: string, recurse?: (dir: string) => boolean) => Generator<string>;
const utils = createRequire(import.meta.url)('s3rver/lib/utils.js') as { walk: Walk };
utils.walk = function* walk(dir: string, recurse?: (dir: string) => boolean): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = posix.join(dir, entry.name);
    if (!entry.isDirectory()) yield path;
    else if (!recurse || recurse(path)) yield* walk(path, recurse);
  }
};
