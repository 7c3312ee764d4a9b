import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

/**
 * In-progress invalidation quotas per distribution: 3,000 file paths and 15
 * wildcard paths, counted separately.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-invalidations
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/InvalidationLimits.html
 */
export const INVALIDATION_QUOTAS = { filePaths: 3000, wildcardPaths: 15 } as const;

/** https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/invalidation-specifying-objects.html */
export const MAX_PATH_LENGTH = 4000;

/**
 * How long a batch stays InProgress when nothing says otherwise. AWS gives no
 * figure; its own InvalidationCompleted waiter polls every 20 s for up to 10
 * minutes, so completion is expected within minutes: two sits well inside that.
 * https://docs.aws.amazon.com/cli/latest/reference/cloudfront/wait/invalidation-completed.html
 */
export const DEFAULT_COMPLETION_DELAY_MS = 120_000;

/** How long a batch stays in progress, in ms, or per batch of paths; Infinity: it never completes. */
export type CompletionDelay = number | ((paths: readonly string[]) => number);

const API = '2020-05-31';
const XMLNS = `http://cloudfront.amazonaws.com/doc/${API}/`;
/** setTimeout's longest delay; a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A page of ListInvalidations when MaxItems is not given: the console shows the last 100. */
const DEFAULT_MAX_ITEMS = 100;

export interface Invalidation {
  readonly id: string;
  readonly callerReference: string;
  readonly paths: readonly string[];
  readonly createTime: Date;
  status: 'InProgress' | 'Completed';
  /** When it completed and the edge cache was purged (the twin's, not on the wire). */
  completedAt?: Date;
}

export interface InvalidationStats {
  inProgressFilePaths: number;
  inProgressWildcardPaths: number;
  peakFilePaths: number;
  peakWildcardPaths: number;
  /** Batches created, not counting a CallerReference repeated with the same paths. */
  created: number;
  /** Requests refused with TooManyInvalidationsInProgress. */
  throttled: number;
  /** Batches InProgress now. */
  inProgress: number;
  /** Batches Completed. */
  completed: number;
  /** Cache entries the completed batches removed. */
  purged: number;
}

/** A CloudFront API error: `name` is the error code the SDK maps to its exception. */
export class InvalidationApiError extends Error {
  override readonly name: string;
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = code;
  }
}

/**
 * When a batch's completion delay has passed, it calls back; the returned function cancels it.
 * The real one is setTimeout (unref'd: an invalidation in progress keeps no process alive);
 * a test injects one it fires itself, so that "still in progress" does not depend on how
 * busy the machine is.
 */
export type CompletionTimer = (complete: () => void, delayMs: number) => () => void;

const REAL_TIMER: CompletionTimer = (complete, delayMs) => {
  const timer = setTimeout(complete, Math.min(delayMs, MAX_TIMER_MS));
  timer.unref();
  return () => clearTimeout(timer);
};

/**
 * CloudFront's invalidation API for one distribution: CreateInvalidation,
 * GetInvalidation and ListInvalidations. A batch is InProgress, holding its paths
 * against the quotas, until it completes after its delay; only then is the edge
 * cache purged, since AWS guarantees the purge at completion and not before, so a
 * cached object is served meanwhile.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Invalidation.html
 */
export class InvalidationService {
  private readonly byId = new Map<string, Invalidation>();
  private readonly byReference = new Map<string, Invalidation>();
  readonly stats: InvalidationStats = {
    inProgressFilePaths: 0,
    inProgressWildcardPaths: 0,
    peakFilePaths: 0,
    peakWildcardPaths: 0,
    created: 0,
    throttled: 0,
    inProgress: 0,
    completed: 0,
    purged: 0,
  };
  private readonly timers = new Set<() => void>();

  /**
   * @param purge removes what one path names from the edge cache (EdgeCache#invalidate), returning how many entries
   * @param completionDelayMs how long each batch stays InProgress. @default DEFAULT_COMPLETION_DELAY_MS
   * @param timer what calls a batch's completion once its delay has passed. @default setTimeout
   * @throws {TypeError} for a negative or NaN delay
   */
  constructor(
    readonly distributionId: string,
    private readonly purge: (path: string) => number | void,
    private readonly completionDelayMs: CompletionDelay = DEFAULT_COMPLETION_DELAY_MS,
    private readonly timer: CompletionTimer = REAL_TIMER,
  ) {
    if (typeof completionDelayMs === 'number') checkDelay(completionDelayMs);
  }

