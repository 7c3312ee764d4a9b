import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigSchema, edgeStoreEntries, parseConfig, STORE_QUOTAS } from './tenant-config.ts';
import { fieldRows, jsonSchemaOf } from '../scripts/schema-table.ts';
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

describe('tenant configuration, field by field', () => {
  it('fills in every documented default', () => {
    assert.deepEqual(parseConfig({ tenants: { shop: {} } }).tenants.shop, {
      breakpoints: [160, 320, 480, 640, 768, 1024, 1280, 1600, 1920, 2560],
      qualities: [40, 60, 75, 90],
      defaultQuality: 75,
      formats: ['avif', 'webp', 'jpeg', 'png'],
      signing: { required: false, keys: {}, maxTtl: 86400 },
      referers: [],
      variants: {},
      uploads: { maxBytes: 32 * 1024 * 1024, contentTypes: ['image/jpeg', 'image/png', 'image/webp', 'image/avif', 'image/gif', 'image/tiff'] },
      ttl: { unversioned: 60 },
    });
    assert.deepEqual(parseConfig({ tenants: { shop: { signing: {} } } }).tenants.shop!.signing, { required: false, keys: {}, maxTtl: 86400 });
  });

  const bounds: [name: string, tenant: unknown, where: RegExp | null][] = [
    ['uploads of one byte at most', { uploads: { maxBytes: 1 } }, null],
    ['uploads of 64 MiB', { uploads: { maxBytes: 64 * 1024 * 1024 } }, null],
    ['uploads over 64 MiB', { uploads: { maxBytes: 64 * 1024 * 1024 + 1 } }, /tenants\.shop\.uploads\.maxBytes: /],
    ['uploads of no bytes', { uploads: { maxBytes: 0 } }, /tenants\.shop\.uploads\.maxBytes: /],
    ['no upload content type', { uploads: { contentTypes: [] } }, /tenants\.shop\.uploads\.contentTypes: /],
    ['an upload type the pipeline cannot decode', { uploads: { contentTypes: ['image/heic'] } }, /tenants\.shop\.uploads\.contentTypes\[0\]: /],
    ['a breakpoint of 1', { breakpoints: [1] }, null],
    ['a breakpoint of 8192', { breakpoints: [8192] }, null],
    ['32 breakpoints', { breakpoints: Array.from({ length: 32 }, (_, i) => i + 1) }, null],
    ['no breakpoints', { breakpoints: [] }, /tenants\.shop\.breakpoints: /],
    ['a breakpoint of 0', { breakpoints: [0] }, /tenants\.shop\.breakpoints\[0\]: /],
    ['a breakpoint over 8192', { breakpoints: [8193] }, /tenants\.shop\.breakpoints\[0\]: /],
    ['a fractional breakpoint', { breakpoints: [100.5] }, /tenants\.shop\.breakpoints\[0\]: /],
    ['33 breakpoints', { breakpoints: Array.from({ length: 33 }, (_, i) => i + 1) }, /tenants\.shop\.breakpoints: /],
    ['repeated breakpoints', { breakpoints: [100, 100] }, /breakpoints must be strictly ascending/],
    ['a quality of 100', { qualities: [100], defaultQuality: 100 }, null],
    ['a quality over 100', { qualities: [101], defaultQuality: 101 }, /tenants\.shop\.qualities\[0\]: /],
    ['descending qualities', { qualities: [90, 40], defaultQuality: 40 }, /tenants\.shop\.qualities: qualities must be strictly ascending/],
    ['no formats', { formats: [] }, /tenants\.shop\.formats: /],
    ['a lifetime of a minute', { signing: { maxTtl: 60 } }, null],
    ['a lifetime of a year', { signing: { maxTtl: 31536000 } }, null],
    ['a lifetime under a minute', { signing: { maxTtl: 59 } }, /tenants\.shop\.signing\.maxTtl: /],
    ['a secret of 31 characters', { signing: { keys: { k1: 'x'.repeat(31) } } }, /tenants\.shop\.signing\.keys\.k1: /],
    ['a secret of 32 characters', { signing: { keys: { k1: 'x'.repeat(32) } } }, null],
    ['a bad key id', { signing: { keys: { 'k 1': 'x'.repeat(32) } } }, /tenants\.shop\.signing\.keys\.k 1: a key id is 1 to 32 of A-Z a-z 0-9 _ -/],
    ['five keys', { signing: { keys: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, `${i}`.repeat(32)])) } }, null],
    ['six keys', { signing: { keys: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, `${i}`.repeat(32)])) } }, /tenants\.shop\.signing\.keys: at most 5 active keys; remove the oldest/],
    ['a ttl of 0', { ttl: { unversioned: 0 } }, null],
    ['a negative ttl', { ttl: { unversioned: -1 } }, /tenants\.shop\.ttl\.unversioned: /],
    ['a ttl over a year', { ttl: { unversioned: 31536001 } }, /tenants\.shop\.ttl\.unversioned: /],
    ['a referer of 253 characters', { referers: ['a'.repeat(253)] }, null],
    ['a referer of 254 characters', { referers: ['a'.repeat(254)] }, /tenants\.shop\.referers\[0\]: /],
    ['16 variant widths', { variants: { widths: Array.from({ length: 16 }, () => 320) } }, null],
    ['17 variant widths', { variants: { widths: Array.from({ length: 17 }, () => 320) } }, /tenants\.shop\.variants\.widths: /],
    ['a variant width of 0', { variants: { widths: [0] } }, /tenants\.shop\.variants\.widths\[0\]: /],
    ['no variant formats', { variants: { formats: [] } }, /tenants\.shop\.variants\.formats: /],
    ['a variant width on the first breakpoint', { breakpoints: [100, 300], variants: { widths: [100] } }, null],
    ['legacy variants on a tenant without jpeg', { formats: ['webp'], variants: { formats: ['legacy', 'webp'] } }, null],
    ['an unknown signing field', { signing: { requried: true } }, /tenants\.shop\.signing: Unrecognized key/],
  ];
  for (const [name, tenant, where] of bounds) {
    it(`${where ? 'refuses' : 'accepts'} ${name}`, () => {
      if (where) assert.match(problemsOf({ tenants: { shop: tenant } }), where);
      else assert.doesNotThrow(() => parseConfig({ tenants: { shop: tenant } }));
    });
  }

  it('names the file, or says where the root is wrong', () => {
    assert.throws(() => parseConfig(42), { name: 'InvalidConfig', message: /^Invalid tenant configuration:\n {2}\(root\): / });
    assert.throws(() => parseConfig({ tenants: { shop: { ttl: { unversioned: -1 } } } }, 'deploy.json'), { message: /^Invalid deploy\.json:\n {2}tenants\.shop\.ttl\.unversioned: / });
    assert.match(problemsOf({ tenants: { shop: { breakpoints: [0] }, other: { formats: [] } } }), /:\n {2}tenants\.shop\.breakpoints\[0\]: .+\n {2}tenants\.other\.formats: /);
  });

  it('names the first tenant that held a secret when others share it', () => {
    const secret = 'one-secret-for-three-keys-0123456789abcdef';
    const message = problemsOf({ tenants: { shop: { signing: { keys: { k1: secret, k2: secret } } }, other: { signing: { keys: { b: secret } } } } });
    assert.match(message, /tenants\.other\.signing\.keys\.b: the same secret as tenants\.shop\.signing\.keys\.k1\./);
  });

  it('takes a tenant policy of exactly 1,024 bytes, and refuses one byte more', async () => {
    const { policyOf } = await import('./tenant-config.ts');
    const { encodePolicy } = await import('./tenant-policy.ts');
    const policy = policyOf(parseConfig({ tenants: { shop: {} } }).tenants.shop!);
    const size = (referers: string[]) => new TextEncoder().encode(encodePolicy({ ...policy, referers })).length;
    const base = Array.from({ length: 30 }, (_, i) => `shop-${i}.example.com`);
    const last = (n: number) => 'a'.repeat(n) + '.example.com';
    const fill = STORE_QUOTAS.valueBytes - size([...base, last(1)]) + 1;
    assert.equal(size([...base, last(fill)]), STORE_QUOTAS.valueBytes);
    assert.doesNotThrow(() => parseConfig({ tenants: { shop: { referers: [...base, last(fill)] } } }));
    assert.match(problemsOf({ tenants: { shop: { referers: [...base, last(fill + 1)] } } }), /its edge policy is 1025 bytes/);
  });

  it('renders standard PNG variants without a quality, which PNG does not have', async () => {
    const { standardVariants } = await import('./tenant-config.ts');
    const shop = parseConfig({ tenants: { shop: { formats: ['png', 'webp'], variants: { widths: [320], formats: ['png', 'webp'] } } } }).tenants.shop!;
    assert.deepEqual(standardVariants(shop), [{ fmt: 'png', w: 320 }, { fmt: 'webp', q: 75, w: 320 }]);
  });

  it('validates one tenant by the same rules', async () => {
    const { parseTenant } = await import('./tenant-config.ts');
    assert.equal(parseTenant('shop', {}).defaultQuality, 75);
    assert.throws(() => parseTenant('shop', { defaultQuality: 1 }), { name: 'InvalidConfig', message: /^Invalid tenant shop:\n {2}tenants\.shop\.defaultQuality: must be one of qualities \(40, 60, 75, 90\)/ });
    assert.throws(() => parseTenant('x', {}, 'PUT /tenants/x'), { message: /^Invalid PUT \/tenants\/x:\n {2}tenants\.x: a tenant id is 3 to 32/ });
  });
});

