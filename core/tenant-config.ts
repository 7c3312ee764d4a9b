import { z } from 'zod';
import { PictorError } from './errors.ts';
import { EXPLICIT_FORMATS, type ResolvedFormat } from './formats.ts';
import { isTenantId } from './image-path.ts';
import { MAX_ACTIVE_KEYS } from './signing.ts';
import { encodePolicy, policyStoreKey, signingKeyStoreKey, type TenantPolicy } from './tenant-policy.ts';
import type { VariantSpec } from './variant.ts';
import { KEY_ID_PATTERN, snapUp } from './normalize.ts';

/**
 * Every format class a variant may be rendered in: the explicit formats and
 * `legacy`. Here rather than in formats.ts, which the viewer function bundles:
 * a spread is outside cloudfront-js-2.0.
 */
export const RESOLVED_FORMATS: readonly [ResolvedFormat, ...ResolvedFormat[]] = [...EXPLICIT_FORMATS, 'legacy'];

/** The largest width or height a tenant may offer; beyond it a render is a poster, not a derivative. */
export const MAX_DIMENSION = 8192;
/**
 * A KeyValueStore holds keys of at most 512 bytes, values of at most 1 KB, and 5 MB in all.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-keyvaluestores
 */
export const STORE_QUOTAS = { keyBytes: 512, valueBytes: 1024, totalBytes: 5 * 1024 * 1024 } as const;
/** HMAC-SHA256 keys shorter than the hash add no strength (RFC 2104 §3). */
/** The largest original the pipeline renders (imaging/render-limits.ts maxInputBytes): an upload cannot be bigger. */
export const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;
const DEFAULT_UPLOAD_BYTES = 32 * 1024 * 1024;
/** What the pipeline decodes (sharp's prebuilt formats, without HEIC): https://sharp.pixelplumbing.com/#formats */
export const UPLOAD_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/avif', 'image/gif', 'image/tiff'] as const;
const MIN_SECRET_LENGTH = 32;
const ONE_YEAR = 31536000;
const ONE_DAY = 86400;

const ascending = (name: string, min: number, max: number) =>
  z
    .array(z.number().int().min(min).max(max))
    .min(1)
    .max(32)
    .refine((list) => list.every((v, i) => i === 0 || v > (list[i - 1] as number)), {
      message: `${name} must be strictly ascending`,
    });

/**
 * One tenant's configuration. Each field's description is its documentation:
 * docs/TENANT-CONFIG.md is generated from it (`npm run docs:reference`), so the
 * reference and the rules cannot drift. This module is never in the viewer
 * function's bundle (it reads the compact policy, core/tenant-policy.ts), so the
 * descriptions cost the edge nothing.
 */
