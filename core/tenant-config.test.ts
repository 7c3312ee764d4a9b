import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { edgeStoreEntries, parseConfig, STORE_QUOTAS } from './tenant-config.ts';
import { decodePolicy } from './tenant-policy.ts';

function problemsOf(input: unknown): string {
  try {
    parseConfig(input, 'tenants.json');
  } catch (error) {
    assert.equal((error as Error).name, 'InvalidConfig');
    return (error as Error).message;
  }
  assert.fail('expected the configuration to be rejected');
}

describe('tenant configuration', () => {
  it('fills in documented defaults', () => {
    const config = parseConfig({ tenants: { shop: {} } });
    const shop = config.tenants.shop!;
    assert.equal(shop.defaultQuality, 75);
    assert.equal(shop.ttl.unversioned, 60);
    assert.equal(shop.signing.required, false);
    assert.deepEqual(shop.formats, ['avif', 'webp', 'jpeg', 'png']);
  });

  it('says what is wrong and where', () => {
    const message = problemsOf({
      tenants: {
        shop: { breakpoints: [640, 320], qualities: [50, 75], defaultQuality: 80, formats: ['gif'] },
        'Bad_Tenant': {},
      },
    });
    assert.match(message, /^Invalid tenants\.json:/);
    assert.match(message, /tenants\.shop\.breakpoints: breakpoints must be strictly ascending/);
    assert.match(message, /tenants\.shop\.formats\[0\]/);
    assert.match(message, /tenants\.Bad_Tenant: a tenant id is 3 to 32/);
  });

  it('accepts a tenant that requires signed URLs and lists no key: a deployment file holds no secret, the registry generates one', () => {
    assert.deepEqual(parseConfig({ tenants: { shop: { signing: { required: true } } } }).tenants.shop!.signing.keys, {});
  });

  it('checks cross-field rules', () => {
    assert.match(problemsOf({ tenants: { shop: { qualities: [50, 75], defaultQuality: 80 } } }), /tenants\.shop\.defaultQuality: must be one of qualities \(50, 75\)/);
    const six = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, 'x'.repeat(40)]));
    assert.match(problemsOf({ tenants: { shop: { signing: { keys: six } } } }), /at most 5 active keys/);
    assert.match(problemsOf({ tenants: { shop: { signing: { keys: { k1: 'short' } } } } }), /tenants\.shop\.signing\.keys\.k1/);
    assert.match(problemsOf({ tenants: { shop: { colour: 'red' } } }), /tenants\.shop: Unrecognized key/);
    assert.match(problemsOf({ tenants: {} }), /tenants: at least one tenant/);
  });

  it('refuses a signing secret shared by two tenants, which would sign URLs for both', () => {
    const secret = 'one-secret-for-two-tenants-0123456789abcdef';
    const message = problemsOf({ tenants: { shop: { signing: { keys: { k1: secret } } }, other: { signing: { required: true, keys: { a: 'its-own-secret-0123456789abcdefghij', b: secret } } } } });
    assert.match(message, /tenants\.other\.signing\.keys\.b: the same secret as tenants\.shop\.signing\.keys\.k1\. Give each tenant secrets of its own/);
    // Within one tenant, a key listed twice under two ids only means two names for it.
    assert.doesNotThrow(() => parseConfig({ tenants: { shop: { signing: { keys: { k1: secret, k2: secret } } } } }));
  });

  it("refuses what the edge KeyValueStore would refuse at deploy time", () => {
    const long = 'x'.repeat(STORE_QUOTAS.valueBytes + 1);
    assert.match(problemsOf({ tenants: { shop: { signing: { keys: { k1: long } } } } }), /tenants\.shop\.signing\.keys\.k1: the secret is 1025 bytes; a KeyValueStore value holds 1024/);
    // Bytes, not characters: 342 three-byte characters are 1,026 bytes.
    assert.match(problemsOf({ tenants: { shop: { signing: { keys: { k1: '€'.repeat(342) } } } } }), /the secret is 1026 bytes/);
    assert.doesNotThrow(() => parseConfig({ tenants: { shop: { signing: { keys: { k1: 'x'.repeat(STORE_QUOTAS.valueBytes) } } } } }));
    const tenants = Object.fromEntries(Array.from({ length: 1100 }, (_, i) => [`t${String(i).padStart(4, '0')}`, { signing: { keys: Object.fromEntries(Array.from({ length: 5 }, (_, k) => [`k${k}`, `${i}-${k}-`.padEnd(1000, 'z')])) } }]));
    assert.match(problemsOf({ tenants }), /tenants: the edge KeyValueStore would hold \d+ bytes, more than its 5242880/);
  });

  it("refuses a tenant policy over a KeyValueStore value's 1,024 bytes, saying what to trim; referers count", () => {
    const referers = Array.from({ length: 40 }, (_, i) => `shop-number-${i}.example.com`);
    assert.match(problemsOf({ tenants: { shop: { referers } } }), /tenants\.shop: its edge policy is \d+ bytes; a KeyValueStore value holds 1024\. Use fewer breakpoints, qualities or referers \(\*\.example\.com covers every subdomain of a site\)/);
    const policy = edgeStoreEntries(parseConfig({ tenants: { shop: { referers: referers.slice(0, 20) } } })).get('tenant:shop')!;
    assert.ok(new TextEncoder().encode(policy).length <= STORE_QUOTAS.valueBytes);
    assert.deepEqual(JSON.parse(policy).r, referers.slice(0, 20));
  });

  it('takes referers as host names, a leading *. for every subdomain, nothing else', () => {
    for (const bad of ['https://shop.example.com', 'shop.example.com/path', 'Shop.example.com', '*example.com', 'shop..example.com', 'a.*.example.com']) {
      assert.match(problemsOf({ tenants: { shop: { referers: [bad] } } }), /tenants\.shop\.referers\[0\]: a host name such as shop\.example\.com or \*\.example\.com/, bad);
    }
    assert.doesNotThrow(() => parseConfig({ tenants: { shop: { referers: ['shop.example.com', '*.example.com', 'localhost'] } } }));
  });

  it("bounds a signed URL's lifetime, a day unless the tenant says otherwise", () => {
    assert.equal(parseConfig({ tenants: { shop: {} } }).tenants.shop!.signing.maxTtl, 86400);
    assert.equal(parseConfig({ tenants: { shop: { signing: { maxTtl: 600 } } } }).tenants.shop!.signing.maxTtl, 600);
    assert.match(problemsOf({ tenants: { shop: { signing: { maxTtl: 31536001 } } } }), /tenants\.shop\.signing\.maxTtl/);
    assert.match(problemsOf({ tenants: { shop: { signing: { maxTtl: 10 } } } }), /tenants\.shop\.signing\.maxTtl/);
  });

  it('derives the edge store: a decodable policy per tenant and its keys', () => {
    const config = parseConfig({ tenants: { shop: { signing: { required: true, keys: { k1: 'y'.repeat(40) } } } } });
    const entries = edgeStoreEntries(config);
    assert.equal(entries.get('key:shop:k1'), 'y'.repeat(40));
    const policy = decodePolicy(entries.get('tenant:shop') ?? null);
    assert.ok(policy);
    assert.equal(policy.signed, true);
    assert.equal(policy.maxSignedTtl, 86400);
    assert.deepEqual(policy.breakpoints, config.tenants.shop!.breakpoints);
    assert.equal(decodePolicy('{"b":[2,1]}'), null);
    assert.equal(decodePolicy('not json'), null);
  });
});

describe('the standard variant set', () => {
  it('defaults to the common widths snapped to the breakpoints, in every enabled format class', async () => {
    const { standardVariants } = await import('./tenant-config.ts');
    // 320 and 640 both snap up to 700; 1280 clamps to the largest, 1000.
    const config = parseConfig({ tenants: { shop: { breakpoints: [100, 320, 700, 1000], formats: ['webp', 'jpeg'] } } });
    const names = standardVariants(config.tenants.shop!).map((v) => `${v.fmt}@${v.w}`);
    assert.deepEqual(names, ['webp@320', 'legacy@320', 'webp@700', 'legacy@700', 'webp@1000', 'legacy@1000']);
  });

  it('refuses explicit widths that no request could ask for', () => {
    assert.match(problemsOf({ tenants: { shop: { breakpoints: [100, 300], variants: { widths: [300, 400] } } } }), /tenants\.shop\.variants\.widths\[1\]: 400 is not one of breakpoints/);
    assert.match(problemsOf({ tenants: { shop: { formats: ['webp'], variants: { formats: ['avif'] } } } }), /tenants\.shop\.variants\.formats\[0\]: avif is not one of formats/);
  });
});
