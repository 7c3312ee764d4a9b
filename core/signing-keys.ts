import { PictorError } from './errors.ts';
import { MAX_ACTIVE_KEYS } from './signing.ts';
import { KEY_ID_PATTERN } from './normalize.ts';

/** One signing key: its id (the URL's `kid`) and its HMAC secret. */
export interface SigningKey {
  readonly kid: string;
  readonly secret: string;
}

/**
 * A tenant's active signing keys as its Secrets Manager secret holds them: oldest
 * first, so the last one is the newest, the one signers use. The viewer function
 * accepts any of them, so a rotation adds a key, signs with it, and retires the
 * oldest once URLs it signed have expired.
 */
export interface SigningKeySet {
  readonly keys: readonly SigningKey[];
}

/** HMAC-SHA256 keys shorter than the hash add no strength (RFC 2104 §3). */
export const MIN_SECRET_LENGTH = 32;

/**
 * Where a tenant's key set lives: one secret per tenant, named under a prefix.
 * One secret per tenant (not per key) because a rotation step then is one atomic
 * PutSecretValue, the previous set stays readable as AWSPREVIOUS, and IAM can grant
 * a signer exactly its tenant's secret by name (`{prefix}{tenant}-??????`).
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html
 */
export const DEFAULT_SIGNING_SECRET_PREFIX = 'pictor/signing-keys/';

export function signingSecretName(prefix: string, tenant: string): string {
  return prefix + tenant;
}

/** The newest key, which signs. */
export function newestKey(set: SigningKeySet): SigningKey | undefined {
  return set.keys[set.keys.length - 1];
}

/**
 * Reads a key set as stored.
 * @throws {PictorError} InvalidConfig saying what is wrong with it
 */
export function parseSigningKeySet(text: string, where: string): SigningKeySet {
  let raw: any;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new PictorError('InvalidConfig', `${where} is not JSON; expected {"keys":[{"kid","secret"}]}.`);
  }
  const keys = raw?.keys;
  if (!Array.isArray(keys)) throw new PictorError('InvalidConfig', `${where} has no "keys" array; expected {"keys":[{"kid","secret"}]}.`);
  const problems = keySetProblems(keys);
  if (problems.length > 0) throw new PictorError('InvalidConfig', `${where}: ${problems.join('; ')}`);
  return { keys: keys.map((k: SigningKey) => ({ kid: k.kid, secret: k.secret })) };
}

/** What would make a key set unusable: bad ids, short secrets, duplicates, too many. */
export function keySetProblems(keys: readonly unknown[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const key of keys as { kid?: unknown; secret?: unknown }[]) {
    if (typeof key?.kid !== 'string' || !KEY_ID_PATTERN.test(key.kid)) problems.push(`a key id is 1 to 32 of A-Z a-z 0-9 _ -, not ${JSON.stringify(key?.kid)}`);
    else if (seen.has(key.kid)) problems.push(`key ${key.kid} appears twice`);
    else seen.add(key.kid);
    if (typeof key?.secret !== 'string' || key.secret.length < MIN_SECRET_LENGTH) problems.push(`the secret of ${String(key?.kid)} must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  if (keys.length > MAX_ACTIVE_KEYS) problems.push(`at most ${MAX_ACTIVE_KEYS} active keys; retire the oldest first`);
  return problems;
}
