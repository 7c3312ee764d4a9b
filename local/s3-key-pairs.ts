import { createRequire } from 'node:module';

/** s3rver's account model: one account, whose key pairs its signature checks accept. */
interface S3rverAccount {
  readonly accessKeys: Map<string, string>;
  createKeyPair(accessKeyId: string, secretAccessKey: string): void;
}
const accounts = createRequire(import.meta.url)('s3rver/lib/models/account.js') as { registry: Map<string, S3rverAccount>; DUMMY_ACCOUNT: S3rverAccount };

/** The session token each temporary key was issued with. */
const sessionTokens = new Map<string, string>();

/** A key pair the twin's S3 knows, with its session's token when it is temporary. */
export interface S3KeyPair {
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * Makes a key pair known to the twin's S3 (s3rver's account, which every server
 * in the process shares), with the session token a temporary key must come with:
 * S3 refuses a session's key without its token, and a token that is not the
 * session's. https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_use-resources.html
 */
export function registerS3KeyPair(accessKeyId: string, secretAccessKey: string, sessionToken?: string): void {
  accounts.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
  if (sessionToken === undefined) sessionTokens.delete(accessKeyId);
  else sessionTokens.set(accessKeyId, sessionToken);
}

/** The key pair of `accessKeyId` (the fixed LOCAL_S3_CREDENTIALS, or a session's), if the twin's S3 knows it. */
export function s3KeyPairOf(accessKeyId: string): S3KeyPair | undefined {
  const secretAccessKey = accounts.registry.get(accessKeyId)?.accessKeys.get(accessKeyId);
  if (secretAccessKey === undefined) return undefined;
  const sessionToken = sessionTokens.get(accessKeyId);
  return sessionToken === undefined ? { secretAccessKey } : { secretAccessKey, sessionToken };
}
