import { BUCKETS, LOCAL_TABLES } from '../twin-names.ts';
import { logicalIdOf, resolveTokens, type CfnTemplate } from './template.ts';

export { LOCAL_TABLES };

/** The template's buckets and tables by logical id, named as the twin names them. */
export function localNames(template: CfnTemplate): Record<string, string> {
  return {
    [logicalIdOf(template, 'Pipeline/Originals')]: BUCKETS.originals.bucket,
    [logicalIdOf(template, 'Pipeline/Variants')]: BUCKETS.variants.bucket,
    [logicalIdOf(template, 'Pipeline/Audit')]: BUCKETS.audit.bucket,
    [logicalIdOf(template, 'Pipeline/Reports')]: BUCKETS.reports.bucket,
    [logicalIdOf(template, 'Pipeline/Versions')]: LOCAL_TABLES.versions,
    [logicalIdOf(template, 'Pipeline/Tombstones')]: LOCAL_TABLES.tombstones,
    [logicalIdOf(template, 'Pipeline/Idempotency')]: LOCAL_TABLES.idempotency,
  };
}

/** A bucket's CORS rule, as S3's PutBucketCors takes it. https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html */
export interface CorsRule {
  readonly AllowedMethods: string[];
  readonly AllowedOrigins: string[];
  readonly AllowedHeaders?: string[];
  readonly ExposeHeaders?: string[];
  readonly MaxAgeSeconds?: number;
}

/** The same rule as CloudFormation spells it (AWS::S3::Bucket CorsRule). */
interface CfnCorsRule {
  readonly AllowedMethods: string[];
  readonly AllowedOrigins: string[];
  readonly AllowedHeaders?: string[];
  readonly ExposedHeaders?: string[];
  readonly MaxAge?: number;
}

export interface ReplicationRule {
  readonly source: string;
  readonly destination: string;
  readonly deleteMarkerReplication: boolean;
}

/**
 * What the twin's S3 must do as the template configures it: which buckets are
 * versioned, each replication rule, and each bucket's CORS rules. A replication destination must be
 * versioned too (S3 refuses the rule otherwise), though its own stack is not
 * this template. https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-requirements.html
 */
export function storageOf(template: CfnTemplate): { versioned: string[]; replication: ReplicationRule[]; cors: Record<string, CorsRule[]> } {
  const names = localNames(template);
  const versioned = new Set<string>();
  const replication: ReplicationRule[] = [];
  const cors: Record<string, CorsRule[]> = {};
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::S3::Bucket') continue;
    const name = names[logicalId];
    if (!name) continue;
    if (resource.Properties?.VersioningConfiguration?.Status === 'Enabled') versioned.add(name);
    const corsRules = resource.Properties?.CorsConfiguration?.CorsRules as CfnCorsRule[] | undefined;
    if (corsRules?.length) {
      cors[name] = corsRules.map((rule) => ({
        AllowedMethods: rule.AllowedMethods,
        AllowedOrigins: rule.AllowedOrigins,
        ...(rule.AllowedHeaders ? { AllowedHeaders: rule.AllowedHeaders } : {}),
        ...(rule.ExposedHeaders ? { ExposeHeaders: rule.ExposedHeaders } : {}),
        ...(rule.MaxAge !== undefined ? { MaxAgeSeconds: rule.MaxAge } : {}),
      }));
    }
    for (const rule of resource.Properties?.ReplicationConfiguration?.Rules ?? []) {
      if (rule.Status === 'Disabled') continue;
      const destination = String(resolveTokens(rule.Destination.Bucket, template, names)).replace(/^arn:[^:]+:s3:::/, '');
      versioned.add(destination);
      replication.push({ source: name, destination, deleteMarkerReplication: rule.DeleteMarkerReplication?.Status === 'Enabled' });
    }
  }
  return { versioned: [...versioned].sort(), replication, cors };
}
