import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configStoreEntries, parseConfig } from '../core/tenant-config.ts';
import { LocalKeyValueStore, serveKeyValueStore } from '../local/key-value-store.ts';
import { bundleTask } from './bundle-tasks.ts';

const run = promisify(execFile);
const STORE_ARN = 'arn:aws:cloudfront::000000000000:key-value-store/TenantStore';
let out: string;
/** The tenant store the bundled task reads its tenants from at run time. */
let store: Server;

before(async () => {
  out = await mkdtemp(join(tmpdir(), 'pictor-bundles-'));
  const tenants = new LocalKeyValueStore(STORE_ARN);
  const shop = parseConfig({ tenants: { shop: {} } }).tenants.shop!;
  tenants.update(tenants.etag, [...configStoreEntries('shop', shop)].map(([Key, Value]) => ({ Key, Value })), []);
  store = createServer((request, response) => void serveKeyValueStore(new Map([[STORE_ARN, tenants]]), request, response));
  await new Promise<void>((resolve) => store.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  store.closeAllConnections();
  await new Promise((resolve) => store.close(resolve));
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
    PICTOR_TENANT_STORE_ARN: STORE_ARN,
    AWS_ENDPOINT_URL_CLOUDFRONT_KEYVALUESTORE: `http://localhost:${(store.address() as AddressInfo).port}`,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
  };
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: out, env });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('task bundles (esbuild, no Docker)', () => {
  it('bundles a task into one ESM file whose handler runs on its own, reading its tenants from the tenant store', async () => {
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
