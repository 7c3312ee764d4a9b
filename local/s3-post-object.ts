import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { equalInConstantTime, hmac, signingKey } from './sigv4-crypto.ts';
import { s3KeyPairOf } from './s3-key-pairs.ts';
import type { S3Versions } from './s3-versioning.ts';

/*
 * S3's POST Object (browser uploads authorized by a signed POST policy) for the
 * twin, which s3rver takes without looking at the policy. S3's rules, from:
 *   [forms]  https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTForms.html
 *   [auth]   https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-authentication-HTTPPOST.html
 *   [policy] https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 *   [post]   https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
 *   [errors] https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
 * Where the pages name no code or wording, the twin answers what S3 is recorded
 * answering (LocalStack's tests validated against S3, and error captures in issues).
 */

const require = createRequire(import.meta.url);
const S3Error = require('s3rver/lib/models/error.js') as new (code: string, message?: string, detail?: Record<string, unknown>) => Error & { status: number };
const S3Object = require('s3rver/lib/models/object.js') as new (bucket: string, key: string, content: Readable, metadata: Record<string, string>) => object;
const BUCKET_QUERY_METHODS = (require('s3rver/lib/controllers/bucket.js') as { METHODS: readonly string[] }).METHODS;
const Dicer = require('dicer') as new (config: { boundary: string }) => DicerStream;
/** s3rver's CORS for object requests, from the bucket's CORS configuration: https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html */
const cors = (require('s3rver/lib/middleware/cors.js') as () => (ctx: Ctx, next: () => Promise<void>) => Promise<void>)();

