import { viewerRequestEvent } from '../../local/edge/viewer-event.ts';
import { CHROME_ACCEPT, SAFARI_OLD_ACCEPT } from './tenants.ts';

/**
 * One table of viewer-request cases, run against core, the built CloudFront
 * Function and the running local edge, so the three cannot drift apart.
 * `query` is the raw query string a viewer sends; a success names the canonical
 * query the function must forward (the query part of the cache key). `notFound`
 * is a request the function sends on to the origin's one answer for "not here",
 * so that it cannot be told apart from a missing image.
 */
export interface ViewerCase {
  readonly name: string;
  readonly uri: string;
  readonly query: string;
  readonly accept?: string;
  readonly method?: string;
  readonly referer?: string;
  readonly expect: { readonly status: number; readonly code: string } | { readonly query: string } | { readonly notFound: true };
}

export const VIEWER_CASES: readonly ViewerCase[] = [
  { name: 'width snaps up to a breakpoint', uri: '/img/acme/sample', query: 'w=287', expect: { query: 'fmt=legacy&q=75&w=320' } },
  { name: 'junk parameters are dropped', uri: '/img/acme/sample', query: 'w=287&utm_source=x&sessionid=abc&cb=123', expect: { query: 'fmt=legacy&q=75&w=320' } },
  { name: 'names are case-insensitive', uri: '/img/acme/sample', query: 'W=287', expect: { query: 'fmt=legacy&q=75&w=320' } },
  { name: 'order does not matter', uri: '/img/acme/sample', query: 'q=75&fmt=jpeg&w=300', expect: { query: 'fmt=jpeg&q=75&w=320' } },
  { name: 'format is lowercased, jpg is jpeg', uri: '/img/acme/sample', query: 'fmt=JPG&w=320', expect: { query: 'fmt=jpeg&q=75&w=320' } },
  { name: 'width above the largest clamps', uri: '/img/acme/sample', query: 'w=99999', expect: { query: 'fmt=legacy&q=75&w=1280' } },
  { name: 'quality snaps up', uri: '/img/acme/sample', query: 'w=320&q=60&fmt=webp', expect: { query: 'fmt=webp&q=75&w=320' } },
  { name: 'fit only with both sides', uri: '/img/acme/sample', query: 'w=320&fit=contain&fmt=webp', expect: { query: 'fmt=webp&q=75&w=320' } },
  { name: 'fit defaults to cover', uri: '/img/acme/sample', query: 'w=320&h=200&fmt=webp', expect: { query: 'fit=cover&fmt=webp&h=200&q=75&w=320' } },
  { name: 'png carries no quality', uri: '/img/acme/sample', query: 'w=320&q=90&fmt=png', expect: { query: 'fmt=png&w=320' } },
  { name: 'auto resolves to avif for Chrome', uri: '/img/acme/sample', query: 'w=320', accept: CHROME_ACCEPT, expect: { query: 'fmt=avif&q=75&w=320' } },
  { name: 'auto resolves to webp', uri: '/img/acme/sample', query: 'w=320&fmt=auto', accept: SAFARI_OLD_ACCEPT, expect: { query: 'fmt=webp&q=75&w=320' } },
  { name: 'avif refused with q=0', uri: '/img/acme/sample', query: 'w=320', accept: 'image/avif;q=0,image/webp', expect: { query: 'fmt=webp&q=75&w=320' } },
  { name: 'tenant without avif negotiates webp', uri: '/img/no-avif/sample', query: 'w=320', accept: CHROME_ACCEPT, expect: { query: 'fmt=webp&q=75&w=320' } },
  { name: 'repeated equal values are fine', uri: '/img/acme/sample', query: 'w=320&w=320', expect: { query: 'fmt=legacy&q=75&w=320' } },
  { name: 'versioned path', uri: '/img/acme/sample/v3', query: 'w=640', expect: { query: 'fmt=legacy&q=75&w=640' } },
  { name: 'no parameters', uri: '/img/acme/sample', query: '', expect: { query: 'fmt=legacy&q=75' } },
  { name: 'negative width', uri: '/img/acme/sample', query: 'w=-1', expect: { status: 400, code: 'InvalidParameter' } },
  { name: 'zero width', uri: '/img/acme/sample', query: 'w=0', expect: { status: 400, code: 'InvalidParameter' } },
  { name: 'NaN width', uri: '/img/acme/sample', query: 'w=abc', expect: { status: 400, code: 'InvalidParameter' } },
  { name: 'hex width', uri: '/img/acme/sample', query: 'w=0x10', expect: { status: 400, code: 'InvalidParameter' } },
  { name: 'exponent width', uri: '/img/acme/sample', query: 'w=1e3', expect: { status: 400, code: 'InvalidParameter' } },
  { name: 'empty width', uri: '/img/acme/sample', query: 'w=', expect: { status: 400, code: 'InvalidParameter' } },
  { name: 'fractional width', uri: '/img/acme/sample', query: 'w=320.5', expect: { status: 400, code: 'InvalidParameter' } },
  { name: 'percent-encoded width', uri: '/img/acme/sample', query: 'w=%33%32%30', expect: { status: 400, code: 'InvalidParameter' } },
  { name: 'conflicting repeats', uri: '/img/acme/sample', query: 'w=320&W=640', expect: { status: 400, code: 'ConflictingParameter' } },
  { name: 'quality above 100', uri: '/img/acme/sample', query: 'q=101', expect: { status: 400, code: 'InvalidParameter' } },
  { name: 'unknown fit', uri: '/img/acme/sample', query: 'w=320&h=320&fit=fill', expect: { status: 400, code: 'InvalidParameter' } },
  { name: 'unknown format', uri: '/img/acme/sample', query: 'fmt=gif', expect: { status: 400, code: 'InvalidParameter' } },
  { name: 'format disabled for tenant', uri: '/img/no-avif/sample', query: 'fmt=avif', expect: { status: 400, code: 'FormatNotAllowed' } },
  { name: 'encoded slash and dots', uri: '/img/acme/..%2fsecret', query: '', expect: { status: 400, code: 'InvalidPath' } },
  { name: 'dot segment', uri: '/img/acme/../secret', query: '', expect: { status: 400, code: 'InvalidPath' } },
  { name: 'NUL in id', uri: '/img/acme/a%00b', query: '', expect: { status: 400, code: 'InvalidPath' } },
  { name: 'non-ASCII id', uri: '/img/acme/caf%C3%A9', query: '', expect: { status: 400, code: 'InvalidPath' } },
  { name: 'empty segment', uri: '/img/acme//sample', query: '', expect: { status: 400, code: 'InvalidPath' } },
  { name: 'trailing slash', uri: '/img/acme/sample/', query: '', expect: { status: 400, code: 'InvalidPath' } },
  { name: 'bad version', uri: '/img/acme/sample/v0', query: '', expect: { status: 400, code: 'InvalidPath' } },
  { name: 'version before the id', uri: '/img/acme/v3/sample', query: '', expect: { status: 400, code: 'InvalidPath' } },
  { name: 'uppercase tenant', uri: '/img/ACME/sample', query: '', expect: { status: 400, code: 'InvalidPath' } },
  { name: 'unknown tenant', uri: '/img/nobody/sample', query: 'w=320', expect: { notFound: true } },
  { name: 'unknown tenant, signed-looking', uri: '/img/nobody/sample', query: 'w=320&exp=2000000000&kid=k1&sig=' + 'A'.repeat(43), expect: { notFound: true } },
  { name: 'unknown tenant, malformed width: the same 400 as a known one', uri: '/img/nobody/sample', query: 'w=-1', expect: { status: 400, code: 'InvalidParameter' } },
  { name: 'unknown tenant, conflicting repeats', uri: '/img/nobody/sample', query: 'w=320&W=640', expect: { status: 400, code: 'ConflictingParameter' } },
  { name: 'outside /img/', uri: '/secret.txt', query: '', expect: { status: 404, code: 'NotFound' } },
  { name: 'POST', uri: '/img/acme/sample', query: '', method: 'POST', expect: { status: 405, code: 'MethodNotAllowed' } },
  { name: 'unsigned on a signed tenant', uri: '/img/acme-private/sample', query: 'w=320', expect: { status: 403, code: 'SignatureRequired' } },
  { name: 'embedded on a site the tenant allows', uri: '/img/acme/sample', query: 'w=320', referer: 'https://www.acme.test/catalogue', expect: { query: 'fmt=legacy&q=75&w=320' } },
  { name: 'embedded on another site', uri: '/img/acme/sample', query: 'w=320', referer: 'https://hotlinker.example/page', expect: { status: 403, code: 'RefererNotAllowed' } },
  { name: 'another site, a look-alike host', uri: '/img/acme/sample', query: 'w=320', referer: 'https://www.acme.test.hotlinker.example/', expect: { status: 403, code: 'RefererNotAllowed' } },
  { name: 'a tenant that lists no site allows any', uri: '/img/no-avif/sample', query: 'w=320', referer: 'https://hotlinker.example/page', expect: { query: 'fmt=legacy&q=75&w=320' } },
];

/** The case as a viewer-request event. */
export function viewerEvent(c: Pick<ViewerCase, 'uri' | 'query' | 'accept' | 'method' | 'referer'>) {
  return viewerRequestEvent({ ...c, headers: c.referer ? { referer: c.referer } : {} });
}
