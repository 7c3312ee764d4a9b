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

export interface ReplicationRule {
  readonly source: string;
  readonly destination: string;
  readonly deleteMarkerReplication: boolean;
}

/**
 * What the twin's S3 must do as the template configures it: which buckets are
 * versioned, and each replication rule. A replication destination must be
 * versioned too (S3 refuses the rule otherwise), though its own stack is not
 * this template. https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-requirements.html
 */
export function storageOf(template: CfnTemplate): { versioned: string[]; replication: ReplicationRule[] } {
  const names = localNames(template);
  const versioned = new Set<string>();
  const replication: ReplicationRule[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::S3::Bucket') continue;
    const name = names[logicalId];
    if (!name) continue;
    if (resource.Properties?.VersioningConfiguration?.Status === 'Enabled') versioned.add(name);
    for (const rule of resource.Properties?.ReplicationConfiguration?.Rules ?? []) {
      if (rule.Status === 'Disabled') continue;
      const destination = String(resolveTokens(rule.Destination.Bucket, template, names)).replace(/^arn:[^:]+:s3:::/, '');
      versioned.add(destination);
      replication.push({ source: name, destination, deleteMarkerReplication: rule.DeleteMarkerReplication?.Status === 'Enabled' });
    }
  }
  return { versioned: [...versioned].sort(), replication };
}
