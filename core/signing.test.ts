import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CLOCK_SKEW_SECONDS, constantTimeEqual, stringToSign, verifySignature } from './signing.ts';
import { hmacSha256, signUrl } from '../signer/sign-url.ts';
import { edgeStoreEntries, parseConfig, policyOf } from './tenant-config.ts';
import { TEST_CONFIG } from '../test/support/tenants.ts';
import { runViewerSource } from '../test/support/run-viewer.ts';
import { viewerEvent } from '../test/support/viewer-cases.ts';

const tenant = TEST_CONFIG.tenants['acme-private']!;
const policy = policyOf(tenant);
const K1 = tenant.signing.keys.k1!;
const K2 = tenant.signing.keys.k2!;
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const inOneHour = new Date(NOW + 3600_000);

async function statusOf(url: string, store = edgeStoreEntries(TEST_CONFIG), now = NOW) {
  const [uri, query = ''] = url.split('?') as [string, string?];
  const out = (await runViewerSource(viewerEvent({ uri, query }), store, now)) as { statusCode?: number; body?: { data: string }; querystring?: string };
  return out.statusCode === undefined ? { status: 200, query: out.querystring } : { status: out.statusCode, code: JSON.parse(out.body!.data).code };
}

describe('signed URLs', () => {
  it('accepts a signed URL and keeps signature parameters out of the key', async () => {
    const url = signUrl({ url: '/img/acme-private/sample?w=320', policy, kid: 'k1', secret: K1, expiresAt: inOneHour });
    assert.deepEqual(await statusOf(url), { status: 200, query: 'fmt=legacy&q=75&w=320' });
  });

  it('survives reordering, case changes and junk, because it covers the canonical query', async () => {
    const url = signUrl({ url: '/img/acme-private/sample?w=287', policy, kid: 'k1', secret: K1, expiresAt: inOneHour });
    const [path, query] = url.split('?') as [string, string];
    const reordered = `${path}?utm_source=mail&${query.split('&').reverse().join('&').replace('w=', 'W=')}`;
    assert.equal((await statusOf(reordered)).status, 200);
  });

  it('rejects an expired URL', async () => {
    const url = signUrl({ url: '/img/acme-private/sample?w=320', policy, kid: 'k1', secret: K1, expiresAt: new Date(NOW - 1000) });
    assert.deepEqual(await statusOf(url), { status: 403, code: 'SignatureExpired' });
  });

  it("refuses a URL valid for longer than the tenant allows, a leaked one that would never die", async () => {
    const maxTtl = tenant.signing.maxTtl;
    // Signed by hand: signUrl itself refuses to make such a URL.
    const at = (seconds: number) => {
      const exp = NOW / 1000 + seconds;
      return `/img/acme-private/sample?fmt=auto&q=75&w=320&exp=${exp}&kid=k1&sig=${hmacSha256(K1, stringToSign('/img/acme-private/sample', 'fmt=auto&q=75&w=320', exp, 'k1'))}`;
    };
    assert.equal((await statusOf(at(maxTtl))).status, 200);
    // A signer's clock may run a little ahead of CloudFront's.
    assert.equal((await statusOf(at(maxTtl + CLOCK_SKEW_SECONDS))).status, 200);
    assert.deepEqual(await statusOf(at(maxTtl + CLOCK_SKEW_SECONDS + 1)), { status: 403, code: 'SignatureLifetimeExceeded' });
    const year5138 = Date.UTC(5138, 0, 1) / 1000;
    assert.deepEqual(await statusOf(at(year5138 - NOW / 1000)), { status: 403, code: 'SignatureLifetimeExceeded' });
  });

  it("bounds the lifetime by the tenant's own setting", async () => {
    const config = structuredClone(TEST_CONFIG);
    config.tenants['acme-private']!.signing.maxTtl = 600;
    const url = signUrl({ url: '/img/acme-private/sample?w=320', policy, kid: 'k1', secret: K1, expiresAt: new Date(NOW + 3600_000), now: new Date(NOW) });
    assert.deepEqual(await statusOf(url, edgeStoreEntries(config)), { status: 403, code: 'SignatureLifetimeExceeded' });
    assert.equal((await statusOf(url)).status, 200, 'the default lifetime, a day, allows an hour');
  });

  it("refuses to sign a URL the tenant's edge would refuse", () => {
    const sign = (seconds: number) => () => signUrl({ url: '/img/acme-private/sample?w=320', policy, kid: 'k1', secret: K1, expiresAt: new Date(NOW + seconds * 1000), now: new Date(NOW) });
    assert.doesNotThrow(sign(tenant.signing.maxTtl));
    assert.throws(sign(tenant.signing.maxTtl + 1), { name: 'SignatureLifetimeExceeded', message: /allows at most 86400 s \(signing\.maxTtl\)/ });
  });

  it('rejects a tampered URL', async () => {
    const url = signUrl({ url: '/img/acme-private/sample?w=320', policy, kid: 'k1', secret: K1, expiresAt: inOneHour });
    assert.deepEqual(await statusOf(url.replace('w=320', 'w=1280')), { status: 403, code: 'SignatureInvalid' });
    const exp = /exp=(\d+)/.exec(url)![1]!;
    assert.deepEqual(await statusOf(url.replace(`exp=${exp}`, `exp=${Number(exp) + 1}`)), { status: 403, code: 'SignatureInvalid' });
    const flipped = url.replace(/sig=(.)/, (_, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
    assert.deepEqual(await statusOf(flipped), { status: 403, code: 'SignatureInvalid' });
  });

  it("rejects tenant A's token on tenant B's path", async () => {
    const config = structuredClone(TEST_CONFIG);
    config.tenants.other = { ...structuredClone(tenant), signing: { ...tenant.signing, keys: { k1: 'other-tenant-secret-0123456789abcdefghijklmnop' } } };
    const store = edgeStoreEntries(config);
    const url = signUrl({ url: '/img/acme-private/sample?w=320', policy, kid: 'k1', secret: K1, expiresAt: inOneHour });
    assert.deepEqual(await statusOf(url.replace('/acme-private/', '/other/'), store), { status: 403, code: 'SignatureInvalid' });
  });

  it('rejects an unknown key id', async () => {
    const url = signUrl({ url: '/img/acme-private/sample?w=320', policy, kid: 'k9', secret: K1, expiresAt: inOneHour });
    assert.deepEqual(await statusOf(url), { status: 403, code: 'SignatureInvalid' });
  });

  it('rotates with overlap: old and new keys both work until the old one is removed', async () => {
    const store = edgeStoreEntries(TEST_CONFIG);
    const old = signUrl({ url: '/img/acme-private/sample?w=320', policy, kid: 'k1', secret: K1, expiresAt: inOneHour });
    const fresh = signUrl({ url: '/img/acme-private/sample?w=320', policy, kid: 'k2', secret: K2, expiresAt: inOneHour });
    assert.equal((await statusOf(old, store)).status, 200);
    assert.equal((await statusOf(fresh, store)).status, 200);
    store.delete('key:acme-private:k1');
    assert.deepEqual(await statusOf(old, store), { status: 403, code: 'SignatureInvalid' });
    assert.equal((await statusOf(fresh, store)).status, 200);
  });

  it('signs the string the verifier checks', () => {
    const input = { path: '/img/acme-private/sample', signedQuery: 'fmt=auto&q=75&w=320', now: 1000, maxTtl: 3600 };
    const sig = hmacSha256(K1, stringToSign(input.path, input.signedQuery, 2000, 'k1'));
    assert.equal(verifySignature({ ...input, signature: { exp: 2000, kid: 'k1', sig }, secret: K1 }, hmacSha256), null);
    assert.equal(verifySignature({ ...input, signature: { exp: 2000, kid: 'k1', sig }, secret: K2 }, hmacSha256)?.code, 'SignatureInvalid');
    assert.equal(verifySignature({ ...input, maxTtl: 600, signature: { exp: 2000, kid: 'k1', sig }, secret: K1 }, hmacSha256)?.code, 'SignatureLifetimeExceeded');
  });
});

/**
 * Known-answer vectors, published in docs/SIGNING.md for signers in other languages. Each expected
 * signature was computed outside this code, with `openssl dgst -sha256 -hmac SECRET -binary` over the
 * string to sign, base64url-encoded without padding, and checked against the scheme by hand: a change to
 * the scheme's name, separators, field order or encoding breaks every URL already signed, and these tests.
 */
describe('signing scheme, known answers', () => {
  const secret = 'pictor-test-vector-secret-0123456789';
  // A tenant with every default: breakpoints 160 … 2560, qualities 40, 60, 75, 90, default quality 75.
  const acme = policyOf(parseConfig({ tenants: { acme: { signing: { required: true, keys: { k1: secret } } } } }).tenants.acme!);
  const exp = 1767225600; // 2026-01-01T00:00:00Z
  const vectors = [
    {
      url: '/img/acme/sku-42?w=640',
      kid: 'k1',
      toSign: 'PICTOR1-HMAC-SHA256\n/img/acme/sku-42\nfmt=auto&q=75&w=640\n1767225600\nk1',
      sig: 'HXm7loFkuFfDMUuFlhCruD5wfnEt0jKixiuZ4INdqnI',
      signed: '/img/acme/sku-42?fmt=auto&q=75&w=640&exp=1767225600&kid=k1&sig=HXm7loFkuFfDMUuFlhCruD5wfnEt0jKixiuZ4INdqnI',
    },
    {
      // Snapped, lowercased, reordered, junk dropped: what is signed is the canonical query.
      url: '/img/acme/sku-42/v3?h=480&W=600&fmt=WEBP&q=80&utm_source=mail',
      kid: '2026-01',
      toSign: 'PICTOR1-HMAC-SHA256\n/img/acme/sku-42/v3\nfit=cover&fmt=webp&h=480&q=90&w=640\n1767225600\n2026-01',
      sig: '2zW54NP_2FjRzw7Lqk5EJ2-pUKerDYULTDkrZKYnRMc',
      signed: '/img/acme/sku-42/v3?fit=cover&fmt=webp&h=480&q=90&w=640&exp=1767225600&kid=2026-01&sig=2zW54NP_2FjRzw7Lqk5EJ2-pUKerDYULTDkrZKYnRMc',
    },
  ];

  for (const v of vectors) {
    it(`signs ${v.url} with kid ${v.kid} as published`, () => {
      const [path, query] = v.toSign.split('\n').slice(1, 3) as [string, string];
      assert.equal(stringToSign(path, query, exp, v.kid), v.toSign);
      assert.equal(hmacSha256(secret, v.toSign), v.sig);
      assert.equal(signUrl({ url: v.url, policy: acme, kid: v.kid, secret, expiresAt: new Date(exp * 1000), now: new Date((exp - 3600) * 1000) }), v.signed);
    });

    it(`verifies the published ${v.kid} URL until, and not at, its exp`, () => {
      const input = { path: v.toSign.split('\n')[1]!, signedQuery: v.toSign.split('\n')[2]!, secret, maxTtl: 86400 };
      const signature = { exp, kid: v.kid, sig: v.sig };
      assert.equal(verifySignature({ ...input, signature, now: exp - 1 }, hmacSha256), null);
      assert.equal(verifySignature({ ...input, signature, now: exp }, hmacSha256)?.code, 'SignatureExpired', 'exp equal to now has expired');
      assert.equal(verifySignature({ ...input, signature, now: exp + 1 }, hmacSha256)?.code, 'SignatureExpired');
    });
  }
});

describe('verifySignature', () => {
  const path = '/img/shop/sku-42';
  const signedQuery = 'fmt=auto&q=75&w=320';
  const now = 1_767_225_600;
  const maxTtl = 600;
  const signature = (exp: number, kid = 'k1') => ({ exp, kid, sig: hmacSha256(K1, stringToSign(path, signedQuery, exp, kid)) });
  const verify = (sig: ReturnType<typeof signature> | undefined, secret: string | null = K1) => verifySignature({ path, signedQuery, signature: sig, secret, now, maxTtl }, hmacSha256);

  it('answers each way a signature fails with its own code and a message saying what to change', () => {
    assert.deepEqual(verify(undefined), { ok: false, code: 'SignatureRequired', message: 'This image requires a signed URL (exp, kid and sig).' });
    assert.deepEqual(verify(signature(now)), { ok: false, code: 'SignatureExpired', message: 'The signed URL has expired.' });
    assert.deepEqual(verify(signature(now + maxTtl + CLOCK_SKEW_SECONDS + 1)), {
      ok: false,
      code: 'SignatureLifetimeExceeded',
      message: 'The signed URL is valid for longer than this tenant allows (600 s).',
    });
    // An unknown key id and a wrong signature answer alike, so key ids cannot be probed.
    const invalid = { ok: false, code: 'SignatureInvalid', message: 'The signature does not match.' };
    assert.deepEqual(verify(signature(now + 60), null), invalid);
    assert.deepEqual(verify(signature(now + 60), K2), invalid);
  });

  it('accepts from one second after now to the longest lifetime plus the clock skew', () => {
    assert.equal(CLOCK_SKEW_SECONDS, 300, 'the 5 minutes SigV4 tolerates');
    for (const exp of [now + 1, now + maxTtl, now + maxTtl + CLOCK_SKEW_SECONDS]) assert.equal(verify(signature(exp)), null, String(exp - now));
  });

  it('covers the path, the query, exp and kid: a change to any one of them fails', () => {
    const good = signature(now + 60);
    const input = { path, signedQuery, signature: good, secret: K1, now, maxTtl };
    assert.equal(verifySignature(input, hmacSha256), null);
    for (const changed of [{ path: '/img/shop/sku-43' }, { signedQuery: 'fmt=auto&q=75&w=640' }, { signature: { ...good, exp: good.exp + 1 } }, { signature: { ...good, kid: 'k2' } }]) {
      assert.equal(verifySignature({ ...input, ...changed }, hmacSha256)?.code, 'SignatureInvalid', JSON.stringify(changed));
    }
  });
});

describe('constantTimeEqual', () => {
  it('agrees with === on any pair of strings', () => {
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => constantTimeEqual(a, b) === (a === b)));
    fc.assert(fc.property(fc.string(), (a) => constantTimeEqual(a, a)));
  });

  it('does not treat a prefix or an empty guess as equal', () => {
    assert.equal(constantTimeEqual('abcdef', 'abc'), false);
    assert.equal(constantTimeEqual('abcdef', ''), false);
    assert.equal(constantTimeEqual('abc', 'abcdef'), false);
  });
});
