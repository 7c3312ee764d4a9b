import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { publicPolicyOf, publicPolicyProblems, type PublicPolicy } from './public-policy.ts';
import { MAX_DIMENSION, parseTenant, policyOf } from './tenant-config.ts';

const good: PublicPolicy = {
  tenant: 'shop',
  baseUrl: 'https://images.example.com',
  breakpoints: [1, 320, MAX_DIMENSION],
  qualities: [1, 75, 100],
  defaultQuality: 75,
  formats: ['webp', 'png'],
  signed: false,
  maxSignedTtl: 1,
};

describe('publicPolicyOf', () => {
  it('keeps what a front end needs and nothing else', () => {
    const tenant = parseTenant('shop', { breakpoints: [320, 640], qualities: [60, 80], defaultQuality: 80, formats: ['webp'], signing: { required: true, keys: { k1: 'k1-secret-0123456789abcdefghijklmnopqrstuvwxyz' }, maxTtl: 600 }, referers: ['shop.example'] });
    assert.deepEqual(publicPolicyOf('shop', policyOf(tenant)), {
      tenant: 'shop',
      breakpoints: [320, 640],
      qualities: [60, 80],
      defaultQuality: 80,
      formats: ['webp'],
      signed: true,
      maxSignedTtl: 600,
    });
  });

  it('takes a base URL without its trailing slashes, and copies the lists', () => {
    const policy = policyOf(parseTenant('shop', {}));
    const pub = publicPolicyOf('shop', policy, 'https://d111.cloudfront.net//');
    assert.equal(pub.baseUrl, 'https://d111.cloudfront.net');
    assert.notEqual(pub.breakpoints, policy.breakpoints);
    assert.notEqual(pub.qualities, policy.qualities);
    assert.notEqual(pub.formats, policy.formats);
    assert.equal('baseUrl' in publicPolicyOf('shop', policy, ''), false);
  });

  it('gives a policy publicPolicyProblems accepts, for any valid tenant', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 8192 }), { minLength: 1, maxLength: 8 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 5 }),
        fc.subarray(['avif', 'webp', 'jpeg', 'png'] as const, { minLength: 1 }),
        (b, q, formats) => {
          const qualities = q.sort((x, y) => x - y);
          const tenant = parseTenant('shop', { breakpoints: b.sort((x, y) => x - y), qualities, defaultQuality: qualities[0], formats });
          assert.deepEqual(publicPolicyProblems(JSON.parse(JSON.stringify(publicPolicyOf('shop', policyOf(tenant), 'http://127.0.0.1:8080')))), []);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('publicPolicyProblems', () => {
  it('accepts a policy at every bound, with or without a base URL', () => {
    assert.deepEqual(publicPolicyProblems(good), []);
    assert.deepEqual(publicPolicyProblems({ ...good, baseUrl: undefined }), []);
    assert.deepEqual(publicPolicyProblems({ ...good, baseUrl: '' }), []);
    assert.deepEqual(publicPolicyProblems({ ...good, baseUrl: 'http://127.0.0.1:8080', signed: true }), []);
  });

  const cases: [string, unknown, string][] = [
    ['null', null, 'Expected an object for the policy but received null.'],
    ['an array', [good], 'Expected an object for the policy but received [{"tenant"'],
    ['a string', 'shop', 'Expected an object for the policy but received "shop".'],
    ['a tenants-file entry', { ...good, signing: { keys: { k1: 'secret' } }, referers: [] }, 'Expected only tenant, baseUrl, breakpoints, qualities, defaultQuality, formats, signed, maxSignedTtl but received also signing, referers: make the policy with publicPolicyFromConfig (pictor/signer) or `pictor tenants policy`'],
    ['a bad tenant', { ...good, tenant: 'Shop' }, 'Expected a tenant id (3 to 32 of a-z 0-9 -) for tenant but received "Shop".'],
    ['no tenant', { ...good, tenant: undefined }, 'for tenant but received undefined.'],
    ['a base URL with a path', { ...good, baseUrl: 'https://a.example/img' }, "Expected an origin such as 'https://images.example.com' (no path) for baseUrl"],
    ['a base URL without a scheme', { ...good, baseUrl: 'a.example' }, 'for baseUrl but received "a.example".'],
    ['a base URL after something else', { ...good, baseUrl: 'xhttps://a.example' }, 'for baseUrl but received "xhttps://a.example".'],
    ['a base URL that is not a string', { ...good, baseUrl: 1 }, 'for baseUrl but received 1.'],
    ['a base URL with a space', { ...good, baseUrl: 'https://a .example' }, 'for baseUrl'],
    ['descending breakpoints', { ...good, breakpoints: [320, 160] }, 'Expected ascending integers from 1 to 8192 for breakpoints but received [320,160].'],
    ['repeated breakpoints', { ...good, breakpoints: [320, 320] }, 'for breakpoints'],
    ['no breakpoints', { ...good, breakpoints: [] }, 'for breakpoints'],
    ['breakpoints not a list', { ...good, breakpoints: 320 }, 'for breakpoints'],
    ['a breakpoint of 0', { ...good, breakpoints: [0, 320] }, 'for breakpoints'],
    ['a breakpoint over the tenants file\'s largest', { ...good, breakpoints: [320, MAX_DIMENSION + 1] }, 'for breakpoints'],
    ['a fractional breakpoint', { ...good, breakpoints: [320.5] }, 'for breakpoints'],
    ['a breakpoint as a string', { ...good, breakpoints: ['320'] }, 'for breakpoints'],
    ['a quality over 100', { ...good, qualities: [75, 101] }, 'Expected ascending integers from 1 to 100 for qualities but received [75,101].'],
    ['a default quality not listed', { ...good, defaultQuality: 80 }, 'Expected one of qualities for defaultQuality but received 80.'],
    ['no formats', { ...good, formats: [] }, 'Expected a non-empty list of avif, webp, jpeg, png for formats but received [].'],
    ['an unknown format', { ...good, formats: ['webp', 'gif'] }, 'for formats but received ["webp","gif"].'],
    ['formats not a list', { ...good, formats: 'webp' }, 'for formats'],
    ['signed as a string', { ...good, signed: 'false' }, 'Expected true or false for signed but received "false".'],
    ['a zero lifetime', { ...good, maxSignedTtl: 0 }, 'Expected a positive number of seconds for maxSignedTtl but received 0.'],
    ['a fractional lifetime', { ...good, maxSignedTtl: 1.5 }, 'for maxSignedTtl but received 1.5.'],
    ['a lifetime as a string', { ...good, maxSignedTtl: '60' }, 'for maxSignedTtl but received "60".'],
  ];
  for (const [name, value, message] of cases) {
    it(`refuses ${name}`, () => {
      const problems = publicPolicyProblems(value);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.ok(problems[0]!.includes(message), problems[0]);
    });
  }

  it('lists every problem, and cuts long values', () => {
    const problems = publicPolicyProblems({ tenant: 'x'.repeat(100), qualities: [50], defaultQuality: 75 });
    assert.equal(problems.length, 6, problems.join('\n'));
    assert.ok(problems[0]!.endsWith('"' + 'x'.repeat(59) + '....'), problems[0]);
    assert.ok(problems.some((p) => p.includes('for defaultQuality')));
    const sixty = 'x'.repeat(58);
    assert.deepEqual(publicPolicyProblems({ ...good, tenant: sixty }), [`Expected a tenant id (3 to 32 of a-z 0-9 -) for tenant but received "${sixty}".`], 'sixty characters are shown whole');
  });

  it('reads a value JSON cannot write without failing', () => {
    const cyclic: { [key: string]: unknown } = { ...good };
    cyclic.breakpoints = cyclic;
    assert.deepEqual(publicPolicyProblems(cyclic), ['Expected ascending integers from 1 to 8192 for breakpoints but received [object Object].']);
    assert.deepEqual(publicPolicyProblems({ ...good, tenant: Symbol('shop') }), ['Expected a tenant id (3 to 32 of a-z 0-9 -) for tenant but received Symbol(shop).']);
  });
});