const TenantSchema = z
  .strictObject({
    breakpoints: ascending('breakpoints', 1, MAX_DIMENSION)
      .default([160, 320, 480, 640, 768, 1024, 1280, 1600, 1920, 2560])
      .meta({
        description:
          'Widths and heights a request snaps up to: `w` and `h` become the smallest breakpoint at or above them, and the largest when above them all. Strictly ascending. The largest is also the bounding box of a request that names no size.',
      }),
    qualities: ascending('qualities', 1, 100)
      .default([40, 60, 75, 90])
      .meta({ description: 'Qualities `q` snaps up to, the largest when above them all. Strictly ascending.' }),
    defaultQuality: z
      .number()
      .int()
      .default(75)
      .meta({ description: 'The quality of a request that names none. Must be one of `qualities`.' }),
    formats: z
      .array(z.enum(EXPLICIT_FORMATS))
      .min(1)
      .default([...EXPLICIT_FORMATS])
      .meta({
        description:
          'Formats a request may name in `fmt` and that `fmt=auto` may negotiate from `Accept`; another is a 400 FormatNotAllowed. `legacy` (JPEG, or PNG for transparency) is always allowed.',
      }),
    signing: z
      .strictObject({
        required: z.boolean().default(false).meta({ description: 'Whether every URL must be signed (`exp`, `kid`, `sig`); an unsigned one is a 403 SignatureRequired, and viewers are told `Cache-Control: private, no-cache`.' }),
        keys: z
          .record(
            z.string().regex(KEY_ID_PATTERN, 'a key id is 1 to 32 of A-Z a-z 0-9 _ -').meta({ description: 'A key id, the `kid` of a signed URL.' }),
            z.string().min(MIN_SECRET_LENGTH).meta({ description: `A secret, at least ${MIN_SECRET_LENGTH} characters (HMAC-SHA256 keys shorter than the hash add no strength) and at most ${STORE_QUOTAS.valueBytes} bytes; no two tenants may share one.` }),
          )
          .default({})
          .meta({
            description: `Active signing keys by id, at most ${MAX_ACTIVE_KEYS} so that keys rotate with overlap; the last one signs. A tenant that requires signed URLs and lists none gets one generated into Secrets Manager when it is put, so a deployment's tenants file need hold no secret.`,
          }),
        maxTtl: z
          .number()
          .int()
          .min(60)
          .max(ONE_YEAR)
          .default(ONE_DAY)
          .meta({
            description:
              'The longest a signed URL may be valid, in seconds: a URL whose `exp` lies further ahead (beyond 5 minutes of clock skew) is a 403 SignatureLifetimeExceeded, so a leaked URL dies. One day by default.',
          }),
      })
      .default({ required: false, keys: {}, maxTtl: ONE_DAY })
      .meta({ description: 'Signed URLs: whether they are required, the keys, and how long one may live.' }),
    referers: z
      .array(z.string().max(253).regex(/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$/, 'a host name such as shop.example.com or *.example.com'))
      .default([])
      .meta({
        description:
          'Sites whose pages may embed the images, as host names (`shop.example.com`) or every subdomain of one (`*.example.com`). A request whose Referer names another site is a 403 RefererNotAllowed; one with no Referer passes. Checked by the viewer function against the tenant store, so a change needs no deploy. Empty allows any site.',
      }),
    variants: z
      .strictObject({
        widths: z
          .array(z.number().int().positive())
          .max(16)
          .optional()
          .meta({ description: 'Widths of the standard variants; each must be one of `breakpoints`, or no request would ever ask for it. Default: 320, 640 and 1280 snapped up to the breakpoints.' }),
        formats: z
          .array(z.enum(RESOLVED_FORMATS))
          .min(1)
          .optional()
          .meta({ description: 'Format classes of the standard variants; each but `legacy` must be one of `formats`. Default: avif and webp where enabled, and legacy.' }),
      })
      .default({})
      .meta({
        description: 'The standard variant set, rendered on upload (every width in every format class) so that common requests are never transformed at the edge.',
      }),
    uploads: z
      .strictObject({
        maxBytes: z
          .number()
          .int()
          .min(1)
          .max(MAX_UPLOAD_BYTES)
          .default(DEFAULT_UPLOAD_BYTES)
          .meta({ description: `The largest original the control API lets a caller upload, in bytes: S3 refuses a bigger one before storing a byte. At most ${MAX_UPLOAD_BYTES} (64 MiB, the largest original the pipeline renders); 32 MiB by default.` }),
        contentTypes: z
          .array(z.enum(UPLOAD_CONTENT_TYPES))
          .min(1)
          .default([...UPLOAD_CONTENT_TYPES])
          .meta({ description: `Content types an upload may declare, among ${UPLOAD_CONTENT_TYPES.join(', ')}; S3 refuses a POST that declares another. All of them by default.` }),
      })
      .default({ maxBytes: DEFAULT_UPLOAD_BYTES, contentTypes: [...UPLOAD_CONTENT_TYPES] })
      .meta({ description: "Uploads through the control API's presigned POST: how large, and of which types." }),
    ttl: z
      .strictObject({
        unversioned: z
          .number()
          .int()
          .min(0)
          .max(ONE_YEAR)
          .default(60)
          .meta({ description: 'Shared-cache seconds of unversioned URLs (`max-age`, and as long again of `stale-while-revalidate`); versioned URLs are immutable for a year.' }),
      })
      .default({ unversioned: 60 })
      .meta({ description: 'Cache lifetimes.' }),
  })
  .meta({ description: "One tenant's configuration." })
  .superRefine((tenant, ctx) => {
    if (tenant.qualities.indexOf(tenant.defaultQuality) < 0) {
      ctx.addIssue({ code: 'custom', path: ['defaultQuality'], message: `must be one of qualities (${tenant.qualities.join(', ')})` });
    }
    const keyCount = Object.keys(tenant.signing.keys).length;
    if (keyCount > MAX_ACTIVE_KEYS) {
      ctx.addIssue({ code: 'custom', path: ['signing', 'keys'], message: `at most ${MAX_ACTIVE_KEYS} active keys; remove the oldest` });
    }
    (tenant.variants.widths ?? []).forEach((width, i) => {
      if (tenant.breakpoints.indexOf(width) < 0) {
        ctx.addIssue({ code: 'custom', path: ['variants', 'widths', i], message: `${width} is not one of breakpoints, so no request would ever ask for it` });
      }
    });
    (tenant.variants.formats ?? []).forEach((format, i) => {
      if (format !== 'legacy' && tenant.formats.indexOf(format) < 0) {
        ctx.addIssue({ code: 'custom', path: ['variants', 'formats', i], message: `${format} is not one of formats` });
      }
    });
    // A tenant that requires signed URLs and lists no key gets one generated into Secrets Manager
    // when it is put (tenant-store/registry.ts): a deployment's tenants file need hold no secret.
  });

