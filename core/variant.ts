import { EXPLICIT_FORMATS, type RequestedFormat, type ResolvedFormat } from './formats.ts';

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

/** The spec a stored variant's file name stands for; null for anything {@link variantName} never writes. */
export function parseVariantName(name: string): VariantSpec | null {
  const dot = name.lastIndexOf('.');
  const fmt = name.slice(dot + 1) as ResolvedFormat;
  if (dot < 1 || (fmt !== 'legacy' && EXPLICIT_FORMATS.indexOf(fmt as never) < 0)) return null;
  const stem = name.slice(0, dot);
  const spec: { w?: number; h?: number; fit?: Fit; q?: number; fmt: ResolvedFormat } = { fmt };
  if (stem !== 'full') {
    const parts = stem.split('_');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      const number = /^[whq][1-9][0-9]*$/.test(part) ? parseInt(part.slice(1), 10) : NaN;
      if (part[0] === 'w' && number) spec.w = number;
      else if (part[0] === 'h' && number) spec.h = number;
      else if (part[0] === 'q' && number) spec.q = number;
      else if (FITS.indexOf(part as Fit) >= 0) spec.fit = part as Fit;
      else return null;
    }
  }
  return variantName(spec) === name ? spec : null;
}
