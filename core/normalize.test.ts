import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { normalizeQuery, queryPairs, snapUp, type QueryPairs } from './normalize.ts';
import type { TenantPolicy } from './tenant-policy.ts';
import { policyOf } from './tenant-config.ts';
import { TEST_CONFIG, CHROME_ACCEPT } from '../test/support/tenants.ts';
import { VIEWER_CASES } from '../test/support/viewer-cases.ts';
import { NOT_FOUND_PATH } from './image-path.ts';
import { runViewerSource } from '../test/support/run-viewer.ts';
import { edgeStoreEntries } from './tenant-config.ts';
import { viewerEvent } from '../test/support/viewer-cases.ts';

const policy = policyOf(TEST_CONFIG.tenants.acme!);
const store = edgeStoreEntries(TEST_CONFIG);

function pairs(query: string): QueryPairs {
  return query ? query.split('&').map((p) => [p.split('=')[0]!, p.slice(p.indexOf('=') + 1)] as const) : [];
}

function keyOf(query: QueryPairs, accept?: string): string {
  const result = normalizeQuery(query, policy, accept);
  assert.ok(result.ok, !result.ok ? result.message : '');
  return result.normalized.query;
}

describe('viewer cases, through core', () => {
  for (const c of VIEWER_CASES) {
    it(c.name, async () => {
      const out = await runViewerSource(viewerEvent(c), store);
      if ('query' in c.expect) {
        assert.equal((out as { querystring: unknown }).querystring, c.expect.query);
      } else if ('notFound' in c.expect) {
        assert.deepEqual([(out as { uri: string }).uri, (out as { querystring: unknown }).querystring], [NOT_FOUND_PATH + c.uri, '']);
      } else {
        const response = out as { statusCode: number; body: { data: string } };
        assert.equal(response.statusCode, c.expect.status);
        assert.equal(JSON.parse(response.body.data).code, c.expect.code);
      }
    });
  }
});

describe('snapUp', () => {
  it('picks the smallest breakpoint at or above, clamping above the largest', () => {
    assert.equal(snapUp(1, [100, 200]), 100);
    assert.equal(snapUp(100, [100, 200]), 100);
    assert.equal(snapUp(101, [100, 200]), 200);
    assert.equal(snapUp(201, [100, 200]), 200);
    assert.equal(snapUp(undefined, [100, 200]), undefined);
  });
});

const FORMATS = ['auto', 'avif', 'webp', 'jpeg', 'jpg', 'png', 'legacy'];
const validParam = fc.oneof(
  fc.integer({ min: 1, max: 99999 }).map((v) => ['w', String(v)] as const),
  fc.integer({ min: 1, max: 99999 }).map((v) => ['h', String(v)] as const),
  fc.integer({ min: 1, max: 100 }).map((v) => ['q', String(v)] as const),
  fc.constantFrom('cover', 'contain', 'inside').map((v) => ['fit', v] as const),
  fc.constantFrom(...FORMATS).map((v) => ['fmt', v] as const),
);
/** A request: each known parameter at most once, in any order. */
const request = fc.uniqueArray(validParam, { selector: (p) => p[0], maxLength: 5 });
const junkName = fc.oneof(
  fc.constantFrom('utm_source', 'utm_campaign', 'fbclid', 'gclid', 'sessionid', 'cb', '_', 'width', 'format'),
  fc.stringMatching(/^[a-z_]{1,12}$/).filter((n) => !['w', 'h', 'q', 'fit', 'fmt', 'exp', 'kid', 'sig'].includes(n)),
);
const junk = fc.array(fc.tuple(junkName, fc.stringMatching(/^[A-Za-z0-9%._-]{0,16}$/)), { maxLength: 4 });
const accept = fc.constantFrom(undefined, CHROME_ACCEPT, 'image/webp,*/*', '*/*', 'image/avif;q=0');

describe('normalization properties', () => {
  it('is idempotent: normalizing a key yields the same key', () => {
    fc.assert(
      fc.property(request, junk, accept, (params, noise, acc) => {
        const key = keyOf([...params, ...noise], acc);
        assert.equal(keyOf(pairs(key), acc), key);
        assert.equal(keyOf(pairs(key), undefined), key, 'a resolved key no longer depends on Accept');
      }),
    );
  });

  it('maps permutations, case changes and junk parameters to one key', () => {
    fc.assert(
      fc.property(request, junk, accept, fc.infiniteStream(fc.boolean()), (params, noise, acc, coins) => {
        const base = keyOf(params, acc);
        const shuffled = [...params, ...noise]
          .map((p) => [coins.next().value ? p[0].toUpperCase() : p[0], p[0] === 'fmt' || p[0] === 'fit' ? p[1].toUpperCase() : p[1]] as const)
          .sort(() => (coins.next().value ? 1 : -1));
        assert.equal(keyOf(shuffled, acc), base);
      }),
    );
  });

  it('only ever keys widths and heights on breakpoints, and qualities on the allowed set', () => {
    fc.assert(
      fc.property(request, accept, (params, acc) => {
        const result = normalizeQuery(params, policy, acc);
        assert.ok(result.ok);
        const spec = result.normalized.spec;
        if (spec.w !== undefined) assert.ok(policy.breakpoints.includes(spec.w), `w=${spec.w}`);
        if (spec.h !== undefined) assert.ok(policy.breakpoints.includes(spec.h), `h=${spec.h}`);
        if (spec.q !== undefined) assert.ok(policy.qualities.includes(spec.q), `q=${spec.q}`);
        assert.notEqual(spec.fmt as string, 'auto');
      }),
    );
  });

  it('never lets a malformed width through', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 11 }).filter((s) => !/^[0-9]{1,9}$/.test(s) || Number(s) === 0), (raw) => {
        const result = normalizeQuery([['w', raw]], policy, undefined);
        assert.equal(result.ok, false);
        if (!result.ok) assert.equal(result.code, 'InvalidParameter');
      }),
    );
  });
});

