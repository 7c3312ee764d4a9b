import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configStoreEntries, parseConfig } from '../core/tenant-config.ts';
import { LocalKeyValueStore, serveKeyValueStore } from '../local/key-value-store.ts';
import { bundleHandler, ROOT, sharpRuntime, taskEntry } from './bundle.ts';
import { bundleTask } from './bundle-tasks.ts';
import { SOURCE_MAPS_CONTEXT, sourceMapsWanted } from './lambda-code.ts';
import { App } from 'aws-cdk-lib';

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
    // No source map unless asked for: a task's map is about four times its code.
    assert.deepEqual(await readdir(bundle.directory), ['index.mjs']);
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

  it('writes a source map beside the bundle when asked for', () => {
    const bundle = bundleHandler({ entry: taskEntry('plan-rerender'), outDir: join(out, 'with-map'), sourceMap: true });
    assert.match(readFileSync(join(bundle.directory, 'index.mjs'), 'utf8'), /\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
    assert.ok(JSON.parse(readFileSync(join(bundle.directory, 'index.mjs.map'), 'utf8')).sources.some((s: string) => s.endsWith('plan-rerender/handler.ts')));
  });
});

describe('source maps, asked for by CDK context', () => {
  it(`are wanted when the app sets ${SOURCE_MAPS_CONTEXT} to true, as -c does (a string) or cdk.json does (a boolean)`, () => {
    assert.equal(sourceMapsWanted(new App()), false);
    assert.equal(sourceMapsWanted(new App({ context: { [SOURCE_MAPS_CONTEXT]: 'true' } })), true);
    assert.equal(sourceMapsWanted(new App({ context: { [SOURCE_MAPS_CONTEXT]: true } })), true);
    assert.equal(sourceMapsWanted(new App({ context: { [SOURCE_MAPS_CONTEXT]: 'false' } })), false);
  });
});

describe("sharp's runtime for Lambda, found wherever npm put it", () => {
  /** Lays out the package.json of sharp's runtime as npm would in an app: hoisted, beside pictor. */
  async function appWith(packages: readonly string[]): Promise<string> {
    const app = await mkdtemp(join(tmpdir(), 'pictor-app-'));
    for (const name of packages) {
      const to = join(app, 'node_modules', name);
      await mkdir(to, { recursive: true });
      const installed = join(ROOT, 'node_modules', name, 'package.json');
      // The build for another machine (a Mac's), as npm would have installed it there.
      const manifest = existsSync(installed) ? readFileSync(installed, 'utf8') : JSON.stringify({ name, os: ['darwin'], cpu: ['arm64'] });
      await writeFile(join(to, 'package.json'), manifest);
    }
    return app;
  }
  const pictorModule = (app: string) => join(app, 'node_modules', 'pictor', 'lib', 'infra', 'bundle.js');

  it("resolves each package from the one that needs it, in an app's node_modules, skipping other platforms", async () => {
    const app = await appWith(['sharp', '@img/colour', 'detect-libc', 'semver', '@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64', '@img/sharp-darwin-arm64']);
    try {
      const runtime = sharpRuntime(pictorModule(app));
      assert.deepEqual([...runtime.keys()].sort(), ['@img/colour', '@img/sharp-libvips-linux-x64', '@img/sharp-linux-x64', 'detect-libc', 'semver', 'sharp']);
      for (const directory of runtime.values()) assert.ok(directory.startsWith(join(app, 'node_modules')), directory);
    } finally {
      await rm(app, { recursive: true, force: true });
    }
  });

  it("says how to install Lambda's build, as sharp documents, when this machine has only its own", async () => {
    const app = await appWith(['sharp', '@img/colour', 'detect-libc', 'semver', '@img/sharp-darwin-arm64']);
    try {
      assert.throws(() => sharpRuntime(pictorModule(app)), {
        name: 'InvalidConfig',
        message: /needs @img\/sharp-linux-x64.*npm install --os=linux --cpu=x64 --libc=glibc sharp/,
      });
    } finally {
      await rm(app, { recursive: true, force: true });
    }
  });
});
