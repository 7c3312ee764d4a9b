import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../infra/bundle.ts';

/**
 * Pictor as a platform team gets it: `npm pack`, then the tarball installed into
 * a fresh app as `cdk init app --language typescript` lays it out (CommonJS, the
 * template's strict tsconfig, `npx tsc && npx tsx bin/app.ts` as its app), whose
 * only change is its code using ImageDelivery, synthesized with no network.
 */
const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const installed = (name: string): string => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

let scratch: string;
let app: string;
let tarball: string;
let synthOutput: string;
let packedFiles: string[] = [];

/** Runs a command in the app with a deadline; what it printed is in the failure when it fails. */
async function inApp(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd: app, env: { ...process.env, ...options.env }, timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return stdout + stderr;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** What `cdk synth` runs under: no credentials, and any attempt to reach the network refused. */
const OFFLINE: NodeJS.ProcessEnv = {
  HTTP_PROXY: 'http://127.0.0.1:9',
  HTTPS_PROXY: 'http://127.0.0.1:9',
  NO_PROXY: '',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  AWS_PROFILE: '',
  CDK_DISABLE_CLI_TELEMETRY: 'true',
};

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'pictor-consumer-'));
  app = join(scratch, 'photo-site');
  // prepack builds lib/ first, as `npm publish` would.
  const packed = await run(NPM, ['pack', '--json', '--pack-destination', scratch], { cwd: ROOT, timeout: 180_000, maxBuffer: 64 * 1024 * 1024 });
  const [manifest] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarball = join(scratch, manifest!.filename);
  packedFiles = manifest!.files.map((f) => f.path);

  await mkdir(app);
  await run(process.execPath, [join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk'), 'init', 'app', '--language', 'typescript', '--generate-only'], {
    cwd: app,
    timeout: 60_000,
  });
  // The app's dependencies: the tarball, and the CDK it already has (here the one this repo is tested
  // with, so npm finds it in its cache). The template's jest and swc serve only the app's own tests.
  const manifestPath = join(app, 'package.json');
  const pkg = JSON.parse(readFileSync(manifestPath, 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  pkg.dependencies = { ...pkg.dependencies, 'aws-cdk-lib': installed('aws-cdk-lib'), constructs: installed('constructs'), pictor: `file:${tarball}` };
  for (const testOnly of ['jest', '@swc/core', '@swc/jest']) delete pkg.devDependencies[testOnly];
  writeFileSync(manifestPath, JSON.stringify(pkg, null, 2));
  writeFileSync(
    join(app, 'bin', 'photo-site.ts'),
    `#!/usr/bin/env node
import * as cdk from 'aws-cdk-lib/core';
import { ImageDelivery, parseConfig } from 'pictor';

const app = new cdk.App();
new ImageDelivery(app, 'Images', {
  tenants: parseConfig({ tenants: { shop: {}, studio: { signing: { required: true } } } }),
  primaryRegion: 'eu-central-1',
  replicaRegions: ['eu-west-1'],
});
`,
  );
  // Front-end and server code beside it: the subpaths' types, checked by the app's own `npx tsc`.
  writeFileSync(
    join(app, 'lib', 'images.ts'),
    `import { buildUrl, srcset } from 'pictor/client';
import { PICTOR_EVENTS, type PictorDetailType } from 'pictor/events';
import { publicPolicyFromConfig, signImageUrl } from 'pictor/signer';
import { parseTenant } from 'pictor/tenant-config';

const policy = publicPolicyFromConfig('shop', {}, 'https://images.example.com');
export const hero: string = buildUrl(policy, 'hero', { width: 640 });
export const heroSet: string = srcset(policy, 'hero');
export const detailTypes = Object.keys(PICTOR_EVENTS) as PictorDetailType[];
export const studioTtl: number = parseTenant('studio', { signing: { required: true } }).signing.maxTtl;
export const signed = (secret: string): string => signImageUrl(hero, { kid: 'k1', secret }, policy);
`,
  );
  await inApp(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund'], { timeoutMs: 600_000 });
  synthOutput = await inApp(NPM, ['exec', '--', 'cdk', 'synth', '--quiet', '--no-notices'], { env: OFFLINE, timeoutMs: 600_000 });
});

after(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

describe('the packed package in a fresh CDK app', () => {
  it('ships built JavaScript and type declarations, no TypeScript sources and no tests', () => {
    assert.ok(packedFiles.includes('lib/infra/index.js') && packedFiles.includes('lib/infra/index.d.ts'), packedFiles.join('\n'));
    const sources = packedFiles.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'));
    assert.deepEqual(sources, []);
    assert.deepEqual(packedFiles.filter((path) => /\.test\.|(^|\/)test\//.test(path)), []);
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules', 'pictor', 'package.json'), 'utf8')) as { private?: boolean; bin: Record<string, string> };
    assert.equal(manifest.private, undefined);
    assert.equal(manifest.bin.pictor, 'lib/local/cli-main.js');
  });

  it("synthesizes the app's stacks offline, with the template's tsconfig and CommonJS unchanged", () => {
    assert.match(synthOutput, /Successfully synthesized/);
    const tsconfig = JSON.parse(readFileSync(join(app, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    assert.equal(tsconfig.compilerOptions.noImplicitReturns, true);
    assert.equal(tsconfig.compilerOptions.allowImportingTsExtensions, undefined);
    assert.equal((JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { type?: string }).type, undefined);
    const templates = readdirSync(join(app, 'cdk.out')).filter((name) => name.endsWith('.template.json')).sort();
    assert.deepEqual(templates, ['Images-edge.template.json', 'Images-pipeline.template.json', 'Images-replica-eu-west-1.template.json']);
    const edge = readFileSync(join(app, 'cdk.out', 'Images-edge.template.json'), 'utf8');
    assert.match(edge, /AWS::CloudFront::Distribution/);
    assert.match(readFileSync(join(app, 'cdk.out', 'Images-pipeline.template.json'), 'utf8'), /AWS::StepFunctions::StateMachine/);
  });

  it('loads from plain CommonJS, through require()', async () => {
    const script = [
      "const pictor = require('pictor');",
      "const policy = require('pictor/signer').publicPolicyFromConfig('shop', {});",
      "console.log(typeof pictor.ImageDelivery, typeof require('pictor/tenant-config').parseConfig, Object.keys(require('pictor/events').PICTOR_EVENTS).length,",
      "require('pictor/client').buildUrl(policy, 'hero', { width: 640 }))",
    ].join(' ');
    assert.equal((await inApp(process.execPath, ['-e', script], { timeoutMs: 60_000 })).trim().split('\n').at(-1), 'function function 8 /img/shop/hero?fmt=auto&q=75&w=640');
  });

  it('installs the CLI as pictor, on runtime dependencies alone', async () => {
    assert.match(await inApp(NPM, ['exec', '--', 'pictor', '--help'], { timeoutMs: 60_000 }), /Usage: pictor <command>/);
    await assert.rejects(inApp(NPM, ['exec', '--', 'pictor', 'rerender', '--tolerate', '200'], { timeoutMs: 60_000 }), (error: Error) => {
      assert.match(error.message, /--tolerate/);
      assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace');
      return true;
    });
  });

  it("bundles every function without a source map, and sharp's Lambda build beside those that render", () => {
    const assets = readdirSync(join(app, 'cdk.out')).filter((name) => name.startsWith('asset.'));
    const bundles = assets.filter((name) => existsSync(join(app, 'cdk.out', name, 'index.mjs')));
    assert.ok(bundles.length >= 10, `${bundles.length} function bundles`);
    const maps = readdirSync(join(app, 'cdk.out'), { recursive: true }).filter((name) => String(name).endsWith('.mjs.map'));
    assert.deepEqual(maps, []);
    const withSharp = bundles.filter((name) => existsSync(join(app, 'cdk.out', name, 'node_modules', '@img', 'sharp-linux-x64', 'package.json')));
    assert.ok(withSharp.length >= 2, `${withSharp.length} bundles carry sharp`);
  });

  it("says how to install sharp's Lambda build, as sharp documents, when the app's machine lacks it", async () => {
    // As on a Mac: npm installed sharp for this machine only. Importing pictor must still work; synth says what to run.
    const binary = join(app, 'node_modules', '@img', 'sharp-linux-x64');
    assert.ok(existsSync(binary), 'npm hoisted sharp\'s linux-x64 build into the app');
    renameSync(binary, `${binary}.hidden`);
    try {
      const script = [
        "const { App } = require('aws-cdk-lib'); const { ImageDelivery, parseConfig } = require('pictor');",
        "try { new ImageDelivery(new App(), 'Images', { tenants: parseConfig({ tenants: { shop: {} } }) }); console.log('built'); }",
        'catch (e) { console.log(e.name + ": " + e.message); }',
      ].join(' ');
      const printed = await inApp(process.execPath, ['-e', script], { timeoutMs: 120_000 });
      assert.match(printed, /InvalidConfig: .*needs @img\/sharp-linux-x64.*In your app, run: npm install --os=linux --cpu=x64 --libc=glibc sharp/);
    } finally {
      renameSync(`${binary}.hidden`, binary);
    }
  });
});
