import type { PublicPolicy } from '../core/public-policy.ts';
import { isImageId, parseImagePath, PATH_PREFIX } from '../core/image-path.ts';
import { buildUrl, type ImageOptions } from './build-url.ts';
import { urlError } from './errors.ts';

/** What next/image passes a loader: `ImageLoaderProps` in next/dist/shared/lib/image-config. */
export interface NextLoaderProps {
  readonly src: string;
  readonly width: number;
  readonly quality?: number;
}

/** What next/image calls to turn a src and a width into a URL. */
export type NextLoader = (props: NextLoaderProps) => string;

/**
 * A loader for next/image (`loader` prop, or the default export of `images.loaderFile`).
 * `src` is what `<Image src>` gets: an image id, `/img/{tenant}/{id}[/v{n}]` or a URL.
 *
 * `loaderFile` applies to every `<Image>` of the app, so a src that is not a Pictor
 * image comes back unchanged (Next asks only that a loader return a URL string,
 * https://nextjs.org/docs/app/api-reference/config/next-config-js/images): a static
 * import (`/_next/static/media/...`), `/logo.png`, another host's URL. A Pictor image is
 * an image id, a root-relative path under `/img/`, a URL on `policy.baseUrl` under
 * `/img/`, or a URL on any host whose path names an image of this tenant.
 *
 * Next asks for the widths of its `deviceSizes` and `imageSizes` (and, in development,
 * 400 to check that the loader uses the width). With {@link nextImagesConfig} in
 * next.config those are the tenant's breakpoints, and every URL serves exactly the
 * width its srcset descriptor says. Any other width snaps by the edge's rule (the
 * smallest breakpoint at or above it), written into the URL: the image still shows
 * right, but a `750w` candidate then downloads the 768 px variant, and several
 * descriptors can share one URL. A quality snaps up to the tenant's qualities the same way.
 *
 * @throws {PictorUrlError} SignatureRequired when the tenant requires signed URLs: a loader
 *   runs in the browser, where no key may be; sign on the server (docs/SDK.md).
 *   The loader itself throws InvalidPath for an image of another tenant (its URLs need
 *   that tenant's policy) and for a malformed path under `/img/` on this app or on
 *   `policy.baseUrl`: those are mistakes, not someone else's images.
 */
export function nextLoader(policy: PublicPolicy, options: Pick<ImageOptions, 'format' | 'version'> = {}): NextLoader {
  if (policy.signed) {
    throw urlError('SignatureRequired', 'Tenant ' + policy.tenant + ' requires signed URLs, and a next/image loader also runs in the browser, where no signing key may be. Sign the URLs on the server (pictor/signer) and pass them to <img>.');
  }
  return function loadPictorImage(props: NextLoaderProps): string {
    if (!isPictorSrc(policy, props.src)) return props.src;
    return buildUrl(policy, props.src, { format: options.format, version: options.version, width: props.width, quality: props.quality, snap: true });
  };
}

/** A URL's scheme and host, or a protocol-relative `//host`. */
const ORIGIN = /^([a-z][a-z0-9+.-]*:)?\/\/[^/?#]*/i;

/** Whether a src is for Pictor to serve (see nextLoader); anything else Next shows as it is. */
function isPictorSrc(policy: PublicPolicy, src: string): boolean {
  if (typeof src !== 'string') return true; // buildUrl says what is wrong with it
  if (isImageId(src)) return true;
  const origin = ORIGIN.exec(src);
  if (!origin) return src.indexOf(PATH_PREFIX) === 0;
  const path = src.slice(origin[0].length);
  if (path.indexOf(PATH_PREFIX) !== 0) return false;
  if (policy.baseUrl && sameOrigin(origin[0], policy.baseUrl)) return true;
  // On another host, /img/ is Pictor's only when it parses as a Pictor path; another tenant's is then refused.
  return parseImagePath(path.split(/[?#]/)[0] as string).ok;
}

function sameOrigin(a: string, b: string): boolean {
  return a.replace(/^[a-z][a-z0-9+.-]*:/i, '').toLowerCase() === b.replace(/^[a-z][a-z0-9+.-]*:/i, '').toLowerCase();
}

/** The `images` settings of next.config that make Next ask for the tenant's breakpoints. */
export interface NextImagesConfig {
  readonly deviceSizes: number[];
  readonly imageSizes: number[];
  /** Recent versions of Next check a `quality` prop against this list (Next 16 defaults it to [75]). */
  readonly qualities: number[];
}

/**
 * Spread into next.config's `images`, beside `loader: 'custom'` and `loaderFile`.
 * Next sorts deviceSizes and imageSizes together for fixed-width images, and uses
 * deviceSizes alone for `fill` and `sizes`-less ones: so every breakpoint is a device
 * size, and imageSizes holds only what exceeds Next's 25 device sizes (the smallest).
 * https://nextjs.org/docs/messages/invalid-images-config
 */
export function nextImagesConfig(policy: Pick<PublicPolicy, 'breakpoints' | 'qualities'>): NextImagesConfig {
  const all = policy.breakpoints.slice();
  const split = Math.max(0, all.length - 25);
  return { deviceSizes: all.slice(split), imageSizes: all.slice(0, split), qualities: policy.qualities.slice() };
}
