import assert from 'node:assert/strict';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { build, type Plugin } from 'esbuild';
import { buildUrl, srcset, type PublicPolicy } from './index.ts';

/**
 * What a front end's bundler makes of pictor/client: esbuild stands in for
 * webpack, Vite and the rest (all follow ES module semantics for unused exports).
 */
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const entry = join(here, 'index.ts');

const policy: PublicPolicy = {
  tenant: 'shop',
  baseUrl: 'https://images.example.com',
  breakpoints: [160, 320, 640, 1280],
  qualities: [60, 75],
  defaultQuality: 75,
  formats: ['avif', 'webp', 'jpeg'],
  signed: false,
  maxSignedTtl: 3600,
};

/** Marks every import that is not a relative path external, and records it. */
function recordPackages(found: string[]): Plugin {
  return {
    name: 'record-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        found.push(args.path);
        return { path: args.path, external: true };
      });
    },
  };
}

async function bundle(contents: string, options: { minify?: boolean; format?: 'esm' | 'iife' } = {}) {
  const packages: string[] = [];
  const result = await build({
    stdin: { contents, resolveDir: here, loader: 'ts', sourcefile: 'app.ts' },
    bundle: true,
    write: false,
    platform: 'browser',
    format: options.format ?? 'esm',
    globalName: options.format === 'iife' ? 'pictor' : undefined,
    target: 'es2020',
    minify: options.minify ?? false,
    metafile: true,
    logLevel: 'silent',
    plugins: [recordPackages(packages)],
  });
  const code = result.outputFiles[0]!.text;
  return { code, packages, inputs: Object.keys(result.metafile.inputs), bytes: Buffer.byteLength(code) };
}

