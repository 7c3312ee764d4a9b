import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultProxy {
  readonly url: string;
  /** Answer every request with this status (S3's XML error body), or pass through with null. */
  fail(status: number | null): void;
  close(): Promise<void>;
}

/**
 * A pass-through HTTP proxy in front of a region's S3 endpoint that can be told
 * to fail: the twin's way to stage a regional outage for origin failover.
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let failing: number | null = null;
  const server = createServer((incoming, outgoing) => {
    if (failing !== null) {
      outgoing.writeHead(failing, { 'content-type': 'application/xml' });
      outgoing.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>Staged outage.</Message></Error>');
      incoming.resume();
      return;
    }
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => outgoing.destroy());
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    fail: (status) => {
      failing = status;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
