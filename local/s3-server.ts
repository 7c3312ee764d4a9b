import { mkdir } from 'node:fs/promises';
import S3rver from 's3rver';

/** s3rver checks SigV4 signatures against these fixed credentials. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface LocalS3 {
  readonly endpoint: string;
  readonly server: S3rver;
  close(): Promise<void>;
}

/**
 * An S3-compatible server (s3rver) on loopback, storing objects under
 * `directory`. The product code reaches it only through @aws-sdk/client-s3.
 */
export async function startLocalS3(options: { directory: string; buckets: readonly string[]; port?: number }): Promise<LocalS3> {
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory: options.directory,
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    server,
    close: () => server.close(),
  };
}
