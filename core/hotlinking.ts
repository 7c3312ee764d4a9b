/**
 * Hotlink protection, as the viewer function applies it: whether a request's
 * Referer is one of the sites a tenant allows. `shop.example.com` is that host,
 * `*.example.com` any subdomain of it; either scheme, any port, any path, case
 * ignored. A request with no Referer passes (privacy settings, apps, a URL typed
 * in), and a tenant that lists no site allows every one.
 *
 * Bundled into the CloudFront Function: ES 5.1 built-ins only.
 */
const REFERER_HOST = /^https?:\/\/([a-z0-9.-]+)(?::[0-9]+)?(?:\/|$)/;
const SUBDOMAIN_LABELS = /^([a-z0-9-]+\.)+$/;

export function refererAllowed(referer: string | undefined, hosts: readonly string[] | undefined): boolean {
  if (!referer || !hosts || hosts.length === 0) return true;
  const match = REFERER_HOST.exec(referer.toLowerCase());
  if (!match) return false;
  const host = match[1] as string;
  for (let i = 0; i < hosts.length; i++) {
    const allowed = hosts[i] as string;
    if (allowed === host) return true;
    // `*.example.com`: one or more labels, then `.example.com`.
    const domain = allowed.slice(1);
    const labels = host.length - domain.length + 1;
    if (allowed.charAt(0) === '*' && labels > 1 && host.slice(labels - 1) === domain && SUBDOMAIN_LABELS.test(host.slice(0, labels))) return true;
  }
  return false;
}
