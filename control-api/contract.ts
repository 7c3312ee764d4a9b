/**
 * The control-plane API's contract: its routes and what they answer, declared
 * once. infra creates a route per entry (infra/control-api.ts) and grants each
 * tenant's role only its own tenant's routes; the handler dispatches on the route
 * key (control-api/handler.ts); the twin serves the routes the synthesized template
 * holds; the client SDK and the CLI read the shapes below.
 *
 * Plain data and types: no SDK, no zod, safe for a browser bundle.
 */

/**
 * Who may call a route:
 * - `public`: anyone, unsigned (the health check Route 53 probes);
 * - `tenant`: the tenant the path names, through its role, and the admins;
 * - `admin`: the admins only.
 * Every route but `public` is signed with SigV4 (API Gateway's IAM authorization).
 */
export type RouteAccess = 'public' | 'tenant' | 'admin';

export interface RouteDeclaration {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway's path, with `{name}` parameters. */
  readonly path: string;
  readonly access: RouteAccess;
  /** What it does, for the docs. */
  readonly summary: string;
}

export const API_ROUTES = {
  health: { method: 'GET', path: '/v1/health', access: 'public', summary: 'Whether this region answers: what Route 53 health checks probe.' },
  createUpload: { method: 'POST', path: '/v1/tenants/{tenant}/uploads', access: 'tenant', summary: 'A presigned POST for one original, limited to the tenant\'s size and content types.' },
  getImage: { method: 'GET', path: '/v1/tenants/{tenant}/images/{imageId}', access: 'tenant', summary: 'An image\'s published versions, canonical URLs, variants and last execution.' },
  signUrl: { method: 'POST', path: '/v1/tenants/{tenant}/signed-urls', access: 'tenant', summary: 'A URL of the tenant\'s images, signed with its newest key.' },
  getPolicy: { method: 'GET', path: '/v1/tenants/{tenant}/policy', access: 'tenant', summary: 'The tenant\'s public policy, which the client SDK builds URLs from.' },
  requestTakedown: { method: 'POST', path: '/v1/tenants/{tenant}/takedowns', access: 'tenant', summary: 'Takes images down: sends "Takedown Requested" with the caller as the requester.' },
  requestRerender: { method: 'POST', path: '/v1/tenants/{tenant}/rerenders', access: 'tenant', summary: 'Re-renders the tenant\'s catalogue: sends "Rerender Requested" with the caller as the requester.' },
  getJob: { method: 'GET', path: '/v1/tenants/{tenant}/jobs/{jobId}', access: 'tenant', summary: 'A takedown batch or re-render job of the tenant: its executions and item counts.' },
  listTenants: { method: 'GET', path: '/v1/tenants', access: 'admin', summary: 'Every tenant, with its active key ids.' },
  putTenant: { method: 'PUT', path: '/v1/tenants/{tenant}', access: 'admin', summary: 'Adds or replaces a tenant\'s configuration.' },
  removeTenant: { method: 'DELETE', path: '/v1/tenants/{tenant}', access: 'admin', summary: 'Removes a tenant: its policy and keys leave the edge.' },
  listKeys: { method: 'GET', path: '/v1/tenants/{tenant}/keys', access: 'admin', summary: 'A tenant\'s active key ids, oldest first; the last one signs.' },
  rotateKey: { method: 'POST', path: '/v1/tenants/{tenant}/keys', access: 'admin', summary: 'Adds a generated signing key, which signs from now on.' },
  retireKey: { method: 'DELETE', path: '/v1/tenants/{tenant}/keys/{kid}', access: 'admin', summary: 'Stops accepting a key.' },
  rerenderAll: { method: 'POST', path: '/v1/rerenders', access: 'admin', summary: 'Re-renders every tenant\'s catalogue.' },
  getAnyJob: { method: 'GET', path: '/v1/jobs/{jobId}', access: 'admin', summary: 'Any takedown batch or re-render job.' },
} as const satisfies Record<string, RouteDeclaration>;

export type RouteName = keyof typeof API_ROUTES;

/** API Gateway's route key for a route: `METHOD /path`. */
export function routeKey(route: RouteDeclaration): string {
  return `${route.method} ${route.path}`;
}

/** Every error answer: a stable code (docs/ERROR-CODES.md) and what to change. */
export interface ApiErrorBody {
  readonly code: string;
  readonly message: string;
}

/** POST /v1/tenants/{tenant}/uploads */
export interface UploadRequest {
  /** 1 to 128 of A-Z a-z 0-9 _ -, starting with a letter or digit. */
  readonly imageId: string;
  /** One of the tenant's `uploads.contentTypes`. */
  readonly contentType: string;
  /** The file's size, when known: refused at once when over the tenant's `uploads.maxBytes`. */
  readonly contentLength?: number;
}

