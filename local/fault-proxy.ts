import { createServer, request as httpRequest, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Which requests a fault applies to: each given part must match. */
export interface FaultMatch {
  readonly method?: string;
  /** The request path, decoded and without its query, e.g. /bucket/key. */
  readonly path?: RegExp;
  /** The X-Amz-Target header of JSON APIs, e.g. DynamoDB_20120810.UpdateItem. */
  readonly target?: string;
  /** Text the request body contains (all of it, when several). */
  readonly body?: string | readonly string[];
}

export interface Fault {
  readonly match: FaultMatch;
  /** The status to answer with, as the service's error would (S3's XML or DynamoDB's JSON body). */
  readonly status: number;
  /** Before the request reaches the server (nothing happened), or after (it happened; the answer is lost). */
  readonly when: 'before' | 'after';
  /** How many matching requests fail. @default 1 */
  readonly times?: number;
}

export interface FaultProxy {
  readonly url: string;
  /** Answer every request with this status (S3's XML error body), or pass through with null. */
  fail(status: number | null): void;
  /** Fail the next matching requests; `injected` lists those answered so far. Returns what lifts the fault early. */
  inject(fault: Fault): () => void;
  /** Faults injected and answered so far. */
  readonly injected: readonly { readonly fault: Fault; readonly method: string; readonly path: string }[];
  close(): Promise<void>;
}

/**
 * A pass-through HTTP proxy in front of a service endpoint that can be told to
 * fail: every request (a regional outage for origin failover), or chosen ones,
 * before or after the server acted on them (a transient failure inside a task).
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let failing: number | null = null;
  const faults: { fault: Fault; left: number }[] = [];
  const injected: { fault: Fault; method: string; path: string }[] = [];

  const server = createServer(async (incoming, outgoing) => {
    if (failing !== null) {
      incoming.resume();
      return answerError(outgoing, failing, incoming.headers);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const method = incoming.method ?? 'GET';
    const path = incoming.url ?? '/';
    const target = String(incoming.headers['x-amz-target'] ?? '');
    const entry = faults.find(({ fault, left }) => left > 0 && matches(fault.match, method, path, target, body));
    if (entry) {
      entry.left--;
      injected.push({ fault: entry.fault, method, path });
    }
    if (entry?.fault.when === 'before') return answerError(outgoing, entry.fault.status, incoming.headers);
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method, path, headers: incoming.headers }, (answer) => {
      if (entry) {
        answer.resume();
        answer.on('end', () => answerError(outgoing, entry.fault.status, incoming.headers));
        return;
      }
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    forward.on('error', () => outgoing.destroy());
    forward.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    fail: (status) => {
      failing = status;
    },
    inject: (fault) => {
      const entry = { fault, left: fault.times ?? 1 };
      faults.push(entry);
      return () => {
        entry.left = 0;
      };
    },
    injected,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function matches(match: FaultMatch, method: string, path: string, target: string, body: Buffer): boolean {
  return (
    (match.method === undefined || match.method === method) &&
    (match.path === undefined || match.path.test(decodeURIComponent(path.split('?')[0]!))) &&
    (match.target === undefined || match.target === target) &&
    (match.body === undefined || [match.body].flat().every((text) => body.includes(text)))
  );
}

/** The error a service answers with: DynamoDB's JSON for JSON APIs, S3's XML otherwise. */
function answerError(outgoing: ServerResponse, status: number, headers: IncomingHttpHeaders): void {
  if (headers['x-amz-target']) {
    outgoing.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
    outgoing.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Injected fault.' }));
    return;
  }
  outgoing.writeHead(status, { 'content-type': 'application/xml' });
  outgoing.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>Injected fault.</Message></Error>');
}