interface DicerStream extends NodeJS.WritableStream {
  on(event: 'part', listener: (part: DicerPart) => void): this;
  on(event: 'finish', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}
interface DicerPart extends Readable {
  on(event: 'header', listener: (header: Record<string, string[]>) => void): this;
  on(event: string, listener: (...args: any[]) => void): this;
}

/** The slice of Koa's context the middleware uses. */
interface Ctx {
  params: Record<string, string>;
  method: string;
  path: string;
  origin: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  req: NodeJS.ReadableStream & { unpipe(destination?: NodeJS.WritableStream): unknown; resume(): unknown };
  store: { getBucket(bucket: string): Promise<object | null>; putObject(object: object): Promise<{ md5: string; size: number }> };
  status: number;
  body: unknown;
  type: string;
  set(name: string, value: string): void;
}

export interface PostObjectOptions {
  /** The versions of the server's buckets: a POST to a versioned bucket makes a version, as a PUT does. */
  readonly versions: S3Versions;
  /** The region of a bucket, which the credential's scope must name ([post]: "the signature is valid only within this scope"). */
  readonly regionOf: (bucket: string) => string;
  /** Now, for expiry checks. @default Date.now */
  readonly now?: () => number;
}

/** [forms]: "The form data and boundaries (excluding the contents of the file) cannot exceed 20KB"; S3 answers 20480 bytes. */
export const MAX_POST_PRE_DATA_BYTES = 20 * 1024;
/** A POST carries one object in one request, whose largest size is 5 GB. https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html */
export const MAX_POST_OBJECT_BYTES = 5 * 1024 ** 3;
/** [policy]: fields no condition needs to name. */
const EXEMPT = new Set(['x-amz-signature', 'file', 'policy']);
/** [auth]: the fields a signed POST carries, as S3 names them in its errors; all or none. */
const SIGNED_FIELDS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Signature', 'Policy'] as const;

/** A form field; names are case-insensitive ([forms]: "The post parameters are case insensitive"), so the map is keyed lowercase. */
interface Field {
  readonly name: string;
  readonly values: string[];
}
type Fields = Map<string, Field>;

/** One condition of a policy, as S3 reports it when it fails. */
type Condition = { kind: 'eq' | 'starts-with'; field: string | undefined; value: string; text: string } | { kind: 'content-length-range'; min: number | undefined; max: number | undefined; text: string };

/** What a valid request may store: the object's key and metadata, and the size range the policy allows. */
interface Authorized {
  readonly key: string;
  readonly minSize: number;
  readonly maxSize: number;
}

/**
 * A Koa middleware answering POST Object (`POST /{bucket}`, multipart/form-data)
 * as S3 does, in front of s3rver's router: the form is read field by field; when
 * the file begins, the signature, the policy's expiry and every condition are
 * checked; the file is then spooled outside the bucket, refused as soon as it
 * passes the policy's content-length-range, and stored (a new version in a
 * versioned bucket, notified as ObjectCreated:Post) only once everything held.
 * A refused upload leaves nothing in the bucket.
 */
export function postObjectMiddleware(options: PostObjectOptions) {
  const now = options.now ?? Date.now;
  return async (ctx: Ctx, next: () => Promise<void>) => {
    const bucket = /^\/([^/]+)\/?$/.exec(ctx.path)?.[1];
    if (ctx.method !== 'POST' || !bucket || BUCKET_QUERY_METHODS.some((method) => method in ctx.query)) return next();
    if (!(await ctx.store.getBucket(bucket))) throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
    ctx.params = { bucket };
    // A browser reads the answer, success or error, only with the bucket's CORS headers on it.
    await cors(ctx, () => post(ctx, bucket));
  };

  async function post(ctx: Ctx, bucket: string): Promise<void> {
    const boundary = boundaryOf(String(ctx.headers['content-type'] ?? ''));
    const spool = await mkdtemp(join(tmpdir(), 'pictor-s3-post-'));
    try {
      const form = await readForm(ctx, boundary, join(spool, 'file'), (fields, filename) => authorize(fields, filename, bucket, options.regionOf(bucket), now()));
      const { authorized, fields } = form;
      if (form.size < authorized.minSize) {
        throw withStatus(new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', { ProposedSize: form.size, MinSizeAllowed: authorized.minSize }), 400);
      }
      let etag = '';
      const versionId = await options.versions.recordWrite(bucket, authorized.key, 'ObjectCreated:Post', async () => {
        const metadata = Object.fromEntries([...fields].map(([name, field]) => [name, field.values.join(',')]));
        etag = (await ctx.store.putObject(new S3Object(bucket, authorized.key, createReadStream(form.path), metadata))).md5;
        return true;
      });
      respond(ctx, fields, bucket, authorized.key, `"${etag}"`, versionId);
    } finally {
      await rm(spool, { recursive: true, force: true });
    }
  }
}

/**
 * Reads the form: fields until the part named `file` ([post]: "The file or text
 * content must be the last field in the form"; what follows it is ignored), then
 * `check` with the fields, then the file into `path`, stopping at the first byte
 * past the allowed size. Resolves once the body has ended.
 */
function readForm(
  ctx: Ctx,
  boundary: string,
  path: string,
  check: (fields: Fields, filename: string | undefined) => Authorized,
): Promise<{ fields: Fields; authorized: Authorized; path: string; size: number }> {
  return new Promise((resolve, reject) => {
    const fields: Fields = new Map();
    const parser = new Dicer({ boundary });
    /** Each field part, read to its end (a part's end may come after the next part's header). */
    const fieldsRead: Promise<void>[] = [];
    let preData = 0;
    let file: Promise<{ authorized: Authorized; size: number }> | undefined;
    let failed = false;
    let out: WriteStream | undefined;
    /** Stops reading: the rest of the body is drained unread, and nothing more is written. */
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      ctx.req.unpipe(parser);
      ctx.req.resume();
      out?.destroy();
      reject(error);
    };
    const readField = (part: DicerPart, name: string, header: Record<string, string[]>) =>
      new Promise<void>((read) => {
        // The bytes of the part as sent: its boundary line, headers and value.
        preData += boundary.length + 6 + Object.entries(header).reduce((n, [k, vs]) => n + vs.reduce((m, v) => m + k.length + v.length + 4, 0), 0);
        const chunks: Buffer[] = [];
        part.on('data', (chunk: Buffer) => {
          preData += chunk.length;
          if (preData > MAX_POST_PRE_DATA_BYTES) {
            return fail(withStatus(new S3Error('MaxPostPreDataLengthExceeded', 'Your POST request fields preceeding the upload file was too large.', { MaxPostPreDataLengthBytes: MAX_POST_PRE_DATA_BYTES }), 400));
          }
          chunks.push(chunk);
        });
        part.on('end', () => {
          const field = fields.get(name.toLowerCase()) ?? { name, values: [] };
          field.values.push(Buffer.concat(chunks).toString('utf8'));
          fields.set(name.toLowerCase(), field);
          read();
        });
      });
    const readFile = async (part: DicerPart, filename: string | undefined) => {
      await Promise.all(fieldsRead);
      if (failed) return undefined;
      const authorized = check(fields, filename);
      const stream = createWriteStream(path);
      out = stream;
      let size = 0;
      await new Promise<void>((written, notWritten) => {
        stream.on('error', notWritten);
        part.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > authorized.maxSize) {
            // Refused at the first byte past the range, before the file reaches the bucket.
            return fail(withStatus(new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { MaxSizeAllowed: authorized.maxSize }), 400));
          }
          if (!stream.write(chunk)) {
            part.pause();
            stream.once('drain', () => part.resume());
          }
        });
        part.on('end', () => stream.end(() => written()));
      });
      return { authorized, size };
    };
    parser.on('part', (part) => {
      if (failed || file) return void part.resume(); // after the file: ignored
      part.on('error', fail);
      part.on('header', (header) => {
        const disposition = parseParams(header['content-disposition']?.[0] ?? '');
        const name = disposition.params.name;
        if (disposition.type !== 'form-data' || name === undefined) return fail(malformedPost());
        if (name.toLowerCase() !== 'file') return void fieldsRead.push(readField(part, name, header));
        file = readFile(part, disposition.params.filename) as Promise<{ authorized: Authorized; size: number }>;
        file.catch(fail);
      });
    });
    parser.on('error', () => fail(malformedPost()));
    parser.on('finish', async () => {
      try {
        if (!file) {
          // No file: the fields are checked as they would have been, then the missing file is named.
          await Promise.all(fieldsRead);
          if (failed) return;
          check(fields, undefined);
          throw new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.', { ArgumentName: 'file', ArgumentValue: 0 });
        }
        const read = await file;
        if (!failed && read) resolve({ fields, authorized: read.authorized, path, size: read.size });
      } catch (error) {
        fail(error);
      }
    });
    ctx.req.on('error', fail);
    ctx.req.on('aborted', () => fail(new Error('The client aborted the upload.')));
    ctx.req.pipe(parser);
  });
}