describe('pictor/client in a browser bundle', () => {
  it('imports no package and no Node built-in, and pulls in only client/ and core/ modules', async () => {
    const { code, packages, inputs } = await bundle(`export * from ${JSON.stringify(entry)};`);
    assert.deepEqual(packages, []);
    assert.doesNotMatch(code, /\bnode:|\brequire\(|\bprocess\.|\bBuffer\b/);
    const files = inputs.filter((f) => f !== '<stdin>').map((f) => relative(root, join(root, f)).split('\\').join('/'));
    assert.deepEqual(files.filter((f) => !/^(client|core)\//.test(f)), []);
    assert.ok(!files.includes('core/tenant-config.ts') && !files.includes('core/errors.ts'), files.join(', '));
  });

  it('runs where only ECMAScript is: the same URLs as in Node', async () => {
    const { code } = await bundle(`export * from ${JSON.stringify(entry)};`, { format: 'iife', minify: true });
    const context = vm.createContext({});
    vm.runInContext(code, context);
    const run = (expression: string) => vm.runInContext(`(${expression})(${JSON.stringify(policy)})`, context);
    assert.equal(run(`(p) => pictor.buildUrl(p, 'sku-42', { width: 640, format: 'webp' })`), buildUrl(policy, 'sku-42', { width: 640, format: 'webp' }));
    assert.equal(run(`(p) => pictor.srcset(p, 'sku-42', { width: 300, layout: 'fixed' })`), srcset(policy, 'sku-42', { width: 300, layout: 'fixed' }));
    assert.equal(run(`(p) => pictor.nextLoader(p)({ src: 'sku-42', width: 400 })`), buildUrl(policy, 'sku-42', { width: 640 }));
    assert.equal(run(`(p) => { try { pictor.buildUrl(p, 'sku-42', { width: 750 }); } catch (e) { return e.code; } }`), 'InvalidParameter');
  });

  it("runs its API client's checks where only ECMAScript is: refusals before any request need no fetch, FormData or Blob", async () => {
    const { code } = await bundle(`export * from ${JSON.stringify(entry)};`, { format: 'iife', minify: true });
    const context = vm.createContext({});
    vm.runInContext(code, context);
    const api = `pictor.createApiClient({ baseUrl: 'https://api.example.com' })`;
    const ticket = JSON.stringify({ key: 'shop/sku-42', upload: { fields: {}, contentType: 'image/jpeg', minBytes: 1, maxBytes: 1000 } });
    const codeOf = (expression: string) => vm.runInContext(`(${expression}).then(() => 'resolved', (e) => e.name + ' ' + e.code)`, context);
    assert.equal(await codeOf(`${api}.getImage('Shop', 'sku-42')`), 'PictorApiError InvalidParameter');
    assert.equal(await codeOf(`${api}.waitForImage('shop', 'sku-42', { timeoutMs: 0 })`), 'PictorApiError InvalidParameter');
    assert.equal(await codeOf(`pictor.uploadFile(${ticket}, { size: 1001, type: 'image/jpeg' })`), 'PictorApiError FileTooLarge');
  });

  it('does nothing when it loads: an import for its side effects bundles to nothing', async () => {
    const { code } = await bundle(`import ${JSON.stringify(entry)};`);
    assert.equal(code.trim(), '');
  });

  it('tree-shakes: srcset alone leaves out the loader, the transformer and the policy reader', async () => {
    const all = await bundle(`export * from ${JSON.stringify(entry)};`, { minify: true });
    const only = await bundle(`export { srcset } from ${JSON.stringify(entry)};`);
    for (const name of ['nextLoader', 'nextImagesConfig', 'unpicTransformer', 'readPublicPolicy', 'publicPolicyProblems', 'isPictorUrlError', 'sizes']) {
      assert.doesNotMatch(only.code, new RegExp(`function ${name}\\b`), name);
    }
    assert.doesNotMatch(only.code, /next\/image loader|unpic component|Not a Pictor public policy/);
    const onlyMinified = await bundle(`export { srcset } from ${JSON.stringify(entry)};`, { minify: true });
    assert.ok(onlyMinified.bytes < all.bytes * 0.85, `${onlyMinified.bytes} of ${all.bytes} bytes`);
  });

  it('tree-shakes the API client apart from the URL builder, both ways', async () => {
    const urls = await bundle(`export { buildUrl, srcset, sizes, nextLoader, unpicTransformer } from ${JSON.stringify(entry)};`);
    for (const name of ['createApiClient', 'uploadFile', 'isPictorApiError', 'apiError', 'sendWithProgress']) {
      assert.doesNotMatch(urls.code, new RegExp(`function ${name}\\b`), name);
    }
    assert.doesNotMatch(urls.code, /XMLHttpRequest|FormData|WaitTimedOut|BadGateway/);
    const api = await bundle(`export { createApiClient, uploadFile } from ${JSON.stringify(entry)};`);
    for (const name of ['buildUrl', 'srcset', 'sizes', 'nextLoader', 'unpicTransformer', 'normalizeQuery']) {
      assert.doesNotMatch(api.code, new RegExp(`function ${name}\\b`), name);
    }
    assert.match(api.code, /function createApiClient\b/);
  });

  it('stays within the sizes docs/SDK.md gives, gzipped: the URL builder under 5 KB, buildUrl alone under 3 KB, the API client under 4 KB, all of it under 8 KB', async () => {
    const gzipped = async (contents: string) => gzipSync((await bundle(contents, { minify: true })).code, { level: 9 }).length;
    const all = await gzipped(`export * from ${JSON.stringify(entry)};`);
    const builder = await gzipped(`export { buildUrl } from ${JSON.stringify(entry)};`);
    const urls = await gzipped(`export { buildUrl, canonicalQuery, readPublicPolicy, snapToBreakpoint, snapToQuality, isPictorUrlError, sizes, srcset, srcsetCandidates, nextImagesConfig, nextLoader, unpicTransformer } from ${JSON.stringify(entry)};`);
    const api = await gzipped(`export { createApiClient, uploadFile, isPictorApiError } from ${JSON.stringify(entry)};`);
    assert.ok(urls < 5 * 1024, `URL builder: ${urls} bytes`);
    assert.ok(builder < 3 * 1024, `buildUrl: ${builder} bytes`);
    assert.ok(api < 4 * 1024, `API client: ${api} bytes`);
    assert.ok(all < 8 * 1024, `all: ${all} bytes`);
  });
});
