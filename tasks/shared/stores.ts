import { ObjectStore } from './object-store.ts';
import type { AwsClients } from './aws-clients.ts';
import type { TaskConfig } from './task-config.ts';

/** The originals bucket and its replicas, each with a client in its own region. */
export function originalsEverywhere(config: TaskConfig, clients: AwsClients) {
  return [
    { store: new ObjectStore(clients.s3, config.originalsBucket), region: config.region, role: 'original' as const },
    ...config.replicas.map((r) => ({ store: new ObjectStore(clients.s3In(r.region), r.bucket), region: r.region, role: 'replica' as const })),
  ];
}
