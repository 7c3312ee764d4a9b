import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { buildViewerFunction, FUNCTION_SIZE_QUOTA } from './build.ts';
import { findRuntimeViolations } from './runtime-check.ts';
import { isFunctionResponse, ViewerFunctionRuntime } from '../../local/edge/function-runtime.ts';
import { NOT_FOUND_PATH } from '../../core/image-path.ts';
import { SECURITY_HEADERS } from '../../core/security-headers.ts';
import { edgeStoreEntries, policyOf } from '../../core/tenant-config.ts';
import { signUrl } from '../../signer/sign-url.ts';
import { TEST_CONFIG } from '../../test/support/tenants.ts';
import { VIEWER_CASES, viewerEvent } from '../../test/support/viewer-cases.ts';

let code = '';
before(async () => {
  code = buildViewerFunction().code;
});

describe('the built viewer function', () => {
  it('fits the 10 KB CloudFront Functions quota', () => {
    const bytes = Buffer.byteLength(code);
    assert.ok(bytes <= FUNCTION_SIZE_QUOTA, `${bytes} bytes`);
  });

  it('uses only cloudfront-js-2.0 syntax', () => {
    assert.deepEqual(findRuntimeViolations(code), []);
  });

  it('keeps no node built-ins or modules other than cloudfront and crypto', () => {
    assert.doesNotMatch(code, /\brequire\(|process\.|setTimeout|Buffer\./);
    assert.deepEqual(code.match(/^import .*$/gm), ["import cf from 'cloudfront';", "import crypto from 'crypto';"]);
  });

  describe('runs the shared case table in a vm', () => {
    for (const c of VIEWER_CASES) {
      it(c.name, async () => {
        const runtime = new ViewerFunctionRuntime(code, edgeStoreEntries(TEST_CONFIG));
        const out = await runtime.run(viewerEvent(c));
        if ('query' in c.expect) {
          assert.ok(!isFunctionResponse(out), JSON.stringify(out));
          assert.equal(out.querystring, c.expect.query);
          assert.equal(out.uri, c.uri);
        } else if ('notFound' in c.expect) {
          assert.ok(!isFunctionResponse(out), JSON.stringify(out));
          assert.deepEqual([out.uri, out.querystring], [NOT_FOUND_PATH + c.uri, '']);
        } else {
          assert.ok(isFunctionResponse(out), JSON.stringify(out));
          assert.equal(out.statusCode, c.expect.status);
          assert.equal(out.headers['content-type']?.value, 'application/json');
          for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(out.headers[name]?.value, value, name);
          const body = JSON.parse(out.body!.data);
          assert.equal(body.code, c.expect.code);
          assert.equal(typeof body.message, 'string');
        }
      });
    }
  });

  it('verifies signatures with keys from the KeyValueStore, following rotation', async () => {
    const store = edgeStoreEntries(TEST_CONFIG);
    const runtime = new ViewerFunctionRuntime(code, store);
    const tenant = TEST_CONFIG.tenants['acme-private']!;
    const sign = (kid: string) =>
      signUrl({ url: '/img/acme-private/sample?w=320', policy: policyOf(tenant), kid, secret: tenant.signing.keys[kid]!, expiresAt: new Date(Date.now() + 60_000) });
    const status = async (url: string) => {
      const [uri, query] = url.split('?') as [string, string];
      const out = await runtime.run(viewerEvent({ uri, query }));
      return isFunctionResponse(out) ? out.statusCode : 200;
    };
    assert.equal(await status(sign('k1')), 200);
    assert.equal(await status(sign('k2')), 200);
    store.delete('key:acme-private:k1');
    assert.equal(await status(sign('k1')), 403);
    assert.equal(await status(sign('k2')), 200);
    assert.equal(await status(sign('k2').replace('/acme-private/', '/acme/').replace(/sig=.*/, 'sig=' + 'A'.repeat(43))), 200, 'an open tenant ignores signature parameters');
  });
});

describe('the cloudfront-js-2.0 syntax check', () => {
  const rejected: [string, string][] = [
    ['class', 'class A {}'],
    ['destructuring', 'const { a } = {a: 1};'],
    ['array destructuring', 'let [a] = [1];'],
    ['spread', 'f(...xs);'],
    ['object spread', 'const o = { ...p };'],
    ['optional chaining', 'a?.b;'],
    ['nullish coalescing', 'a ?? b;'],
    ['generator', 'function* g() {}'],
    ['for-of', 'for (const x of xs) {}'],
    ['default parameter', 'function f(a = 1) {}'],
    ['shorthand property', 'const o = { a };'],
    ['method shorthand', 'const o = { m() {} };'],
    ['computed property', "const o = { ['a']: 1 };"],
    ['async arrow', 'const f = async () => 1;'],
    ['nested async function', 'function outer() { async function inner() {} }'],
    ['logical assignment', 'a ||= 1;'],
    ['exponent assignment', 'a **= 2;'],
    ['unicode regex', 'const r = /a/u;'],
    ['tagged template', 'tag`x`;'],
    ['import of fs', "import fs from 'fs';"],
    ['optional catch binding', 'try {} catch {}'],
    ['BigInt', 'const n = 1n;'],
  ];
  for (const [name, source] of rejected) {
    it(`rejects ${name}`, () => assert.notDeepEqual(findRuntimeViolations(source), []));
  }

  it('accepts what the runtime documents', () => {
    const source = `import cf from 'cloudfront';
      const a = 1; let b = 2 ** 3; var c = \`x\${a}\`;
      const f = (x, ...rest) => x + rest.length;
      function g(o) { for (var k in o) { if (k) continue; } try { throw new Error('x'); } catch (e) { return e; } }
      async function handler(event) { const v = await cf.kvs().get('k'); return { v: v, o: { get x() { return 1; } } }; }`;
    assert.deepEqual(findRuntimeViolations(source), []);
  });
});