/**
 * The checks S3 makes before it takes a byte of the file, in its order: the signed
 * fields present, the credential's scope, the access key and session token, the
 * signature over the policy as sent, the policy's form, its expiry, each condition,
 * and no field that no condition names.
 */
function authorize(fields: Fields, filename: string | undefined, bucket: string, region: string, now: number): Authorized {
  // [forms]: "${filename} is automatically replaced with the name of the file ... recognized by all form fields";
  // only the text after the last slash or backslash. S3 leaves it as it is when the part names no file.
  if (filename !== undefined) {
    const base = filename.split(/[\\/]/).pop()!;
    for (const field of fields.values()) field.values.forEach((v, i) => (field.values[i] = v.replaceAll('${filename}', base)));
  }
  const value = (name: string) => fields.get(name.toLowerCase())?.values.join(',');

  // A request without the signed fields is anonymous, which only a publicly writable bucket takes; the twin's are private.
  if (SIGNED_FIELDS.slice(0, 4).every((name) => value(name) === undefined)) throw new S3Error('AccessDenied', 'Access Denied');
  for (const name of SIGNED_FIELDS) {
    if (value(name) === undefined) {
      throw new S3Error('InvalidArgument', `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`, { ArgumentName: name, ArgumentValue: '' });
    }
  }
  const key = value('key');
  if (key === undefined) {
    throw new S3Error('InvalidArgument', "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", { ArgumentName: 'key', ArgumentValue: '' });
  }
  if (key.length === 0) throw new S3Error('InvalidArgument', 'User key must have a length greater than 0.', { ArgumentName: 'key', ArgumentValue: '' });
  const algorithm = value('x-amz-algorithm')!;
  if (algorithm !== 'AWS4-HMAC-SHA256') throw new S3Error('InvalidArgument', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"', { ArgumentName: 'X-Amz-Algorithm', ArgumentValue: algorithm });
  const credential = value('x-amz-credential')!;
  const scope = /^([^/]*)\/(\d{8})\/([^/]+)\/s3\/aws4_request$/.exec(credential);
  const badCredential = (message: string, extra: Record<string, string> = {}) => new S3Error('InvalidArgument', message, { ArgumentName: 'X-Amz-Credential', ArgumentValue: credential, ...extra });
  if (!scope) throw badCredential('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  const [, accessKeyId, day, scopeRegion] = scope as unknown as [string, string, string, string];
  if (!accessKeyId) throw badCredential('a non-empty Access Key (AKID) must be provided in the credential.');
  if (scopeRegion !== region) throw badCredential(`the region '${scopeRegion}' is wrong; expecting '${region}'`, { Region: region });
  // [auth]: x-amz-date "is the same date you used in creating the signing key".
  const date = value('x-amz-date')!;
  if (!/^\d{8}T\d{6}Z$/.test(date) || date.slice(0, 8) !== day) {
    throw new S3Error('InvalidArgument', 'X-Amz-Date must be formated via ISO8601 Long format, on the day of the credential', { ArgumentName: 'X-Amz-Date', ArgumentValue: date });
  }

  const keyPair = s3KeyPairOf(accessKeyId);
  const token = value('x-amz-security-token');
  // A session's key without its token is unknown to S3; a token that is not the key's is refused.
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_use-resources.html
  if (!keyPair || (keyPair.sessionToken !== undefined && token === undefined)) {
    throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: accessKeyId });
  }
  if (token !== undefined && token !== keyPair.sessionToken) throw withStatus(new S3Error('InvalidToken', 'The provided token is malformed or otherwise invalid.', { Token: token }), 400);

  // [auth]: the signature is the hex HMAC-SHA256 of the base64 policy as sent, under the SigV4 signing key of the credential's scope.
  const policyText = value('policy')!;
  const provided = value('x-amz-signature')!;
  const expected = signPolicy(policyText, keyPair.secretAccessKey, day, scopeRegion);
  if (!equalInConstantTime(provided, expected)) {
    throw new S3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
      AWSAccessKeyId: accessKeyId,
      StringToSign: policyText,
      SignatureProvided: provided,
      StringToSignBytes: [...Buffer.from(policyText)].map((b) => b.toString(16).padStart(2, '0')).join(' '),
    });
  }

  const policy = parsePolicy(policyText);
  // [policy]: "specifies the expiration date and time of the POST policy".
  if (now > policy.expiration) throw new S3Error('AccessDenied', 'Invalid according to Policy: Policy expired.');

  // The bucket a `bucket` condition checks is the one the request is for, and the field too when the form sends it.
  const valuesOf = (name: string): string[] | undefined => {
    if (name === 'bucket') return [bucket, ...(fields.get('bucket')?.values ?? [])];
    const v = value(name);
    return v === undefined ? undefined : [v];
  };
  let minSize = 0;
  let maxSize = MAX_POST_OBJECT_BYTES;
  const failedCondition = (condition: Condition) => new S3Error('AccessDenied', `Invalid according to Policy: Policy Condition failed: ${condition.text}`);
  for (const condition of policy.conditions) {
    if (condition.kind === 'content-length-range') {
      if (condition.min === undefined || condition.max === undefined) throw failedCondition(condition);
      minSize = Math.max(minSize, condition.min);
      maxSize = Math.min(maxSize, condition.max);
      continue;
    }
    const values = condition.field === undefined ? undefined : valuesOf(condition.field);
    // A condition on a field the form lacks fails, even `starts-with ""`.
    const holds = (v: string) =>
      condition.kind === 'eq'
        ? v === condition.value
        : // [policy]: a Content-Type with commas is a list, each of whose values must start so.
          (condition.field === 'content-type' ? v.split(',').map((t) => t.trimStart()) : [v]).every((t) => t.startsWith(condition.value));
    if (!values || !values.every(holds)) throw failedCondition(condition);
  }
  // [policy]: "Each form field that you specify in a form (except x-amz-signature, file, policy, and field
  // names that have an x-ignore- prefix) must appear in the list of conditions."
  const named = new Set(policy.conditions.flatMap((c) => (c.kind !== 'content-length-range' && c.field ? [c.field] : [])));
  for (const [name, field] of fields) {
    if (EXEMPT.has(name) || name.startsWith('x-ignore-') || named.has(name)) continue;
    throw new S3Error('AccessDenied', `Invalid according to Policy: Extra input fields: ${field.name}`);
  }

  // The twin's buckets disable ACLs (Object Ownership "bucket owner enforced", S3's default): only the bucket owner's full control may be asked for.
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html
  const acl = value('acl');
  if (acl !== undefined && acl !== 'bucket-owner-full-control') throw withStatus(new S3Error('AccessControlListNotSupported', 'The bucket does not allow ACLs'), 400);
  if (minSize > maxSize) throw new S3Error('AccessDenied', `Invalid according to Policy: Policy Condition failed: ["content-length-range", ${minSize}, ${maxSize}]`);
  return { key, minSize, maxSize };
}

