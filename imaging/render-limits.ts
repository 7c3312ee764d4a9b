/** What an origin render may take on: checked from the header, before decoding. Free of sharp, so config code can read it. */
export interface RenderLimits {
  /** Largest original, in pixels (all frames of an animation together). @default 100_000_000 */
  readonly maxInputPixels: number;
  /** Largest original, in bytes. @default 64 MiB */
  readonly maxInputBytes: number;
  /** Most frames an animated original may have. @default 200 */
  readonly maxFrames: number;
  /** The bounding box of a request that names no size: the tenant's largest breakpoint. */
  readonly maxDimension: number;
  /**
   * AVIF encoder effort, 0 (fast) to 9. At the default of 4 one 1280 px encode
   * took 7 s here against 0.4 s at 2, too slow for a request path.
   * @default 2
   */
  readonly avifEffort: number;
}

export const DEFAULT_RENDER_LIMITS: Omit<RenderLimits, 'maxDimension'> = {
  maxInputPixels: 100_000_000,
  maxInputBytes: 64 * 1024 * 1024,
  maxFrames: 200,
  avifEffort: 2,
};
