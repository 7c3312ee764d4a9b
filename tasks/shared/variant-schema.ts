import { variantName, type VariantSpec } from '../../core/variant.ts';

/** A variant set's identity: its names, sorted. Equal schemas render equal sets. */
export function variantSchema(specs: readonly VariantSpec[]): string {
  return specs.map(variantName).sort().join(',');
}