  /**
   * CreateInvalidation. https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateInvalidation.html
   * @returns the invalidation, and whether it is new (false: the CallerReference was used for these paths before)
   * @throws {InvalidationApiError} InvalidArgument (a malformed path or an empty CallerReference),
   *   BatchTooLarge (more than a quota in one batch), InvalidationBatchAlreadyExists (the CallerReference
   *   was used for other paths), TooManyInvalidationsInProgress (the batch does not fit beside those in progress)
   */
  create(callerReference: string, paths: readonly string[]): { invalidation: Invalidation; created: boolean } {
    if (!callerReference) throw new InvalidationApiError(400, 'InvalidArgument', 'CallerReference is required.');
    if (paths.length === 0) throw new InvalidationApiError(400, 'InvalidArgument', 'At least one path is required.');
    for (const path of paths) {
      const problem = pathProblem(path);
      if (problem) throw new InvalidationApiError(400, 'InvalidArgument', `Invalid path ${JSON.stringify(path.slice(0, 100))}: ${problem}.`);
    }
    // The same reference and paths: the earlier invalidation, whatever is in progress now.
    // https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_InvalidationBatch.html
    const previous = this.byReference.get(callerReference);
    if (previous) {
      if (sameBatch(previous.paths, paths)) return { invalidation: previous, created: false };
      // Not in the API model; 409 as CloudFront's other *AlreadyExists errors.
      throw new InvalidationApiError(409, 'InvalidationBatchAlreadyExists', `CallerReference ${callerReference} was used for a different batch.`);
    }
    const { files, wildcards } = countPaths(paths);
    // A batch over a quota could never be admitted: the twin calls that BatchTooLarge, as AWS documents
    // no other bound on a batch. Statuses as the API reference lists them (413 here, 400 for throttling).
    // https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateInvalidation.html#API_CreateInvalidation_Errors
    if (wildcards > INVALIDATION_QUOTAS.wildcardPaths || files > INVALIDATION_QUOTAS.filePaths) {
      throw new InvalidationApiError(
        413,
        'BatchTooLarge',
        `A batch holds at most ${INVALIDATION_QUOTAS.filePaths} file paths and ${INVALIDATION_QUOTAS.wildcardPaths} wildcard paths; this one has ${files} and ${wildcards}.`,
      );
    }
    if (
      this.stats.inProgressWildcardPaths + wildcards > INVALIDATION_QUOTAS.wildcardPaths ||
      this.stats.inProgressFilePaths + files > INVALIDATION_QUOTAS.filePaths
    ) {
      this.stats.throttled++;
      throw new InvalidationApiError(
        400,
        'TooManyInvalidationsInProgress',
        'You have exceeded the maximum number of allowable InProgress invalidation batch requests, or invalidation objects.',
      );
    }
    const delay = typeof this.completionDelayMs === 'number' ? this.completionDelayMs : checkDelay(this.completionDelayMs(paths));
    const invalidation: Invalidation = { id: newId(), callerReference, paths: [...paths], createTime: new Date(), status: 'InProgress' };
    this.byId.set(invalidation.id, invalidation);
    this.byReference.set(callerReference, invalidation);
    this.stats.created++;
    this.stats.inProgress++;
    this.stats.inProgressWildcardPaths += wildcards;
    this.stats.inProgressFilePaths += files;
    this.stats.peakWildcardPaths = Math.max(this.stats.peakWildcardPaths, this.stats.inProgressWildcardPaths);
    this.stats.peakFilePaths = Math.max(this.stats.peakFilePaths, this.stats.inProgressFilePaths);
    if (Number.isFinite(delay)) {
      const cancel = this.timer(() => {
        if (!this.timers.delete(cancel)) return;
        this.complete(invalidation, files, wildcards);
      }, delay);
      this.timers.add(cancel);
    }
    return { invalidation, created: true };
  }

  /**
   * GetInvalidation. https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_GetInvalidation.html
   * @throws {InvalidationApiError} NoSuchInvalidation (404)
   */
  get(id: string): Invalidation {
    const invalidation = this.byId.get(id);
    if (!invalidation) throw new InvalidationApiError(404, 'NoSuchInvalidation', `The specified invalidation does not exist: ${id}.`);
    return invalidation;
  }

  /** Every invalidation, newest first, as CloudFront lists them. */
  list(): Invalidation[] {
    return [...this.byId.values()].reverse();
  }

  /**
   * One page of ListInvalidations: newest first, after the invalidation whose id is `marker`.
   * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ListInvalidations.html
   * @throws {InvalidationApiError} InvalidArgument for an unknown marker or a MaxItems that is not a positive integer
   */
  listPage(marker = '', maxItems: number = DEFAULT_MAX_ITEMS): { items: Invalidation[]; nextMarker?: string } {
    if (!Number.isInteger(maxItems) || maxItems < 1) throw new InvalidationApiError(400, 'InvalidArgument', `MaxItems must be a positive integer, not ${maxItems}.`);
    const all = this.list();
    const start = marker ? all.findIndex((i) => i.id === marker) + 1 : 0;
    if (start === 0 && marker) throw new InvalidationApiError(400, 'InvalidArgument', `Marker ${marker} is not an invalidation of this distribution.`);
    const items = all.slice(start, start + maxItems);
    return start + maxItems < all.length ? { items, nextMarker: items[items.length - 1]!.id } : { items };
  }

  /** Stops the timers: what is in progress stays so. */
  close(): void {
    for (const cancel of this.timers) cancel();
    this.timers.clear();
  }

