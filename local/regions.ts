import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * How a region's S3 fails in a game day:
 * - `503`: every request answers 503 Service Unavailable, S3's own error;
 * - `hang`: connections are accepted and never answered;
 * - `refuse`: nothing listens, so connections are refused;
 * - `off`: the region answers normally.
 */
export const FAULT_MODES = ['503', 'hang', 'refuse', 'off'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface Regions {
  /** Each region's S3 endpoint: every client of the twin, the edge included, reaches S3 through these. */
  readonly endpoints: Readonly<Record<string, string>>;
  /** The fault each region is in. */
  readonly modes: Readonly<Record<string, FaultMode>>;
  fault(region: string, mode: FaultMode): Promise<void>;
  /** Resolves once the region answers again (at once when it does). */
  healthy(region: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The twin's regions: an endpoint per region in front of the one S3-compatible
 * server, answering only for the buckets that live in that region. S3 answers a
 * request for a bucket in another region with 301 PermanentRedirect, so a client
 * that talks to the wrong region fails here as it would on AWS.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
 */
export async function startRegions(target: string, bucketsByRegion: Readonly<Record<string, readonly string[]>>, ports: Readonly<Record<string, number>> = {}): Promise<Regions> {
  const upstream = new URL(target);
  const home = new Map<string, string>();
  for (const [region, buckets] of Object.entries(bucketsByRegion)) for (const bucket of buckets) home.set(bucket, region);
  const gateways = new Map<string, { server: Server; port: number; mode: FaultMode; hung: Set<Socket>; waiters: (() => void)[] }>();

  for (const region of Object.keys(bucketsByRegion)) {
    const hung = new Set<Socket>();
    const server = createServer((incoming, outgoing) => {
      const gateway = gateways.get(region)!;
      if (gateway.mode === 'hang') {
        hung.add(incoming.socket);
        incoming.socket.once('close', () => hung.delete(incoming.socket));
        incoming.resume();
        return;
      }
      if (gateway.mode === '503') return answer(incoming, outgoing, 503, 'ServiceUnavailable', 'Please reduce your request rate.');
      const bucket = decodeURIComponent((incoming.url ?? '/').split('?')[0]!.split('/')[1] ?? '');
      const owner = home.get(bucket);
      if (owner && owner !== region) {
        return answer(incoming, outgoing, 301, 'PermanentRedirect', `The bucket ${bucket} is in ${owner}; send requests to that region's endpoint.`);
      }
      const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (reply) => {
        outgoing.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(outgoing);
      });
      forward.on('error', () => outgoing.destroy());
      incoming.pipe(forward);
    });
    server.keepAliveTimeout = 5_000;
    await listen(server, ports[region] ?? 0);
    gateways.set(region, { server, port: (server.address() as AddressInfo).port, mode: 'off', hung, waiters: [] });
  }

  const gatewayOf = (region: string) => {
    const gateway = gateways.get(region);
    if (!gateway) throw new Error(`The twin has no region ${region}; it has ${[...gateways.keys()].join(', ')}.`);
    return gateway;
  };
  return {
    endpoints: Object.fromEntries([...gateways].map(([region, g]) => [region, `http://127.0.0.1:${g.port}`])),
    get modes() {
      return Object.fromEntries([...gateways].map(([region, g]) => [region, g.mode]));
    },
    async fault(region, mode) {
      const gateway = gatewayOf(region);
      if (gateway.mode === mode) return;
      if (gateway.mode === 'refuse') await listen(gateway.server, gateway.port);
      if (mode === 'refuse') {
        gateway.server.closeAllConnections();
        await new Promise((resolve) => gateway.server.close(resolve));
      }
      // Kept-alive connections would otherwise carry on past a fault that began after them.
      if (mode !== 'off') gateway.server.closeIdleConnections();
      if (gateway.mode === 'hang') for (const socket of gateway.hung) socket.destroy();
      gateway.mode = mode;
      if (mode === 'off') for (const wake of gateway.waiters.splice(0)) wake();
    },
    healthy(region) {
      const gateway = gatewayOf(region);
      return gateway.mode === 'off' ? Promise.resolve() : new Promise((resolve) => gateway.waiters.push(resolve));
    },
    async close() {
      for (const gateway of gateways.values()) {
        for (const socket of gateway.hung) socket.destroy();
        for (const wake of gateway.waiters.splice(0)) wake();
        if (gateway.mode === 'refuse') continue;
        gateway.server.closeAllConnections();
        await new Promise((resolve) => gateway.server.close(resolve));
      }
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
}

/** S3's XML error, as the region would send it. */
function answer(incoming: IncomingMessage, outgoing: ServerResponse, status: number, code: string, message: string): void {
  incoming.resume();
  outgoing.writeHead(status, { 'content-type': 'application/xml' });
  outgoing.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}
