import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PictorError } from '../core/errors.ts';
import { parseConfig, type PictorConfig } from '../core/tenant-config.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The twin's settings: every environment variable it reads is read here. */
export interface LocalSettings {
  /** PICTOR_TENANTS. @default local/demo-tenants.json */
  readonly tenantsFile: string;
  /** PICTOR_DATA_DIR: where S3 data persists. @default .pictor-data */
  readonly dataDir: string;
  /** PICTOR_EDGE_PORT. @default 8080 */
  readonly edgePort: number;
  /** PICTOR_CONTROL_PORT: CloudFront's API (invalidations). @default 8081 */
  readonly controlPort: number;
  /** PICTOR_API_PORT: the control-plane API (API Gateway's HTTP API). @default 8082 */
  readonly apiPort: number;
  /** PICTOR_S3_PORT. @default 4568 */
  readonly s3Port: number;
  /** PICTOR_DYNAMODB_PORT. @default 4569 */
  readonly dynamodbPort: number;
  /** PICTOR_REGION_PORTS: each region's S3 endpoint, as `us-east-1=4570,eu-west-1=4571`. @default those */
  readonly regionPorts: Readonly<Record<string, number>>;
  /**
   * PICTOR_TIME_SCALE: AWS's own durations (retry backoff, Wait states, invalidation
   * completion) as a share of real time; 0.05 makes a 2-minute invalidation 6 s.
   * @default 1, AWS's timing
   */
  readonly timeScale: number;
  /** PICTOR_INVALIDATION_DELAY_MS: how long an invalidation stays in progress. @default 2 minutes times the time scale */
  readonly invalidationDelayMs?: number;
  /** PICTOR_BROWSER_ORIGINS: web origins whose pages may upload and call the API, comma-separated (as controlApi.browserOrigins). @default none */
  readonly browserOrigins?: readonly string[];
  /** PICTOR_REPLICATION_DELAY_MS: how long replication takes to bring an original to the replica (AWS: seconds to minutes). @default 1000 */
  readonly replicationDelayMs: number;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): LocalSettings {
  return {
    tenantsFile: resolve(env.PICTOR_TENANTS ?? join(ROOT, 'local', 'demo-tenants.json')),
    dataDir: resolve(env.PICTOR_DATA_DIR ?? join(ROOT, '.pictor-data')),
    edgePort: port(env, 'PICTOR_EDGE_PORT', 8080),
    controlPort: port(env, 'PICTOR_CONTROL_PORT', 8081),
    apiPort: port(env, 'PICTOR_API_PORT', 8082),
    s3Port: port(env, 'PICTOR_S3_PORT', 4568),
    dynamodbPort: port(env, 'PICTOR_DYNAMODB_PORT', 4569),
    regionPorts: regionPorts(env.PICTOR_REGION_PORTS ?? 'us-east-1=4570,eu-west-1=4571'),
    timeScale: timeScale(env.PICTOR_TIME_SCALE),
    invalidationDelayMs: env.PICTOR_INVALIDATION_DELAY_MS === undefined ? undefined : integer(env, 'PICTOR_INVALIDATION_DELAY_MS', 0),
    replicationDelayMs: integer(env, 'PICTOR_REPLICATION_DELAY_MS', 1000),
    browserOrigins: browserOrigins(env.PICTOR_BROWSER_ORIGINS),
  };
}

function timeScale(value: string | undefined): number {
  if (value === undefined) return 1;
  const scale = Number(value);
  if (!(scale > 0 && scale <= 1)) throw new StartupError(`PICTOR_TIME_SCALE must be a number above 0 and at most 1, not '${value}'.`);
  return scale;
}

/** Where the running twin's services answer, for clients such as the CLI. */
export function endpointsOf(settings: LocalSettings) {
  return {
    edge: `http://127.0.0.1:${settings.edgePort}`,
    control: `http://127.0.0.1:${settings.controlPort}`,
    api: `http://127.0.0.1:${settings.apiPort}`,
    s3: `http://127.0.0.1:${settings.s3Port}`,
    dynamodb: `http://127.0.0.1:${settings.dynamodbPort}`,
    regions: Object.fromEntries(Object.entries(settings.regionPorts).map(([region, p]) => [region, `http://127.0.0.1:${p}`])),
  };
}

