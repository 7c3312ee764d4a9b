import { randomBytes, randomUUID } from 'node:crypto';

/**
 * Secrets Manager as the twin keeps it, behind its JSON protocol (X-Amz-Target
 * `secretsmanager.*`): CreateSecret, GetSecretValue, PutSecretValue, DescribeSecret,
 * ListSecrets, DeleteSecret. Each value is a version; AWSCURRENT labels the newest and
 * AWSPREVIOUS the one before, as PutSecretValue moves them.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html
 * A SecretString holds at most 65,536 bytes.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html
 */
export const MAX_SECRET_BYTES = 65_536;

interface SecretVersion {
  readonly id: string;
  readonly value: string;
  stages: string[];
  readonly created: Date;
}

interface Secret {
  readonly name: string;
  readonly arn: string;
  readonly created: Date;
  description?: string;
  versions: SecretVersion[];
}

export class LocalSecretsManager {
  private readonly secrets = new Map<string, Secret>();

  constructor(
    private readonly region: string,
    private readonly account: string,
  ) {}

  /** Answers one action of the JSON protocol; undefined when it is not one the twin serves. */
  handle(action: string, body: any, check?: (action: string, secretArn: string) => void): unknown {
    const allowed = (secret: Secret) => {
      check?.(action, secret.arn);
      return secret;
    };
    switch (action) {
      case 'CreateSecret': {
        const name = String(body.Name ?? '');
        if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(name)) throw apiError('InvalidParameterException', 'Name must be 1 to 512 of A-Z a-z 0-9 /_+=.@-.');
        if (this.secrets.has(name)) throw apiError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
        // The ARN ends in a hyphen and six random characters. https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html
        const secret: Secret = { name, arn: `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${name}-${randomBytes(6).toString('base64url').slice(0, 6)}`, created: new Date(), description: body.Description, versions: [] };
        allowed(secret);
        const version = body.SecretString === undefined ? undefined : this.addVersion(secret, body.SecretString, body.ClientRequestToken);
        this.secrets.set(name, secret);
        return { ARN: secret.arn, Name: name, VersionId: version?.id };
      }
      case 'PutSecretValue': {
        const secret = allowed(this.find(body.SecretId));
        const version = this.addVersion(secret, body.SecretString, body.ClientRequestToken);
        return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: version.stages };
      }
      case 'GetSecretValue': {
        const secret = allowed(this.find(body.SecretId));
        const stage = body.VersionId ? undefined : (body.VersionStage ?? 'AWSCURRENT');
        const version = secret.versions.find((v) => (body.VersionId ? v.id === body.VersionId : v.stages.includes(stage!)));
        if (!version) throw apiError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${body.VersionId ? `VersionId: ${body.VersionId}` : `staging label: ${stage}`}`);
        return { ARN: secret.arn, Name: secret.name, VersionId: version.id, SecretString: version.value, VersionStages: version.stages, CreatedDate: version.created.getTime() / 1000 };
      }
      case 'DescribeSecret': {
        const secret = allowed(this.find(body.SecretId));
        return { ARN: secret.arn, Name: secret.name, Description: secret.description, CreatedDate: secret.created.getTime() / 1000, VersionIdsToStages: Object.fromEntries(secret.versions.filter((v) => v.stages.length > 0).map((v) => [v.id, v.stages])) };
      }
      case 'ListSecrets': {
        check?.(action, '*');
        const prefixes: string[] = (body.Filters ?? []).filter((f: any) => f.Key === 'name').flatMap((f: any) => f.Values ?? []);
        const list = [...this.secrets.values()].filter((s) => prefixes.length === 0 || prefixes.some((p) => s.name.startsWith(p)));
        return { SecretList: list.sort((a, b) => a.name.localeCompare(b.name)).map((s) => ({ ARN: s.arn, Name: s.name, CreatedDate: s.created.getTime() / 1000 })) };
      }
      case 'DeleteSecret': {
        const secret = allowed(this.find(body.SecretId));
        // Without ForceDeleteWithoutRecovery AWS keeps it 7 to 30 days, unreadable; the twin forgets it either way.
        this.secrets.delete(secret.name);
        return { ARN: secret.arn, Name: secret.name, DeletionDate: Date.now() / 1000 };
      }
      default:
        return undefined;
    }
  }

  private find(id: unknown): Secret {
    const name = String(id ?? '');
    const secret = this.secrets.get(name) ?? [...this.secrets.values()].find((s) => s.arn === name);
    if (!secret) throw apiError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  }

  private addVersion(secret: Secret, value: unknown, token: unknown): SecretVersion {
    if (typeof value !== 'string' || value.length === 0) throw apiError('InvalidParameterException', 'SecretString must be a non-empty string.');
    if (Buffer.byteLength(value) > MAX_SECRET_BYTES) throw apiError('InvalidParameterException', `SecretString is over ${MAX_SECRET_BYTES} bytes.`);
    const id = typeof token === 'string' && token ? token : randomUUID();
    const existing = secret.versions.find((v) => v.id === id);
    if (existing) {
      // An idempotent retry; a different value under the same token is refused.
      if (existing.value !== value) throw apiError('ResourceExistsException', `A version with ClientRequestToken ${id} already exists with a different value.`);
      return existing;
    }
    for (const v of secret.versions) {
      v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
      if (v.stages.includes('AWSCURRENT')) v.stages = [...v.stages.filter((s) => s !== 'AWSCURRENT'), 'AWSPREVIOUS'];
    }
    const version: SecretVersion = { id, value, stages: ['AWSCURRENT'], created: new Date() };
    secret.versions.push(version);
    return version;
  }
}

function apiError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, status: 400 });
}