/** The SigV4 signature of a POST policy. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html#derive-signing-key */
export function signPolicy(policyBase64: string, secretAccessKey: string, day: string, region: string): string {
  return hmac(signingKey(secretAccessKey, day, region, 's3'), policyBase64).toString('hex');
}

/**
 * The policy document: `expiration` and `conditions`, each condition an object of
 * one string property (exact match) or a list naming its operation. A document S3
 * cannot read is 400 InvalidPolicyDocument.
 */
function parsePolicy(base64: string): { expiration: number; conditions: Condition[] } {
  const invalid = (reason: string) => withStatus(new S3Error('InvalidPolicyDocument', `Invalid Policy: ${reason}`), 400);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) throw invalid('invalid Base64 encoding.');
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch {
    throw invalid('Invalid JSON.');
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw invalid('Invalid JSON.');
  for (const name of Object.keys(document)) if (name !== 'expiration' && name !== 'conditions') throw invalid(`Unexpected: '${name.toLowerCase()}'`);
  const { expiration, conditions } = document as { expiration?: unknown; conditions?: unknown };
  if (expiration === undefined) throw invalid('Policy missing expiration.');
  // "in ISO8601 GMT date format"; S3 refuses an offset or a space for the T.
  if (typeof expiration !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(expiration) || Number.isNaN(Date.parse(expiration))) {
    throw invalid(`Invalid 'expiration' value: '${String(expiration)}'`);
  }
  if (conditions === undefined) throw invalid('Policy missing conditions.');
  if (!Array.isArray(conditions)) throw invalid("Invalid 'conditions' value: must be a List.");
  return { expiration: Date.parse(expiration), conditions: conditions.map((c) => parseCondition(c, invalid)) };
}

