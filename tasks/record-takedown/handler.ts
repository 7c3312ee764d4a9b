import { planFor } from '../invalidate-image/invalidate-image.ts';
import { awsClients } from '../shared/aws-clients.ts';
import { S3ObjectStore } from '../shared/s3-object-store.ts';
import { reportsStore } from '../shared/stores.ts';
import { readTaskConfig, requireSetting, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import type { InventoryManifest } from '../shared/takedown-state.ts';
import { storeTenants } from '../shared/store-tenants.ts';
import { recordTakedown, RecordInput } from './record-takedown.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const reports = reportsStore(config, clients);
  const tenant = storeTenants(config).lookup;
  const deps = {
    audit: new S3ObjectStore(clients.s3, requireSetting(config, 'auditBucket', 'PICTOR_AUDIT_BUCKET')),
    reports,
    invalidationPlan: async (image: { tenant: string; imageId: string }, inventory: InventoryManifest, late: readonly { locations: InventoryManifest['locations'] }[]) => planFor(image, inventory, late, await tenant(image.tenant)),
    now: () => new Date(),
  };
  // Append-only writes make a repeat harmless.
  return defineTask({ name: 'record-takedown', input: RecordInput, run: (input) => recordTakedown(input, deps) }, config, clients);
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
