import { createHash, randomBytes } from 'node:crypto';
import { LOCAL_ACCOUNT, resolveTokens, type CfnTemplate } from '../pipeline/template.ts';
import { LOCAL_S3_CREDENTIALS } from '../s3-server.ts';
import { LOCAL_ADMIN_ARN } from '../account.ts';
import { registerS3KeyPair } from '../s3-key-pairs.ts';
import { authorize, type PolicyStatement, type Principal } from './policy.ts';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** A principal the twin knows, with the statements of its identity-based policies. */
export interface Identity extends Principal {
  readonly statements: readonly PolicyStatement[];
  /** A role's trust policy: who may assume it. */
  readonly trust?: readonly PolicyStatement[];
}

/**
 * The account's administrator: what the twin's fixed credentials (the CLI's, the
 * tests', an SDK's default here) act as. It may do anything IAM allows, as an
 * AdministratorAccess user can; resource policies' explicit denies still bind it.
 */
export const LOCAL_ADMIN: Identity = {
  arn: LOCAL_ADMIN_ARN,
  account: LOCAL_ACCOUNT,
  statements: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};

/** An error as AWS's JSON and query protocols name it. */
export class IdentityError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * The twin's principals: the synthesized template's IAM roles with the policies
 * attached to them, and the administrator. Each role's sessions get credentials of
 * their own, which the twin's S3 accepts and its control plane maps back to the role,
 * so that a resource policy (an event bus's) is evaluated against the caller a
 * deployment would see. Sessions of a role carry the role's ARN as aws:PrincipalArn.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
 */
export class LocalIdentities {
  private readonly roles = new Map<string, Identity>();
  private readonly byAccessKey = new Map<string, { identity: Identity; secretAccessKey: string; sessionName?: string }>();

  constructor(roles: readonly Identity[]) {
    for (const role of roles) this.roles.set(role.arn, role);
    this.byAccessKey.set(LOCAL_S3_CREDENTIALS.accessKeyId, { identity: LOCAL_ADMIN, secretAccessKey: LOCAL_S3_CREDENTIALS.secretAccessKey });
  }

  static fromTemplate(template: CfnTemplate, names: Readonly<Record<string, string>>): LocalIdentities {
    const statements = new Map<string, PolicyStatement[]>();
    const attach = (roleId: string, document: { Statement?: PolicyStatement | PolicyStatement[] } | undefined) => {
      const list = document?.Statement === undefined ? [] : Array.isArray(document.Statement) ? document.Statement : [document.Statement];
      statements.set(roleId, [...(statements.get(roleId) ?? []), ...list]);
    };
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'AWS::IAM::Policy') continue;
      const document = resolveTokens(resource.Properties?.PolicyDocument, template, names);
      for (const role of resource.Properties?.Roles ?? []) attach(role.Ref, document);
    }
    const roles: Identity[] = [];
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      for (const inline of resource.Properties?.Policies ?? []) attach(logicalId, resolveTokens(inline.PolicyDocument, template, names));
      const trust = resolveTokens(resource.Properties?.AssumeRolePolicyDocument, template, names);
      roles.push({
        arn: resolveTokens({ 'Fn::GetAtt': [logicalId, 'Arn'] }, template, names),
        account: LOCAL_ACCOUNT,
        statements: statements.get(logicalId) ?? [],
        trust: Array.isArray(trust?.Statement) ? trust.Statement : trust?.Statement ? [trust.Statement] : [],
      });
    }
    return new LocalIdentities(roles);
  }

  /** The role with this ARN. */
  role(arn: string): Identity {
    const role = this.roles.get(arn);
    if (!role) throw new IdentityError('NoSuchEntity', `The role with ARN ${arn} cannot be found.`, 404);
    return role;
  }

  /** Credentials of a fresh session of a role, as Lambda gives a function its execution role's (named after the function). */
  sessionOf(roleArn: string, sessionName = 'pictor-twin'): Credentials {
    const identity = this.role(roleArn);
    // ASIA: the prefix AWS gives temporary credentials. https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html
    const accessKeyId = `ASIA${createHash('sha256').update(roleArn).update(randomBytes(8)).digest('hex').slice(0, 16).toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString('base64');
    const sessionToken = randomBytes(24).toString('base64');
    this.byAccessKey.set(accessKeyId, { identity, secretAccessKey, sessionName });
    // The twin's S3 checks signatures against the keys it knows, and a session's key against its token.
    registerS3KeyPair(accessKeyId, secretAccessKey, sessionToken);
    return { accessKeyId, secretAccessKey, sessionToken };
  }

  /**
   * STS AssumeRole. The role's trust policy must name the caller: naming it directly
   * is enough; naming its account delegates to the caller's own IAM policies, which
   * must then allow sts:AssumeRole on the role. A role that trusts a service only
   * (a task's trusts Lambda) cannot be assumed by anyone in the account.
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage-assume.html
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts
   */
  assumeRole(caller: Identity, roleArn: string, sessionName?: string): Credentials {
    const role = this.roles.get(roleArn);
    const request = { principal: caller, action: 'sts:AssumeRole', resource: roleArn };
    // Trust statements that allow sts:AssumeRole (their conditions included) to a principal `named` picks.
    const trusts = (named: (principal: string) => boolean) =>
      (role?.trust ?? []).some((statement) => {
        if (statement.Effect !== 'Allow' || statement.Principal === undefined) return false;
        const principals = statement.Principal === '*' ? ['*'] : [statement.Principal.AWS ?? []].flat();
        return principals.some(named) && authorize(request, { identity: [{ ...statement, Principal: undefined, Resource: '*' }] }).effect === 'Allow';
      });
    const trust = role ? authorize(request, { identity: [], resource: role.trust }) : undefined;
    const explicitDeny = trust?.effect === 'Deny' && trust.explicit;
    const direct = trusts((p) => p === '*' || p === caller.arn);
    const delegated = trusts((p) => p === caller.account || p === `arn:aws:iam::${caller.account}:root`) && authorize(request, { identity: caller.statements }).effect === 'Allow';
    if (!role || explicitDeny || !(direct || delegated)) {
      throw new IdentityError('AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
    }
    return this.sessionOf(roleArn, sessionName);
  }

  /**
   * The ARN a signed request's caller is known by to the services it calls: a role
   * session's is `arn:aws:sts::{account}:assumed-role/{role name}/{session name}`.
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
   */
  callerArnOf(authorization: string | undefined): string {
    const identity = this.callerOf(authorization);
    const accessKeyId = /Credential=([^/,\s]+)\//.exec(authorization ?? '')![1]!;
    const session = this.byAccessKey.get(accessKeyId)?.sessionName;
    if (session === undefined || !this.roles.has(identity.arn)) return identity.arn;
    return `arn:aws:sts::${identity.account}:assumed-role/${identity.arn.split('/').pop()}/${session}`;
  }

  /** The secret of a known access key: what the twin's services verify signatures with. */
  secretOf(accessKeyId: string): string | undefined {
    return this.byAccessKey.get(accessKeyId)?.secretAccessKey;
  }

  /** Who signed a request, from the access key in its SigV4 Authorization header. */
  callerOf(authorization: string | undefined): Identity {
    const accessKeyId = /Credential=([^/,\s]+)\//.exec(authorization ?? '')?.[1];
    if (!accessKeyId) throw new IdentityError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
    const known = this.byAccessKey.get(accessKeyId);
    if (!known) throw new IdentityError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    return known.identity;
  }
}