describe('signature parameters', () => {
  const sig = 'A'.repeat(43);
  const signed = (exp: string, kid: string, s: string) =>
    normalizeQuery([['w', '320'], ['exp', exp], ['kid', kid], ['sig', s]], policy, undefined);

  it('takes exp, kid and sig apart from the variant, and keeps them out of the key', () => {
    const result = signed('1767225600', 'k1', sig);
    assert.ok(result.ok);
    assert.deepEqual(result.normalized.signature, { exp: 1767225600, kid: 'k1', sig });
    assert.equal(result.normalized.query, 'fmt=legacy&q=75&w=320');
    assert.equal(result.normalized.signedQuery, 'fmt=auto&q=75&w=320');
  });

  it('has no signature unless all three are present', () => {
    for (const query of [[['exp', '1'], ['kid', 'k1']], [['exp', '1'], ['sig', sig]], [['kid', 'k1'], ['sig', sig]], []] as [string, string][][]) {
      const result = normalizeQuery(query, policy, undefined);
      assert.ok(result.ok);
      assert.equal(result.normalized.signature, undefined, JSON.stringify(query));
    }
  });

  // Each pattern is anchored at both ends and bounded in length: junk before or after a valid value is refused.
  const cases: [name: string, exp: string, kid: string, sig: string, ok: boolean][] = [
    ['exp of 12 digits', '999999999999', 'k1', sig, true],
    ['exp of 13 digits', '1000000000000', 'k1', sig, false],
    ['exp with a leading sign', '-1767225600', 'k1', sig, false],
    ['exp with junk before', 'x1767225600', 'k1', sig, false],
    ['exp with junk after', '1767225600x', 'k1', sig, false],
    ['empty exp', '', 'k1', sig, false],
    ['kid of 32', '1767225600', 'k'.repeat(32), sig, true],
    ['kid of 33', '1767225600', 'k'.repeat(33), sig, false],
    ['kid with every allowed character', '1767225600', 'Az09_-', sig, true],
    ['kid with junk before', '1767225600', '.k1', sig, false],
    ['kid with junk after', '1767225600', 'k1.', sig, false],
    ['empty kid', '1767225600', '', sig, false],
    ['sig of 16', '1767225600', 'k1', 'A'.repeat(16), true],
    ['sig of 15', '1767225600', 'k1', 'A'.repeat(15), false],
    ['sig of 128', '1767225600', 'k1', 'A'.repeat(128), true],
    ['sig of 129', '1767225600', 'k1', 'A'.repeat(129), false],
    ['sig in base64url', '1767225600', 'k1', 'az09AZ_-az09AZ_-', true],
    ['sig with padding', '1767225600', 'k1', sig + '=', false],
    ['sig in plain base64', '1767225600', 'k1', '+' + sig, false],
    ['sig with junk after', '1767225600', 'k1', sig + '/', false],
  ];
  for (const [name, exp, kid, s, ok] of cases) {
    it(`${ok ? 'accepts' : 'refuses'} ${name}`, () => {
      const result = signed(exp, kid, s);
      if (ok) {
        assert.ok(result.ok, !result.ok ? result.message : '');
        assert.ok(result.normalized.signature);
      } else {
        assert.equal(result.ok, false);
        if (!result.ok) {
          assert.equal(result.code, 'InvalidParameter');
          const param = name.match(/exp|kid|sig/)![0];
          assert.match(result.message, new RegExp(`^Expected .+ for ${param} but received '`));
        }
      }
    });
  }
});

describe('queryPairs', () => {
  it("flattens CloudFront's query object, every repeated value kept, nothing decoded", () => {
    assert.deepEqual(queryPairs({}), []);
    assert.deepEqual(queryPairs({ w: { value: '320' }, fmt: { value: 'webp' } }), [['w', '320'], ['fmt', 'webp']]);
    assert.deepEqual(queryPairs({ w: { value: '320', multiValue: [{ value: '320' }, { value: '640' }] }, q: { value: '%37%35' } }), [['w', '320'], ['w', '640'], ['q', '%37%35']]);
  });

  it('splits a raw query string the same way', () => {
    assert.deepEqual(queryPairs(''), []);
    assert.deepEqual(queryPairs('w=320&W=640&flag&e=a=b&=x'), [['w', '320'], ['W', '640'], ['flag', ''], ['e', 'a=b'], ['', 'x']]);
  });
});

