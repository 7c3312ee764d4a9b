/**
 * Unit prices, in US dollars, from the design review this product is based on
 * (issue 5); GB is 10^9 bytes. The dashboard's cost estimate and the benchmarks'
 * cost model both read them here. Today's prices:
 * https://aws.amazon.com/cloudfront/pricing/, https://aws.amazon.com/lambda/pricing/ and https://aws.amazon.com/s3/pricing/
 */
export const PRICES = {
  egressPerGb: 0.06,
  functionsPerMillion: 0.1,
  lambdaEdgePerMillion: 0.6,
  lambdaEdgePerGbSecond: 0.00005001,
  s3GetPerThousand: 0.0004,
  originShieldPerTenThousand: 0.0075,
} as const;
