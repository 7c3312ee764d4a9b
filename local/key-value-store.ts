import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { STORE_QUOTAS } from '../core/tenant-config.ts';

/**
 * A CloudFront KeyValueStore as the twin keeps it: the entries its API changes,
 * and the entries the viewer function reads at the edge, which follow after a
 * propagation delay. AWS: "changes ... propagate to all edge locations, typically
 * within seconds"; until then a function may read the old value.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/kvs-with-functions.html
 * Every write names the store's current ETag (If-Match), and a stale one is a
 * ConflictException, as the API documents for PutKey, DeleteKey and UpdateKeys.
 * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_kvs_UpdateKeys.html
 */
export class LocalKeyValueStore {
  private readonly entries = new Map<string, string>();
  /** What the edge's functions read: the entries as propagated so far. */
  readonly edge = new Map<string, string>();
  private version = 0;
  private readonly created = new Date();
  private lastModified = new Date();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly arn: string,
    /** How long a change takes to reach the edge, in ms. @default 0 */
    private readonly propagationMs = 0,
  ) {}

  get etag(): string {
    return 'KV' + createHash('sha256').update(`${this.arn}:${this.version}`).digest('hex').slice(0, 12).toUpperCase();
  }

  describe() {
    return { ItemCount: this.entries.size, TotalSizeInBytes: this.totalBytes(this.entries), KvsARN: this.arn, Created: this.created, LastModified: this.lastModified, Status: 'READY', ETag: this.etag };
  }

  get(key: string): string | undefined {
    return this.entries.get(key);
  }

  keys(): string[] {
    return [...this.entries.keys()].sort();
  }

  /**
   * Puts and deletes in one all-or-nothing step, if `ifMatch` is the current ETag.
   * @throws an error named as the API names it: ConflictException, ValidationException,
   *   ResourceNotFoundException, ServiceQuotaExceededException
   */
  update(ifMatch: string | undefined, puts: readonly { Key: string; Value: string }[], deletes: readonly { Key: string }[]) {
    if (!ifMatch) throw apiError('ValidationException', 'If-Match is required: the store ETag that DescribeKeyValueStore returns.', 400);
    if (ifMatch !== this.etag) throw apiError('ConflictException', `The ETag ${ifMatch} is not the store's current one (${this.etag}); describe the store and try again.`, 409);
    if (puts.length + deletes.length === 0) throw apiError('ValidationException', 'Nothing to put or delete.', 400);
    const seen = new Set<string>();
    const next = new Map(this.entries);
    for (const { Key } of deletes) {
      checkKey(Key, seen);
      if (!next.has(Key)) throw apiError('ResourceNotFoundException', `No key ${Key} in the store.`, 404);
      next.delete(Key);
    }
    for (const { Key, Value } of puts) {
      checkKey(Key, seen);
      if (typeof Value !== 'string') throw apiError('ValidationException', `The value of ${Key} must be a string.`, 400);
      if (bytes(Value) > STORE_QUOTAS.valueBytes) throw apiError('ValidationException', `The value of ${Key} is ${bytes(Value)} bytes; a value holds at most ${STORE_QUOTAS.valueBytes}.`, 400);
      next.set(Key, Value);
    }
    const total = this.totalBytes(next);
    if (total > STORE_QUOTAS.totalBytes) throw apiError('ServiceQuotaExceededException', `The store would hold ${total} bytes, more than its ${STORE_QUOTAS.totalBytes}.`, 402);
    this.entries.clear();
    for (const [k, v] of next) this.entries.set(k, v);
    this.version++;
    this.lastModified = new Date();
    this.propagate(new Map(next));
    return { ItemCount: this.entries.size, TotalSizeInBytes: total, ETag: this.etag };
  }

  /** Resolves once every change so far has reached the edge. */
  async propagated(): Promise<void> {
    while (this.timers.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private propagate(snapshot: Map<string, string>): void {
    const apply = () => {
      this.edge.clear();
      for (const [k, v] of snapshot) this.edge.set(k, v);
    };
    if (this.propagationMs <= 0) return apply();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      apply();
    }, this.propagationMs);
    this.timers.add(timer);
  }

  private totalBytes(entries: ReadonlyMap<string, string>): number {
    let total = 0;
    for (const [k, v] of entries) total += bytes(k) + bytes(v);
    return total;
  }
}