describe('what the stores hold of a tenant', async () => {
  const { configStoreEntries, decodeTaskConfig, encodeTaskConfig, policyOf, taskConfigStoreKey, viewerStoreEntries, withoutSigningKeys } = await import('./tenant-config.ts');
  const secret = 's'.repeat(40);
  const config = parseConfig({ tenants: { shop: { signing: { required: true, keys: { k1: secret }, maxTtl: 600 }, referers: ['shop.example.com'], ttl: { unversioned: 30 } } } });
  const shop = config.tenants.shop!;

  it("gives the edge the tenant's policy", () => {
    assert.deepEqual(policyOf(shop), {
      breakpoints: shop.breakpoints,
      qualities: [40, 60, 75, 90],
      defaultQuality: 75,
      formats: ['avif', 'webp', 'jpeg', 'png'],
      signed: true,
      ttl: 30,
      maxSignedTtl: 600,
      referers: ['shop.example.com'],
    });
  });

  it("gives the viewer's store the policy and the keys, and the pipeline's store the policy and the configuration, never a secret", () => {
    assert.deepEqual([...viewerStoreEntries('shop', shop, [{ kid: 'k1', secret }]).keys()], ['tenant:shop', 'key:shop:k1']);
    assert.equal(viewerStoreEntries('shop', shop, [{ kid: 'k1', secret }]).get('key:shop:k1'), secret);
    assert.deepEqual(edgeStoreEntries(config), viewerStoreEntries('shop', shop, [{ kid: 'k1', secret }]));
    const pipeline = configStoreEntries('shop', shop);
    assert.deepEqual([...pipeline.keys()], ['tenant:shop', 'config:shop']);
    assert.equal(taskConfigStoreKey('shop'), 'config:shop');
    assert.ok(![...pipeline.values()].some((value) => value.includes(secret)));
    assert.deepEqual(JSON.parse(pipeline.get('config:shop')!).referers, []);
  });

  it('reads back a stored task configuration, and nothing that is not one', () => {
    assert.deepEqual(decodeTaskConfig(encodeTaskConfig(shop)), { ...shop, signing: { ...shop.signing, keys: {} }, referers: [] });
    for (const text of [null, undefined, '', 'not json', '{"breakpoints":[2,1]}', '{"colour":"red"}']) assert.equal(decodeTaskConfig(text), null, String(text));
  });

  it('drops every signing key, and only that, for what must not hold secrets', () => {
    const without = withoutSigningKeys(config);
    assert.deepEqual(without.tenants.shop, { ...shop, signing: { ...shop.signing, keys: {} } });
    assert.deepEqual(config.tenants.shop!.signing.keys, { k1: secret }, 'the original is left as it was');
  });
});

describe("the tenants file's schema, as docs/TENANT-CONFIG.md is generated from it", () => {
  it('describes every field: the page has no row without its meaning', () => {
    const rows = fieldRows(jsonSchemaOf(ConfigSchema));
    assert.ok(rows.length >= 15, `${rows.length} fields`);
    for (const row of rows) assert.match(row.description, /\w{3,}.*\w{3,}/, `${row.path} has no description`);
  });

  it('describes the file, a tenant, a tenant id, a key id and a secret too, whose meaning the page states above its rows', () => {
    type Node = { description?: string; properties?: Record<string, Node>; propertyNames?: Node; additionalProperties?: Node | boolean };
    const undescribed: string[] = [];
    const walk = (node: Node, path: string): void => {
      if (!/\w{3,}.*\w{3,}/.test(node.description ?? '')) undescribed.push(path);
      for (const [name, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.${name}`);
      if (node.propertyNames) walk(node.propertyNames, `${path}{key}`);
      if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${path}{value}`);
    };
    walk(jsonSchemaOf(ConfigSchema) as Node, '$');
    assert.deepEqual(undescribed, []);
  });
});
