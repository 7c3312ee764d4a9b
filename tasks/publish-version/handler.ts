import { eventBridgePublisher } from '../../events/publish.ts';
import { awsClients } from '../shared/aws-clients.ts';
import { ObjectStore } from '../shared/object-store.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { VersionMap } from '../shared/version-map.ts';
import { PublishInput, publishVersion } from './publish-version.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps = {
    originals: new ObjectStore(clients.s3, config.originalsBucket),
    variants: new ObjectStore(clients.s3, config.variantsBucket),
    versions: new VersionMap(clients.documents, config.versionsTable),
    events: eventBridgePublisher(clients.events, config.eventBus),
  };
  return defineTask(
    { name: 'publish-version', input: PublishInput, run: (input) => publishVersion(input, deps), idempotencyKey: 'input.idempotencyKey' },
    config,
    clients,
  );
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
