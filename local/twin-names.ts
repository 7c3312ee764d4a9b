/**
 * What a client of the running twin needs to know of it: its buckets and regions,
 * its tables, the credentials its S3 checks, and the paths of its own endpoints.
 * Plain values only, so the CLI (which ships to users with the runtime dependencies
 * alone) can import them without loading the twin's servers.
 */

/**
 * The twin's buckets, named and placed as a deployment would have them: the
 * originals in a primary region with a replica in another, and a variants bucket
 * in each of the two regions, the origins of the distribution's origin group.
 */
export const BUCKETS = {
  originals: { bucket: 'pictor-originals', region: 'us-east-1' },
  replica: { bucket: 'pictor-originals-replica', region: 'eu-west-1' },
  variants: { bucket: 'pictor-variants', region: 'us-east-1' },
  failoverVariants: { bucket: 'pictor-variants-failover', region: 'eu-west-1' },
  audit: { bucket: 'pictor-audit', region: 'us-east-1' },
  reports: { bucket: 'pictor-reports', region: 'us-east-1' },
} as const;

export const ALL_BUCKETS = Object.values(BUCKETS).map((b) => b.bucket);

/** The twin's regions, each with the buckets that live in it. */
export const REGIONS: Readonly<Record<string, readonly string[]>> = Object.values(BUCKETS).reduce<Record<string, string[]>>((regions, b) => {
  (regions[b.region] ??= []).push(b.bucket);
  return regions;
}, {});

/** Local names for the pipeline template's tables, named for their role. */
export const LOCAL_TABLES = { versions: 'pictor-versions', tombstones: 'pictor-tombstones', idempotency: 'pictor-idempotency' } as const;

/** s3rver checks SigV4 signatures against these fixed credentials; the twin's other servers accept them too. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** Where the twin itself is steered (game days), beside the AWS APIs it serves. */
export const TWIN_FAULTS_PATH = '/_twin/faults';
/** GET: the ARNs of the twin's tenant stores, which a deployment's CLI user reads from the edge stack instead. */
export const TWIN_TENANT_STORE_PATH = '/_twin/tenant-store';
/** GET: each of the twin's servers and whether it answers (local/health.ts); 200 unless one is down, then 503. */
export const TWIN_HEALTH_PATH = '/_twin/health';
