import type { ApiErrorBody, Health, ImageStatus, UploadRequest, UploadTicket } from '../control-api/contract.ts';
import { isImageId, isTenantId } from '../core/image-path.ts';
import type { PublicPolicy } from '../core/public-policy.ts';
import { readPublicPolicy } from './build-url.ts';
import { apiError, type PictorApiError } from './errors.ts';

export type { ImageStatus, UploadRequest, UploadTicket } from '../control-api/contract.ts';

/** The fetch the client calls: the global one, or one of the app's (a test's, a proxy's). */
export type FetchLike = (request: Request) => Promise<Response>;

/** Of the whole multipart request, as XMLHttpRequest reports it: the fields' few hundred bytes and the file. */
export interface UploadProgress {
  readonly loaded: number;
  readonly total: number;
}

export interface UploadOptions {
  /** @default globalThis.fetch */
  readonly fetch?: FetchLike;
  readonly signal?: AbortSignal;
  /**
   * Called as the bytes go out. fetch reports no upload progress, so this sends
   * with XMLHttpRequest (browsers have it; Node and service workers do not: the
   * upload is then refused with ProgressUnavailable before it starts). Not with `fetch`.
   * @default none: the upload goes through fetch
   */
  readonly onProgress?: (progress: UploadProgress) => void;
}

/**
 * Uploads a file with the presigned POST of a ticket from `createUpload`: every
 * field of the ticket first, in its order, then the file last, as S3 requires
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html). A file
 * S3 would refuse is refused first, before a byte is sent.
 *
 * In a browser, the originals bucket's CORS must allow POST from the page's origin.
 *
 * @throws {PictorApiError} FileTooSmall, FileTooLarge or ContentTypeMismatch (no
 *   status: nothing was sent); S3's own code, message and status when S3 refuses it
 *   (EntityTooLarge, AccessDenied for an expired ticket, ...). A network failure or
 *   an abort rejects as fetch (or XMLHttpRequest) does.
 */
export async function uploadFile(ticket: UploadTicket, file: Blob, options: UploadOptions = {}): Promise<{ key: string }> {
  const upload = ticket.upload;
  const size = file.size;
  if (size < upload.minBytes || size > upload.maxBytes) {
    throw apiError(
      size < upload.minBytes ? 'FileTooSmall' : 'FileTooLarge',
      'The file is ' + size + ' bytes; this ticket takes ' + upload.minBytes + ' to ' + upload.maxBytes + ' bytes (the tenant\'s uploads.maxBytes). ' +
        (size < upload.minBytes ? 'Choose a file that is not empty.' : 'Make it smaller (resize or recompress it), or raise the tenant\'s uploads.maxBytes.'),
    );
  }
  // S3 checks the form's Content-Type field, not the file part's: a file of another
  // type would be stored under a type it is not.
  if (file.type.toLowerCase() !== upload.contentType.toLowerCase()) {
    throw apiError(
      'ContentTypeMismatch',
      file.type
        ? "The file's type is '" + file.type + "', but this ticket is for '" + upload.contentType + "': ask createUpload for a ticket with contentType '" + file.type + "', or upload a file of type '" + upload.contentType + "'."
        : "The file has no type, but this ticket is for '" + upload.contentType + "': give it its type (new Blob([file], { type: '" + upload.contentType + "' }) when you know it is one).",
    );
  }
  if (options.onProgress && options.fetch) throw apiError('InvalidParameter', 'Give onProgress or fetch, not both: progress is reported through XMLHttpRequest, not fetch.');
  const form = new FormData();
  for (const name of Object.keys(upload.fields)) form.append(name, upload.fields[name]!);
  form.append('file', file);
  const answer = options.onProgress ? await sendWithProgress(upload.url, form, options.onProgress, options.signal) : await sendWithFetch(options.fetch, new Request(upload.url, { method: 'POST', body: form, signal: options.signal }));
  // 204 unless the ticket sets success_action_status to 200 or 201.
  if (answer.status === 200 || answer.status === 201 || answer.status === 204) return { key: ticket.key };
  throw s3Error(answer.status, answer.text);
}

/** S3's XML error (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html) as a PictorApiError with its code and message. */
function s3Error(status: number, xml: string): PictorApiError {
  const code = xmlText(xml, 'Code');
  const message = xmlText(xml, 'Message');
  return apiError(code || statusCode(status), message || 'The upload was answered ' + status + (xml ? ': ' + xml.slice(0, 200) : '.'), status);
}

