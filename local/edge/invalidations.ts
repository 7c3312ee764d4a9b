import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

/**
 * In-progress invalidation quotas per distribution: 3,000 file paths and 15
 * wildcard paths, counted separately.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-invalidations
 */
export const INVALIDATION_QUOTAS = { filePaths: 3000, wildcardPaths: 15 } as const;

const API = '2020-05-31';
const XMLNS = `http://cloudfront.amazonaws.com/doc/${API}/`;

export interface Invalidation {
  readonly id: string;
  readonly callerReference: string;
  readonly paths: readonly string[];
  readonly createTime: Date;
  status: 'InProgress' | 'Completed';
}

export interface InvalidationStats {
  inProgressFilePaths: number;
  inProgressWildcardPaths: number;
  peakFilePaths: number;
  peakWildcardPaths: number;
  created: number;
  throttled: number;
}

class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/**
 * CloudFront's invalidation API for one distribution: CreateInvalidation,
 * GetInvalidation and ListInvalidations, purging the local edge cache. A batch
 * completes after `completionDelayMs`, until when its paths count against the quotas.
 */
export class InvalidationService {
  private readonly byId = new Map<string, Invalidation>();
  readonly stats: InvalidationStats = { inProgressFilePaths: 0, inProgressWildcardPaths: 0, peakFilePaths: 0, peakWildcardPaths: 0, created: 0, throttled: 0 };
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly distributionId: string,
    private readonly purge: (path: string) => void,
    /** How long a batch stays in progress; Infinity for one that never completes. */
    private readonly completionDelayMs: number | ((paths: readonly string[]) => number),
  ) {}

  create(callerReference: string, paths: readonly string[]): { invalidation: Invalidation; created: boolean } {
    if (!callerReference || paths.length === 0) throw new ApiError(400, 'InvalidArgument', 'CallerReference and at least one path are required.');
    for (const path of paths) {
      if (!path.startsWith('/')) throw new ApiError(400, 'InvalidArgument', `Path ${path} must start with /.`);
    }
    const previous = [...this.byId.values()].find((i) => i.callerReference === callerReference);
    if (previous) {
      // Same reference and batch: the earlier invalidation, not a new one.
      if (sameBatch(previous.paths, paths)) return { invalidation: previous, created: false };
      throw new ApiError(409, 'InvalidationBatchAlreadyExists', `CallerReference ${callerReference} was used for a different batch.`);
    }
    const wildcards = paths.filter((p) => p.includes('*')).length;
    const files = paths.length - wildcards;
    if (
      this.stats.inProgressWildcardPaths + wildcards > INVALIDATION_QUOTAS.wildcardPaths ||
      this.stats.inProgressFilePaths + files > INVALIDATION_QUOTAS.filePaths
    ) {
      this.stats.throttled++;
      throw new ApiError(
        400,
        'TooManyInvalidationsInProgress',
        'You have exceeded the maximum number of allowable InProgress invalidation batch requests, or invalidation objects.',
      );
    }
    const invalidation: Invalidation = { id: newId(), callerReference, paths: [...paths], createTime: new Date(), status: 'InProgress' };
    this.byId.set(invalidation.id, invalidation);
    this.stats.created++;
    this.stats.inProgressWildcardPaths += wildcards;
    this.stats.inProgressFilePaths += files;
    this.stats.peakWildcardPaths = Math.max(this.stats.peakWildcardPaths, this.stats.inProgressWildcardPaths);
    this.stats.peakFilePaths = Math.max(this.stats.peakFilePaths, this.stats.inProgressFilePaths);
    for (const path of paths) this.purge(path);
    const delay = typeof this.completionDelayMs === 'number' ? this.completionDelayMs : this.completionDelayMs(paths);
    if (Number.isFinite(delay)) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        invalidation.status = 'Completed';
        this.stats.inProgressWildcardPaths -= wildcards;
        this.stats.inProgressFilePaths -= files;
      }, delay);
      this.timers.add(timer);
    }
    return { invalidation, created: true };
  }

  get(id: string): Invalidation {
    const invalidation = this.byId.get(id);
    if (!invalidation) throw new ApiError(404, 'NoSuchInvalidation', `The specified invalidation does not exist: ${id}.`);
    return invalidation;
  }

  /** Newest first, as CloudFront lists them. */
  list(): Invalidation[] {
    return [...this.byId.values()].reverse();
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** Serves the REST API: `/2020-05-31/distribution/{id}/invalidation[/{invalidationId}]`. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const match = /^\/2020-05-31\/distribution\/([^/]+)\/invalidation(?:\/([^/]+))?$/.exec(url.pathname);
      if (!match) throw new ApiError(404, 'NotFound', `No such API: ${request.method} ${url.pathname}.`);
      if (match[1] !== this.distributionId) throw new ApiError(404, 'NoSuchDistribution', 'The specified distribution does not exist.');
      const id = match[2];
      if (request.method === 'POST' && !id) {
        const batch = parser.parse(await readBody(request))?.InvalidationBatch;
        const items = batch?.Paths?.Items?.Path;
        const paths: string[] = items === undefined ? [] : ([] as unknown[]).concat(items).map(String);
        if (Number(batch?.Paths?.Quantity) !== paths.length) throw new ApiError(400, 'InconsistentQuantities', 'Quantity does not match the number of paths.');
        const { invalidation, created } = this.create(String(batch?.CallerReference ?? ''), paths);
        const location = `${url.origin}/${API}/distribution/${this.distributionId}/invalidation/${invalidation.id}`;
        return sendXml(response, created ? 201 : 200, { Invalidation: invalidationXml(invalidation) }, { Location: location });
      }
      if (request.method === 'GET' && id) return sendXml(response, 200, { Invalidation: invalidationXml(this.get(id)) });
      if (request.method === 'GET') {
        const items = this.list();
        return sendXml(response, 200, {
          InvalidationList: {
            Marker: '',
            MaxItems: items.length,
            IsTruncated: false,
            Quantity: items.length,
            Items: { InvalidationSummary: items.map((i) => ({ Id: i.id, CreateTime: i.createTime.toISOString(), Status: i.status })) },
          },
        });
      }
      throw new ApiError(405, 'MethodNotAllowed', `${request.method} is not allowed here.`);
    } catch (error) {
      const known = error instanceof ApiError ? error : new ApiError(500, 'InternalError', String(error));
      sendXml(response, known.status, {
        ErrorResponse: { Error: { Type: known.status < 500 ? 'Sender' : 'Receiver', Code: known.code, Message: known.message }, RequestId: newId() },
      });
    }
  }
}

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false });
const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_' });

function invalidationXml(i: Invalidation) {
  return {
    Id: i.id,
    Status: i.status,
    CreateTime: i.createTime.toISOString(),
    InvalidationBatch: { Paths: { Quantity: i.paths.length, Items: { Path: i.paths } }, CallerReference: i.callerReference },
  };
}

function sendXml(response: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  const [root] = Object.keys(body) as [string];
  const xml = '<?xml version="1.0" encoding="UTF-8"?>\n' + builder.build({ [root]: { '@_xmlns': XMLNS, ...(body[root] as object) } });
  response.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': newId(), ...headers });
  response.end(xml);
}

function sameBatch(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

function newId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return 'I' + [...randomBytes(13)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
