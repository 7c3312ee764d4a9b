import type { RequestedFormat, ResolvedFormat } from './formats.ts';

export const FITS = ['cover', 'contain', 'inside'] as const;
export type Fit = (typeof FITS)[number];

/** A derivative, fully resolved: what the origin renders and what keys the cache. */
export interface VariantSpec {
  readonly w?: number;
  readonly h?: number;
  /** Only present when both `w` and `h` are, since it changes nothing otherwise. */
  readonly fit?: Fit;
  readonly fmt: ResolvedFormat;
  /** Absent for PNG, which is lossless. */
  readonly q?: number;
}

/** A spec whose format may still be `auto`: what a signature covers. */
export interface RequestedSpec extends Omit<VariantSpec, 'fmt'> {
  readonly fmt: RequestedFormat;
}

/** The canonical query string: known parameters only, in alphabetical order. */
export function variantQuery(spec: RequestedSpec): string {
  let query = '';
  if (spec.fit !== undefined) query += '&fit=' + spec.fit;
  query += '&fmt=' + spec.fmt;
  if (spec.h !== undefined) query += '&h=' + spec.h;
  if (spec.q !== undefined) query += '&q=' + spec.q;
  if (spec.w !== undefined) query += '&w=' + spec.w;
  return query.slice(1);
}

/**
 * The variant's file name in the variants bucket, e.g. `w320_h200_cover_q75.webp`.
 * One spec has exactly one name, so a stored variant is found without listing.
 */
export function variantName(spec: VariantSpec): string {
  const parts: string[] = [];
  if (spec.w !== undefined) parts.push('w' + spec.w);
  if (spec.h !== undefined) parts.push('h' + spec.h);
  if (spec.fit !== undefined) parts.push(spec.fit);
  if (spec.q !== undefined) parts.push('q' + spec.q);
  return (parts.length ? parts.join('_') : 'full') + '.' + spec.fmt;
}
