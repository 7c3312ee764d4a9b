import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { PictorError } from '../core/errors.ts';
import { DEFAULT_SIGNING_SECRET_PREFIX, parseSigningKeySet, signingSecretName, type SigningKeySet } from '../core/signing-keys.ts';

/**
 * The tenants' signing keys in Secrets Manager: one secret per tenant, named
 * `{prefix}{tenant}`, holding its active key set (core/signing-keys.ts says why).
 */
export class SigningSecrets {
  constructor(
    private readonly client: SecretsManagerClient,
    readonly prefix: string = DEFAULT_SIGNING_SECRET_PREFIX,
  ) {}

  /** The tenant's key set (AWSCURRENT, or AWSPREVIOUS), or null when it has none. */
  async get(tenant: string, stage: 'AWSCURRENT' | 'AWSPREVIOUS' = 'AWSCURRENT'): Promise<SigningKeySet | null> {
    const name = signingSecretName(this.prefix, tenant);
    try {
      const result = await this.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: stage }));
      return parseSigningKeySet(result.SecretString ?? '', `the secret ${name}`);
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return null;
      throw new PictorError('OriginUnavailable', `Secrets Manager did not give ${name}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Writes the tenant's key set as its new current version, creating the secret the first time. */
  async put(tenant: string, set: SigningKeySet): Promise<void> {
    const name = signingSecretName(this.prefix, tenant);
    const value = JSON.stringify({ keys: set.keys.map((k) => ({ kid: k.kid, secret: k.secret })) });
    try {
      await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
      await this.client.send(new CreateSecretCommand({ Name: name, SecretString: value, Description: `Pictor: the signing keys of tenant ${tenant}, oldest first; the last one signs.` }));
    }
  }

  /** Deletes the tenant's secret; AWS keeps it recoverable for 7 days. */
  async delete(tenant: string): Promise<void> {
    try {
      await this.client.send(new DeleteSecretCommand({ SecretId: signingSecretName(this.prefix, tenant), RecoveryWindowInDays: 7 }));
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    }
  }

  /** The tenants that have a secret under the prefix. */
  async tenants(): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [this.prefix] }], NextToken: token }));
      for (const s of page.SecretList ?? []) if (s.Name?.startsWith(this.prefix)) names.push(s.Name.slice(this.prefix.length));
      token = page.NextToken;
    } while (token);
    return names.sort();
  }
}