function xmlText(xml: string, tag: string): string {
  const match = new RegExp('<' + tag + '>([^<]*)</' + tag + '>').exec(xml);
  return match ? match[1]!.replace(/&(lt|gt|quot|apos|amp);/g, (_, name: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[name]!) : '';
}

interface Answer {
  readonly status: number;
  readonly text: string;
}

async function sendWithFetch(fetchFn: FetchLike | undefined, request: Request): Promise<Answer> {
  const send = fetchFn || fetch;
  const response = await send(request);
  return { status: response.status, text: await response.text() };
}

/** The part of XMLHttpRequest this uses: Node's types do not declare the DOM's. */
interface Xhr {
  open(method: string, url: string): void;
  send(body: FormData): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  readonly upload: { onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

function sendWithProgress(url: string, form: FormData, onProgress: (progress: UploadProgress) => void, signal?: AbortSignal): Promise<Answer> {
  const Xhr = (globalThis as { XMLHttpRequest?: new () => Xhr }).XMLHttpRequest;
  if (!Xhr) return Promise.reject(apiError('ProgressUnavailable', 'onProgress needs XMLHttpRequest, which this runtime lacks (Node, a service worker): leave onProgress out to upload with fetch.'));
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const xhr = new Xhr();
    const stop = () => xhr.abort();
    const settle = () => signal?.removeEventListener('abort', stop);
    xhr.open('POST', url);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress({ loaded: event.loaded, total: event.total });
    };
    xhr.onload = () => {
      settle();
      resolve({ status: xhr.status, text: xhr.responseText });
    };
    xhr.onerror = () => {
      settle();
      reject(new TypeError('The upload to ' + url + ' failed before S3 answered (the network, or CORS: the bucket must allow POST from this origin).'));
    };
    xhr.onabort = () => {
      settle();
      reject(signal?.reason ?? new DOMException('The upload was aborted.', 'AbortError'));
    };
    signal?.addEventListener('abort', stop);
    xhr.send(form);
  });
}

export interface ApiClientOptions {
  /**
   * Where the control-plane API answers, such as `https://api.images.example.com`,
   * or a path of your own backend that forwards to it (`/pictor-api`, in a browser).
   */
  readonly baseUrl: string;
  /** @default globalThis.fetch */
  readonly fetch?: FetchLike;
  /**
   * Signs each request before it is sent. The API takes only SigV4-signed requests
   * (IAM authorization); this client signs nothing itself, so that it needs no
   * credentials and no SDK: plug @smithy/signature-v4 with credentials of the
   * tenant's role here, or leave it out when `baseUrl` is a backend that signs.
   * Sign for `context.region`: a SigV4 signature is scoped to one region, and behind a
   * latency-routed domain the region that answers is the nearest healthy one.
   * docs/SDK.md, "Uploading and following an image", shows both.
   * @default none: requests go unsigned
   */
  readonly sign?: (request: Request, context: SignContext) => Promise<Request>;
  /**
   * The region `sign` signs for, when it is fixed (an execute-api URL names it).
   * @default the region the API's `GET /v1/health` names, asked before the first signed
   *   request and asked again when API Gateway refuses a signature scoped to another region
   */
  readonly region?: string;
}

/** What `sign` is told. */
export interface SignContext {
  /** The region to scope the signature to. */
  readonly region: string;
}

export interface RequestOptions {
  readonly signal?: AbortSignal;
}

export interface WaitOptions extends RequestOptions {
  /** The longest to wait, in milliseconds. @default 120000 */
  readonly timeoutMs?: number;
  /** Between two reads of the image's status. @default 2000 */
  readonly intervalMs?: number;
  /**
   * Ignores executions that started before this (a Date, or an ISO 8601 string
   * from AWS's clock), so that a re-upload does not find the previous upload's
   * execution, already ended. @default none: the last execution, whichever it is
   */
  readonly since?: Date | string;
}