/**
 * The tenants file, validated as a deployment validates it (core/tenant-config.ts).
 * @throws {StartupError} one line naming the file, the setting that chose it, and each
 *   problem at its place (`tenants.demo.qualities: ...`), as core's schema words it.
 */
export async function loadTenants(file: string): Promise<PictorConfig> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new StartupError(`Cannot read the tenants file ${file} (PICTOR_TENANTS): ${(error as Error).message}`);
  }
  try {
    return parseConfig(json, file);
  } catch (error) {
    const problems = error instanceof PictorError ? (error.context.problems as string[] | undefined) : undefined;
    if (!problems) throw error;
    throw new StartupError(`The tenants file ${file} (PICTOR_TENANTS) is wrong: ${problems.join('; ')}. Fix it, or point PICTOR_TENANTS at another file.`);
  }
}

/** A setting or file the twin cannot start with: what main.ts prints, on one line, before it exits 1. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** What to change so the twin listens elsewhere than `port`: the environment variable that set it. */
export function portSetting(settings: LocalSettings, port: number): string | undefined {
  const named: [string, number][] = [
    ['PICTOR_EDGE_PORT', settings.edgePort],
    ['PICTOR_CONTROL_PORT', settings.controlPort],
    ['PICTOR_API_PORT', settings.apiPort],
    ['PICTOR_S3_PORT', settings.s3Port],
    ['PICTOR_DYNAMODB_PORT', settings.dynamodbPort],
  ];
  const single = named.find(([, p]) => p === port)?.[0];
  if (single) return `set ${single} to a free port`;
  const region = Object.entries(settings.regionPorts).find(([, p]) => p === port)?.[0];
  const now = Object.entries(settings.regionPorts).map(([r, p]) => `${r}=${p}`).join(',');
  return region ? `give ${region} a free port in PICTOR_REGION_PORTS (now ${now})` : undefined;
}

/**
 * What stops the twin from starting, as one line saying what to change: a StartupError's
 * message, or a port another process holds (EADDRINUSE) or may not be opened (EACCES),
 * with the setting that moves it. Undefined for anything else, which is a bug to show in full.
 */
export function startupProblem(error: unknown, settings: LocalSettings | undefined): string | undefined {
  if (error instanceof StartupError) return error.message;
  const { code, port, address } = (error ?? {}) as { code?: string; port?: number; address?: string };
  if ((code === 'EADDRINUSE' || code === 'EACCES') && typeof port === 'number') {
    const change = (settings && portSetting(settings, port)) ?? 'choose another port';
    const why = code === 'EADDRINUSE' ? 'is taken by another process' : 'may not be opened by this user';
    return `Port ${port}${address ? ` on ${address}` : ''} ${why}: ${change}, or stop what listens there (an earlier 'npm start'?).`;
  }
  return undefined;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new StartupError(`${name} must be a whole number, not '${raw}'.`);
  return Number(raw);
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = integer(env, name, fallback);
  if (value > 65535) throw new StartupError(`${name} must be a port number, not ${value}.`);
  return value;
}

function browserOrigins(raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const origins = raw.split(',').map((o) => o.trim());
  const bad = origins.find((o) => o !== '*' && !/^https?:\/\/[^/\s?#]+$/.test(o));
  if (bad !== undefined) throw new StartupError(`PICTOR_BROWSER_ORIGINS must list web origins such as http://localhost:3000, comma-separated, not '${bad}'.`);
  return origins;
}

function regionPorts(raw: string): Record<string, number> {
  const ports: Record<string, number> = {};
  for (const part of raw.split(',')) {
    const [region, value] = part.split('=');
    if (!region || !value || !/^\d+$/.test(value) || Number(value) > 65535) throw new StartupError(`PICTOR_REGION_PORTS must read like us-east-1=4570,eu-west-1=4571, not '${raw}'.`);
    ports[region.trim()] = Number(value);
  }
  return ports;
}
