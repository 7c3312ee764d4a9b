import { PRICES } from '../../infra/prices.ts';

/** The design review's reference: 1B requests a day, 40 KB objects, an 80% hit ratio, every miss a transform. */
export const REFERENCE = { requestsPerMonth: 30e9, hitRatio: 0.8, objectBytes: 40_000, bill: 104_000, transforms: 22_400 } as const;

/**
 * GB-seconds of one transform, as the reference bill implies them: its $22.4k of
 * transforms over 6B misses, less the request fee, is 0.0627 GB-s each (about
 * 63 ms at 1 GB).
 */
export const TRANSFORM_GB_SECONDS = (REFERENCE.transforms / (REFERENCE.requestsPerMonth * (1 - REFERENCE.hitRatio)) - PRICES.lambdaEdgePerMillion / 1e6) / PRICES.lambdaEdgePerGbSecond;

/** GB-seconds of a miss that finds its variant stored: one S3 HEAD, about 20 ms at 1 GB (an assumption, not a measurement). */
export const LOOKUP_GB_SECONDS = 0.02;

/** What a month of traffic does, scaled from a replay. */
export interface MonthlyCounts {
  readonly requests: number;
  readonly bytes: number;
  readonly functionInvocations: number;
  /** Edge misses: each goes through Origin Shield and invokes the origin-request function. */
  readonly misses: number;
  readonly transforms: number;
  readonly s3Gets: number;
}

export interface MonthlyBill {
  readonly egress: number;
  readonly functions: number;
  readonly originShield: number;
  readonly s3: number;
  /** Lambda@Edge: requests and GB-seconds, lookups and transforms together. */
  readonly lambda: number;
  /** The part of `lambda` spent on transforms. */
  readonly transforms: number;
  readonly total: number;
}

export function monthlyBill(c: MonthlyCounts): MonthlyBill {
  const egress = (c.bytes / 1e9) * PRICES.egressPerGb;
  const functions = (c.functionInvocations / 1e6) * PRICES.functionsPerMillion;
  const originShield = (c.misses / 1e4) * PRICES.originShieldPerTenThousand;
  const s3 = (c.s3Gets / 1e3) * PRICES.s3GetPerThousand;
  const transforms = (c.transforms / 1e6) * PRICES.lambdaEdgePerMillion + c.transforms * TRANSFORM_GB_SECONDS * PRICES.lambdaEdgePerGbSecond;
  const lookups = c.misses - c.transforms;
  const lambda = transforms + (lookups / 1e6) * PRICES.lambdaEdgePerMillion + lookups * LOOKUP_GB_SECONDS * PRICES.lambdaEdgePerGbSecond;
  return { egress, functions, originShield, s3, lambda, transforms, total: egress + functions + originShield + s3 + lambda };
}

/** The reference bill recomputed from the prices: a check that the model reads them as the review did. */
export function referenceBill(): MonthlyBill {
  const misses = REFERENCE.requestsPerMonth * (1 - REFERENCE.hitRatio);
  return monthlyBill({
    requests: REFERENCE.requestsPerMonth,
    bytes: REFERENCE.requestsPerMonth * REFERENCE.objectBytes,
    functionInvocations: REFERENCE.requestsPerMonth,
    misses,
    transforms: misses,
    s3Gets: misses,
  });
}
