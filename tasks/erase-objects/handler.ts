import { awsClients } from '../shared/aws-clients.ts';
import { ObjectStore } from '../shared/object-store.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { eraseObjects, EraseInput } from './erase-objects.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const owned = new Map<string, string>([
    [config.originalsBucket, config.region],
    [config.variantsBucket, config.region],
    ...config.replicas.map((r) => [r.bucket, r.region] as [string, string]),
  ]);
  const store = (bucket: string) => (owned.has(bucket) ? new ObjectStore(clients.s3In(owned.get(bucket)!), bucket) : undefined);
  // Deleting is safe to repeat: no idempotency record needed.
  return defineTask({ name: 'erase-objects', input: EraseInput, run: (input) => eraseObjects(input, { store }) }, config, clients);
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
