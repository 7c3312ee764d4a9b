/**
 * Output formats. `legacy` is what a browser that announces neither AVIF nor
 * WebP gets: JPEG, or PNG where the original has transparency. It exists so that
 * the edge, which cannot see the original, can still put one value in the key.
 */
export const EXPLICIT_FORMATS = ['avif', 'webp', 'jpeg', 'png'] as const;
export type ExplicitFormat = (typeof EXPLICIT_FORMATS)[number];
export type ResolvedFormat = ExplicitFormat | 'legacy';
export type RequestedFormat = ResolvedFormat | 'auto';

/** Accepted spellings of `fmt`, lowercased; `jpg` is an alias of `jpeg`. */
export const FORMAT_ALIASES: { readonly [name: string]: RequestedFormat } = {
  auto: 'auto',
  avif: 'avif',
  webp: 'webp',
  jpeg: 'jpeg',
  jpg: 'jpeg',
  png: 'png',
  legacy: 'legacy',
};

/**
 * Resolves `fmt=auto` from an Accept header into a format class. Only the class
 * enters the cache key, never the header. A media range with `q=0` is refused.
 */
export function negotiateFormat(accept: string | undefined, allowed: readonly ExplicitFormat[]): ResolvedFormat {
  if (!accept) return 'legacy';
  const offered = accept.toLowerCase().split(',');
  let avif = false;
  let webp = false;
  for (let i = 0; i < offered.length; i++) {
    const parts = (offered[i] as string).split(';');
    const type = (parts[0] as string).trim();
    if (type !== 'image/avif' && type !== 'image/webp') continue;
    if (isRefused(parts)) continue;
    if (type === 'image/avif') avif = true;
    else webp = true;
  }
  if (avif && allowed.indexOf('avif') >= 0) return 'avif';
  if (webp && allowed.indexOf('webp') >= 0) return 'webp';
  return 'legacy';
}

function isRefused(parts: readonly string[]): boolean {
  for (let i = 1; i < parts.length; i++) {
    const param = (parts[i] as string).trim();
    if (param.indexOf('q=') === 0 && parseFloat(param.slice(2)) === 0) return true;
  }
  return false;
}