/** A tenants file: `{"tenants": {...}}`, the schema docs/TENANT-CONFIG.md documents. */
export const ConfigSchema = z
  .strictObject({
    tenants: z
      .record(
        z
          .string()
          .refine(isTenantId, 'a tenant id is 3 to 32 of a-z 0-9 -, starting and ending with a letter or digit')
          .meta({ description: 'A tenant id, the first segment of its URLs: 3 to 32 of `a-z 0-9 -`, starting and ending with a letter or digit.' }),
        TenantSchema,
      )
      .refine((tenants) => Object.keys(tenants).length > 0, 'at least one tenant is needed')
      .meta({ description: 'Every tenant by id; at least one.' }),
  })
  .meta({ description: 'A tenants file, read by `pictor tenants put --file` and by `cdk synth -c tenants=`.' });

export type TenantConfig = z.output<typeof TenantSchema>;
export type PictorConfig = z.output<typeof ConfigSchema>;

/**
 * Validates a tenant configuration file's content, filling in defaults.
 * @throws {PictorError} InvalidConfig, listing every problem with its location,
 *   e.g. `tenants.demo.qualities: qualities must be strictly ascending`.
 */
export function parseConfig(input: unknown, source = 'tenant configuration'): PictorConfig {
  const result = ConfigSchema.safeParse(input);
  if (!result.success) throw invalidConfig(source, result.error.issues.map((issue) => `${formatPath(issue.path)}: ${messageOf(issue)}`));
  const problems = storeProblems(result.data);
  if (problems.length > 0) throw invalidConfig(source, problems);
  return result.data;
}

function invalidConfig(source: string, problems: string[]): PictorError {
  // Each problem also as data (`context.problems`), for callers that print them their own way.
  return new PictorError('InvalidConfig', `Invalid ${source}:\n${problems.map((p) => `  ${p}`).join('\n')}`, { context: { source, problems } });
}

/**
 * What the edge KeyValueStore would refuse at deploy time, and secrets shared
 * between tenants: with one tenant's secret, anyone could sign the other's URLs.
 */
function storeProblems(config: PictorConfig): string[] {
  const problems: string[] = [];
  const bytes = (text: string) => new TextEncoder().encode(text).length;
  // The viewer's store (policies and keys) and the pipeline's (policies and configurations), each within 5 MB.
  let total = 0;
  let configTotal = 0;
  const owners = new Map<string, string>();
  for (const [tenant, tenantConfig] of Object.entries(config.tenants)) {
    const policy = bytes(encodePolicy(policyOf(tenantConfig)));
    const taskView = bytes(encodeTaskConfig(tenantConfig));
    total += bytes(policyStoreKey(tenant)) + policy;
    configTotal += bytes(policyStoreKey(tenant)) + policy + bytes(taskConfigStoreKey(tenant)) + taskView;
    if (policy > STORE_QUOTAS.valueBytes) {
      problems.push(`tenants.${tenant}: its edge policy is ${policy} bytes; a KeyValueStore value holds ${STORE_QUOTAS.valueBytes}. Use fewer breakpoints, qualities or referers (*.example.com covers every subdomain of a site).`);
    }
    if (taskView > STORE_QUOTAS.valueBytes) {
      problems.push(`tenants.${tenant}: its configuration for the pipeline is ${taskView} bytes; a KeyValueStore value holds ${STORE_QUOTAS.valueBytes}. Use fewer breakpoints, qualities or variants.`);
    }
    for (const [kid, secret] of Object.entries(tenantConfig.signing.keys)) {
      const where = `tenants.${tenant}.signing.keys.${kid}`;
      total += bytes(signingKeyStoreKey(tenant, kid)) + bytes(secret);
      if (bytes(secret) > STORE_QUOTAS.valueBytes) {
        problems.push(`${where}: the secret is ${bytes(secret)} bytes; a KeyValueStore value holds ${STORE_QUOTAS.valueBytes}. Use a secret of ${MIN_SECRET_LENGTH} to ${STORE_QUOTAS.valueBytes} bytes.`);
      }
      const owner = owners.get(secret);
      if (owner !== undefined && !owner.startsWith(`tenants.${tenant}.`)) {
        problems.push(`${where}: the same secret as ${owner}. Give each tenant secrets of its own: a shared one signs URLs for both tenants.`);
      }
      if (owner === undefined) owners.set(secret, where);
    }
  }
  if (configTotal > STORE_QUOTAS.totalBytes) {
    problems.push(`tenants: the pipeline's KeyValueStore would hold ${configTotal} bytes, more than its ${STORE_QUOTAS.totalBytes}. Use fewer tenants.`);
  }
  if (total > STORE_QUOTAS.totalBytes) {
    problems.push(`tenants: the edge KeyValueStore would hold ${total} bytes, more than its ${STORE_QUOTAS.totalBytes}. Use fewer tenants or keys.`);
  }
  return problems;
}