function parseCondition(condition: unknown, invalid: (reason: string) => Error): Condition {
  const show = (items: unknown[]) => `[${items.map((item) => JSON.stringify(item)).join(', ')}]`;
  const fieldOf = (name: string) => (name.startsWith('$') ? name.slice(1).toLowerCase() : undefined); // without the `$`, it names no field and fails
  if (typeof condition === 'object' && condition !== null && !Array.isArray(condition)) {
    const entries = Object.entries(condition);
    if (entries.length !== 1) throw invalid('Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
    const [name, value] = entries[0]!;
    if (typeof value !== 'string') throw invalid('Invalid Simple-Condition: value must be a string.');
    return { kind: 'eq', field: name.toLowerCase(), value, text: show(['eq', `$${name}`, value]) };
  }
  if (!Array.isArray(condition)) throw invalid('Invalid condition test: must be a List or Object.');
  if (condition.length === 0 || typeof condition[0] !== 'string') throw invalid('Invalid Condition: missing operation identifier.');
  const operation = condition[0].toLowerCase();
  if (operation !== 'eq' && operation !== 'starts-with' && operation !== 'content-length-range') throw invalid(`Invalid Condition: unknown operation '${condition[0]}'.`);
  if (condition.length !== 3) throw invalid(`Invalid ${condition[0]}: wrong number of arguments.`);
  if (operation === 'content-length-range') {
    // Whole numbers, or strings of them (S3 takes "5"); a fraction is not JSON S3 reads.
    const bound = (b: unknown) => {
      if (typeof b === 'number' && !Number.isInteger(b)) throw invalid('Invalid JSON.');
      const n = typeof b === 'number' ? b : typeof b === 'string' && /^\d+$/.test(b) ? Number(b) : undefined;
      return n !== undefined && n >= 0 ? n : undefined;
    };
    return { kind: 'content-length-range', min: bound(condition[1]), max: bound(condition[2]), text: show(condition) };
  }
  const [, name, value] = condition as [string, unknown, unknown];
  if (typeof name !== 'string' || typeof value !== 'string') throw invalid('Invalid JSON.');
  return { kind: operation, field: fieldOf(name), value, text: show(condition) };
}

/**
 * [post]: `success_action_redirect` (or the older `redirect`) answers 303 to that URL
 * with bucket, key and etag added, when S3 can read it as a URL; otherwise
 * `success_action_status` 200 or 201 (with a PostResponse document), else 204.
 */
function respond(ctx: Ctx, fields: Fields, bucket: string, key: string, etag: string, versionId: string | undefined): void {
  const field = (name: string) => fields.get(name)?.values.join(',');
  const location = `${ctx.origin}/${bucket}/${encodeURIComponent(key)}`;
  ctx.set('ETag', etag);
  if (versionId) ctx.set('x-amz-version-id', versionId);
  const redirect = parseUrl(field('success_action_redirect') ?? field('redirect'));
  if (redirect) {
    redirect.search = [redirect.search.slice(1), new URLSearchParams({ bucket, key, etag }).toString()].filter(Boolean).join('&');
    ctx.set('Location', redirect.href);
    ctx.status = 303;
    ctx.body = '';
    ctx.type = '';
    return;
  }
  ctx.set('Location', location);
  const status = field('success_action_status');
  if (status === '201') {
    ctx.status = 201;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>${xml(location)}</Location><Bucket>${xml(bucket)}</Bucket><Key>${xml(key)}</Key><ETag>${xml(etag)}</ETag></PostResponse>`;
    return;
  }
  ctx.status = status === '200' ? 200 : 204;
  ctx.body = '';
  ctx.type = '';
}

function parseUrl(text: string | undefined): URL | undefined {
  if (!text) return undefined;
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** The boundary of a multipart/form-data body; another type is S3's 412, a missing boundary its MalformedPOSTRequest. */
function boundaryOf(contentType: string): string {
  const { type, params } = parseParams(contentType);
  if (type !== 'multipart/form-data') {
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'Bucket POST must be of the enclosure-type multipart/form-data' });
  }
  if (!params.boundary) throw malformedPost();
  return params.boundary;
}

function malformedPost(): Error {
  return withStatus(new S3Error('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.'), 400);
}

/** A header value's type and parameters (RFC 9110 §5.6.6: names case-insensitive; values a token or a quoted string). */
function parseParams(header: string): { type: string; params: Record<string, string> } {
  const [type = ''] = header.split(';');
  const params: Record<string, string> = {};
  // Browsers send a backslash as it is, and a quote as %22 (WHATWG HTML, multipart/form-data), so no quoted-pairs here.
  const pattern = /;\s*([^=;\s]+)=(?:"([^"]*)"|([^;]*))/g;
  for (const match of header.slice(type.length).matchAll(pattern)) params[match[1]!.toLowerCase()] = match[2] ?? match[3]!.trim();
  return { type: type.trim().toLowerCase(), params };
}

/** An S3Error with a status s3rver's table lacks. */
function withStatus<E extends { status: number }>(error: E, status: number): E {
  error.status = status;
  return error;
}

/** Text content: quotes stay as they are, as in S3's `<ETag>"..."</ETag>`. */
function xml(text: string): string {
  return text.replace(/[<>&]/g, (c) => `&#${c.charCodeAt(0)};`);
}
