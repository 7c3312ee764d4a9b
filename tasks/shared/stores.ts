import type { ObjectStore } from '../ports/object-store.ts';
import { S3ObjectStore } from './s3-object-store.ts';
import type { AwsClients } from './aws-clients.ts';
import { Reports } from './reports.ts';
import { requireSetting, type TaskConfig } from './task-config.ts';

/** One bucket of a kind, with a client in its own region. */
export interface RegionalStore<Role extends string = string> {
  readonly store: ObjectStore;
  readonly region: string;
  readonly role: Role;
}

/** The originals bucket and its replicas, each with a client in its own region. */
export function originalsEverywhere(config: TaskConfig, clients: AwsClients): RegionalStore<'original' | 'replica'>[] {
  return [
    { store: new S3ObjectStore(clients.s3, config.originalsBucket), region: config.region, role: 'original' as const },
    ...config.replicas.map((r) => ({ store: new S3ObjectStore(clients.s3In(r.region), r.bucket), region: r.region, role: 'replica' as const })),
  ];
}

/**
 * Every variants bucket the distribution reads from: the primary first (where
 * renders stage), then each failover origin's, each with a client in its own
 * region. What is published must be in all of them, and what is taken down must
 * leave all of them, or a failover would serve something else.
 */
export function variantsEverywhere(config: TaskConfig, clients: AwsClients): [RegionalStore<'variants'>, ...RegionalStore<'variants'>[]] {
  return [
    { store: new S3ObjectStore(clients.s3, config.variantsBucket), region: config.region, role: 'variants' as const },
    ...config.variantReplicas.map((r) => ({ store: new S3ObjectStore(clients.s3In(r.region), r.bucket), region: r.region, role: 'variants' as const })),
  ];
}

/** The reports bucket (PICTOR_REPORTS_BUCKET), in the pipeline's region. */
export function reportsStore(config: TaskConfig, clients: AwsClients): Reports {
  return new Reports(new S3ObjectStore(clients.s3, requireSetting(config, 'reportsBucket', 'PICTOR_REPORTS_BUCKET')));
}