export interface ApiClient {
  /** A presigned POST for one original (POST /v1/tenants/{tenant}/uploads): give it to `uploadFile`. */
  createUpload(tenant: string, request: UploadRequest, options?: RequestOptions): Promise<UploadTicket>;
  /** The image's published versions, canonical URLs, variants and last execution. */
  getImage(tenant: string, imageId: string, options?: RequestOptions): Promise<ImageStatus>;
  /**
   * Reads the image's status every `intervalMs` until its last execution has ended
   * (succeeded or not: read `lastExecution.status` and `outcome`), and answers it.
   * The API's NotFound is "not yet" here: a new id is listed once S3's event has started its execution.
   * @throws {PictorApiError} WaitTimedOut at `timeoutMs`, whatever is in flight
   */
  waitForImage(tenant: string, imageId: string, options?: WaitOptions): Promise<ImageStatus>;
  /**
   * The tenant's public policy, checked: what buildUrl and srcset take.
   * @throws {PictorUrlError} InvalidPolicy when the answer is not one
   */
  getPolicy(tenant: string, options?: RequestOptions): Promise<PublicPolicy>;
}

/**
 * A thin client of the API's tenant routes, for a front end's backend or a
 * browser with credentials. Tenant and image ids are checked before any request.
 *
 * @throws {PictorApiError} on every error answer: the API's `{code, message}` and
 *   the HTTP status; API Gateway's own refusals (`{"message":"Forbidden"}`) get
 *   their code from the status (Forbidden, Unauthorized, NotFound, TooManyRequests, ...).
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const baseUrl = typeof options.baseUrl === 'string' ? options.baseUrl.replace(/\/+$/, '') : '';
  if (!baseUrl || /[?#]/.test(baseUrl)) {
    throw apiError('InvalidParameter', "Expected the API's URL (https://api.example.com), or a path of your backend that forwards to it, for baseUrl but received '" + String(options.baseUrl) + "'.");
  }
  const sign = options.sign;
  const fixedRegion = options.region;
  let asked: Promise<string> | undefined;

  /** The region the API's health check names: the one that answers this caller now. */
  function askRegion(): Promise<string> {
    return (asked ||= sendWithFetch(options.fetch, new Request(baseUrl + '/v1/health')).then((answer) => {
      let health: Partial<Health> | undefined;
      try {
        health = JSON.parse(answer.text);
      } catch {
        // Not JSON: refused below.
      }
      if (health && typeof health.region === 'string' && health.region) return health.region;
      throw apiError('RegionUnknown', 'GET ' + baseUrl + '/v1/health answered ' + answer.status + ' with no region to sign for: give the region option.', answer.status);
    })).catch((error) => {
      asked = undefined;
      throw error;
    });
  }

  /** The API's answer; with `notYet`, undefined for the API's own NotFound. */
  async function call<T>(method: string, tenant: string, path: string, body: unknown, signal?: AbortSignal, notYet?: boolean, retried?: boolean): Promise<T> {
    const init: RequestInit = { method: method, signal: signal };
    if (body !== undefined) {
      init.headers = { 'content-type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    let request = new Request(baseUrl + '/v1/tenants/' + encodeURIComponent(tenant) + path, init);
    if (sign) request = await sign(request, { region: fixedRegion || (await askRegion()) });
    const answer = await sendWithFetch(options.fetch, request);
    let parsed: Partial<ApiErrorBody> | undefined;
    try {
      parsed = JSON.parse(answer.text);
    } catch {
      // Not JSON: a proxy's page, say; the status names the error.
    }
    if (answer.status >= 200 && answer.status < 300 && parsed !== undefined) return parsed as T;
    // The API's own NotFound (a code in its body, not API Gateway's bare message): nothing listed under the id yet.
    if (notYet && answer.status === 404 && parsed && parsed.code === 'NotFound') return undefined as T;
    // A SigV4 signature is scoped to one region (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html):
    // a failover moved the domain's answer to another region since the health check. Ask again, send once more.
    if (sign && !fixedRegion && !retried && answer.status === 403 && parsed && /credential should be scoped to a valid region/i.test(String(parsed.message))) {
      asked = undefined;
      return call(method, tenant, path, body, signal, notYet, true);
    }
    throw answerError(answer.status, parsed, answer.text);
  }

  // async throughout: a refused id rejects, as every other failure does, rather than throwing at the call.
  async function getImage(tenant: string, imageId: string, options?: RequestOptions): Promise<ImageStatus> {
    checkTenant(tenant);
    checkImageId(imageId);
    return call('GET', tenant, '/images/' + encodeURIComponent(imageId), undefined, options?.signal);
  }

  return {
    async createUpload(tenant, request, options) {
      checkTenant(tenant);
      checkImageId(request.imageId);
      return call('POST', tenant, '/uploads', request, options?.signal);
    },
    getImage: getImage,
    async getPolicy(tenant, options) {
      checkTenant(tenant);
      return readPublicPolicy(await call('GET', tenant, '/policy', undefined, options?.signal));
    },
    async waitForImage(tenant, imageId, options = {}) {
      checkTenant(tenant);
      checkImageId(imageId);
      const timeoutMs = positive('timeoutMs', options.timeoutMs, 120000);
      const intervalMs = positive('intervalMs', options.intervalMs, 2000);
      const since = options.since === undefined ? -Infinity : options.since instanceof Date ? options.since.getTime() : Date.parse(options.since);
      if (Number.isNaN(since)) throw apiError('InvalidParameter', "Expected a Date or an ISO 8601 time for since but received '" + String(options.since) + "'.");
      const outer = options.signal;
      outer?.throwIfAborted();
      // One signal for the requests and the sleeps: the caller's abort, or the deadline.
      const controller = new AbortController();
      const signal = controller.signal;
      let last: ImageStatus | undefined;
      let notFound = false;
      const forward = () => controller.abort(outer!.reason);
      const timer = setTimeout(() => {
        const execution = last && last.lastExecution;
        controller.abort(
          apiError(
            'WaitTimedOut',
            'Image ' + tenant + '/' + imageId + ': no execution ended within ' + timeoutMs + ' ms (' +
              (execution ? 'the last one, started ' + execution.startedAt + ', is ' + execution.status : last ? 'none has started yet' : notFound ? 'the image is not found yet' : 'no status was read') +
              '). Follow it later with getImage, or raise timeoutMs.',
          ),
        );
      }, timeoutMs);
      outer?.addEventListener('abort', forward);
      try {
        for (;;) {
          // Until S3's event has started the upload's execution, a new id is not found: not yet, rather than never.
          const status = await abortable(call<ImageStatus | undefined>('GET', tenant, '/images/' + encodeURIComponent(imageId), undefined, signal, true), signal);
          notFound = !status;
          last = status || last;
          const execution = last && last.lastExecution;
          if (execution && execution.status !== 'RUNNING' && Date.parse(execution.startedAt) >= since) return last!;
          await sleep(intervalMs, signal);
        }
      } finally {
        clearTimeout(timer);
        outer?.removeEventListener('abort', forward);
      }
    },
  };
}

/** API Gateway's refusals carry only a message; the status then names the code. */
const STATUS_CODES: { readonly [status: number]: string } = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  413: 'PayloadTooLarge',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

function statusCode(status: number): string {
  return STATUS_CODES[status] || 'Http' + status;
}

function answerError(status: number, body: Partial<ApiErrorBody> | undefined, text: string): PictorApiError {
  const message = body && typeof body.message === 'string' ? body.message : text.slice(0, 200) || 'HTTP ' + status;
  if (body && typeof body.code === 'string') return apiError(body.code, message, status);
  // API Gateway refused it before Pictor saw it (IAM authorization:
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html).
  const hint = status === 403 && /scoped to a valid region/i.test(message)
    ? ': sign for the region that answers (leave out the region option, and the client asks GET /v1/health).'
    : status === 403 || status === 401 ? ': sign the request (the sign option) with credentials of this tenant\'s role or an admin.' : '';
  return apiError(status >= 200 && status < 300 ? 'InvalidResponse' : statusCode(status), message + hint, status);
}

function checkTenant(tenant: string): void {
  if (typeof tenant !== 'string' || !isTenantId(tenant)) throw apiError('InvalidParameter', "Expected a tenant id (3 to 32 of a-z 0-9 -, starting and ending with a letter or digit) but received '" + String(tenant) + "'.");
}

function checkImageId(imageId: string): void {
  if (typeof imageId !== 'string' || !isImageId(imageId)) throw apiError('InvalidParameter', "Expected an image id (1 to 128 of A-Z a-z 0-9 _ -, starting with a letter or digit) but received '" + String(imageId) + "'.");
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  // setTimeout fires at once past 2^31 - 1 ms (about 24 days).
  if (typeof value !== 'number' || !(value > 0 && value <= 2147483647)) {
    throw apiError('InvalidParameter', 'Expected a positive number of milliseconds, at most 2147483647, for ' + name + " but received '" + String(value) + "': a wait always has a deadline.");
  }
  return value;
}

/** The promise, or the signal's reason as soon as it aborts: a fetch that ignores its signal still stops at the deadline. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const stop = () => reject(signal.reason);
    signal.addEventListener('abort', stop);
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    signal.addEventListener('abort', stop);
  });
}