export interface UploadTicket {
  readonly tenant: string;
  readonly imageId: string;
  /** The originals bucket's key, derived from tenant and id: never the caller's to choose. */
  readonly key: string;
  /**
   * How to upload: a multipart/form-data POST to `url` with every field of
   * `fields` first and the file last, as `file`. S3 refuses a file outside
   * `minBytes`..`maxBytes`, or a form declaring another Content-Type, before storing
   * any byte. S3 does not look inside the file: the pipeline decodes it, and rejects
   * what it cannot.
   * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
   */
  readonly upload: {
    readonly method: 'POST';
    readonly url: string;
    readonly fields: Readonly<Record<string, string>>;
    readonly contentType: string;
    readonly minBytes: number;
    readonly maxBytes: number;
    /** ISO 8601: the POST is refused after this. */
    readonly expiresAt: string;
  };
  /** How to follow the result: GET this path of the API (an ImageStatus) until `lastExecution` has ended. */
  readonly status: string;
}

/** A version-map execution's end, as the image's status reports it. */
export interface ExecutionSummary {
  readonly executionArn: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';
  readonly startedAt: string;
  readonly stoppedAt?: string;
  /** What RenderOnUpload did with the upload: `published`, `rejected`, `discarded`, `skipped`. */
  readonly outcome?: string;
  /** Why, when it was not published: an error code (docs/ERROR-CODES.md), for a rejected upload. */
  readonly code?: string;
  /** Why, in words, when it was not published. */
  readonly reason?: string;
  readonly error?: string;
  readonly cause?: string;
}

/** GET /v1/tenants/{tenant}/images/{imageId} */
export interface ImageStatus {
  readonly tenant: string;
  readonly imageId: string;
  /** `published` once a version is; `pending` before; `taken-down` for good. */
  readonly state: 'pending' | 'published' | 'taken-down';
  /** The published version, 0 before the first. */
  readonly version: number;
  /** Every version ever published, the latest among them. */
  readonly publishedVersions: readonly number[];
  /** The canonical URLs of the published version: unversioned and versioned, with no options (signed for a tenant that requires it). */
  readonly urls: { readonly versioned: string; readonly unversioned: string } | null;
  /** The published version's variants in the variants bucket (`{tenant}/{imageId}/v{n}/{variant}.{format}`), as stored. */
  readonly variants: readonly { readonly key: string; readonly bytes: number }[];
  /** The last RenderOnUpload execution of this image's uploads, if any is still listed. */
  readonly lastExecution: ExecutionSummary | null;
  readonly takenDownAt?: string;
}

/** POST /v1/tenants/{tenant}/signed-urls */
export interface SignUrlRequest {
  /** A path and query of the tenant's images, `/img/{tenant}/{id}?w=640`, or a full URL. */
  readonly url: string;
  /** Seconds it stays valid, at most the tenant's `signing.maxTtl`. @default 3600 */
  readonly ttlSeconds?: number;
}

/** What POST /v1/tenants/{tenant}/signed-urls answers. */
export interface SignedUrl {
  /** The URL on the distribution (or the given URL's origin), signed with the tenant's newest key. */
  readonly url: string;
  /** ISO 8601: when the edge stops accepting it. */
  readonly expiresAt: string;
}

/** GET /v1/health: unsigned. */
export interface Health {
  readonly status: 'ok';
  /**
   * The region that answered. Behind a latency-routed domain a caller signs for the
   * region it reaches, since SigV4 scopes a signature to one region: ask here first.
   */
  readonly region: string;
}

/** POST /v1/tenants/{tenant}/takedowns */
export interface TakedownRequest {
  /** 1 to 1,000 image ids, as one "Takedown Requested" holds; fewer when the event would pass EventBridge's 256 KB. */
  readonly imageIds: readonly string[];
  readonly reason: string;
}

/** POST /v1/tenants/{tenant}/rerenders and POST /v1/rerenders */
export interface RerenderRequest {
  readonly variants?: { readonly widths?: readonly number[]; readonly formats?: readonly string[] };
  readonly onlyStale?: boolean;
  readonly toleratedFailurePercentage?: number;
}

/** What a takedown or re-render request answers (202): the job, and how to follow it. */
export interface JobAccepted {
  /** The event's id, which names the job (a takedown's batchId, a re-render's jobId). */
  readonly jobId: string;
  readonly kind: 'takedown' | 'rerender';
  /** The authenticated caller, as the audit record names them. */
  readonly requester: string;
  /** GET this path of the API (a JobStatus) until `state` is not `running`. */
  readonly status: string;
}

/** GET .../jobs/{jobId} */
export interface JobStatus {
  readonly jobId: string;
  readonly kind: 'takedown' | 'rerender';
  /** A job just requested answers 404 NotFound until EventBridge has started its first execution, within seconds. */
  readonly state: 'running' | 'succeeded' | 'failed';
  readonly tenant?: string;
  /** Its executions, the first first: a re-render continues as new ones. */
  readonly executions: readonly ExecutionSummary[];
  /** Items of its Distributed Map runs. */
  readonly items: { readonly total: number; readonly running: number; readonly succeeded: number; readonly failed: number };
  /** The last execution's output, once it has succeeded. */
  readonly output?: unknown;
}

/** GET /v1/tenants and PUT /v1/tenants/{tenant} */
export interface TenantSummaryBody {
  readonly tenant: string;
  readonly signed: boolean;
  /** Active key ids, oldest first; the last one signs. Never a secret. */
  readonly keys: readonly string[];
  readonly config: unknown;
}