  /** Purges first, so a batch reported Completed has always emptied the cache of its paths. */
  private complete(invalidation: Invalidation, files: number, wildcards: number): void {
    for (const path of invalidation.paths) this.stats.purged += this.purge(path) ?? 0;
    invalidation.status = 'Completed';
    invalidation.completedAt = new Date();
    this.stats.inProgress--;
    this.stats.completed++;
    this.stats.inProgressWildcardPaths -= wildcards;
    this.stats.inProgressFilePaths -= files;
  }

  /** Serves the REST API: `/2020-05-31/distribution/{id}/invalidation[/{invalidationId}]`. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const match = /^\/2020-05-31\/distribution\/([^/]+)\/invalidation(?:\/([^/]+))?$/.exec(url.pathname);
      if (!match) throw new InvalidationApiError(404, 'NotFound', `No such API: ${request.method} ${url.pathname}.`);
      if (match[1] !== this.distributionId) throw new InvalidationApiError(404, 'NoSuchDistribution', 'The specified distribution does not exist.');
      const id = match[2];
      if (request.method === 'POST' && !id) {
        const batch = parser.parse(await readBody(request))?.InvalidationBatch;
        if (!batch) throw new InvalidationApiError(400, 'MissingBody', 'This operation requires a body with an InvalidationBatch.');
        const items = batch.Paths?.Items?.Path;
        const paths: string[] = items === undefined ? [] : ([] as unknown[]).concat(items).map(String);
        if (Number(batch.Paths?.Quantity) !== paths.length) throw new InvalidationApiError(400, 'InconsistentQuantities', 'Quantity does not match the number of paths.');
        const { invalidation, created } = this.create(String(batch.CallerReference ?? ''), paths);
        const location = `${url.origin}/${API}/distribution/${this.distributionId}/invalidation/${invalidation.id}`;
        return sendXml(response, created ? 201 : 200, { Invalidation: invalidationXml(invalidation) }, { Location: location });
      }
      if (request.method === 'GET' && id) return sendXml(response, 200, { Invalidation: invalidationXml(this.get(id)) });
      if (request.method === 'GET') {
        const marker = url.searchParams.get('Marker') ?? '';
        const maxItemsParam = url.searchParams.get('MaxItems');
        const maxItems = maxItemsParam === null ? DEFAULT_MAX_ITEMS : Number(maxItemsParam);
        const { items, nextMarker } = this.listPage(marker, maxItems);
        return sendXml(response, 200, {
          InvalidationList: {
            Marker: marker,
            ...(nextMarker ? { NextMarker: nextMarker } : {}),
            MaxItems: maxItems,
            IsTruncated: nextMarker !== undefined,
            Quantity: items.length,
            ...(items.length > 0 ? { Items: { InvalidationSummary: items.map((i) => ({ Id: i.id, CreateTime: i.createTime.toISOString(), Status: i.status })) } } : {}),
          },
        });
      }
      throw new InvalidationApiError(405, 'MethodNotAllowed', `${request.method} is not allowed here.`);
    } catch (error) {
      const known = error instanceof InvalidationApiError ? error : new InvalidationApiError(500, 'InternalError', String(error));
      sendXml(response, known.status, {
        ErrorResponse: { Error: { Type: known.status < 500 ? 'Sender' : 'Receiver', Code: known.code, Message: known.message }, RequestId: newId() },
      });
    }
  }
}

/**
 * Why CloudFront would not take a path, or undefined. The API wants a leading
 * slash and at most 4,000 characters; `~` is not supported, encoded or not; non-ASCII
 * and RFC 1738's unsafe characters must be percent-encoded. AWS does not say it
 * refuses a raw one, only that it must be encoded: the twin refuses, as the
 * stricter reading. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/invalidation-specifying-objects.html
 */
export function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'it must start with /';
  if (path.length > MAX_PATH_LENGTH) return `it is ${path.length} characters long, over the ${MAX_PATH_LENGTH} allowed`;
  if (/~|%7e/i.test(path)) return 'CloudFront does not support ~ in invalidation paths, encoded or not';
  const raw = /[^\x21-\x7e]|[<>"#{}|\\^[\]`]/.exec(path);
  if (raw) return `${JSON.stringify(raw[0])} must be percent-encoded`;
  if (/%(?![0-9a-f]{2})/i.test(path)) return '% must start a percent-encoded octet';
  return undefined;
}

/** A path with `*` anywhere counts as a wildcard path: only a trailing one is a wildcard, but the quota is kept on the safe side. */
function countPaths(paths: readonly string[]): { files: number; wildcards: number } {
  const wildcards = paths.filter((p) => p.includes('*')).length;
  return { files: paths.length - wildcards, wildcards };
}

function checkDelay(ms: number): number {
  if (Number.isNaN(ms) || ms < 0) throw new TypeError(`Expected a completion delay of 0 ms or more, or Infinity, but received ${ms}.`);
  return ms;
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