describe('normalizeQuery, case by case', () => {
  const small: TenantPolicy = { breakpoints: [100, 200], qualities: [50, 80], defaultQuality: 80, formats: ['webp', 'png'], signed: false, ttl: 60, maxSignedTtl: 86400 };
  const ok: [query: string, accept: string | undefined, key: string, signedQuery: string][] = [
    ['', undefined, 'fmt=legacy&q=80', 'fmt=auto&q=80'],
    ['fmt=legacy&q=10', undefined, 'fmt=legacy&q=50', 'fmt=legacy&q=50'],
    ['fmt=auto', 'image/webp', 'fmt=webp&q=80', 'fmt=auto&q=80'],
    ['fmt=png&q=50&w=150', 'image/webp', 'fmt=png&w=200', 'fmt=png&w=200'],
    ['fmt=auto&q=99', 'image/png', 'fmt=legacy&q=80', 'fmt=auto&q=80'],
    ['w=100&h=300&fit=INSIDE', undefined, 'fit=inside&fmt=legacy&h=200&q=80&w=100', 'fit=inside&fmt=auto&h=200&q=80&w=100'],
    ['h=1&fit=contain', undefined, 'fmt=legacy&h=100&q=80', 'fmt=auto&h=100&q=80'],
    ['q=100', undefined, 'fmt=legacy&q=80', 'fmt=auto&q=80'],
    ['w=999999999', undefined, 'fmt=legacy&q=80&w=200', 'fmt=auto&q=80&w=200'],
  ];
  for (const [query, accept, key, signedQuery] of ok) {
    it(`keys ?${query} as ${key}, signing ${signedQuery}`, () => {
      const result = normalizeQuery(pairs(query), small, accept);
      assert.ok(result.ok, !result.ok ? result.message : '');
      assert.equal(result.normalized.query, key);
      assert.equal(result.normalized.signedQuery, signedQuery);
      assert.deepEqual(result.normalized.spec, Object.fromEntries(pairs(key).map(([n, v]) => [n, /^[0-9]+$/.test(v) ? Number(v) : v])));
      assert.equal(result.normalized.signature, undefined);
    });
  }

  const refused: [query: string, code: string, message: string][] = [
    ['w=0', 'InvalidParameter', "Expected a positive integer for w but received '0'."],
    ['h=1234567890', 'InvalidParameter', "Expected a positive integer for h but received '1234567890'."],
    ['q=0', 'InvalidParameter', "Expected a positive integer for q but received '0'."],
    ['q=101', 'InvalidParameter', "Expected an integer from 1 to 100 for q but received '101'."],
    ['fit=fill', 'InvalidParameter', "Expected one of cover, contain, inside for fit but received 'fill'."],
    ['fmt=gif', 'InvalidParameter', "Expected one of auto, avif, webp, jpeg, jpg, png, legacy for fmt but received 'gif'."],
    ['fmt=toString', 'InvalidParameter', "Expected one of auto, avif, webp, jpeg, jpg, png, legacy for fmt but received 'toString'."],
    ['w=' + 'x'.repeat(33), 'InvalidParameter', `Expected a positive integer for w but received '${'x'.repeat(32)}...'.`],
    ['w=' + 'x'.repeat(32), 'InvalidParameter', `Expected a positive integer for w but received '${'x'.repeat(32)}'.`],
    ['exp=soon', 'InvalidParameter', "Expected a time in epoch seconds for exp but received 'soon'."],
    ['kid=a.b', 'InvalidParameter', "Expected a key id for kid but received 'a.b'."],
    ['sig=short', 'InvalidParameter', "Expected a base64url signature for sig but received 'short'."],
    ['fmt=webp&FMT=png', 'ConflictingParameter', 'Parameter fmt is repeated with different values.'],
    ['fmt=avif', 'FormatNotAllowed', 'Format avif is not enabled for this tenant.'],
    ['fmt=jpg', 'FormatNotAllowed', 'Format jpeg is not enabled for this tenant.'],
  ];
  for (const [query, code, message] of refused) {
    it(`refuses ?${query.length > 40 ? query.slice(0, 40) + '…' : query} with ${code}`, () => {
      assert.deepEqual(normalizeQuery(pairs(query), small, undefined), { ok: false, code, message });
    });
  }

  it("ignores junk named like an object's own properties", () => {
    const result = normalizeQuery(pairs('constructor=1&toString=x&__proto__=y&w=100'), small, undefined);
    assert.ok(result.ok, !result.ok ? result.message : '');
    assert.equal(result.normalized.query, 'fmt=legacy&q=80&w=100');
  });

  it('accepts a repeated parameter with one value, however its name and value are cased', () => {
    const result = normalizeQuery(pairs('fmt=webp&FMT=WEBP&w=100&W=100'), small, undefined);
    assert.ok(result.ok);
    assert.equal(result.normalized.query, 'fmt=webp&q=80&w=100');
  });
});