function checkKey(key: unknown, seen: Set<string>): void {
  if (typeof key !== 'string' || key.length === 0) throw apiError('ValidationException', 'A key must be a non-empty string.', 400);
  if (bytes(key) > STORE_QUOTAS.keyBytes) throw apiError('ValidationException', `The key ${key.slice(0, 40)}… is ${bytes(key)} bytes; a key holds at most ${STORE_QUOTAS.keyBytes}.`, 400);
  if (seen.has(key)) throw apiError('ValidationException', `The key ${key} appears twice in one request.`, 400);
  seen.add(key);
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function apiError(name: string, message: string, status: number): Error {
  return Object.assign(new Error(message), { name, status });
}

/** ListKeys pages: at most 50 items a page. https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_kvs_ListKeys.html */
const MAX_LIST_RESULTS = 50;

/**
 * The KeyValueStore API (REST-JSON), as CloudFront serves it at
 * `{account}.cloudfront-kvs.global.api.aws`: DescribeKeyValueStore, GetKey,
 * ListKeys, PutKey, DeleteKey, UpdateKeys. Errors carry their name in
 * `x-amzn-errortype`, as REST-JSON services send them.
 */
export async function serveKeyValueStore(
  stores: ReadonlyMap<string, LocalKeyValueStore>,
  request: IncomingMessage,
  response: ServerResponse,
  /** Throws when the caller may not: `cloudfront-keyvaluestore:{Operation}` on the store. @default anyone may */
  check?: (action: string, storeArn: string) => void,
): Promise<void> {
  try {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = /^\/key-value-stores\/([^/]+)(\/keys(?:\/(.+))?)?$/.exec(url.pathname);
    if (!match) throw apiError('ValidationException', `No such operation: ${request.method} ${url.pathname}`, 400);
    const arn = decodeURIComponent(match[1]!);
    const store = stores.get(arn);
    if (!store) throw apiError('ResourceNotFoundException', `No key value store ${arn}.`, 404);
    const key = match[3] === undefined ? undefined : decodeURIComponent(match[3]);
    const ifMatch = header(request, 'if-match');
    const body = request.method === 'PUT' || request.method === 'POST' ? JSON.parse((await readBody(request)) || '{}') : {};
    const method = request.method;
    const operation = !match[2] ? 'DescribeKeyValueStore' : key === undefined ? (method === 'POST' ? 'UpdateKeys' : 'ListKeys') : method === 'PUT' ? 'PutKey' : method === 'DELETE' ? 'DeleteKey' : 'GetKey';
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfrontkeyvaluestore.html
    check?.(`cloudfront-keyvaluestore:${operation}`, arn);
    if (!match[2] && method === 'GET') {
      const d = store.describe();
      return send(response, 200, { ItemCount: d.ItemCount, TotalSizeInBytes: d.TotalSizeInBytes, KvsARN: d.KvsARN, Created: d.Created.getTime() / 1000, LastModified: d.LastModified.getTime() / 1000, Status: d.Status }, d.ETag);
    }
    if (key === undefined && method === 'GET') {
      const max = Number(url.searchParams.get('MaxResults') ?? MAX_LIST_RESULTS);
      if (!(max >= 1 && max <= MAX_LIST_RESULTS)) throw apiError('ValidationException', `MaxResults must be 1 to ${MAX_LIST_RESULTS}.`, 400);
      const keys = store.keys();
      const start = url.searchParams.get('NextToken') ? Number(Buffer.from(url.searchParams.get('NextToken')!, 'base64url').toString()) : 0;
      const page = keys.slice(start, start + max);
      const next = start + max < keys.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
      return send(response, 200, { Items: page.map((k) => ({ Key: k, Value: store.get(k) })), NextToken: next });
    }
    if (key === undefined && method === 'POST') return sendUpdate(response, store.update(ifMatch, body.Puts ?? [], body.Deletes ?? []));
    if (key !== undefined && method === 'GET') {
      const value = store.get(key);
      if (value === undefined) throw apiError('ResourceNotFoundException', `No key ${key} in the store.`, 404);
      const d = store.describe();
      return send(response, 200, { Key: key, Value: value, ItemCount: d.ItemCount, TotalSizeInBytes: d.TotalSizeInBytes });
    }
    if (key !== undefined && method === 'PUT') return sendUpdate(response, store.update(ifMatch, [{ Key: key, Value: body.Value }], []));
    if (key !== undefined && method === 'DELETE') return sendUpdate(response, store.update(ifMatch, [], [{ Key: key }]));
    throw apiError('ValidationException', `No such operation: ${method} ${url.pathname}`, 400);
  } catch (error) {
    const known = error as { name: string; message: string; status?: number };
    const status = known.status ?? 500;
    response.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': status === 500 ? 'InternalServerException' : known.name });
    response.end(JSON.stringify({ Message: known.message }));
  }
}

function sendUpdate(response: ServerResponse, result: { ItemCount: number; TotalSizeInBytes: number; ETag: string }): void {
  send(response, 200, { ItemCount: result.ItemCount, TotalSizeInBytes: result.TotalSizeInBytes }, result.ETag);
}

function send(response: ServerResponse, status: number, body: unknown, etag?: string): void {
  response.writeHead(status, { 'content-type': 'application/json', ...(etag ? { etag } : {}) });
  response.end(JSON.stringify(body));
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
