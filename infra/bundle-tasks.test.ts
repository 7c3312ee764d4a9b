import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { bundleTask } from './bundle-tasks.ts';

const run = promisify(execFile);
let out: string;

before(async () => {
  out = await mkdtemp(join(tmpdir(), 'pictor-bundles-'));
});

after(async () => {
  await rm(out, { recursive: true, force: true });
});

/** Runs a bundle's handler in a clean node process, as Lambda would: no tsx, no repo node_modules on the path. */
async function invoke(file: string, event: unknown): Promise<unknown> {
  const script = `const { handler } = await import(${JSON.stringify(file)}); console.log(JSON.stringify(await handler(${JSON.stringify(event)}, {})));`;
  const env = {
    PATH: process.env.PATH,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    PICTOR_ACCOUNT_ID: '111122223333',
    PICTOR_ORIGINALS_BUCKET: 'originals',
    PICTOR_VARIANTS_BUCKET: 'variants',
    PICTOR_VERSIONS_TABLE: 'versions',
    PICTOR_TOMBSTONES_TABLE: 'tombstones',
    PICTOR_IDEMPOTENCY_TABLE: 'idempotency',
    PICTOR_EVENT_BUS: 'default',
    PICTOR_TENANTS: JSON.stringify({ tenants: { shop: {} } }),
    AWS_REGION: 'us-east-1',
  };
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: out, env });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('task bundles (esbuild, no Docker)', () => {
  it('bundles a task into one ESM file whose handler runs on its own', async () => {
    const bundle = bundleTask('plan-rerender', out);
    assert.equal(bundle.withSharp, false);
    assert.deepEqual(await readdir(bundle.directory), ['index.mjs', 'index.mjs.map']);
    const planned = (await invoke(join(bundle.directory, 'index.mjs'), { input: { jobId: 'j', detail: { schemaVersion: 1, tenant: 'shop', requester: 'ops@example.com' } } })) as { job: { jobId: string; tenants: string[] } };
    assert.deepEqual([planned.job.jobId, planned.job.tenants], ['j', ['shop']]);
  });

  it("ships sharp's linux-x64 runtime beside the tasks that render, and it loads from there", async () => {
    const bundle = bundleTask('render-variants', out);
    assert.equal(bundle.withSharp, true);
    assert.ok((await readdir(join(bundle.directory, 'node_modules', '@img'))).includes('sharp-linux-x64'));
    // The bundle sets sharp's concurrency as it loads: importing it loads the native binary from beside it.
    const script = `const m = await import(${JSON.stringify(join(bundle.directory, 'index.mjs'))}); const sharp = (await import(${JSON.stringify(join(bundle.directory, 'node_modules', 'sharp', 'dist', 'index.mjs'))})).default; console.log(typeof m.handler, sharp.versions.vips);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: out, env: { PATH: process.env.PATH } });
    assert.match(stdout, /^function \d+\.\d+\.\d+/);
  });
});
