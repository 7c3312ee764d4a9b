import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IMMUTABLE_CACHE_CONTROL, PRIVATE_CACHE_CONTROL } from '../../core/cache-control.ts';
import { encodePolicy, policyStoreKey } from '../../core/tenant-policy.ts';
import { edgeStoreEntries, parseConfig, policyOf } from '../../core/tenant-config.ts';
import { isFunctionResponse, ViewerFunctionRuntime } from '../../local/edge/function-runtime.ts';
import type { CfFunctionEvent, CfFunctionResponse } from '../viewer-request/cf-function-event.ts';
import { FUNCTION_SIZE_QUOTA } from '../viewer-request/build.ts';
import { findRuntimeViolations } from '../viewer-request/runtime-check.ts';
import { buildViewerResponseFunction } from './build.ts';

const CONFIG = parseConfig({ tenants: { open: {}, vault: { signing: { required: true, keys: { k1: 'vault-secret-0123456789abcdefghijklmnopqrstuvwxyz' } } } } });
const { code, bytes } = buildViewerResponseFunction();

function responseEvent(uri: string, cacheControl = IMMUTABLE_CACHE_CONTROL): CfFunctionEvent {
  return {
    version: '1.0',
    context: { eventType: 'viewer-response' },
    viewer: { ip: '127.0.0.1' },
    request: { method: 'GET', uri, querystring: {}, headers: {}, cookies: {} },
    response: { statusCode: 200, headers: { 'cache-control': { value: cacheControl }, 'content-type': { value: 'image/webp' } } },
  };
}

async function cacheControlOf(runtime: ViewerFunctionRuntime, uri: string): Promise<string | undefined> {
  const out = await runtime.run(responseEvent(uri));
  assert.ok(isFunctionResponse(out), JSON.stringify(out));
  assert.equal(out.statusCode, 200);
  assert.equal((out as CfFunctionResponse).headers['content-type']?.value, 'image/webp', 'other headers pass through');
  return out.headers['cache-control']?.value;
}

describe('the built viewer-response function', () => {
  it('fits the 10 KB quota and uses only cloudfront-js-2.0 syntax', () => {
    assert.ok(bytes <= FUNCTION_SIZE_QUOTA, `${bytes} bytes`);
    assert.deepEqual(findRuntimeViolations(code), []);
    assert.doesNotMatch(code, /\brequire\(|process\.|setTimeout|Buffer\./);
  });

  const cases: { name: string; uri: string; expect: string }[] = [
    { name: 'a signed tenant: private, whatever the object carries', uri: '/img/vault/photo', expect: PRIVATE_CACHE_CONTROL },
    { name: "a signed tenant's versioned URL", uri: '/img/vault/photo/v3', expect: PRIVATE_CACHE_CONTROL },
    { name: 'an open tenant: unchanged', uri: '/img/open/photo', expect: IMMUTABLE_CACHE_CONTROL },
    { name: 'an unknown tenant (rewritten to the not-found path): unchanged', uri: '/img/_not-found/img/nobody/photo', expect: IMMUTABLE_CACHE_CONTROL },
    { name: 'a path outside /img/: unchanged', uri: '/favicon.ico', expect: IMMUTABLE_CACHE_CONTROL },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      assert.equal(await cacheControlOf(new ViewerFunctionRuntime(code, edgeStoreEntries(CONFIG)), c.uri), c.expect);
    });
  }

  it('follows the live store: a tenant switched to signed is private on its next response', async () => {
    const store = edgeStoreEntries(CONFIG);
    const runtime = new ViewerFunctionRuntime(code, store);
    assert.equal(await cacheControlOf(runtime, '/img/open/photo'), IMMUTABLE_CACHE_CONTROL);
    store.set(policyStoreKey('open'), encodePolicy({ ...policyOf(CONFIG.tenants.open!), signed: true }));
    assert.equal(await cacheControlOf(runtime, '/img/open/photo'), PRIVATE_CACHE_CONTROL);
  });
});