/** A bad record key hides its reason one level down. */
function messageOf(issue: z.core.$ZodIssue): string {
  return issue.code === 'invalid_key' && issue.issues[0] ? issue.issues[0].message : issue.message;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '') || '(root)';
}

/** Display widths common enough to render ahead of any request. */
const COMMON_WIDTHS = [320, 640, 1280];

/** The tenant's standard variants, as normalized specs: exactly what the edge asks the origin for. */
export function standardVariants(tenant: TenantConfig): VariantSpec[] {
  const specs: VariantSpec[] = [];
  const formats = tenant.variants.formats ?? (['avif', 'webp', 'legacy'] as const).filter((f) => f === 'legacy' || tenant.formats.includes(f));
  const widths = tenant.variants.widths ?? [...new Set(COMMON_WIDTHS.map((w) => snapUp(w, tenant.breakpoints) as number))];
  for (const w of widths) {
    for (const fmt of formats) specs.push(fmt === 'png' ? { fmt, w } : { fmt, q: tenant.defaultQuality, w });
  }
  return specs;
}

export function policyOf(tenant: TenantConfig): TenantPolicy {
  return {
    breakpoints: tenant.breakpoints,
    qualities: tenant.qualities,
    defaultQuality: tenant.defaultQuality,
    formats: tenant.formats,
    signed: tenant.signing.required,
    ttl: tenant.ttl.unversioned,
    maxSignedTtl: tenant.signing.maxTtl,
    referers: tenant.referers,
  };
}

/** The same tenants with no signing keys: for everything but the edge store and what must sign. */
export function withoutSigningKeys(config: PictorConfig): PictorConfig {
  const tenants: PictorConfig['tenants'] = {};
  for (const id of Object.keys(config.tenants)) {
    const tenant = config.tenants[id] as TenantConfig;
    tenants[id] = { ...tenant, signing: { ...tenant.signing, keys: {} } };
  }
  return { tenants: tenants };
}

/** The viewer function's KeyValueStore content: each tenant's policy and signing keys. */
export function edgeStoreEntries(config: PictorConfig): Map<string, string> {
  const entries = new Map<string, string>();
  for (const [tenant, tenantConfig] of Object.entries(config.tenants)) {
    for (const [key, value] of viewerStoreEntries(tenant, tenantConfig, Object.entries(tenantConfig.signing.keys).map(([kid, secret]) => ({ kid, secret })))) {
      entries.set(key, value);
    }
  }
  return entries;
}

/**
 * One tenant's entries in the viewer function's store: its policy and its active
 * signing keys (whose home is Secrets Manager). Only the viewer function reads this store.
 */
export function viewerStoreEntries(tenant: string, config: TenantConfig, keys: readonly { kid: string; secret: string }[]): Map<string, string> {
  const entries = new Map<string, string>();
  entries.set(policyStoreKey(tenant), encodePolicy(policyOf(config)));
  for (const key of keys) entries.set(signingKeyStoreKey(tenant, key.kid), key.secret);
  return entries;
}

/**
 * One tenant's entries in the pipeline's store, which the origin-request function and
 * the tasks read through the API: its policy and its configuration, never a secret.
 */
export function configStoreEntries(tenant: string, config: TenantConfig): Map<string, string> {
  const entries = new Map<string, string>();
  entries.set(policyStoreKey(tenant), encodePolicy(policyOf(config)));
  entries.set(taskConfigStoreKey(tenant), encodeTaskConfig(config));
  return entries;
}

/**
 * The KeyValueStore key of a tenant's configuration as the pipeline's tasks and the
 * registry read it at run time: everything but its secrets and its referers (WAF's).
 */
export function taskConfigStoreKey(tenant: string): string {
  return 'config:' + tenant;
}

export function encodeTaskConfig(config: TenantConfig): string {
  return JSON.stringify({ ...config, signing: { ...config.signing, keys: {} }, referers: [] });
}

/** A stored task configuration, validated by the file's own rules; null when the text is not one. */
export function decodeTaskConfig(text: string | null | undefined): TenantConfig | null {
  if (!text) return null;
  try {
    const result = TenantSchema.safeParse(JSON.parse(text));
    return result.success ? result.data : null;
  } catch {
    return null;
  }
}

/** Validates one tenant's configuration by the file's rules. @throws {PictorError} InvalidConfig */
export function parseTenant(id: string, input: unknown, source = `tenant ${id}`): TenantConfig {
  return parseConfig({ tenants: { [id]: input } }, source).tenants[id] as TenantConfig;
}
