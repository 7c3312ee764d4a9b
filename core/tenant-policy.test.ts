import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EXPLICIT_FORMATS } from './formats.ts';
import { decodePolicy, encodePolicy, largestBreakpoint, policyStoreKey, signingKeyStoreKey, type TenantPolicy } from './tenant-policy.ts';

const shop: TenantPolicy = {
  breakpoints: [320, 640],
  qualities: [50, 75],
  defaultQuality: 75,
  formats: ['webp', 'jpeg'],
  signed: true,
  ttl: 60,
  maxSignedTtl: 86400,
  referers: ['shop.example.com'],
};

describe('tenant policy in the KeyValueStore', () => {
  // The keys and the compact form are a contract with what a store already holds.
  it('names the store entries of a tenant and of its signing keys', () => {
    assert.equal(policyStoreKey('shop'), 'tenant:shop');
    assert.equal(signingKeyStoreKey('shop', 'k1'), 'key:shop:k1');
  });

  it('stores the compact form, leaving out an empty list of referers', () => {
    assert.equal(encodePolicy(shop), '{"b":[320,640],"q":[50,75],"d":75,"f":["webp","jpeg"],"s":1,"t":60,"l":86400,"r":["shop.example.com"]}');
    assert.equal(encodePolicy({ ...shop, signed: false, referers: [] }), '{"b":[320,640],"q":[50,75],"d":75,"f":["webp","jpeg"],"s":0,"t":60,"l":86400}');
    assert.equal(encodePolicy({ ...shop, referers: undefined }), encodePolicy({ ...shop, referers: [] }));
  });

  const ascending = fc.uniqueArray(fc.integer({ min: 1, max: 8192 }), { minLength: 1, maxLength: 10 }).map((list) => list.sort((a, b) => a - b));
  const policy = fc
    .record({
      breakpoints: ascending,
      qualities: fc.uniqueArray(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 5 }).map((list) => list.sort((a, b) => a - b)),
      formats: fc.subarray([...EXPLICIT_FORMATS], { minLength: 1 }),
      signed: fc.boolean(),
      ttl: fc.integer({ min: 0, max: 31536000 }),
      maxSignedTtl: fc.integer({ min: 60, max: 31536000 }),
      referers: fc.array(fc.constantFrom('shop.example.com', '*.example.com', 'localhost'), { maxLength: 3 }),
    })
    .chain((p) => fc.constantFrom(...p.qualities).map((defaultQuality) => ({ ...p, defaultQuality }) as TenantPolicy));

  it('bounds a render that names no size by the largest breakpoint', () => {
    assert.equal(largestBreakpoint(shop), 640);
    assert.equal(largestBreakpoint({ breakpoints: [100] }), 100);
  });

  it('reads back every policy it stores', () => {
    fc.assert(fc.property(policy, (p) => assert.deepEqual(decodePolicy(encodePolicy(p)), p)), { numRuns: 100 });
  });

  it('treats anything that is not a stored policy as no tenant', () => {
    const good = JSON.parse(encodePolicy(shop));
    const broken: [string, unknown][] = [
      ['no breakpoints', { ...good, b: undefined }],
      ['empty breakpoints', { ...good, b: [] }],
      ['descending breakpoints', { ...good, b: [640, 320] }],
      ['repeated breakpoints', { ...good, b: [320, 320] }],
      ['a zero breakpoint', { ...good, b: [0, 320] }],
      ['a fractional breakpoint', { ...good, b: [320.5, 640] }],
      ['a breakpoint as text', { ...good, b: ['320', 640] }],
      ['breakpoints as an object', { ...good, b: { 0: 320, length: 1 } }],
      ['descending qualities', { ...good, q: [75, 50] }],
      ['no formats', { ...good, f: undefined }],
      ['formats as text', { ...good, f: 'webp' }],
      ['a default quality not among the qualities', { ...good, d: 60 }],
      ['a ttl as text', { ...good, t: '60' }],
      ['no ttl', { ...good, t: undefined }],
      ['a lifetime as text', { ...good, l: '86400' }],
      ['referers as text', { ...good, r: 'shop.example.com' }],
      ['null', null],
    ];
    for (const [name, value] of broken) assert.equal(decodePolicy(JSON.stringify(value)), null, name);
    for (const text of [null, '', 'not json', '{"b":', '42', '"tenant"']) assert.equal(decodePolicy(text), null, String(text));
  });

  it('reads a policy stored before referers existed as allowing any site, signed only when it says so', () => {
    const { r: _r, ...withoutReferers } = JSON.parse(encodePolicy(shop));
    assert.deepEqual(decodePolicy(JSON.stringify(withoutReferers))?.referers, []);
    assert.equal(decodePolicy(JSON.stringify({ ...withoutReferers, s: 0 }))?.signed, false);
    assert.equal(decodePolicy(JSON.stringify({ ...withoutReferers, s: 1 }))?.signed, true);
  });
});
