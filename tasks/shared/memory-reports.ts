import type { ObjectStore } from './object-store.ts';
import { Reports } from './reports.ts';

/** A reports bucket in memory, for unit tests of the tasks' pure logic. */
export function memoryReports(bucket = 'reports'): { reports: Reports; objects: Map<string, string> } {
  const objects = new Map<string, string>();
  const store = {
    bucket,
    async put(key: string, body: string) {
      objects.set(key, body);
    },
    async get(key: string) {
      const body = objects.get(key);
      return body === undefined ? null : { body: Buffer.from(body), etag: '' };
    },
  } as unknown as ObjectStore;
  return { reports: new Reports(store), objects };
}
