/**
 * Pictor's client SDK (`pictor/client`): URLs, srcset and sizes for a tenant's
 * images, built from its public policy, exactly as the edge serves them; and a
 * thin client of the control-plane API (presigned uploads, image status). Safe for
 * browsers (no Node built-ins, no dependencies) and tree-shakeable: named exports
 * only, nothing runs when it loads. Signing is server-side: `pictor/signer`.
 * Guide: docs/SDK.md.
 */
export type { PublicPolicy } from '../core/public-policy.ts';
export { buildUrl, canonicalQuery, readPublicPolicy, snapToBreakpoint, snapToQuality, type Fit, type Format, type ImageOptions } from './build-url.ts';
export { isPictorUrlError, type PictorUrlError } from './errors.ts';
export { sizes, srcset, srcsetCandidates, type Layout, type SrcsetCandidate, type SrcsetOptions } from './srcset.ts';
export { nextImagesConfig, nextLoader, type NextImagesConfig, type NextLoader, type NextLoaderProps } from './next-loader.ts';
export { unpicTransformer, type PictorOperations, type PictorTransformer, type PictorUnpicOptions } from './unpic.ts';
export { createApiClient, uploadFile, type ApiClient, type ApiClientOptions, type FetchLike, type ImageStatus, type RequestOptions, type SignContext, type UploadOptions, type UploadProgress, type UploadRequest, type UploadTicket, type WaitOptions } from './api.ts';
export { isPictorApiError, type PictorApiError } from './errors.ts';
