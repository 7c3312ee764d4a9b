import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { normalizeQuery, snapUp, type QueryPairs } from './normalize.ts';
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
