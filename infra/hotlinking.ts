/**
 * WAF's regex pattern sets hold at most 10 patterns of at most 200 characters each.
 * https://docs.aws.amazon.com/waf/latest/developerguide/limits.html
 */
export const MAX_REFERER_PATTERNS = 10;
const MAX_PATTERN_LENGTH = 200;

/**
 * The Referer a tenant allows, as an anchored regex: `shop.example.com` is that
 * host, `*.example.com` any subdomain of it; either scheme, any port, any path.
 */
export function refererPattern(host: string): string {
  const wildcard = host.startsWith('*.');
  const domain = (wildcard ? host.slice(2) : host).replace(/\./g, '\\.');
  const pattern = `^https?://${wildcard ? '([a-z0-9-]+\\.)+' : ''}${domain}(:[0-9]+)?(/|$)`;
  if (pattern.length > MAX_PATTERN_LENGTH) throw new Error(`The referer ${host} makes a pattern longer than WAF's ${MAX_PATTERN_LENGTH} characters.`);
  return pattern;
}
